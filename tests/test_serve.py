"""affekt serve: the API's records, micro-batching, limits and bad input (the service keeps
serving after each), auth, metrics, video jobs and the live speech stream."""
from __future__ import annotations

import asyncio
import json
import socket
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient
from serve_helpers import EXAMPLES, running_server, speech_wav

from affekt.serve import ServeConfig, create_app

MODELS = ("text-default", "speech-default", "face-default", "video-default")
KEY = "k" * 24


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(ServeConfig(models=MODELS))) as c:
        yield c


@pytest.fixture(scope="module")
def small():
    """A service with small limits and an API key."""
    cfg = ServeConfig(models=("text-default", "speech-default"), api_key=KEY, max_body_bytes=200_000, max_texts=5,
                      max_audio_seconds=3.0, max_image_pixels=10_000)
    with TestClient(create_app(cfg), headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield c


def still_serving(c) -> None:
    assert c.get("/healthz").status_code == 200
    r = c.post("/v1/text", json={"texts": ["What a lovely surprise!"]})
    assert r.status_code == 200 and r.json()["predictions"][0]["label"]


# ---------------------------------------------------------------------- records
def test_health_and_models(client):
    h = client.get("/healthz").json()
    assert h["status"] == "ok" and set(h["models"]) == set(MODELS)
    assert h["modalities"] == ["face", "speech", "text", "video"] and h["auth_required"] is False
    models = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert models["text-default"]["endpoint"] == "/v1/text" and "ekman" in models["text-default"]["label_spaces"]
    assert models["face-default"]["labels"][0] and models["speech-default"]["modality"] == "speech"


def test_text_records_are_predicts_records(client, tmp_path):
    from typer.testing import CliRunner

    from affekt.cli.app import app

    texts = ["Thank you so much, this made my day!", "I can't believe they cancelled it again.", ""]
    r = client.post("/v1/text", json={"texts": texts, "label_space": "ekman", "ids": ["a", "b", "c"]})
    assert r.status_code == 200 and r.headers["x-request-id"]
    got = r.json()
    assert got["model"] == "text-default"
    (tmp_path / "t.jsonl").write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for t, i in zip(texts, "abc")))
    res = CliRunner().invoke(app, ["predict", "-i", str(tmp_path / "t.jsonl"), "-o", str(tmp_path / "o.jsonl"),
                                   "--label-space", "ekman"])
    assert res.exit_code == 2  # the empty text is an error record, in both
    want = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert got["predictions"] == want
    assert got["predictions"][0]["label"] == "happiness" and "error" in got["predictions"][2]


def test_speech_upload_multipart_and_raw_match_the_file(client):
    from affekt.core.registry import load_model

    data = (EXAMPLES / "speech.wav").read_bytes()
    want = load_model("speech-default").predict([str(EXAMPLES / "speech.wav")])[0].to_dict()
    a = client.post("/v1/speech", files={"file": ("speech.wav", data, "audio/wav")}).json()["predictions"][0]
    b = client.post("/v1/speech", content=data, headers={"content-type": "audio/wav", "x-filename": "s.wav"}
                    ).json()["predictions"][0]
    assert a["input"] == "speech.wav" and b["input"] == "s.wav"
    for rec in (a, b):
        assert rec["label"] == want["label"] == "anger"
        assert rec["scores"] == pytest.approx(want["scores"], abs=1e-5)
    many = client.post("/v1/speech", files=[("file", ("x.wav", data, "audio/wav")),
                                            ("file", ("y.wav", data, "audio/wav"))]).json()["predictions"]
    assert [p["input"] for p in many] == ["x.wav", "y.wav"]


def test_face_upload_boxes_faces(client):
    data = (EXAMPLES / "face.jpg").read_bytes()
    r = client.post("/v1/face", files={"file": ("face.jpg", data, "image/jpeg")})
    rec = r.json()["predictions"][0]
    assert rec["input"] == "face.jpg" and len(rec["faces"]) >= 1
    f = rec["faces"][0]
    assert len(f["box"]) == 4 and f["label"] in f["scores"]
    whole = client.post("/v1/face?whole_image=true", content=data, headers={"content-type": "image/jpeg"})
    assert whole.json()["predictions"][0]["label"]


