"""affekt as a service: ``affekt serve`` (FastAPI on uvicorn), its web page, live speech.

:func:`create_app` builds the app; :class:`ServeConfig` holds what it serves and its limits.
FastAPI, uvicorn and prometheus-client come with ``pip install 'affekt[serve]'``.
"""
from __future__ import annotations

from affekt.serve.app import ServeConfig, Service, create_app

__all__ = ["ServeConfig", "Service", "create_app"]
