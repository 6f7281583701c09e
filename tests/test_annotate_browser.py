"""`affekt annotate` in a real browser: Playwright driving Debian's chromium (headless).

The target of the issue: two annotators label 30 items at once, the server is killed with
SIGKILL mid-session (an answer in flight, another given while it is down) and started again on
the same project; no answer is lost and the export equals what was clicked. Skipped, with the
reason, where chromium or playwright is missing. AFFEKT_SCREENSHOTS=DIR keeps the screenshots."""
from __future__ import annotations

import csv
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from browser_helpers import browser, needs_chromium, playwright  # noqa: E402,F401  (fixtures)

pytestmark = needs_chromium
LABELS = ("joy", "anger", "sadness", "other")
GOLD = {"set1/img07.png": "anger", "set2/img21.png": "joy"}


def png(rgb: tuple[int, int, int], size: int = 24) -> bytes:
    """A plain-colour PNG, made here."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + bytes(rgb) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def affekt(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "affekt", *map(str, args)], capture_output=True, text=True,
                          timeout=60, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``affekt annotate`` in its own process, as a user starts it."""

    def __init__(self, args: list[str], port: int, log: Path):
        self.port, self.log = port, log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "affekt", "annotate", *args, "--port", str(port)],
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"affekt annotate ended (exit {self.proc.returncode}): {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError(f"affekt annotate did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def annotator_page(browser, url: str, name: str):
    ctx = browser.new_context(viewport={"width": 1000, "height": 800})
    pg = ctx.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    # chromium logs each connection the kill cut or refused ("net::ERR_..."); any other error is a problem
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error"
          and not m.text.startswith("Failed to load resource: net::ERR_") else None)
    pg.on("request", lambda r: problems.append(f"off-site request {r.url}")
          if not r.url.startswith((url, "data:", "blob:")) else None)
    pg.goto(f"{url}/?annotator={name}")
    pg.who, pg.problems, pg.ctx, pg.count = name, problems, ctx, 0
    return pg


def current(pg) -> str | None:
    return None if pg.locator("#done").is_visible() else pg.get_attribute("#item", "data-item")


def wait_item(pg, previous: str | None, timeout: float = 30_000) -> str | None:
    """Wait until the page shows an item other than ``previous`` (or says it is done)."""
    pg.wait_for_function("prev => !document.getElementById('done').hidden || "
                         "(document.getElementById('item').dataset.item || null) !== prev "
                         "&& !!document.getElementById('item').dataset.item", arg=previous, timeout=timeout)
    return current(pg)


def label_for(item: str, who: str) -> str:
    return GOLD.get(item) if who == "anna" and item in GOLD else \
        LABELS[(int("".join(c for c in item if c.isdigit()) or 0) + len(who)) % len(LABELS)]


def answer(pg, clicked: list) -> str:
    """Label what the page shows, as a person would (mouse or keyboard), and submit it."""
    item = current(pg)
    assert item is not None
    pg.wait_for_selector("#item img")
    lab = label_for(item, pg.who)
    if pg.count % 3 == 2:  # the keys: the label's number, then Enter
        pg.keyboard.press(str(LABELS.index(lab) + 1))
        assert pg.get_attribute(f".label-btn[data-label={lab}]", "aria-pressed") == "true"
        pg.keyboard.press("Enter")
    else:
        pg.click(f".label-btn[data-label={lab}]")
        pg.click("#submit")
    pg.count += 1
    clicked.append((item, pg.who, lab))
    return item


def test_two_annotators_and_a_killed_server_lose_nothing(browser, tmp_path):
    items = tmp_path / "images"
    for i in range(1, 31):
        f = items / f"set{1 + (i > 15)}" / f"img{i:02d}.png"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(png((i * 8, 255 - i * 8, (i * 37) % 256)))
    gold = tmp_path / "gold.csv"
    gold.write_text("item,label\n" + "".join(f"{k},{v}\n" for k, v in GOLD.items()))
    project, port, log = tmp_path / "project", free_port(), tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}"
    start = [str(items), "--project", str(project), "--labels", ",".join(LABELS), "--k", "1", "--gold", str(gold),
             "--order", "random"]
    server = Server(start, port, log)
    clicked: list[tuple[str, str, str]] = []
    try:
        anna, ben = annotator_page(browser, url, "anna"), annotator_page(browser, url, "ben")
        for pg in (anna, ben):
            pg.wait_for_selector("#item img")
        assert current(anna) != current(ben)  # k=1: never the same item in two hands
        # both at work at once: each submits while the other's answer is on its way
        for _ in range(6):
            a, b = answer(anna, clicked), answer(ben, clicked)
            wait_item(anna, a)
            wait_item(ben, b)
        # SIGKILL with anna's answer in flight; ben answers while the server is down
        a = answer(anna, clicked)
        server.kill()
        b = answer(ben, clicked)
        ben.wait_for_selector("#status.offline")
        assert "kept in this browser" in ben.inner_text("#status")
        shot(ben, tmp_path, "offline")
        assert current(ben) == b  # still on its item until the answer is stored
        server = Server(["--project", str(project)], port, log)  # the same project, as it was left
        a2, b2 = wait_item(anna, a), wait_item(ben, b)
        assert None not in (a2, b2) and a2 != b2
        anna.reload()  # a refresh: the item in hand comes back
        anna.wait_for_selector("#item img")
        assert current(anna) == a2
        # a second server on the same project is refused, with a message
        second = affekt("annotate", "--project", project, "--port", free_port())
        assert second.returncode == 1 and "already open in another affekt annotate" in second.stderr
        assert "Traceback" not in second.stderr
        # on to the end
        pages = [anna, ben]
        while pages:
            given = [(pg, answer(pg, clicked)) for pg in pages]
            pages = [pg for pg, item in given if wait_item(pg, item) is not None]
        shot(anna, tmp_path, "done")
        for pg in (anna, ben):
            assert pg.locator("#done").is_visible()
            assert pg.evaluate("localStorage.length") >= 0 and pg.evaluate(
                "Object.keys(localStorage).filter(k => k.endsWith(':pending')).every(k => localStorage[k] === '[]')")
            assert pg.problems == [], pg.problems
        out = tmp_path / "answers.csv"
        r = affekt("annotate", "export", "--project", project, "--output", out)  # while the server runs
        assert r.returncode == 0, r.stderr
    finally:
        server.stop()
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    exported = [(r["item"], r["annotator"], r["label"]) for r in rows]
    assert len(clicked) >= 30
    assert sorted(exported) == sorted(clicked)  # 0 lost, nothing twice, each label as clicked
    regular = [r["item"] for r in rows if r["gold"] == "false"]
    assert sorted(regular) == sorted(str(p.relative_to(items)) for p in items.rglob("*.png")
                                     if str(p.relative_to(items)) not in GOLD)  # every item exactly k=1 times
    assert {r["item"] for r in rows if r["gold"] == "true"} <= set(GOLD)
    for r in rows:
        assert r["answered_at"].endswith("Z") and int(r["duration_ms"]) >= 0
    stats = affekt("annotate", "stats", "--project", project)
    assert "28 of 28 items have their 1 answers" in stats.stdout
    gold = json.loads(affekt("annotate", "stats", "--project", project, "--json").stdout)["annotators"]["anna"]
    assert gold["gold_accuracy"] in (1.0, None)  # anna gives the gold labels