def test_video_job_runs_from_memory(client):
    data = (EXAMPLES / "talk.mp4").read_bytes()
    r = client.post("/v1/video", files={"file": ("talk.mp4", data, "video/mp4")})
    assert r.status_code == 202 and r.headers["location"] == r.json()["url"]
    for _ in range(240):
        job = client.get(r.json()["url"]).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.25)
    assert job["status"] == "done", job
    assert job["result"]["input"] == "talk.mp4" and job["result"]["tracks"] and job["result"]["voice"]
    assert client.get("/v1/video/nope").status_code == 404


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize("case", ["invalid-json", "wrong-type", "too-many", "unknown-model", "not-a-list",
                                  "number-in-texts", "unknown-field", "bad-space"])
def test_bad_text_requests_get_a_clear_4xx(small, case):
    req = {"invalid-json": dict(content=b'{"texts": [', headers={"content-type": "application/json"}),
           "wrong-type": dict(content=b"hello", headers={"content-type": "text/plain"}),
           "too-many": dict(json={"texts": ["a"] * 10_000}),
           "unknown-model": dict(json={"texts": ["a"], "model": "nope"}),
           "not-a-list": dict(json={"texts": "a"}),
           "number-in-texts": dict(json={"texts": ["a", 3]}),
           "unknown-field": dict(json={"texts": ["a"], "labelspace": "ekman"}),
           "bad-space": dict(json={"texts": ["a"], "label_space": "nope"})}[case]
    want = {"invalid-json": (400, "invalid JSON"), "wrong-type": (415, "application/json"),
            "too-many": (413, "10,000 texts"), "unknown-model": (404, "'nope' is not served"),
            "not-a-list": (422, "list of strings"), "number-in-texts": (422, "texts[1]"),
            "unknown-field": (422, "labelspace"), "bad-space": (422, "nope")}[case]
    r = small.post("/v1/text", **req)
    body = r.json()
    assert (r.status_code, body["status"]) == (want[0], want[0])
    assert want[1] in body["error"] and body["request_id"] == r.headers["x-request-id"]
    still_serving(small)


@pytest.mark.parametrize("case", ["over-limit", "jpeg-as-audio", "text-as-audio", "truncated", "too-long",
                                  "wrong-content-type", "empty-form", "empty"])
def test_bad_uploads_get_a_clear_4xx(small, case):
    wav = speech_wav(gaps=(0.2, 0.2))  # 4.96 s: over this service's 3 s
    short = speech_wav(gaps=(0.0, 0.0))[:44 + 2 * 16000 * 2]  # header intact, data cut
    big = b"RIFF" + b"\0" * 300_000
    req = {"over-limit": dict(content=big, headers={"content-type": "audio/wav"}),
           "jpeg-as-audio": dict(files={"file": ("a.wav", (EXAMPLES / "face.jpg").read_bytes(), "audio/wav")}),
           "text-as-audio": dict(content=b"just some words", headers={"content-type": "audio/wav"}),
           "truncated": dict(content=short, headers={"content-type": "audio/wav"}),
           "too-long": dict(content=wav, headers={"content-type": "audio/wav"}),
           "wrong-content-type": dict(content=wav, headers={"content-type": "application/json"}),
           "empty-form": dict(data={"x": "1"}, files={"y": ("", b"", "text/plain")}),
           "empty": dict(content=b"", headers={"content-type": "audio/wav"})}[case]
    want = {"over-limit": (413, "200,000-byte limit"), "jpeg-as-audio": (415, "image (JPEG)"),
            "text-as-audio": (415, "the content is text"), "truncated": (422, "truncated"),
            "too-long": (413, "longer than the 3 s"), "wrong-content-type": (415, "multipart/form-data"),
            "empty-form": (422, "no file"), "empty": (400, "empty")}[case]
    r = small.post("/v1/speech", **req)
    assert r.status_code == want[0], r.text
    assert want[1] in r.json()["error"]
    still_serving(small)


def test_images_over_the_pixel_limit_are_refused_before_decoding():
    with TestClient(create_app(ServeConfig(models=("face-default",), max_image_pixels=100_000))) as c:
        r = c.post("/v1/face", files={"file": ("face.jpg", (EXAMPLES / "face.jpg").read_bytes(), "image/jpeg")})
        assert r.status_code == 413 and "0.3 megapixels is over the 0.1 MP" in r.json()["error"]
        r = c.post("/v1/face", content=b"plain words", headers={"content-type": "image/png"})
        assert r.status_code == 415 and "the content is text" in r.json()["error"]


