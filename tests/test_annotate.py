"""`affekt annotate`: the items, the scheme, the store (k answers, leases, gold, resume, export),
the refusals (a damaged database, a second server, answers outside the scheme, no annotator),
the API (FastAPI's test client) and the command line (uvicorn not started)."""
from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from affekt.annotation.tool import items as items_mod
from affekt.annotation.tool.project import (
    EXPORT_COLUMNS,
    Project,
    new_config,
    parse_gold,
    read_config,
)
from affekt.annotation.tool.scheme import AnswerError, Scheme
from affekt.annotation.tool.suggest import score_items, suggestion, uncertainty
from affekt.core.errors import InputError, LabelError

EKMAN = Scheme.parse("ekman")


def texts(n: int) -> list[dict]:
    return [{"id": str(i), "kind": "text", "text": f"text number {i}"} for i in range(1, n + 1)]


def make(tmp_path, n=6, scheme=EKMAN, name="proj", lock=True, **settings) -> Project:
    gold = settings.pop("gold", None)
    return Project.create(tmp_path / name, new_config(texts(n), scheme, gold=gold, seed=1, **settings), lock=lock)


def ans(label="anger", **kw) -> dict:
    return {"labels": [label], **kw}


# ---------------------------------------------------------------------- scheme
def test_scheme_from_label_spaces_lists_and_files(tmp_path):
    assert EKMAN.labels[0] == "anger" and not EKMAN.multi and EKMAN.space == "ekman"
    go = Scheme.parse("goemotions")
    assert go.multi and len(go.labels) == 28
    assert not Scheme.parse("goemotions", multi=False).multi
    own = Scheme.parse("joy, anger ,other", multi=True, vad=True, unsure=True, not_applicable=True)
    assert own.labels == ("joy", "anger", "other") and own.multi and own.vad and own.space is None
    f = tmp_path / "labels.txt"
    f.write_text("# mine\ncalm\nexcited\n\n")
    assert Scheme.parse(str(f)).labels == ("calm", "excited")
    assert Scheme.parse(None, vad=True).labels == ()
    assert Scheme.from_dict(own.to_dict()) == own
    with pytest.raises(LabelError, match="not a label space.*comma-separated"):
        Scheme.parse("joy")
    with pytest.raises(LabelError, match="given twice"):
        Scheme.parse("joy,joy,anger")
    with pytest.raises(LabelError, match="without ';'"):
        Scheme.parse("a;b,c")
    with pytest.raises(InputError, match="nothing to annotate"):
        Scheme.parse(None)


def test_answers_outside_the_scheme_are_refused():
    s = Scheme.parse("joy,anger,other", vad=True, unsure=True)
    ok = s.check({"labels": ["anger"], "valence": 3, "arousal": 9, "dominance": 1, "unsure": True})
    assert ok["labels"] == ("anger",) and ok["valence"] == 3 and ok["unsure"]
    bad = [({"labels": ["fear"], "valence": 3, "arousal": 3, "dominance": 3}, "'fear' is not in this project's labels"),
           ({"labels": ["joy", "anger"], "valence": 3, "arousal": 3, "dominance": 3}, "one label per item"),
           ({"labels": ["joy"], "valence": 10, "arousal": 3, "dominance": 3}, "outside the scale 1-9"),
           ({"labels": ["joy"], "valence": 0, "arousal": 3, "dominance": 3}, "outside the scale 1-9"),
           ({"labels": ["joy"], "valence": 2.5, "arousal": 3, "dominance": 3}, "whole number"),
           ({"labels": ["joy"], "valence": True, "arousal": 3, "dominance": 3}, "whole number"),
           ({"labels": ["joy"], "valence": 3}, "arousal, dominance: missing"),
           ({"labels": [], "valence": 3, "arousal": 3, "dominance": 3}, "labels: missing"),
           ({"labels": "joy", "valence": 3, "arousal": 3, "dominance": 3, "not_applicable": True},
            "no 'not applicable'"),
           ({"labels": ["joy"], "valence": 3, "arousal": 3, "dominance": 3, "colour": "red"}, "unknown field"),
           ({"labels": [1], "valence": 3, "arousal": 3, "dominance": 3}, "expected a list of labels"),
           ({"labels": ["joy"], "valence": 3, "arousal": 3, "dominance": 3, "unsure": "yes"}, "true or false")]
    for body, message in bad:
        with pytest.raises(AnswerError, match=message) as e:
            s.check(body)
        assert e.value.status == 422
    na = Scheme.parse("joy,anger", multi=True, not_applicable=True)
    assert na.check({"not_applicable": True})["labels"] == ()
    assert na.check({"labels": "anger;joy"})["labels"] == ("joy", "anger")  # the scheme's order
    with pytest.raises(AnswerError, match="carries no labels"):
        na.check({"labels": ["joy"], "not_applicable": True})
    with pytest.raises(AnswerError, match="does not ask for valence"):
        na.check({"labels": ["joy"], "valence": 5})


