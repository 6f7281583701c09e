"""``affekt serve``: the models as an HTTP service (FastAPI), with a web page at ``/``.

One :class:`Service` holds the served models, loaded once at start-up, each behind a
:class:`~affekt.serve.batching.MicroBatcher`. Every endpoint answers with the records
``affekt predict`` writes (``EmotionPrediction.to_dict``), so a client that parses one parses
the other. Inputs are read in memory and never logged (a video's audio track alone is decoded to
a temporary WAV for the voice model, deleted when its job ends); logs carry request ids, routes,
status codes and timings.

Limits (``ServeConfig``): a body size, texts per request, seconds of audio, image pixels, video
seconds, a time for the body to arrive (slow clients are cut off with 408) and for the answer
(503), and a bound on the inputs waiting per model (503 with Retry-After). Every refusal is a
JSON body ``{"error": message, "status": code, "request_id": id}`` with the right code, and the
service goes on serving.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fastapi import (  # module level: the routes' annotations are resolved here
    Request,
    WebSocket,
)

from affekt.core.errors import (
    AffektError,
    InputError,
    MissingDependencyError,
    ModelNotFoundError,
)
from affekt.serve.inputs import RequestError, Upload, check_kind, image_pixels

log = logging.getLogger("affekt.serve")
STATIC = Path(__file__).parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ROUTES = ("/", "/healthz", "/metrics", "/v1/models", "/v1/text", "/v1/speech", "/v1/face", "/v1/video",
          "/v1/speech/stream")
_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class ServeConfig:
    """What a service serves and the limits it keeps (``affekt serve --help`` names each)."""

    models: tuple[str, ...] | None = None  # None: every modality's bundled default that loads here
    api_key: str | None = None
    max_body_bytes: int = 32 * 1024 * 1024
    max_texts: int = 1000
    max_files: int = 16
    max_audio_seconds: float = 600.0
    max_image_pixels: int = 40_000_000
    max_video_seconds: float = 600.0
    body_timeout_s: float = 30.0
    request_timeout_s: float = 120.0
    max_batch: int = 64
    max_wait_ms: float = 5.0
    model_workers: int = 1  # model calls in flight at once, per model (threads)
    max_queue: int = 4096
    max_jobs: int = 8
    job_ttl_s: float = 3600.0

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, text: str) -> ServeConfig:
        d = json.loads(text)
        if d.get("models") is not None:
            d["models"] = tuple(d["models"])
        return cls(**d)


# --------------------------------------------------------------------------- models
@dataclass
class ServedModel:
    name: str
    model: Any
    modality: str
    batcher: Any = None
    pending: int = 0


@dataclass
class Job:
    id: str
    name: str
    status: str = "queued"
    created: float = field(default_factory=time.time)
    finished: float | None = None
    result: dict | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        d = {"job": self.id, "input": self.name, "status": self.status,
             "created": round(self.created, 3)}
        if self.finished is not None:
            d["seconds"] = round(self.finished - self.created, 3)
        if self.result is not None:
            d["result"] = self.result
        if self.error is not None:
            d["error"] = self.error
        return d


class Service:
    """The served models and what the endpoints share (metrics, the video jobs)."""

    def __init__(self, config: ServeConfig):
        from affekt.serve.metrics import Metrics

        self.config = config
        self.metrics = Metrics()
        self.models: dict[str, ServedModel] = {}
        self.skipped: dict[str, str] = {}
        self.jobs: dict[str, Job] = {}
        self._job_pool = None
        self.started = time.time()

    # ------------------------------------------------------------- loading
    def load(self) -> None:
        from affekt.core.registry import DEFAULT_MODELS, load_model

        names = self.config.models or tuple(DEFAULT_MODELS.values())
        for name in names:
            try:
                m = load_model(name)
            except MissingDependencyError as exc:
                if self.config.models:  # asked for by name: say so and stop
                    raise
                self.skipped[name] = str(exc)
                log.warning("not serving %s: %s", name, exc)
                continue
            self.models[name] = ServedModel(name, m, getattr(m, "modality", "text"))
        if not self.models:
            raise ModelNotFoundError("no model could be loaded to serve: " +
                                     "; ".join(f"{k}: {v}" for k, v in self.skipped.items()))

    async def start(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from affekt.serve.batching import MicroBatcher

        for sm in self.models.values():
            if sm.modality == "video":
                continue
            sm.batcher = MicroBatcher(self._runner(sm), max_batch=self.config.max_batch,
                                      max_wait_ms=self.config.max_wait_ms, name=sm.name,
                                      workers=self.config.model_workers,
                                      on_batch=lambda n, s, _name=sm.name: self.metrics.observe_batch(_name, n, s))
            await sm.batcher.start()
        self._job_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="affekt-video")

    async def stop(self) -> None:
        for sm in self.models.values():
            if sm.batcher is not None:
                await sm.batcher.stop()
        if self._job_pool is not None:
            self._job_pool.shutdown(wait=False, cancel_futures=True)

    def _runner(self, sm: ServedModel):
        """``fn(values, key) -> records`` for the model's batcher: one model call per batch."""
        model = sm.model

        def run(values: list, key: tuple):  # (a text model's encoder sorts a batch by length itself)
            return list(model.predict(values, label_space=key[0], errors="record", **dict(key[1:])))

        return run

    def pick(self, name: str | None, modality: str) -> ServedModel:
        """The served model ``name`` (it must be a ``modality`` model), or that modality's default."""
        if name:
            sm = self.models.get(name)
            if sm is None:
                served = ", ".join(k for k, v in self.models.items() if v.modality == modality) or "none"
                raise RequestError(f"model '{name}' is not served here (served {modality} models: {served}; "
                                   "GET /v1/models lists them)", 404)
            if sm.modality != modality:
                raise RequestError(f"model '{name}' is a {sm.modality} model; this endpoint takes {modality}", 422)
            return sm
        from affekt.core.registry import default_model

        default = default_model(modality)
        if default in self.models:
            return self.models[default]
        sm = next((v for v in self.models.values() if v.modality == modality), None)
        if sm is None:
            raise RequestError(f"no {modality} model is served here (start it with --models ...)", 404)
        return sm

    async def predict(self, sm: ServedModel, values: list, *, label_space: str | None = None,
                      abstain_below: float | None = None, **opts) -> list:
        """Records for ``values`` through the model's batcher (bounded queue, time limit)."""
        from affekt.cli.common import check_label_space

        if label_space:
            try:
                check_label_space(sm.model, label_space)
            except AffektError as exc:
                raise RequestError(f"label_space: {exc}", 422) from None
        if abstain_below is not None:
            from affekt.core.abstain import check_threshold

            try:
                check_threshold(abstain_below)
            except AffektError as exc:
                raise RequestError(f"abstain_below: {exc}", 422) from None
        if sm.pending + len(values) > self.config.max_queue:
            raise RequestError(f"model '{sm.name}' is busy ({sm.pending} inputs waiting); retry shortly", 503)
        sm.pending += len(values)
        try:
            preds = await asyncio.wait_for(sm.batcher.submit(values, (label_space, *sorted(opts.items()))),
                                           self.config.request_timeout_s)
        except TimeoutError:
            raise RequestError(f"no answer within {self.config.request_timeout_s:g} s (the service is busy); "
                               "retry, or send fewer inputs per request", 503) from None
        finally:
            sm.pending -= len(values)
        self.metrics.items.labels(sm.name).inc(len(preds))
        bad = sum(1 for p in preds if p.error)
        if bad:
            self.metrics.item_errors.labels(sm.name).inc(bad)
        if abstain_below is not None:
            from affekt.core.abstain import abstain

            for p in preds:
                abstain(p, abstain_below)
        return preds

    # ----------------------------------------------------------------- info
    def describe_models(self) -> list[dict]:
        from affekt.core.registry import list_models

        known = {d["name"]: d for d in list_models()}
        out = []
        for name, sm in self.models.items():
            d = dict(known.get(name, {}))
            d.pop("path", None)
            d.update(name=name, modality=sm.modality, family=getattr(sm.model, "family", d.get("family")),
                     endpoint={"text": "/v1/text", "speech": "/v1/speech", "face": "/v1/face",
                               "video": "/v1/video"}[sm.modality])
            labels = getattr(getattr(sm.model, "categorical_part", lambda: sm.model)(), "labels_", None)
            if labels is not None:
                d["labels"] = list(labels.labels)
            out.append(d)
        return out

    # ----------------------------------------------------------------- jobs
    def _expire_jobs(self) -> None:
        now = time.time()
        for k in [k for k, j in self.jobs.items()
                  if j.finished is not None and now - j.finished > self.config.job_ttl_s]:
            del self.jobs[k]

    def submit_video(self, sm: ServedModel, up: Upload, fps: float | None) -> Job:
        self._expire_jobs()
        active = sum(1 for j in self.jobs.values() if j.status in ("queued", "running"))
        if active >= self.config.max_jobs:
            raise RequestError(f"{active} video jobs are queued or running (the most this service takes); "
                               "retry when one is done", 503)
        job = Job(uuid.uuid4().hex, up.name)
        self.jobs[job.id] = job
        self.metrics.jobs.inc()
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._job_pool, self._run_video, sm, up, fps, job)
        fut.add_done_callback(lambda _f: self.metrics.jobs.dec())
        return job

    def _run_video(self, sm: ServedModel, up: Upload, fps: float | None, job: Job) -> None:
        """One video, decoded from memory (a memfd), as ``affekt predict`` would (its audio track goes
        through a temporary WAV, removed afterwards)."""
        job.status = "running"
        fd = os.memfd_create("affekt-video", 0)
        try:
            os.write(fd, up.data)
            path = f"/proc/self/fd/{fd}"
            from affekt.video.decode import probe

            info = probe(path)
            if info.duration and info.duration > self.config.max_video_seconds:
                raise InputError(f"'{up.name}': {info.duration:.0f} s of video is longer than the "
                                 f"{self.config.max_video_seconds:g} s accepted here")
            p = sm.model.predict([path], errors="record", fps=fps)[0]
            p.input = up.name
            if p.error:
                p.error = p.error.replace(path, up.name)
                job.status, job.error = "failed", p.error
            else:
                job.status = "done"
            job.result = p.to_dict()
        except AffektError as exc:
            job.status, job.error = "failed", str(exc).replace(f"/proc/self/fd/{fd}", up.name)
        except Exception as exc:  # a bug of ours: the job says so, the service goes on
            log.exception("video job %s failed", job.id)
            job.status, job.error = "failed", f"internal error ({type(exc).__name__})"
        finally:
            os.close(fd)
            job.finished = time.time()
            up.data = b""


