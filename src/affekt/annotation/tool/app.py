"""The web app of ``affekt annotate`` (FastAPI): the page at ``/`` and a small JSON API.

* ``GET /api/project``: the scheme, the instructions, whether tokens are needed;
* ``POST /api/next`` ``{"annotator"}``: the item to label next (leased to the annotator), or
  ``"item": null`` when none is left for them; the same item again until it is answered;
* ``POST /api/answer`` ``{"annotator", "item", "labels", "valence", ..., "answer_id"}``: stored,
  committed, then answered; a retried ``answer_id`` is stored once;
* ``GET /api/media/{n}``: the audio file or image of item ``n`` of the project's list (nothing
  else on disk can be asked for); ``GET /api/stats``: progress and gold accuracy.

Refusals are JSON ``{"error": message, "status": code}``: 400 no annotator, 403 a token not on
the list, 404 no such item, 409 an item answered twice, 413 a body too large, 415 not JSON,
422 an answer that does not fit the scheme. The page's own files are in
``affekt/annotation/static``; its base style is ``affekt serve``'s (``/static/base.css``).
"""
from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from fastapi import Request

from affekt.annotation.tool.project import MAX_ANNOTATOR_CHARS, Project
from affekt.annotation.tool.scheme import AnswerError
from affekt.core.errors import AffektError

log = logging.getLogger("affekt.annotate")
STATIC = Path(__file__).resolve().parents[1] / "static"
SERVE_STATIC = Path(__file__).resolve().parents[2] / "serve" / "static"
MAX_BODY = 64 * 1024
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
       "script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'")


def annotator_of(raw, tokens: dict[str, str] | None) -> str:
    """Who answers: the name typed on the page, or (with ``--tokens``) the name a token stands for."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise AnswerError("annotator: missing; enter your name (or token) on the page, or open it as "
                          "/?annotator=NAME", 400)
    if not isinstance(raw, str):
        raise AnswerError(f"annotator: expected a name (a string), got {type(raw).__name__}", 422)
    raw = raw.strip()
    if tokens is not None:
        name = tokens.get(raw)
        if name is None:
            raise AnswerError("annotator: this token is not on the list the project was started with (--tokens)", 403)
        return name
    if len(raw) > MAX_ANNOTATOR_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise AnswerError(f"annotator: a name of 1-{MAX_ANNOTATOR_CHARS} printable characters, please", 422)
    return raw


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]", "testserver")


def create_app(project: Project, *, tokens: dict[str, str] | None = None, close_on_shutdown: bool = False,
               allowed_hosts=LOOPBACK_NAMES):
    """The app for one open project. ``tokens``: token -> annotator name; only they may annotate.
    ``close_on_shutdown``: close the project (checkpoint, unlock) when the server stops (uvicorn
    re-raises SIGTERM/SIGINT after its shutdown, so code after ``uvicorn.run`` may never run).
    ``allowed_hosts``: the Host headers answered (loopback names by default: a web page elsewhere that
    points its own domain at 127.0.0.1, DNS rebinding, gets 400 instead of the items)."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException

    from affekt import __version__

    @asynccontextmanager
    async def lifespan(app):
        yield
        if close_on_shutdown:
            project.close()

    app = FastAPI(title="affekt annotate", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.project = project
    if allowed_hosts and "*" not in allowed_hosts:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))

    def error(status: int, message: str):
        return JSONResponse({"error": message, "status": status}, status_code=status,
                            headers={"Cache-Control": "no-store"})

    @app.exception_handler(AnswerError)
    async def _answer_error(request: Request, exc: AnswerError):
        return error(exc.status, str(exc))

    @app.exception_handler(AffektError)
    async def _affekt_error(request: Request, exc: AffektError):
        return error(422, str(exc))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(sqlite3.Error)
    async def _store_error(request: Request, exc: sqlite3.Error):  # e.g. a full disk: the page retries
        log.error("the answers database refused a write: %s", exc)
        return error(503, f"the answers database could not be written ({exc}); nothing was stored, the page retries")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.error("internal error: %s", type(exc).__name__, exc_info=exc)
        return error(500, f"internal error ({type(exc).__name__}: {exc})")

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def body_of(request: Request) -> dict:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise AnswerError(f"send application/json, not '{ctype or '(none)'}'", 415)
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                raise AnswerError(f"the request body is over {MAX_BODY // 1024} KB", 413)
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AnswerError(f"invalid JSON: {getattr(exc, 'msg', exc)}", 400) from None
        if not isinstance(body, dict):
            raise AnswerError(f"expected a JSON object, got a JSON {type(body).__name__}", 422)
        return body

    def item_payload(item: dict | None, raw_annotator: str) -> dict | None:
        if item is None:
            return None
        if item["kind"] != "text":
            item = {**item, "src": f"/api/media/{item['n']}?annotator={quote(raw_annotator.strip(), safe='')}"}
        return item

    # ------------------------------------------------------------------ the page
    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get("/static/base.css", include_in_schema=False)
    def base_css():  # affekt serve's look, shared as it is
        return FileResponse(SERVE_STATIC / "app.css", media_type="text/css")

    @app.get("/static/dom.js", include_in_schema=False)
    def dom_js():  # the DOM helpers both pages use
        return FileResponse(SERVE_STATIC / "dom.js", media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "version": __version__, "project": project.config["project_id"]}

    # ------------------------------------------------------------------ the API
    @app.get("/api/project")
    def project_info():
        cfg = project.config
        return {"project_id": cfg["project_id"], "name": project.folder.name, "scheme": project.scheme.to_dict(),
                "instructions": cfg.get("instructions") or "", "tokens": tokens is not None, "k": project.k,
                "items": len(project.items) - len(project.gold), "suggestions": bool(project.suggestions)}

    @app.post("/api/next")
    async def next_item(request: Request):
        from starlette.concurrency import run_in_threadpool

        body = await body_of(request)
        raw = body.get("annotator")
        name = annotator_of(raw, tokens)

        def work():
            item = project.next_item(name)
            return {"annotator": name, "item": item_payload(item, raw), "done": item is None,
                    "progress": project.progress(name)}

        return await run_in_threadpool(work)

    @app.post("/api/answer")
    async def answer(request: Request):
        from starlette.concurrency import run_in_threadpool

        body = await body_of(request)
        raw = body.pop("annotator", None) or request.query_params.get("annotator")
        name = annotator_of(raw, tokens)
        result = await run_in_threadpool(project.answer, name, body, time.time())
        return {**result, "annotator": name}

    @app.get("/api/media/{n}")
    def media(n: int, annotator: str | None = None):
        if tokens is not None:
            annotator_of(annotator, tokens)
        if not 0 <= n < len(project.items) or project.items[n]["kind"] == "text":
            raise AnswerError(f"no media item {n} in this project", 404)
        path = Path(project.items[n]["path"])
        if not path.is_file():
            raise AnswerError(f"the file of item '{project.items[n]['id']}' is no longer there", 404)
        return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/api/stats")
    def stats(annotator: str | None = None):
        if tokens is not None:
            annotator_of(annotator, tokens)
        return project.stats()

    return app