def shot(pg, tmp_path: Path, name: str) -> None:
    out = Path(os.environ.get("AFFEKT_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(out / f"annotate-{name}.png"), full_page=True)


def test_sliders_marks_and_keys_on_a_phone(browser, tmp_path):
    """Texts, several labels, SAM sliders, 'unsure' and 'not applicable', on a phone-sized page:
    the keys work, the page does not scroll sideways, and the answers stored are the ones given."""
    from serve_helpers import running_server

    from affekt.annotation.tool.app import create_app
    from affekt.annotation.tool.items import read_items
    from affekt.annotation.tool.project import Project, new_config
    from affekt.annotation.tool.scheme import Scheme

    t = tmp_path / "texts.txt"
    t.write_text("What a lovely surprise, thank you!\nI can't believe they cancelled it again.\n")
    instructions = "Label what the writer feels.\nSeveral labels may apply."
    scheme = Scheme.parse("goemotions", vad=True, unsure=True, not_applicable=True)
    p = Project.create(tmp_path / "p", new_config(read_items(t), scheme, k=1, instructions=instructions))
    p.use_scores("fake", {"1": {"joy": 0.8, "surprise": 0.7, "anger": 0.1}}, show=True)  # --preannotate
    try:
        with running_server(create_app(p)) as (url, _):
            pg = browser.new_page(viewport={"width": 390, "height": 844})
            errors: list[str] = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            pg.goto(url + "/")
            pg.wait_for_selector("#signin:not([hidden])")
            pg.click("#start")  # no name: refused on the page
            assert "Enter your name" in pg.inner_text("#signin-error")
            pg.fill("#annotator", "kim")
            pg.keyboard.press("Enter")
            pg.wait_for_selector("#item .item-text")
            assert pg.inner_text("#item .item-text").startswith("What a lovely")
            assert pg.locator(".label-btn").count() == 28 and "all that apply" in pg.inner_text("#labels-legend")
            assert pg.locator("#instructions").is_visible() and pg.locator("#instructions[open]").count() == 1
            assert "A model suggests: joy, surprise" in pg.inner_text("#suggestion")
            assert pg.locator(".label-btn.suggested").count() == 2  # marked, not chosen
            assert pg.locator(".label-btn[aria-pressed=true]").count() == 0
            pg.keyboard.press("1")  # admiration
            pg.click(".label-btn[data-label=surprise]")
            pg.click("#submit")  # sliders not set yet
            assert "Set valence" in pg.inner_text("#answer-error")
            pg.fill("#vad-valence", "8")
            pg.focus("#vad-arousal")
            pg.keyboard.press("6")  # a number key on a slider sets it
            pg.fill("#vad-dominance", "4")
            assert pg.inner_text("#vad-arousal-value") == "6"
            pg.keyboard.press("u")
            assert pg.is_checked("#unsure")
            assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            shot(pg, tmp_path, "phone")
            pg.click("#submit")
            pg.wait_for_function("() => document.getElementById('item').dataset.item === '2'")
            pg.click("#na")
            assert pg.locator(".label-btn >> nth=0").is_disabled() and pg.locator("#vad-valence").is_disabled()
            pg.keyboard.press("Enter")
            pg.wait_for_selector("#done:not([hidden])")
            assert errors == []
            pg.close()
        rows = p.export_rows()
        assert [(r["item"], r["annotator"], r["label"], r["valence"], r["arousal"], r["dominance"], r["unsure"],
                 r["not_applicable"]) for r in rows] == [
            ("1", "kim", "admiration;surprise", 8, 6, 4, True, False),  # as given, the suggestion kept beside
            ("2", "kim", "", None, None, None, False, True)]
        assert [r["suggestion"] for r in rows] == ["joy;surprise", None]
    finally:
        p.close()
