"""A real affekt service (uvicorn, loopback, a free port) in a background thread, for the tests
that need sockets: slow clients, cut uploads, the browser."""
from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "affekt" / "examples"


@contextlib.contextmanager
def running_server(app):
    """Serve ``app`` on 127.0.0.1 (a free port); yield (base URL, the uvicorn server)."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False,
                            timeout_keep_alive=5, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(30)


def speech_wav(gaps=(1.0, 1.0), repeat: int = 1, sr: int = 16000) -> bytes:
    """The bundled example clip, ``repeat`` times, with ``gaps`` seconds of silence (before, between
    and after), as WAV bytes made here."""
    import io

    import soundfile as sf

    y, r = sf.read(EXAMPLES / "speech.wav", dtype="float32")
    assert r == sr
    before, between = gaps
    parts = [np.zeros(int(before * sr), np.float32)]
    for k in range(repeat):
        parts += [y, np.zeros(int(between * sr), np.float32)]
    buf = io.BytesIO()
    sf.write(buf, np.concatenate(parts), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()