def test_api_key_is_required_and_checked(small):
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}):
        r = small.post("/v1/text", json={"texts": ["a"]}, headers=headers)
        assert r.status_code == 401 and "API key" in r.json()["error"]
        assert r.headers["www-authenticate"] == "Bearer"
    assert small.get("/metrics", headers={"Authorization": ""}).status_code == 401
    assert small.get("/healthz", headers={"Authorization": ""}).json()["auth_required"] is True
    still_serving(small)


def test_metrics_count_requests_batches_and_errors(client):
    client.post("/v1/text", json={"texts": ["a", "b", "c"]})
    client.post("/v1/text", content=b"{", headers={"content-type": "application/json"})
    text = client.get("/metrics").text
    assert 'affekt_requests_total{route="/v1/text",status="200"}' in text
    assert 'affekt_errors_total{kind="400",route="/v1/text"}' in text
    assert 'affekt_batch_size_bucket{le="4.0",model="text-default"}' in text
    assert "affekt_request_seconds_bucket" in text and 'affekt_items_total{model="text-default"}' in text


# ---------------------------------------------------------------- micro-batching
def test_concurrent_requests_are_gathered_into_batches_in_order():
    from affekt.serve.batching import MicroBatcher

    calls = []

    def fn(values, key):
        calls.append(len(values))
        time.sleep(0.02)
        return [f"{key}:{v}" for v in values]

    async def main():
        b = MicroBatcher(fn, max_batch=16, max_wait_ms=5)
        await b.start()
        outs = await asyncio.gather(*(b.submit([i, i + 100], key=i % 2) for i in range(20)))
        await b.stop()
        return outs

    outs = asyncio.run(main())
    assert outs == [[f"{i % 2}:{i}", f"{i % 2}:{i + 100}"] for i in range(20)]
    assert sum(calls) == 40 and len(calls) < 20 and max(calls) <= 16


def test_a_failing_batch_fails_its_requests_only():
    from affekt.serve.batching import MicroBatcher

    def fn(values, key):
        if "boom" in values:
            raise RuntimeError("boom")
        return values

    async def main():
        b = MicroBatcher(fn, max_batch=1, max_wait_ms=0)
        res = await asyncio.gather(b.submit(["boom"]), b.submit(["ok"]), return_exceptions=True)
        await b.stop()
        return res

    bad, ok = asyncio.run(main())
    assert isinstance(bad, RuntimeError) and ok == ["ok"]


# ------------------------------------------------------------------ real sockets
@pytest.fixture(scope="module")
def server():
    cfg = ServeConfig(models=("text-default",), body_timeout_s=1.5, max_body_bytes=100_000)
    with running_server(create_app(cfg)) as (url, srv):
        yield url, srv


def _raw(url: str, payload: bytes, *, then_close: bool = False, drip: float | None = None, read_s: float = 10):
    host, port = url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=read_s)
    try:
        if drip is None:
            s.sendall(payload)
        else:  # slow-loris: the headers, then a byte at a time
            head, _, body = payload.partition(b"\r\n\r\n")
            s.sendall(head + b"\r\n\r\n")
            try:
                for i in range(len(body)):
                    s.sendall(body[i:i + 1])
                    time.sleep(drip)
            except OSError:  # the server hung up on us: what we want
                pass
        if then_close:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def _post(path: str, body: bytes, length: int | None = None, ctype: str = "application/json") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\n\r\n").encode() + body


def test_slow_bodies_time_out_and_the_service_goes_on(server):
    url, _ = server
    t0 = time.time()
    out = _raw(url, _post("/v1/text", json.dumps({"texts": ["slow " * 40]}).encode()), drip=0.05)
    assert out.startswith(b"HTTP/1.1 408") and b"did not arrive within 1.5 s" in out
    assert time.time() - t0 < 8
    import httpx

    assert httpx.post(url + "/v1/text", json={"texts": ["fine"]}).status_code == 200


