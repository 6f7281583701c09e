"""Dynamic micro-batching: concurrent requests for one model answered by one model call.

Each served model has one :class:`MicroBatcher`. A request hands it a list of inputs and awaits
their predictions. When a worker is free, the batcher takes every waiting request (up to
``max_batch`` inputs) and runs the model once on all of them in a worker thread (the event loop
keeps accepting requests while the model works, and every request that arrives meanwhile joins
the next batch). Requests that ask for different options (a label space) are run as separate
calls within the batch.

How long it waits for more: clients that send their next request as soon as the last is answered
come back a few milliseconds after their batch ends, and a batcher that starts at once splits them
into two half-size groups that alternate for ever (half-size batches run slower per input). So the
batcher remembers how many inputs were outstanding at once lately (the concurrency it serves) and
waits, at most ``max_wait_ms``, until that many are queued: a lone client is answered at once, a
crowd is gathered into full batches.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Request:
    values: list
    key: Hashable
    future: asyncio.Future
    enqueued: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Gathers the inputs of concurrent requests into batches for ``fn(values, key) -> outputs``
    (one output per value, in order). ``on_batch(n_values, seconds)`` is called after each model
    call (metrics)."""

    def __init__(self, fn: Callable[[list, Hashable], Sequence[Any]], *, max_batch: int = 64,
                 max_wait_ms: float = 5.0, name: str = "model", workers: int = 1,
                 on_batch: Callable[[int, float], None] | None = None):
        self.fn = fn
        self.max_batch = max(1, int(max_batch))
        self.max_wait = max(0.0, max_wait_ms) / 1000.0
        self.name = name
        self.on_batch = on_batch
        self.workers = max(1, int(workers))
        self._queue: asyncio.Queue[_Request] | None = None
        self._task: asyncio.Task | None = None
        self._slots: asyncio.Semaphore | None = None
        self._running: set[asyncio.Task] = set()
        self._outstanding = 0   # inputs submitted and not yet answered
        self._peak = 0          # the most outstanding at once since the last batch was formed
        self._recent = 1        # that peak, as of the last batch: how many inputs to wait for
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=f"affekt-{name}")

    async def start(self) -> None:
        if self._task is None:
            self._queue = asyncio.Queue()
            self._slots = asyncio.Semaphore(self.workers)
            self._task = asyncio.create_task(self._loop(), name=f"batcher-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            for t in list(self._running):
                t.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def submit(self, values: list, key: Hashable = None) -> list:
        """The model's outputs for ``values`` (gathered with other requests' into a batch)."""
        if self._queue is None:
            await self.start()
        fut = asyncio.get_running_loop().create_future()
        self._outstanding += len(values)
        self._peak = max(self._peak, self._outstanding)
        try:
            await self._queue.put(_Request(list(values), key, fut))
            return await fut
        finally:
            self._outstanding -= len(values)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        carry: _Request | None = None
        while True:
            await self._slots.acquire()  # a worker is free: gather the next batch for it
            first = carry or await self._queue.get()
            carry = None
            batch, n = [first], len(first.values)
            self._recent = max(self._peak, self._outstanding)  # the concurrency seen since the last batch
            self._peak = self._outstanding
            target = min(self.max_batch, self._recent)
            deadline = loop.time() + self.max_wait
            while n < self.max_batch:
                try:
                    req = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    left = deadline - loop.time()
                    if left <= 0 or n >= target:
                        break
                    try:
                        req = await asyncio.wait_for(self._queue.get(), left)
                    except TimeoutError:
                        break
                if n + len(req.values) > self.max_batch:
                    carry = req  # it starts the next batch
                    break
                batch.append(req)
                n += len(req.values)
            task = asyncio.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._slots.release()

    async def _run(self, batch: list[_Request]) -> None:
        loop = asyncio.get_running_loop()
        batch = [r for r in batch if not r.future.done()]  # a request that timed out meanwhile
        by_key: dict = {}
        for r in batch:
            by_key.setdefault(r.key, []).append(r)
        for key, reqs in by_key.items():
            values = [v for r in reqs for v in r.values]
            t0 = time.perf_counter()
            try:
                out = await loop.run_in_executor(self._pool, self.fn, values, key)
            except Exception as exc:  # every request of this call gets the error
                for r in reqs:
                    if not r.future.done():
                        r.future.set_exception(exc)
                continue
            finally:
                if self.on_batch is not None:
                    self.on_batch(len(values), time.perf_counter() - t0)
            k = 0
            for r in reqs:
                part = list(out[k:k + len(r.values)])
                k += len(r.values)
                if not r.future.done():
                    r.future.set_result(part)