# ---------------------------------------------------------------------- items
def test_items_from_folders_and_text_files(tmp_path):
    d = tmp_path / "media"
    (d / "b").mkdir(parents=True)
    (d / "b" / "z.wav").write_bytes(b"RIFF")
    (d / "a.png").write_bytes(b"\x89PNG")
    (d / "notes.md").write_text("x")
    (d / ".hidden.png").write_bytes(b"x")
    with pytest.warns(UserWarning, match="1 file"):
        its = items_mod.read_items(d)
    assert [(i["id"], i["kind"]) for i in its] == [("a.png", "image"), ("b/z.wav", "audio")]
    assert its[0]["path"] == str((d / "a.png").resolve())
    t = tmp_path / "t.txt"
    t.write_text("one\n\nthree\n")
    with pytest.warns(UserWarning, match="1 blank"):
        assert [(i["id"], i["text"]) for i in items_mod.read_items(t)] == [("1", "one"), ("3", "three")]
    c = tmp_path / "t.csv"
    c.write_text("id,body\nx1,hello\nx2,bye\n")
    assert [i["id"] for i in items_mod.read_items(c, text_column="body")] == ["x1", "x2"]
    c.write_text("id,body\nx1,hello\nx1,bye\n")
    with pytest.raises(InputError, match="'x1' is given twice"):
        items_mod.read_items(c, text_column="body")
    with pytest.raises(InputError, match="does not exist"):
        items_mod.read_items(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no audio files or images"):
        items_mod.read_items(tmp_path / "empty")


# ---------------------------------------------------------------------- handing out items
def test_k_answers_per_item_and_leases(tmp_path):
    p = make(tmp_path, n=3, k=2)
    t = 1000.0
    assert p.next_item("a", t)["id"] == "1"
    assert p.next_item("b", t)["id"] == "1"      # 1 answer wanted twice: both may hold it
    assert p.next_item("c", t)["id"] == "2"      # item 1 is in two hands
    assert p.next_item("a", t + 5)["id"] == "1"  # a refresh: the same item, first shown at t
    assert p.next_item("a", t + 5)["shown_at"] == p.describe("1", t)["shown_at"]
    assert p.answer("a", {**ans(), "item": "1", "duration_ms": 1500}, t + 6)["stored"]
    assert p.next_item("a", t + 7)["id"] == "2"  # never the same item twice
    with pytest.raises(AnswerError, match="already answered") as e:
        p.answer("a", {**ans(), "item": "1"}, t + 8)
    assert e.value.status == 409
    p.answer("b", {**ans("fear"), "item": "1"}, t + 9)
    p.answer("c", {**ans(), "item": "2"}, t + 9)
    p.answer("a", {**ans(), "item": "2"}, t + 9)
    assert p.next_item("b", t + 10)["id"] == "3"
    assert p.next_item("d", t + 10)["id"] == "3"
    assert p.next_item("e", t + 10) is None       # 1 and 2 have 2 answers, 3 is in two hands
    assert p.next_item("e", t + 10 + 601)["id"] == "3"  # ... until their leases run out
    # b's lease ran out and e answered, d too: b's late answer would be a third, and is refused
    p.answer("e", {**ans(), "item": "3"}, t + 700)
    p.answer("d", {**ans(), "item": "3"}, t + 700)
    with pytest.raises(AnswerError, match="already has its 2 answers"):
        p.answer("b", {**ans(), "item": "3"}, t + 701)
    st = p.stats()
    assert st["complete"] == 3 and st["answers"] == 6
    assert all(v <= 2 for v in p.counts.values())
    rows = p.export_rows()
    assert rows[0]["duration_ms"] == 1500 and rows[1]["duration_ms"] == 9000  # the page's, else shown -> answered
    p.close()


def test_a_late_answer_never_takes_an_item_past_k(tmp_path):
    """A's time runs out, B gets the item; A answers late: B still holds it, so A's answer would make
    two with k=1 and is refused; B's is stored."""
    p = make(tmp_path, n=2, k=1)
    t = 1000.0
    assert p.next_item("a", t)["id"] == "1"
    assert p.next_item("b", t + 601)["id"] == "1"
    with pytest.raises(AnswerError, match="already has its 1 answers"):
        p.answer("a", {**ans(), "item": "1"}, t + 602)
    p.answer("b", {**ans(), "item": "1"}, t + 603)
    assert p.counts["1"] == 1
    p.close()


def test_a_retried_answer_is_stored_once(tmp_path):
    p = make(tmp_path, n=2, k=1)
    p.next_item("a")
    body = {**ans(), "item": "1", "answer_id": "abcdef123456"}
    assert p.answer("a", body) == {"stored": True, "duplicate": False, "item": "1"}
    assert p.answer("a", body) == {"stored": True, "duplicate": True, "item": "1"}
    with pytest.raises(AnswerError, match="already used"):
        p.answer("b", body)
    assert len(p.store.answers()) == 1
    with pytest.raises(AnswerError, match="not an item of this project"):
        p.answer("a", {**ans(), "item": "../etc/passwd"})
    with pytest.raises(AnswerError, match="item: missing"):
        p.answer("a", ans())
    p.close()


def test_gold_items_go_to_everyone_and_measure_accuracy(tmp_path):
    g = tmp_path / "gold.csv"
    g.write_text("item,label\n2,anger\n5,fear\n")
    gold = parse_gold(g, texts(8), EKMAN)
    assert gold == {"2": ["anger"], "5": ["fear"]}
    p = make(tmp_path, n=8, k=1, gold=gold)
    seen = {"a": [], "b": []}
    going = True
    while going:  # the two take turns
        going = False
        for who in ("a", "b"):
            if (it := p.next_item(who)) is not None:
                going = True
                seen[who].append(it["id"])
                p.answer(who, {**ans("anger"), "item": it["id"]})
    assert {"2", "5"} <= set(seen["a"]) and {"2", "5"} <= set(seen["b"])  # gold: everyone, once
    regular = [i for i in seen["a"] + seen["b"] if i not in ("2", "5")]
    assert sorted(regular) == ["1", "3", "4", "6", "7", "8"]  # each regular item once (k=1)
    assert seen["a"].index("2") > 0  # mixed in, not first
    st = p.stats()
    assert st["gold_items"] == 2 and st["items"] == 6 and st["complete"] == 6
    for who in ("a", "b"):
        s = st["annotators"][who]
        assert (s["gold_answered"], s["gold_correct"], s["gold_accuracy"]) == (2, 1, 0.5)
    rows = p.export_rows()
    assert sum(r["gold"] for r in rows) == 4
    p.close()
    bad = tmp_path / "bad.csv"
    bad.write_text("item,label\n2,rage\n")
    with pytest.raises(LabelError, match="'rage' is not in this project's labels"):
        parse_gold(bad, texts(8), EKMAN)
    bad.write_text("item,label\n99,anger\n")
    with pytest.raises(InputError, match="item '99' is not one of the items"):
        parse_gold(bad, texts(8), EKMAN)
    bad.write_text("id,emotion\n2,anger\n")
    with pytest.raises(InputError, match="columns item,label"):
        parse_gold(bad, texts(8), EKMAN)


def test_gold_items_are_spread_through_the_order(tmp_path):
    gold = {"3": ["anger"], "7": ["fear"]}
    p = make(tmp_path, n=12, gold=gold)
    ids = [p.items[n]["id"] for n in p.order]
    assert sorted(ids) == sorted(it["id"] for it in p.items)
    at = sorted(ids.index(g) for g in gold)
    assert at[0] > 0 and at[1] < len(ids) - 1 and at[1] - at[0] > 2
    p.close()


def test_random_and_uncertain_orders(tmp_path):
    p = make(tmp_path, n=20, order="random", name="r")
    first = [p.items[n]["id"] for n in p.order]
    assert first != [str(i) for i in range(1, 21)]
    p.close()
    p = Project.open(tmp_path / "r")
    assert [p.items[n]["id"] for n in p.order] == first  # the same shuffle after a restart
    p.close()
    with pytest.raises(InputError, match="--order uncertain needs a model"):
        make(tmp_path, n=3, order="uncertain", name="u0")

    calls = []

    def fake(items):  # item i: the model is sure of "1" and "6", unsure of "4", then of "2"
        calls.append(len(items))
        table = {"1": (0.98, 0.01), "2": (0.6, 0.3), "3": (0.9, 0.05), "4": (0.5, 0.49), "5": (0.8, 0.1),
                 "6": (0.99, 0.0)}
        return [None if it["id"] == "7" else dict(zip(("anger", "fear"), table[it["id"]])) for it in items]

    p = make(tmp_path, n=7, order="uncertain", score_model="fake", name="u", k=1)
    scores = score_items(p, "fake", fake, batch=4)
    p.use_scores("fake", scores, show=False)
    assert [p.items[n]["id"] for n in p.order] == ["4", "2", "5", "3", "1", "6", "7"]  # unscored last
    assert p.next_item("a")["id"] == "4" and "suggestion" not in p.describe("4")
    assert calls == [4, 3]
    assert score_items(p, "fake", fake) == scores and calls == [4, 3]  # kept in the database
    p.use_scores("fake", scores, show=True)
    assert p.describe("2")["suggestion"] == ["anger"]
    p.answer("a", {**ans("fear"), "item": "4"})
    assert p.export_rows()[0]["suggestion"] == "anger"
    p.close()
    assert uncertainty({"a": 0.5, "b": 0.5}) == pytest.approx(1.0)
    assert uncertainty({"a": 1.0, "b": 0.0}) == pytest.approx(0.0)
    assert uncertainty({"a": 0.9, "b": 0.5}, multi=True) == pytest.approx(1.0)
    assert suggestion({"joy": 0.7, "anger": 0.6, "x": 0.9}, Scheme.parse("joy,anger", multi=True)) == ["joy", "anger"]


def test_a_real_model_as_scorer(tmp_path):
    """A tiny TF-IDF model trained here suggests labels in the project's scheme."""
    from affekt.annotation.tool.suggest import model_scorer
    from affekt.core.labels import LabelSpace
    from affekt.core.registry import make_family

    m = make_family("text", "tfidf")
    m.fit(["I love it", "so happy today", "this is awful", "I hate you", "so scary", "I am afraid"] * 3,
          ["joy", "joy", "anger", "anger", "fear", "fear"] * 3, label_space=LabelSpace("tiny", ("joy", "anger", "fear")))
    m.save(tmp_path / "model")
    scheme = Scheme.parse("joy,anger,fear,other")
    score = model_scorer(str(tmp_path / "model"), scheme)
    with pytest.warns(UserWarning, match="1 item"):
        out = score([{"id": "1", "kind": "text", "text": "I love it so much"},
                     {"id": "2", "kind": "image", "path": str(tmp_path / "x.png")}])
    assert suggestion(out[0], scheme) == ["joy"] and out[1] is None
    with pytest.raises(InputError, match="none of them is a label"):
        model_scorer(str(tmp_path / "model"), Scheme.parse("calm,excited"))([{"id": "1", "kind": "text", "text": "x"}])


# ---------------------------------------------------------------------- durability and refusals
def test_resume_keeps_answers_and_leases(tmp_path):
    p = make(tmp_path, n=4, k=1)
    p.next_item("a", 100.0)
    p.answer("a", {**ans(), "item": "1"}, 101.0)
    held = p.next_item("a", 102.0)
    p.next_item("b", 102.0)
    p.store.con.close()  # as if the process died: no checkpoint, the lock dropped with it
    p.lock.release()
    p = Project.open(tmp_path / "proj")
    assert p.counts == {"1": 1} and p.done_by == {"a": {"1"}}
    again = p.next_item("a", 103.0)
    assert again["id"] == held["id"] == "2" and again["shown_at"] == held["shown_at"]
    assert p.next_item("c", 103.0)["id"] == "4"  # 2 and 3 are still in a's and b's hands
    p.close()


def test_a_second_server_is_refused(tmp_path):
    p = make(tmp_path)
    with pytest.raises(InputError, match="already open in another affekt annotate.*pid"):
        Project.open(tmp_path / "proj")
    reader = Project.open(tmp_path / "proj", lock=False)  # export and stats read alongside
    assert reader.stats()["answers"] == 0
    reader.close()
    p.close()
    Project.open(tmp_path / "proj").close()  # free again


def test_a_damaged_database_is_named(tmp_path):
    p = make(tmp_path)
    p.close()
    db = tmp_path / "proj" / "answers.sqlite"
    db.write_bytes(b"this is not SQLite at all, it was overwritten" * 100)
    with pytest.raises(InputError, match=r"answers.sqlite' is not a readable annotation database"):
        Project.open(tmp_path / "proj")
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    db.write_bytes(other.read_bytes())
    with pytest.raises(InputError, match="database of something else"):
        Project.open(tmp_path / "proj")
    (tmp_path / "proj" / "project.json").write_text("{ not json")
    with pytest.raises(InputError, match="project.json' is damaged"):
        read_config(tmp_path / "proj")


def test_exports_csv_and_jsonl(tmp_path):
    s = Scheme.parse("joy,anger,other", multi=True, vad=True, unsure=True, not_applicable=True)
    p = make(tmp_path, n=3, scheme=s, k=2)
    p.next_item("ann 1", 10.0)
    p.answer("ann 1", {"item": "1", "labels": ["other", "joy"], "valence": 7, "arousal": 2, "dominance": 5,
                       "unsure": True, "duration_ms": 2500}, 12.5)
    p.answer("b", {"item": "1", "not_applicable": True}, 13.0)
    n = p.export(tmp_path / "out.csv")
    assert n == 2
    with open(tmp_path / "out.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert rows[0] == {"item": "1", "annotator": "ann 1", "label": "joy;other", "valence": "7", "arousal": "2",
                       "dominance": "5", "unsure": "true", "not_applicable": "false", "gold": "false",
                       "shown_at": "1970-01-01T00:00:10.000Z", "answered_at": "1970-01-01T00:00:12.500Z",
                       "duration_ms": "2500", "suggestion": "", "answer_id": rows[0]["answer_id"]}
    assert rows[1]["label"] == "" and rows[1]["not_applicable"] == "true" and rows[1]["shown_at"] == ""
    p.export(tmp_path / "out.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert lines[0]["valence"] == 7 and lines[0]["unsure"] is True and lines[1]["valence"] is None
    assert [r["label"] for r in lines] == ["joy;other", ""]
    with pytest.raises(InputError, match="write .csv or .jsonl"):
        p.export(tmp_path / "out.xlsx")
    import pandas as pd

    table = pd.read_csv(tmp_path / "out.csv")  # as the agreement command reads it
    assert tuple(table.loc[0, ["item", "annotator", "label"]]) == (1, "ann 1", "joy;other")
    p.close()


# ---------------------------------------------------------------------- the API
@pytest.fixture
def client(tmp_path):
    from fastapi.testclient import TestClient

    from affekt.annotation.tool.app import create_app

    d = tmp_path / "media"
    d.mkdir()
    (d / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (d / "b.wav").write_bytes(b"RIFF\0\0\0\0WAVE")
    its = items_mod.read_items(d)
    p = Project.create(tmp_path / "proj", new_config(its, Scheme.parse("joy,anger"), k=1))
    with TestClient(create_app(p)) as c:
        c.project = p
        yield c
    p.close()


def test_api_serves_items_and_takes_answers(client):
    info = client.get("/api/project").json()
    assert info["scheme"]["labels"] == ["joy", "anger"] and info["items"] == 2 and not info["tokens"]
    r = client.post("/api/next", json={"annotator": "ann"})
    item = r.json()["item"]
    assert item["id"] == "a.png" and item["src"] == "/api/media/0?annotator=ann" and "path" not in item
    media = client.get(item["src"])
    assert media.status_code == 200 and media.content.startswith(b"\x89PNG")
    assert "default-src 'self'" in media.headers["content-security-policy"]
    assert client.get("/api/media/5").status_code == 404
    assert client.get("/api/media/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
    body = {"annotator": "ann", "item": "a.png", "labels": ["joy"], "answer_id": "0123456789abcdef"}
    r = client.post("/api/answer", json=body)
    assert r.status_code == 200 and r.json()["stored"] and r.json()["annotator"] == "ann"
    assert client.post("/api/answer", json=body).json()["duplicate"]
    assert client.post("/api/next", json={"annotator": "ann"}).json()["item"]["id"] == "b.wav"
    assert client.post("/api/next", json={"annotator": "bob"}).json() == {
        "annotator": "bob", "item": None, "done": True,
        "progress": {"answered": 0, "open": 1, "items": 2, "complete": 1, "k": 1}}  # b.wav: in ann's hands
    assert client.get("/api/stats").json()["annotators"]["ann"]["answers"] == 1
    page = client.get("/")
    assert page.status_code == 200 and "/static/annotate.js" in page.text
    assert client.get("/static/base.css").status_code == 200  # affekt serve's style
    assert client.get("/static/annotate.js").status_code == 200


def test_api_refusals_store_nothing(client):
    client.post("/api/next", json={"annotator": "ann"})
    cases = [({"item": "a.png", "labels": ["joy"]}, 400, "annotator: missing"),
             ({"annotator": "  ", "item": "a.png", "labels": ["joy"]}, 400, "annotator: missing"),
             ({"annotator": "ann", "item": "a.png", "labels": ["rage"]}, 422, "'rage' is not in this project's labels"),
             ({"annotator": "ann", "item": "a.png", "labels": ["joy"], "valence": 4}, 422, "does not ask for valence"),
             ({"annotator": "ann", "item": "nope.png", "labels": ["joy"]}, 422, "not an item of this project"),
             ({"annotator": "ann", "item": "a.png"}, 422, "labels: missing"),
             ({"annotator": "x" * 100, "item": "a.png", "labels": ["joy"]}, 422, "1-64 printable")]
    for body, status, message in cases:
        r = client.post("/api/answer", json=body)
        assert r.status_code == status, (body, r.text)
        assert message in r.json()["error"] and r.json()["status"] == status
    assert client.post("/api/next", json={}).status_code == 400
    r = client.post("/api/answer", content=b"labels=joy", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    r = client.post("/api/answer", content=b"{broken", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "invalid JSON" in r.json()["error"]
    assert client.project.store.answers() == []


def test_only_loopback_host_headers_are_answered(tmp_path):
    from fastapi.testclient import TestClient

    from affekt.annotation.tool.app import create_app

    p = make(tmp_path, n=2, k=1)
    with TestClient(create_app(p), base_url="http://attacker.example:8765") as c:
        assert c.post("/api/next", json={"annotator": "a"}).status_code == 400
    with TestClient(create_app(p), base_url="http://127.0.0.1:8765") as c:
        assert c.get("/healthz").status_code == 200
    p.close()


def test_api_with_tokens(tmp_path):
    from fastapi.testclient import TestClient

    from affekt.annotation.tool.app import create_app

    p = make(tmp_path, n=2)
    with TestClient(create_app(p, tokens={"s3cret-token-1": "alice"})) as c:
        assert c.get("/api/project").json()["tokens"]
        r = c.post("/api/next", json={"annotator": "alice"})
        assert r.status_code == 403 and "not on the list" in r.json()["error"]
        assert c.post("/api/next", json={"annotator": "s3cret-token-1"}).json()["annotator"] == "alice"
        assert c.post("/api/answer", json={"annotator": "s3cret-token-1", "item": "1", "labels": ["fear"]}).status_code == 200
        assert c.get("/api/stats").status_code == 400
        assert list(c.get("/api/stats?annotator=s3cret-token-1").json()["annotators"]) == ["alice"]
    assert p.export_rows()[0]["annotator"] == "alice"
    p.close()


# ---------------------------------------------------------------------- the command line
@pytest.fixture
def cli(monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from affekt.cli.app import app

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda web, **kw: served.append((web, kw)))
    runner = CliRunner()

    def run(*args):
        r = runner.invoke(app, ["annotate", *map(str, args)])
        r.served = served
        return r
    return run


def test_cli_makes_resumes_exports(cli, tmp_path):
    t = tmp_path / "t.txt"
    t.write_text("happy days\nawful news\nso scared\n")
    proj = tmp_path / "proj"
    r = cli(t, "--project", proj, "--labels", "ekman", "--k", "2", "--port", "9999")
    assert r.exit_code == 0, r.output
    assert "new project" in r.output and "3 items" in r.output
    assert r.served[-1][1]["host"] == "127.0.0.1" and r.served[-1][1]["port"] == 9999
    cfg = read_config(proj)
    assert cfg["k"] == 2 and cfg["items"][0]["text"] == "happy days"
    p = Project.open(proj)  # (the CLI closed it when "uvicorn" returned)
    p.next_item("a")
    p.answer("a", {"item": "1", "labels": ["happiness"]})
    p.close()
    r = cli("--project", proj, "--k", "3")
    assert r.exit_code == 0 and "opened again: 1 answers" in r.output and "k: 2 -> 3" in r.output
    r = cli("--project", proj, "--labels", "goemotions")
    assert r.exit_code == 1 and "another label scheme" in r.output and "Traceback" not in r.output
    t.write_text("happy days\nawful news\nsomething else\n")
    r = cli(t, "--project", proj)
    assert r.exit_code == 1 and "no longer gives the items" in r.output and "1 changed" in r.output
    r = cli("export", "--project", proj, "--output", tmp_path / "a.csv")
    assert r.exit_code == 0 and "1 answer -> " in r.output
    assert (tmp_path / "a.csv").read_text().splitlines()[1].startswith("1,a,happiness,")
    r = cli("stats", "--project", proj, "--json")
    assert json.loads(r.stdout)["answers"] == 1
    assert "a: 1 answers" in cli("stats", "--project", proj).output


def test_cli_refusals_are_one_line(cli, tmp_path):
    t = tmp_path / "t.txt"
    t.write_text("a\nb\n")
    checks = [
        ((t, "--project", tmp_path / "p1"), "nothing to annotate"),
        ((t, "--project", tmp_path / "p2", "--labels", "ekman", "--host", "0.0.0.0"), "give --tokens FILE"),
        ((t, "--project", tmp_path / "p3", "--labels", "ekman", "--order", "uncertain"), "needs a model"),
        ((t, "--project", tmp_path / "p4", "--labels", "ekman", "--order", "sideways"), "--order 'sideways'"),
        (("--project", tmp_path / "p5"), "give the INPUT"),
        ((tmp_path / "missing.txt", "--project", tmp_path / "p6", "--labels", "ekman"), "does not exist"),
    ]
    for args, message in checks:
        r = cli(*args)
        assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output, (args, r.output)
    from affekt.cli.annotate import read_tokens

    tok = tmp_path / "tokens.txt"
    tok.write_text("a-long-secret-token-1\na-long-secret-token-2 bob\n")
    names = read_tokens(tok, "127.0.0.1")
    assert names["a-long-secret-token-2"] == "bob"
    assert names["a-long-secret-token-1"].startswith("annotator-") and "secret" not in names["a-long-secret-token-1"]
    tok.write_text("short alice\n")
    r = cli(t, "--project", tmp_path / "p7", "--labels", "ekman", "--host", "0.0.0.0", "--tokens", tok)
    assert r.exit_code == 1 and "too easy to guess" in r.output
    # a damaged database, and a project another server has open
    assert cli(t, "--project", tmp_path / "p8", "--labels", "ekman").exit_code == 0
    (tmp_path / "p8" / "answers.sqlite").write_bytes(b"\0garbage" * 512)
    r = cli("--project", tmp_path / "p8")
    assert r.exit_code == 1 and "answers.sqlite' is not a readable annotation database" in r.output
    assert "Traceback" not in r.output
    assert cli(t, "--project", tmp_path / "p9", "--labels", "ekman").exit_code == 0
    held = Project.open(tmp_path / "p9")
    r = cli("--project", tmp_path / "p9")
    held.close()
    assert r.exit_code == 1 and "already open in another affekt annotate" in r.output
