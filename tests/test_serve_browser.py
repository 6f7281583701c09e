"""The web page in a real browser: Playwright driving Debian's chromium (headless), against a
real service on 127.0.0.1. Skipped, with the reason, where chromium or playwright is missing
(`.ci/run` installs chromium with apt-get). AFFEKT_SCREENSHOTS=DIR keeps the screenshots."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from browser_helpers import CHROMIUM, browser, needs_chromium, playwright  # noqa: E402,F401  (fixtures)

from serve_helpers import EXAMPLES, running_server, speech_wav

from affekt.serve import ServeConfig, create_app

pytestmark = needs_chromium
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def base_url():
    with running_server(create_app(ServeConfig(models=("text-default", "speech-default", "face-default")))) as (url, _):
        yield url


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser, base_url):
    w, h = VIEWPORTS[request.param]
    pg = browser.new_page(viewport={"width": w, "height": h})
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("request", lambda r: problems.append(f"off-site request {r.url}")
          if not r.url.startswith((base_url, "data:", "blob:")) else None)
    pg.goto(base_url + "/")
    pg.wait_for_selector("#status:has-text('Ready')")
    pg.viewport_name = request.param
    pg.problems = problems
    yield pg
    assert problems == []
    pg.close()


def shot(pg, tmp_path: Path, name: str) -> Path:
    out = Path(os.environ.get("AFFEKT_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{pg.viewport_name}.png"
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000
    return path


def no_horizontal_scroll(pg) -> None:
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_text_shows_bars_and_the_circumplex(page, tmp_path):
    page.fill("#text-input", "Thank you so much, this made my day!\nI am so angry about this.")
    page.select_option("#text-space", "ekman")
    page.keyboard.press("Tab")
    page.click("#text-go")
    page.wait_for_selector(".text-card >> nth=1")
    cards = page.locator(".text-card")
    assert cards.nth(0).locator(".top").inner_text() == "happiness"
    assert cards.nth(1).locator(".top").inner_text() == "anger"
    meters = cards.nth(0).locator("[role=meter]")
    assert meters.count() == 7 and meters.nth(0).get_attribute("aria-label").startswith("happiness")
    assert "valence" in cards.nth(0).locator("svg.circumplex").get_attribute("aria-label")
    no_horizontal_scroll(page)
    shot(page, tmp_path, "text")


def test_speech_upload_draws_the_timeline(page, tmp_path):
    wav = tmp_path / "talk.wav"
    wav.write_bytes(speech_wav(gaps=(1.0, 2.0), repeat=5))  # 33 s: long enough for a timeline of windows
    page.click("#tab-speech")
    page.set_input_files("#speech-file", str(wav))
    page.click("#speech-go")
    page.wait_for_selector(".speech-card", timeout=60_000)
    card = page.locator(".speech-card")
    assert card.locator("h2").inner_text() == "talk.wav"
    segs = card.locator("svg.timeline rect")
    assert segs.count() >= 5
    assert "anger" in card.locator("svg.timeline").get_attribute("aria-label")
    no_horizontal_scroll(page)
    shot(page, tmp_path, "speech")


def test_image_upload_boxes_the_faces(page, tmp_path):
    page.click("#tab-face")
    page.set_input_files("#face-file", str(EXAMPLES / "face.jpg"))
    page.click("#face-go")
    page.wait_for_selector("#face-canvas")
    assert page.locator("#face-result .top").inner_text() == "1 face"
    assert page.locator("#face-canvas").get_attribute("aria-label").startswith("face 1: ")
    no_horizontal_scroll(page)
    shot(page, tmp_path, "face")


def test_errors_are_shown_and_tabs_work_from_the_keyboard(page):
    page.focus("#tab-text")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-speech"
    assert page.locator("#panel-speech").is_visible() and not page.locator("#panel-text").is_visible()
    page.set_input_files("#speech-file", {"name": "notes.wav", "mimeType": "audio/wav", "buffer": b"not audio at all"})
    page.click("#speech-go")
    alert = page.locator("#speech-result [role=alert]")
    alert.wait_for()
    assert "content is text" in alert.inner_text()
    page.problems.remove("Failed to load resource: the server responded with a status of 415 (Unsupported Media Type)")
    for sel in ("#text-input", "#speech-file", "#face-file", "#text-space"):
        assert page.locator(f"label[for={sel[1:]}]").count() == 1


def test_microphone_and_webcam_with_chromiums_fake_devices(playwright, base_url):
    """Recording (MediaRecorder -> decoded and sent as 16 kHz WAV) and a webcam snapshot, with
    chromium's fake devices: a tone for the microphone, a test pattern (no face) for the camera."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                   "--use-fake-device-for-media-stream",
                                                                   "--use-fake-ui-for-media-stream"])
    try:
        pg = b.new_context(permissions=["microphone", "camera"]).new_page()
        problems: list[str] = []
        pg.on("pageerror", lambda e: problems.append(str(e)))
        pg.goto(base_url + "/")
        pg.wait_for_selector("#status:has-text('Ready')")
        pg.click("#tab-speech")
        pg.click("#record")
        pg.wait_for_selector("#record[aria-pressed=true]")
        pg.wait_for_timeout(2000)
        pg.click("#record")
        pg.wait_for_selector("#speech-result .card", timeout=30_000)
        assert pg.locator("#speech-result .card h2").inner_text() == "recording.wav"
        assert pg.get_attribute("#record", "aria-pressed") == "false"
        pg.click("#tab-face")
        pg.click("#camera")
        pg.wait_for_selector("#snap:not([hidden])")
        pg.wait_for_timeout(500)
        pg.click("#snap")
        pg.wait_for_selector("#face-result .top", timeout=30_000)
        assert pg.locator("#face-result .top").inner_text() == "No face found"
        assert problems == []
    finally:
        b.close()