def test_cut_uploads_and_declared_oversize_bodies(server):
    url, _ = server
    body = json.dumps({"texts": ["cut short"]}).encode()
    out = _raw(url, _post("/v1/text", body[:10], length=len(body)), then_close=True, read_s=5)
    assert out == b"" or out.startswith(b"HTTP/1.1 4")
    out = _raw(url, _post("/v1/text", b"", length=10**9))
    assert out.startswith(b"HTTP/1.1 413") and b"1,000,000,000 bytes" in out
    import httpx

    assert httpx.post(url + "/v1/text", json={"texts": ["fine"]}).status_code == 200


def test_the_service_listens_on_loopback_only(server):
    _, srv = server
    for sock in (s for sv in srv.servers for s in sv.sockets):
        assert sock.getsockname()[0] == "127.0.0.1"


def test_serve_refuses_other_hosts_without_a_key(monkeypatch):
    from typer.testing import CliRunner

    from affekt.cli.app import app

    monkeypatch.delenv("AFFEKT_API_KEY", raising=False)
    res = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert res.exit_code == 1 and "AFFEKT_API_KEY" in res.output
    monkeypatch.setenv("AFFEKT_API_KEY", "short")
    res = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert res.exit_code == 1 and "too short" in res.output


# ------------------------------------------------------------------- live speech
def _stream(ws, pcm: np.ndarray, sr: int, chunk_s: float = 0.1) -> list[dict]:
    step = int(chunk_s * sr)
    for s in range(0, len(pcm), step):
        ws.send_bytes(pcm[s:s + step].tobytes())
    ws.send_text(json.dumps({"type": "end"}))
    msgs = []
    while True:
        m = ws.receive_json()
        msgs.append(m)
        if m["type"] in ("end", "error"):
            return msgs


@pytest.mark.parametrize("sr", [16000, 44100])
def test_speech_stream_gives_a_rolling_timeline(client, sr):
    import io

    import soundfile as sf

    y, r = sf.read(io.BytesIO(speech_wav(gaps=(1.0, 1.0), repeat=2)), dtype="float32")
    if sr != r:
        import soxr

        y = soxr.resample(y, r, sr)
    pcm = (np.clip(y, -1, 1) * 32767).astype("<i2")
    with client.websocket_connect(f"/v1/speech/stream?sample_rate={sr}") as ws:
        assert ws.receive_json()["type"] == "ready"
        msgs = _stream(ws, pcm, sr)
    vad = [m for m in msgs if m["type"] == "vad"]
    preds = [m for m in msgs if m["type"] == "prediction"]
    assert [m["speech"] for m in vad] == [True, False, True, False]
    assert 0.8 <= vad[0]["t"] <= 1.3  # the speech starts after 1 s of silence
    first = preds[0]
    assert first["end"] - vad[0]["t"] <= 1.0 and first["label"] in first["scores"]
    finals = [p for p in preds if p["final"]]
    assert len(finals) == 2 and all(p["label"] == "anger" for p in finals)
    assert msgs[-1] == {"type": "end", "duration": pytest.approx(len(pcm) / sr, abs=0.01)}


@pytest.mark.parametrize("send", ["odd-bytes", "not-json", "unknown", "nan"])
def test_speech_stream_refuses_garbage_and_the_service_goes_on(client, send):
    with client.websocket_connect("/v1/speech/stream?format=" + ("f32le" if send == "nan" else "s16le")) as ws:
        ws.receive_json()
        if send == "odd-bytes":
            ws.send_bytes(b"\x01\x02\x03")
        elif send == "not-json":
            ws.send_text("garbage")
        elif send == "unknown":
            ws.send_text(json.dumps({"type": "dance"}))
        else:
            ws.send_bytes(np.array([np.nan] * 8, "<f4").tobytes())
        m = ws.receive_json()
        assert m["type"] == "error" and m["error"]
    still_serving(client)


def test_speech_stream_checks_the_api_key(small):
    with small.websocket_connect("/v1/speech/stream") as ws:  # TestClient's headers carry the key
        assert ws.receive_json()["type"] == "ready"
    with small.websocket_connect("/v1/speech/stream", headers={"Authorization": ""}) as ws:
        ws.send_text(json.dumps({"api_key": "wrong"}))
        assert ws.receive_json()["type"] == "error"
    with small.websocket_connect("/v1/speech/stream", headers={"Authorization": ""}) as ws:
        ws.send_text(json.dumps({"api_key": KEY}))
        assert ws.receive_json()["type"] == "ready"
