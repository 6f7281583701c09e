"""``affekt predict --engine ray``: the same job on a Ray cluster, with Ray Data.

The driver reads the input exactly as the local engine does (the modality's reader: the same
items, the same error items), cuts it into **shards** of whole model calls (a multiple of
``--batch-size``, so every model call sees the same inputs as it would locally and the records
are byte-identical), and runs

    read (the shards) -> map_batches(_Predictor, an actor pool: each actor loads the model once)
    -> write (each finished shard to OUTPUT.parts/NNNNNN.jsonl, atomically)

Failed tasks are retried by Ray (an actor that dies is restarted and its shard run again). A job
that is killed keeps its finished shards: running the same command again (same input, model and
options; ``OUTPUT.parts/job.json`` records them) does only the missing shards. When all shards
are done they are joined in input order into OUTPUT and the parts folder is removed.

Inputs are sent to the workers with the shard (texts, or paths to audio/images/videos: on a
cluster of several machines those paths must be readable on every node, e.g. shared storage).
Speech models that need every file at once (``--adapt``, speaker normalisation) cannot be
sharded and are refused.

Ray's own servers (GCS, raylet, workers) listen on every interface of the machine (Ray 2.x has no
option to bind them to 127.0.0.1); a local run starts them with the node address 127.0.0.1 and no
dashboard. On a shared network, run Ray behind a firewall, as Ray's security guide says.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

from affekt.core.errors import InputError, MissingDependencyError
from affekt.io.items import Item

#: model calls per shard, by modality (a shard is this many x --batch-size items)
CALLS_PER_SHARD = {"text": 8, "speech": 4, "face": 1, "video": 1}
FORMAT = 1


def _ray():
    try:
        import ray
        import ray.data
    except ImportError:
        raise MissingDependencyError("--engine ray needs Ray Data: pip install 'affekt[ray]'") from None
    return ray


def fingerprint(items: list[Item]) -> str:
    h = hashlib.sha1()
    for it in items:
        h.update(json.dumps([it.value, it.given, it.id, it.error], ensure_ascii=False, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()


class _Predictor:
    """One actor of the pool: loads the model once, predicts whole shards."""

    def __init__(self, model: str, modality: str, run: dict, threads: int):
        os.environ["AFFEKT_THREADS"] = str(threads)
        from affekt.core.modality import get_modality
        from affekt.core.registry import load_model

        self.mod = get_modality(modality)
        self.model = load_model(model)
        self.run = run

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        from affekt.core.modality import run_items

        shards, texts = [], []
        for k, raw in zip(batch["shard"], batch["items"]):
            items = [Item(**d) for d in json.loads(raw)]
            lines = [json.dumps(p.to_dict(), ensure_ascii=False)
                     for chunk in run_items(self.model, self.mod, items, **self.run) for p in chunk]
            shards.append(int(k))
            texts.append("".join(line + "\n" for line in lines))
        return {"shard": np.array(shards, dtype=np.int64), "lines": np.array(texts, dtype=object)}


def _init(ray, address: str | None, num_workers: int) -> None:
    if ray.is_initialized():
        return
    kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    if address:
        ray.init(address=address, **kw)
    else:  # a local cluster for this run: loopback as its node address, no dashboard, and workers at
        # this process's priority (Ray starts workers at niceness 15, behind everything else on the machine)
        os.environ.setdefault("RAY_worker_niceness", "0")
        ray.init(num_cpus=max(num_workers, 1), _node_ip_address="127.0.0.1", **kw)


def predict_ray(mod, model_name: str, items: list[Item], output: Path, *, label_space=None, batch_size: int = 256,
                abstain_below: float | None = None, opts: dict | None = None, address: str | None = None,
                num_workers: int | None = None, shard_size: int | None = None, progress: bool = True) -> list:
    """Run the job; write OUTPUT; return one (error, input) record per item for the exit code."""
    from tqdm import tqdm

    opts = dict(opts or {})
    if opts.get("adapt") or opts.get("speaker_by"):
        raise InputError("--engine ray: --adapt and --speaker-by need every file at once; run them locally")
    if mod.name == "speech":
        from affekt.core.registry import load_model

        if getattr(load_model(model_name), "speaker_norm", False):  # loaded once, cached
            raise InputError(f"--engine ray: model '{model_name}' normalises per speaker, which needs every file "
                             "at once; run it locally")
    step = max(1, min(batch_size, 16)) if mod.name == "speech" else batch_size
    shard = shard_size or step * CALLS_PER_SHARD.get(mod.name, 1)
    if shard % step:
        raise InputError(f"--shard-size {shard} must be a multiple of the batch size ({step}) so that the records "
                         "match the local engine's")
    workers = num_workers or max(1, min(os.cpu_count() or 1, 8))
    run = dict(label_space=label_space, batch_size=batch_size, abstain_below=abstain_below, **opts)
    parts = output.with_name(output.name + ".parts")
    job = {"format": FORMAT, "input": fingerprint(items), "n_items": len(items), "model": model_name,
           "modality": mod.name, "shard_size": shard, "run": {k: v for k, v in run.items()}}
    if parts.exists():
        try:
            old = json.loads((parts / "job.json").read_text())
        except (OSError, ValueError):
            old = None
        if old != job:
            raise InputError(f"'{parts}' holds an unfinished job with another input, model or options; "
                             "remove it to start again, or write to another --output")
    else:
        parts.mkdir(parents=True)
        (parts / "job.json").write_text(json.dumps(job))
    n_shards = (len(items) + shard - 1) // shard
    todo = [k for k in range(n_shards) if not (parts / f"{k:06d}.jsonl").exists()]
    if progress and len(todo) < n_shards:
        print(f"resuming: {n_shards - len(todo)} of {n_shards} shards already done in {parts}", file=sys.stderr)
    if todo:
        ray = _ray()
        _init(ray, address, workers)
        from ray.data import ActorPoolStrategy

        rows = [{"shard": k, "items": json.dumps([asdict(it) for it in items[k * shard:(k + 1) * shard]],
                                                 ensure_ascii=False, default=str)} for k in todo]
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        ds = ds.map_batches(_Predictor, batch_size=1, batch_format="numpy",
                            compute=ActorPoolStrategy(size=min(workers, len(rows))),
                            fn_constructor_kwargs=dict(model=model_name, modality=mod.name, run=run, threads=1),
                            num_cpus=1, max_restarts=-1, max_task_retries=-1)
        with tqdm(total=n_shards, initial=n_shards - len(todo), unit="shard", file=sys.stderr, desc="predict (ray)",
                  disable=not progress) as bar:
            for batch in ds.iter_batches(batch_size=1, batch_format="numpy", prefetch_batches=0):
                for k, text in zip(batch["shard"], batch["lines"]):
                    tmp = parts / f"{int(k):06d}.jsonl.tmp"
                    tmp.write_text(text, encoding="utf-8")
                    tmp.replace(parts / f"{int(k):06d}.jsonl")
                    bar.update(1)
    missing = [k for k in range(n_shards) if not (parts / f"{k:06d}.jsonl").exists()]
    if missing:
        raise InputError(f"{len(missing)} shards did not finish (first: {missing[0]}); run the command again to resume")
    tmp = output.with_name(output.name + ".part")
    out = []
    with open(tmp, "w", encoding="utf-8") as fh:
        for k in range(n_shards):
            with open(parts / f"{k:06d}.jsonl", encoding="utf-8") as part:
                for line in part:
                    rec = json.loads(line)
                    out.append(SimpleNamespace(error=rec.get("error"), input=rec.get("input")))
                    fh.write(line)
    if len(out) != len(items):
        tmp.unlink()
        raise InputError(f"the shards hold {len(out)} records for {len(items)} inputs; remove '{parts}' and run again")
    tmp.replace(output)
    shutil.rmtree(parts, ignore_errors=True)
    return out


def shutdown() -> None:
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            ray.shutdown()
