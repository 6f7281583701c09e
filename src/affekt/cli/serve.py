"""``affekt serve``: the models over HTTP (see :mod:`affekt.serve`)."""
from __future__ import annotations

import os

import typer

from affekt.cli.common import friendly


@friendly
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on. Anything but loopback needs an API "
                                   "key in AFFEKT_API_KEY (clients send it as 'Authorization: Bearer KEY')."),
          port: int = typer.Option(8000, min=0, max=65535, help="Port (0: any free port)."),
          models: str | None = typer.Option(None, help="Comma-separated models to serve (names or folders; "
                                               "default: text-default, speech-default, face-default, video-default, "
                                               "those whose extras are installed)."),
          workers: int = typer.Option(1, min=1, help="Processes (each loads the models; metrics are per process)."),
          max_body_mb: float = typer.Option(32.0, min=0.001, help="Largest request body, MB."),
          max_texts: int = typer.Option(1000, min=1, help="Most texts in one request."),
          max_audio_s: float = typer.Option(600.0, min=1, help="Longest audio upload, seconds."),
          max_image_mp: float = typer.Option(40.0, min=0.01, help="Largest image, megapixels."),
          max_video_s: float = typer.Option(600.0, min=1, help="Longest video, seconds."),
          body_timeout: float = typer.Option(30.0, min=0.1, help="Seconds a request body may take to arrive "
                                             "(slower clients get 408)."),
          request_timeout: float = typer.Option(120.0, min=0.1, help="Seconds a request may wait for its answer (503)."),
          max_batch: int = typer.Option(64, min=1, help="Most inputs per model call (micro-batching)."),
          max_wait_ms: float = typer.Option(5.0, min=0, help="Most milliseconds a request waits for others to "
                                            "join its batch."),
          model_workers: int = typer.Option(1, min=1, help="Model calls in flight at once, per model."),
          log_level: str = typer.Option("info", help="debug, info, warning, error.")):
    """Serve the models over HTTP: a JSON API under /v1 (docs at /docs), a web page at /, /metrics."""
    import logging

    from affekt.core.errors import InputError, MissingDependencyError
    from affekt.serve.app import LOOPBACK, ServeConfig

    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError("affekt serve needs FastAPI and uvicorn: pip install 'affekt[serve]'") from None
    key = os.environ.get("AFFEKT_API_KEY") or None
    if host not in LOOPBACK and not key:
        raise InputError(f"--host {host} makes the service reachable from other machines: set AFFEKT_API_KEY "
                         "(clients then send 'Authorization: Bearer <key>'), or keep the default 127.0.0.1")
    if key is not None and len(key) < 16:
        raise InputError("AFFEKT_API_KEY is too short: use 16 characters or more (e.g. python -c "
                         "\"import secrets; print(secrets.token_urlsafe(24))\")")
    names = tuple(m.strip() for m in models.split(",") if m.strip()) if models else None
    cfg = ServeConfig(models=names, api_key=key, max_body_bytes=int(max_body_mb * 1024 * 1024), max_texts=max_texts,
                      max_audio_seconds=max_audio_s, max_image_pixels=int(max_image_mp * 1e6),
                      max_video_seconds=max_video_s, body_timeout_s=body_timeout, request_timeout_s=request_timeout,
                      max_batch=max_batch, max_wait_ms=max_wait_ms, model_workers=model_workers)
    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise InputError(f"--log-level '{log_level}': use debug, info, warning or error")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ["AFFEKT_SERVE_CONFIG"] = cfg.to_env()
    typer.echo(f"affekt serving on http://{'[' + host + ']' if ':' in host else host}:{port}/ "
               f"(API docs at /docs){' with an API key' if key else ''}", err=True)
    uvicorn.run("affekt.serve.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, access_log=False, timeout_keep_alive=5, ws_max_size=2 * 1024 * 1024)