# --------------------------------------------------------------------------- middleware
class Guard:
    """Pure ASGI middleware: request ids, timings and metrics, the body size limit (declared or
    counted) and the time a body may take to arrive (a slow-loris client is cut off)."""

    def __init__(self, app, service: Service):
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.exceptions import HTTPException

        cfg, metrics = self.service.config, self.service.metrics
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = rid if _RID.match(rid) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        path = scope.get("path", "")
        route = path if path in ROUTES else ("/v1/video/{job}" if path.startswith("/v1/video/") else
                                             "/static" if path.startswith("/static/") else "other")
        t0 = time.perf_counter()
        status = [500]

        async def send_(msg):
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
                msg = dict(msg)
                msg["headers"] = list(msg.get("headers", [])) + [(b"x-request-id", rid.encode())]
            await send(msg)

        metrics.in_flight.inc()
        try:
            declared = headers.get(b"content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > cfg.max_body_bytes):
                what = (f"{int(declared):,} bytes is over the {cfg.max_body_bytes:,}-byte limit"
                        if declared.isdigit() else "invalid Content-Length")
                await _send_error(send_, 413 if declared.isdigit() else 400, f"request body: {what}", rid)
                return
            loop = asyncio.get_running_loop()
            state = {"deadline": None, "got": 0, "done": False}

            async def receive_():
                if state["done"]:
                    return await receive()
                if state["deadline"] is None:
                    state["deadline"] = loop.time() + cfg.body_timeout_s
                try:
                    msg = await asyncio.wait_for(receive(), max(0.001, state["deadline"] - loop.time()))
                except TimeoutError:
                    raise HTTPException(408, f"the request body did not arrive within {cfg.body_timeout_s:g} s "
                                        f"({state['got']:,} bytes received)") from None
                if msg["type"] == "http.request":
                    state["got"] += len(msg.get("body", b""))
                    if state["got"] > cfg.max_body_bytes:
                        raise HTTPException(413, f"request body: over the {cfg.max_body_bytes:,}-byte limit")
                    if not msg.get("more_body", False):
                        state["done"] = True
                return msg

            await self.app(scope, receive_, send_)
        finally:
            metrics.in_flight.dec()
            dt = time.perf_counter() - t0
            metrics.requests.labels(route, str(status[0])).inc()
            metrics.latency.labels(route).observe(dt)
            if status[0] >= 400:
                metrics.errors.labels(route, str(status[0])).inc()
            log.info("%s %s %s %d %.1f ms", rid, scope.get("method", ""), route, status[0], dt * 1000)


async def _send_error(send, status: int, message: str, rid: str) -> None:
    body = json.dumps({"error": message, "status": status, "request_id": rid}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- the app
TEXT_SCHEMA = {
    "type": "object", "required": ["texts"],
    "properties": {
        "texts": {"type": "array", "items": {"type": "string"}, "description": "The texts, one record each."},
        "ids": {"type": "array", "description": "Optional: an id per text, passed through to its record."},
        "label_space": {"type": "string", "description": "View the answer in another label space (e.g. ekman)."},
        "model": {"type": "string", "description": "A served text model (GET /v1/models); default text-default."},
        "abstain_below": {"type": "number", "description": "Answer 'uncertain' where the top score is under this."},
    },
    "example": {"texts": ["Thank you so much, this made my day!"], "label_space": "ekman"},
}
UPLOAD_BODY = {
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": "One or more files (form field 'file')"}}}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
    "required": True,
}


def create_app(config: ServeConfig | None = None, service: Service | None = None):
    """The FastAPI app. ``service``: an already loaded :class:`Service` (tests share one)."""
    from contextlib import asynccontextmanager

    from fastapi import Depends, FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse, Response
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartParser
    from starlette.requests import ClientDisconnect

    from affekt import __version__

    config = config or ServeConfig()
    svc = service or Service(config)
    # an upload stays in memory: Starlette would spool a part over 1 MB to a temporary file
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, config.max_body_bytes + 1)

    @asynccontextmanager
    async def lifespan(app):
        if not svc.models:
            svc.load()
        await svc.start()
        log.info("serving %s", ", ".join(svc.models))
        yield
        await svc.stop()

    app = FastAPI(title="affekt", version=__version__, lifespan=lifespan,
                  description="Emotion recognition in text, speech, faces and video. Every endpoint answers "
                  "with the records `affekt predict` writes. Errors are `{\"error\", \"status\", \"request_id\"}`.")
    app.state.service = svc

    def rid(request) -> str:
        return request.scope.get("state", {}).get("request_id", "-")

    def error(request, status: int, message: str, headers: dict | None = None):
        return JSONResponse({"error": message, "status": status, "request_id": rid(request)}, status_code=status,
                            headers=headers)

    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError):
        return error(request, exc.status, str(exc), {"Retry-After": "1"} if exc.status == 503 else None)

    @app.exception_handler(ModelNotFoundError)
    async def _not_found(request: Request, exc: ModelNotFoundError):
        return error(request, 404, str(exc))

    @app.exception_handler(AffektError)
    async def _affekt_error(request: Request, exc: AffektError):
        return error(request, 422, str(exc))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code in (408, 413):
            headers["Connection"] = "close"
        return error(request, exc.status_code, str(exc.detail), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        parts = [f"{'.'.join(str(x) for x in e.get('loc', ()) if x != 'body') or 'body'}: {e.get('msg')}"
                 for e in exc.errors()[:5]]
        return error(request, 422, "; ".join(parts))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect):  # nobody to answer; counted in the metrics
        return error(request, 400, "the client went away before the request body was complete")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.error("%s internal error: %s", rid(request), type(exc).__name__, exc_info=exc)
        return error(request, 500, f"internal error ({type(exc).__name__}); request id {rid(request)}")

    async def authorised(request: Request):
        if not config.api_key:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), config.api_key.encode()):
            raise HTTPException(401, "missing or wrong API key: send 'Authorization: Bearer <AFFEKT_API_KEY>'",
                                headers={"WWW-Authenticate": "Bearer"})

    auth = [Depends(authorised)] if config.api_key else []  # no dependency to run when there is no key

    # ----------------------------------------------------------- reading bodies
    async def json_body(request: Request) -> dict:
        ctype = request.headers.get("content-type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise RequestError(f"this endpoint takes application/json, not '{ctype or '(none)'}'", 415)
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(f"invalid JSON: {getattr(exc, 'msg', exc)}"
                               + (f" at character {exc.pos + 1}" if hasattr(exc, "pos") else ""), 400) from None
        if not isinstance(body, dict):
            raise RequestError(f"expected a JSON object, got a JSON {type(body).__name__}", 422)
        return body

    async def uploads(request: Request, modality: str) -> list[Upload]:
        """The files of a multipart form (field ``file``, one or more) or a raw body."""
        kind = {"speech": "audio", "face": "image", "video": "video"}[modality]
        ctype = request.headers.get("content-type", "")
        main = ctype.split(";")[0].strip().lower()
        if main == "multipart/form-data":
            form = await request.form(max_files=config.max_files, max_fields=config.max_files + 8)
            files = [Upload(getattr(f, "filename", None) or "upload", await f.read())
                     for _, f in form.multi_items() if hasattr(f, "read")]
            await form.close()
            if not files:
                raise RequestError("the form holds no file (send it in the field 'file')", 422)
        elif main == "application/octet-stream" or main.startswith(kind + "/"):
            name = request.headers.get("x-filename") or "upload"
            files = [Upload(name[:200], await request.body())]
        else:
            raise RequestError(f"this endpoint takes a multipart/form-data upload or a raw {kind}/* or "
                               f"application/octet-stream body, not '{ctype or '(none)'}'", 415)
        if len(files) > config.max_files:
            raise RequestError(f"{len(files)} files in one request; the most is {config.max_files}", 413)
        for up in files:
            check_kind(up, kind)
        return files

    def query_float(request: Request, key: str) -> float | None:
        v = request.query_params.get(key)
        if v is None or v == "":
            return None
        try:
            return float(v)
        except ValueError:
            raise RequestError(f"{key}: '{v}' is not a number", 422) from None

    def records(sm: ServedModel, preds) -> dict:
        return {"model": sm.name, "predictions": [p.to_dict() for p in preds]}

    # ---------------------------------------------------------------- routes
    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", summary="Liveness: the service answers and its models are loaded")
    async def healthz():
        return {"status": "ok", "version": __version__, "models": list(svc.models),
                "modalities": sorted({m.modality for m in svc.models.values()}),
                "auth_required": bool(config.api_key), "uptime_s": round(time.time() - svc.started, 1)}

    @app.get("/metrics", summary="Prometheus metrics", dependencies=auth,
             response_class=Response)
    async def metrics():
        body, ctype = svc.metrics.exposition()
        return Response(body, media_type=ctype)

    @app.get("/v1/models", summary="The served models: modality, labels, label spaces, endpoint", dependencies=auth)
    async def models():
        return {"models": svc.describe_models(), "not_served": svc.skipped,
                "limits": {k: v for k, v in asdict(config).items() if k not in ("models", "api_key")}}

    @app.post("/v1/text", summary="Emotions of texts", dependencies=auth,
              openapi_extra={"requestBody": {"required": True,
                                             "content": {"application/json": {"schema": TEXT_SCHEMA}}}})
    async def text(request: Request):
        body = await json_body(request)
        unknown = set(body) - set(TEXT_SCHEMA["properties"])
        if unknown:
            raise RequestError(f"unknown field(s) {', '.join(sorted(unknown))} (fields: "
                               f"{', '.join(TEXT_SCHEMA['properties'])})", 422)
        texts = body.get("texts")
        if not isinstance(texts, list) or not texts:
            raise RequestError("texts: expected a non-empty list of strings", 422)
        if len(texts) > config.max_texts:
            raise RequestError(f"texts: {len(texts):,} texts in one request; the most is {config.max_texts:,} "
                               "(split them, or use `affekt predict` for files)", 413)
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is not None:
            raise RequestError(f"texts[{bad}]: expected a string, got {type(texts[bad]).__name__}", 422)
        ids = body.get("ids")
        if ids is not None and (not isinstance(ids, list) or len(ids) != len(texts)):
            raise RequestError(f"ids: expected a list of {len(texts)} ids, one per text", 422)
        for key in ("label_space", "model"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise RequestError(f"{key}: expected a string", 422)
        ab = body.get("abstain_below")
        if ab is not None and (isinstance(ab, bool) or not isinstance(ab, (int, float))):
            raise RequestError("abstain_below: expected a number", 422)
        sm = svc.pick(body.get("model"), "text")
        preds = await svc.predict(sm, texts, label_space=body.get("label_space"), abstain_below=ab)
        if ids is not None:
            for p, i in zip(preds, ids):
                p.id = i
        return Response(json.dumps(records(sm, preds), ensure_ascii=False), media_type="application/json")

    async def files_endpoint(request: Request, modality: str, **opts):
        ups = await uploads(request, modality)
        sm = svc.pick(request.query_params.get("model"), modality)
        if modality == "speech":
            from starlette.concurrency import run_in_threadpool

            from affekt.io.audio import decode_audio_bytes

            def decode(up):
                try:
                    return (decode_audio_bytes(up.data, up.name, max_seconds=config.max_audio_seconds), 16000)
                except InputError as exc:
                    status = 413 if "longer than" in str(exc) else 422
                    raise RequestError(str(exc), status) from None

            values = [await run_in_threadpool(decode, up) for up in ups]
        else:
            for up in ups:
                px = image_pixels(up.data)
                if px is not None and px > config.max_image_pixels:
                    raise RequestError(f"'{up.name}': {px / 1e6:.1f} megapixels is over the "
                                       f"{config.max_image_pixels / 1e6:g} MP accepted here", 413)
            values = [up.data for up in ups]
        preds = await svc.predict(sm, values, label_space=request.query_params.get("label_space") or None,
                                  abstain_below=query_float(request, "abstain_below"), **opts)
        for p, up in zip(preds, ups):
            if p.error:  # the model names an in-memory input by its type; the client knows it by its name
                p.error = p.error.replace(str(p.input), f"'{up.name}'" if modality == "face" else up.name)
            p.input = up.name
        return Response(json.dumps(records(sm, preds), ensure_ascii=False), media_type="application/json")

    @app.post("/v1/speech", summary="Emotions of speech recordings (wav, flac, ogg, mp3...)", dependencies=auth,
              openapi_extra={"requestBody": UPLOAD_BODY, "parameters": [
                  {"name": n, "in": "query", "required": False, "schema": {"type": t}}
                  for n, t in (("model", "string"), ("label_space", "string"), ("abstain_below", "number"))]})
    async def speech(request: Request):
        return await files_endpoint(request, "speech")

    @app.post("/v1/face", summary="Faces in images: each face's box and emotion", dependencies=auth,
              openapi_extra={"requestBody": UPLOAD_BODY, "parameters": [
                  {"name": n, "in": "query", "required": False, "schema": {"type": t}}
                  for n, t in (("model", "string"), ("label_space", "string"), ("abstain_below", "number"),
                               ("whole_image", "boolean"))]})
    async def face(request: Request):
        whole = request.query_params.get("whole_image", "").lower() in ("1", "true", "yes")
        return await files_endpoint(request, "face", **({"whole_image": True} if whole else {}))

    @app.post("/v1/video", status_code=202, summary="Start a video job (videos are long): poll its URL",
              dependencies=auth, openapi_extra={"requestBody": UPLOAD_BODY, "parameters": [
                  {"name": n, "in": "query", "required": False, "schema": {"type": t}}
                  for n, t in (("model", "string"), ("fps", "number"))]})
    async def video(request: Request):
        ups = await uploads(request, "video")
        if len(ups) != 1:
            raise RequestError(f"one video per job, got {len(ups)}", 422)
        sm = svc.pick(request.query_params.get("model"), "video")
        fps = query_float(request, "fps")
        if fps is not None and not 0 < fps <= 30:
            raise RequestError("fps: expected a number of frames per second in (0, 30]", 422)
        job = svc.submit_video(sm, ups[0], fps)
        return JSONResponse({**job.to_dict(), "url": f"/v1/video/{job.id}"}, status_code=202,
                            headers={"Location": f"/v1/video/{job.id}"})

    @app.get("/v1/video/{job_id}", summary="A video job: queued, running, done (with its record) or failed",
             dependencies=auth)
    async def video_job(job_id: str):
        svc._expire_jobs()
        job = svc.jobs.get(job_id)
        if job is None:
            raise RequestError(f"no video job '{job_id[:64]}' (finished jobs are kept {config.job_ttl_s:g} s)", 404)
        return job.to_dict()

    @app.websocket("/v1/speech/stream")
    async def speech_stream(ws: WebSocket):
        from affekt.serve.stream import serve_stream

        await serve_stream(ws, svc)

    app.add_middleware(Guard, service=svc)
    return app


def app_from_env():
    """The app uvicorn's workers build (``affekt serve --workers N``): the config in AFFEKT_SERVE_CONFIG."""
    return create_app(ServeConfig.from_env(os.environ.get("AFFEKT_SERVE_CONFIG", "{}")))
