"""An annotation project: a folder with ``project.json`` (the scheme, the items, the settings),
``answers.sqlite`` (every answer, see :mod:`.store`) and ``.lock`` (held by the one server that
has it open).

:class:`Project` hands out items and takes answers:

* an annotator never gets the same item twice, and holds one item at a time (a refresh gives it
  back, with the time it was first shown);
* an item with ``k`` answers is not handed out again; an item in someone's hands is leased to
  them for ``lease_s`` seconds, so that annotators working at once do not push it past ``k``
  (gold items are not counted: every annotator gets each of them once);
* gold items (item -> the right labels) are spread through the order, and each annotator's
  accuracy on them is in :meth:`Project.stats`;
* the order is the item list's (``sequential``), a shuffle fixed by the project's seed
  (``random``), or the least certain first by a model's scores (``uncertain``).
"""
from __future__ import annotations

import csv
import io
import json
import os
import random
import secrets
import statistics
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from affekt.annotation.tool.scheme import AnswerError, Scheme
from affekt.annotation.tool.store import ProjectLock, Store
from affekt.core.errors import InputError, LabelError

FORMAT = 1
ORDERS = ("sequential", "random", "uncertain")
DEFAULTS = {"k": 3, "order": "sequential", "lease_s": 600.0, "preannotate": None, "score_model": None,
            "instructions": ""}
EXPORT_COLUMNS = ("item", "annotator", "label", "valence", "arousal", "dominance", "unsure", "not_applicable",
                  "gold", "shown_at", "answered_at", "duration_ms", "suggestion", "answer_id")
MAX_ANNOTATOR_CHARS = 64


def iso(t: float) -> str:
    """Epoch seconds -> ISO 8601 UTC with milliseconds (2024-05-01T12:00:00.123Z)."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:  # the rename itself, on disk
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - not every system syncs folders
        pass


def read_config(folder: Path) -> dict | None:
    """The project's ``project.json``; None when there is none; an error naming it when it is damaged."""
    path = Path(folder) / "project.json"
    if not path.exists():
        return None
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"'{path}' is damaged ({exc}); restore it from a backup (the answers are in "
                         f"answers.sqlite beside it)") from None
    if not isinstance(cfg, dict) or "items" not in cfg or "scheme" not in cfg:
        raise InputError(f"'{path}' is not an affekt annotation project (no items or scheme in it)")
    if cfg.get("format", FORMAT) > FORMAT:
        raise InputError(f"'{path}' was written by a newer affekt (format {cfg['format']}); upgrade affekt")
    return cfg


def parse_gold(path, items: list[dict], scheme: Scheme) -> dict[str, list[str]]:
    """A gold file (CSV with columns item,label; several labels joined with ';') -> {item: labels}."""
    from affekt.io.text import read_bytes_utf8

    path = Path(path).expanduser()
    if not scheme.labels:
        raise InputError("--gold: gold items need categories (--labels); this project has only dimensions")
    rows = list(csv.DictReader(io.StringIO(read_bytes_utf8(path), newline="")))
    cols = list(rows[0].keys()) if rows else []
    if "item" not in cols or "label" not in cols:
        raise InputError(f"--gold '{path}': expected a CSV with the columns item,label (found: "
                         f"{', '.join(c for c in cols if c) or 'no rows'})")
    ids = {it["id"] for it in items}
    gold: dict[str, list[str]] = {}
    for n, r in enumerate(rows, 2):
        iid = (r.get("item") or "").strip()
        if iid not in ids:
            raise InputError(f"--gold '{path}' line {n}: item '{iid}' is not one of the items to label (ids are "
                             "paths under the folder, or the text's id / line number)")
        try:
            labels = scheme.parse_labels(r.get("label") or "", where=f"--gold '{path}' line {n}")
        except AnswerError as exc:
            raise LabelError(str(exc)) from None
        if not labels:
            raise InputError(f"--gold '{path}' line {n}: item '{iid}' has no label")
        if len(labels) > 1 and not scheme.multi:
            raise LabelError(f"--gold '{path}' line {n}: {len(labels)} labels for a single-label project")
        if iid in gold:
            raise InputError(f"--gold '{path}' line {n}: item '{iid}' is given twice")
        gold[iid] = list(labels)
    if not gold:
        raise InputError(f"--gold '{path}' holds no rows")
    if len(gold) == len(ids):
        raise InputError(f"--gold '{path}' names every item; gold items are a few known answers mixed in, "
                         "and are not counted towards k")
    return gold


def new_config(items: list[dict], scheme: Scheme, *, source: str = "", gold: dict | None = None,
               seed: int | None = None, **settings) -> dict:
    cfg = {"format": FORMAT, "project_id": secrets.token_hex(8), "created": iso(time.time()), "input": source,
           "scheme": scheme.to_dict(), "gold": gold or {}, "seed": random.randrange(2**31) if seed is None else seed,
           **DEFAULTS}
    cfg.update({k: v for k, v in settings.items() if v is not None})
    check_settings(cfg)
    cfg["items"] = items
    return cfg


def check_settings(cfg: dict) -> None:
    if not isinstance(cfg["k"], int) or cfg["k"] < 1:
        raise InputError(f"--k {cfg['k']}: each item needs at least 1 answer")
    if cfg["order"] not in ORDERS:
        raise InputError(f"--order '{cfg['order']}': use {', '.join(ORDERS)}")
    if not cfg["lease_s"] > 0:
        raise InputError("--lease: give a number of seconds > 0")
    if cfg["order"] == "uncertain" and not (cfg.get("preannotate") or cfg.get("score_model")):
        raise InputError("--order uncertain needs a model to say how certain it is: give --preannotate MODEL "
                         "(shows its suggestions) or --score-model MODEL (only orders the items)")


class Project:
    """One project, open. ``lock=True`` (a server): no other server may open it meanwhile."""

    def __init__(self, folder, config: dict, store: Store, lock: ProjectLock | None = None):
        self.folder = Path(folder)
        self.config = config
        self.store = store
        self.lock = lock
        self.scheme = Scheme.from_dict(config["scheme"])
        self.items: list[dict] = config["items"]
        self.index = {it["id"]: n for n, it in enumerate(self.items)}
        self.gold: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in (config.get("gold") or {}).items()}
        self._mutex = threading.RLock()
        self.scores: dict[str, dict | None] = {}
        self.suggestions: dict[str, list[str]] = {}
        self._load_state()
        self.reorder()

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, folder, config: dict, *, lock: bool = True) -> Project:
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"--project '{folder}' is a file; give a folder for the project")
        folder.mkdir(parents=True, exist_ok=True)
        if read_config(folder) is not None:
            raise InputError(f"'{folder}' already holds a project (project.json)")
        leftovers = [p.name for p in folder.iterdir() if p.name not in (".lock",)]
        if leftovers:
            raise InputError(f"--project '{folder}' is not empty and holds no project.json ({', '.join(leftovers[:3])}"
                             f"{'...' if len(leftovers) > 3 else ''}); give a new or empty folder")
        plock = ProjectLock(folder).acquire() if lock else None
        try:
            write_json_atomic(folder / "project.json", config)
            store = Store(folder / "answers.sqlite", create=True)
        except BaseException:
            if plock:
                plock.release()
            raise
        return cls(folder, config, store, plock)

    @classmethod
    def open(cls, folder, *, lock: bool = True) -> Project:
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(f"--project '{folder}' does not exist; give the input to make a new project")
        plock = ProjectLock(folder).acquire() if lock else None
        try:
            config = read_config(folder)
            if config is None:
                raise InputError(f"'{folder}' holds no annotation project (no project.json); give the input "
                                 "(a folder or a text file) to make one there")
            for key, v in DEFAULTS.items():
                config.setdefault(key, v)
            db = folder / "answers.sqlite"
            if not db.exists():
                if (folder / "answers.sqlite-wal").exists():
                    raise InputError(f"'{db}' is missing but its journal (answers.sqlite-wal) is there: the answers "
                                     "file was moved or deleted; put it back")
                import warnings

                warnings.warn(f"'{db}' was missing: starting an empty one (no answers so far)")
            store = Store(db, create=True, writer=lock)
            return cls(folder, config, store, plock)
        except BaseException:
            if plock:
                plock.release()
            raise

    def configure(self, **settings) -> list[str]:
        """Change serving settings (k, order, lease_s, preannotate, score_model, instructions) and
        save them; the scheme, items and gold stay as they are. Returns what changed, in words."""
        changed = []
        new = dict(self.config)
        for k, v in settings.items():
            if v is not None and new.get(k) != v:
                changed.append(f"{k}: {new.get(k)!r} -> {v!r}" if k != "instructions" else "instructions")
                new[k] = v
        check_settings(new)
        if changed:
            write_json_atomic(self.folder / "project.json", new)
            self.config = new
            self.reorder()
        return changed

    def close(self) -> None:
        """Checkpoint the answers into answers.sqlite and let the project go (idempotent)."""
        with self._mutex:
            if getattr(self, "_closed", False):
                return
            self._closed = True
            self.store.close()
            if self.lock:
                self.lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ state
    @property
    def k(self) -> int:
        return int(self.config["k"])

    def _load_state(self) -> None:
        self.counts: dict[str, int] = {}
        self.done_by: dict[str, set[str]] = {}
        for item, annotator in self.store.query("SELECT item, annotator FROM answers"):
            self.done_by.setdefault(annotator, set()).add(item)
            if item not in self.gold:
                self.counts[item] = self.counts.get(item, 0) + 1
        self.leases = {a: (item, shown, exp) for a, item, shown, exp in self.store.leases()}

    def use_scores(self, model: str, scores: dict[str, dict | None], *, show: bool) -> None:
        """A model's scores per item (from :mod:`.suggest`): the order for ``uncertain``, and what
        the page suggests when ``show``."""
        from affekt.annotation.tool.suggest import suggestion

        self.scores = scores
        self.suggestions = {iid: suggestion(s, self.scheme) for iid, s in scores.items() if s} if show else {}
        self.reorder()

    def reorder(self) -> None:
        """The order items are handed out in: regular items by the project's order, the gold
        items spread evenly between them."""
        from affekt.annotation.tool.suggest import uncertainty

        regular = [n for n, it in enumerate(self.items) if it["id"] not in self.gold]
        golds = [n for n, it in enumerate(self.items) if it["id"] in self.gold]
        order = self.config["order"]
        rng = random.Random(self.config.get("seed", 0))
        if order == "random":
            rng.shuffle(regular)
        elif order == "uncertain":
            def key(n):
                s = self.scores.get(self.items[n]["id"])
                return (0, -uncertainty(s, self.scheme.multi), n) if s else (1, 0.0, n)
            regular.sort(key=key)
        rng.shuffle(golds)
        merged, g = [], len(golds)
        at = [round((j + 1) * len(regular) / (g + 1)) for j in range(g)]
        j = 0
        for pos, n in enumerate(regular):
            while j < g and at[j] <= pos:
                merged.append(golds[j])
                j += 1
            merged.append(n)
        merged.extend(golds[j:])
        with self._mutex:
            self.order = merged

    # ------------------------------------------------------------------ handing out
    def _expire(self, now: float) -> None:
        gone = [a for a, (_, _, exp) in self.leases.items() if exp <= now]
        if gone:
            self.store.drop_expired(now)
            for a in gone:
                del self.leases[a]

    def next_item(self, annotator: str, now: float | None = None) -> dict | None:
        """The item ``annotator`` labels next (leased to them), or None when none is left for them."""
        now = time.time() if now is None else now
        with self._mutex:
            self._expire(now)
            done = self.done_by.get(annotator, set())
            held = self.leases.get(annotator)
            if held and held[0] not in done and held[0] in self.index:
                self._lease(annotator, held[0], held[1], now)
                return self.describe(held[0], held[1])
            in_hands: dict[str, int] = {}
            for a, (item, _, _) in self.leases.items():
                if a != annotator:
                    in_hands[item] = in_hands.get(item, 0) + 1
            gold_first = None
            pick = None
            for n in self.order:
                iid = self.items[n]["id"]
                if iid in done:
                    continue
                if iid in self.gold:
                    gold_first = gold_first or iid
                    continue
                if self.counts.get(iid, 0) + in_hands.get(iid, 0) < self.k:
                    pick = iid
                    break
            if pick is None:  # gold items only measure: none once there is no real work left
                return None
            pick = gold_first or pick
            self._lease(annotator, pick, now, now)
            return self.describe(pick, now)

    def _lease(self, annotator: str, item: str, shown: float, now: float) -> None:
        exp = now + float(self.config["lease_s"])
        self.store.set_lease(annotator, item, shown, exp)
        self.leases[annotator] = (item, shown, exp)

    def describe(self, iid: str, shown: float | None = None) -> dict:
        """What the page gets of an item (never its path, nor its gold label)."""
        n = self.index[iid]
        it = self.items[n]
        d = {"id": iid, "n": n, "kind": it["kind"]}
        if it["kind"] == "text":
            d["text"] = it["text"]
        if shown is not None:
            d["shown_at"] = iso(shown)
        if iid in self.suggestions:
            d["suggestion"] = self.suggestions[iid]
        return d

    def progress(self, annotator: str) -> dict:
        with self._mutex:
            done = self.done_by.get(annotator, set())
            regular = [it["id"] for it in self.items if it["id"] not in self.gold]
            open_for_you = sum(1 for iid in regular if iid not in done and self.counts.get(iid, 0) < self.k)
            complete = sum(1 for iid in regular if self.counts.get(iid, 0) >= self.k)
            return {"answered": len(done), "open": open_for_you, "items": len(regular), "complete": complete,
                    "k": self.k}

    # ------------------------------------------------------------------ answers
    def answer(self, annotator: str, body: dict, now: float | None = None) -> dict:
        """Check and store one answer (committed before this returns); an :class:`AnswerError`
        with the HTTP status when it is refused. A retried answer (same ``answer_id``) is
        stored once and answered as stored."""
        now = time.time() if now is None else now
        a = self.scheme.check(body)
        iid = body.get("item")
        if iid is None or iid == "":
            raise AnswerError("item: missing (the id of the item answered)")
        if not isinstance(iid, str) or iid not in self.index:
            raise AnswerError(f"item: {str(iid)[:80]!r} is not an item of this project")
        with self._mutex:
            if a["answer_id"]:
                prev = self.store.answer_by_id(a["answer_id"])
                if prev is not None:
                    if prev != {"item": iid, "annotator": annotator}:
                        raise AnswerError("answer_id: already used for another answer", 409)
                    return {"stored": True, "duplicate": True, "item": iid}
            if iid in self.done_by.get(annotator, set()):
                raise AnswerError(f"item '{iid}': {annotator} has already answered it (each annotator answers an "
                                  "item once)", 409)
            self._expire(now)
            held = self.leases.get(annotator)
            holds = held is not None and held[0] == iid
            gold = iid in self.gold
            # someone without the item in hand (their time ran out) answers only where that cannot take the
            # item past k: the answers so far and the others holding it now all count
            others = sum(1 for a, (item, _, _) in self.leases.items() if a != annotator and item == iid)
            if not gold and not holds and self.counts.get(iid, 0) + others >= self.k:
                raise AnswerError(f"item '{iid}' already has its {self.k} answers (it was handed to someone else "
                                  "after your time on it ran out); this answer was not stored", 409)
            shown = held[1] if holds else None
            duration = a["duration_ms"]
            if duration is None and shown is not None:
                duration = round((now - shown) * 1000)
            row = {"answer_id": a["answer_id"] or secrets.token_hex(12), "item": iid, "annotator": annotator,
                   "labels": a["labels"], "valence": a["valence"], "arousal": a["arousal"],
                   "dominance": a["dominance"], "unsure": a["unsure"], "not_applicable": a["not_applicable"],
                   "gold": gold, "suggestion": self.suggestions.get(iid),
                   "shown_at": None if shown is None else iso(shown), "answered_at": iso(now),
                   "duration_ms": duration}
            self.store.add_answer(row)
            self.done_by.setdefault(annotator, set()).add(iid)
            if not gold:
                self.counts[iid] = self.counts.get(iid, 0) + 1
            if holds:
                del self.leases[annotator]
            return {"stored": True, "duplicate": False, "item": iid}

    # ------------------------------------------------------------------ reading
    def export_rows(self) -> list[dict]:
        """One row per answer (see :data:`EXPORT_COLUMNS`), in the order they were stored."""
        out = []
        for a in self.store.answers():
            out.append({"item": a["item"], "annotator": a["annotator"], "label": ";".join(a["labels"]),
                        "valence": a["valence"], "arousal": a["arousal"], "dominance": a["dominance"],
                        "unsure": a["unsure"], "not_applicable": a["not_applicable"], "gold": a["gold"],
                        "shown_at": a["shown_at"], "answered_at": a["answered_at"], "duration_ms": a["duration_ms"],
                        "suggestion": None if a["suggestion"] is None else ";".join(a["suggestion"]),
                        "answer_id": a["answer_id"]})
        return out

    def export(self, path) -> int:
        """Write every answer to ``path`` (.csv, or .jsonl / .ndjson); the number written."""
        return write_rows(self.export_rows(), path)

    def stats(self) -> dict:
        """Progress, and per annotator: answers, time per answer, accuracy on the gold items."""
        answers = self.store.answers()
        regular = [it["id"] for it in self.items if it["id"] not in self.gold]
        counts: dict[str, int] = {}
        per: dict[str, dict] = {}
        for a in answers:
            if not a["gold"]:
                counts[a["item"]] = counts.get(a["item"], 0) + 1
            s = per.setdefault(a["annotator"], {"answers": 0, "gold_answered": 0, "gold_correct": 0, "durations": []})
            s["answers"] += 1
            if a["duration_ms"] is not None:
                s["durations"].append(a["duration_ms"])
            if a["gold"] and a["item"] in self.gold:
                s["gold_answered"] += 1
                s["gold_correct"] += int(tuple(a["labels"]) == self.gold[a["item"]])
        annotators = {}
        for name, s in sorted(per.items()):
            ga = s["gold_answered"]
            annotators[name] = {"answers": s["answers"], "gold_answered": ga, "gold_correct": s["gold_correct"],
                                "gold_accuracy": round(s["gold_correct"] / ga, 4) if ga else None,
                                "median_duration_ms": int(statistics.median(s["durations"])) if s["durations"] else None}
        return {"items": len(regular), "gold_items": len(self.gold), "k": self.k,
                "complete": sum(1 for iid in regular if counts.get(iid, 0) >= self.k),
                "answers": len(answers), "annotators": annotators}


def write_rows(rows: list[dict], path) -> int:
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise InputError(f"--output '{path}': write .csv or .jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        if suffix == ".csv":
            w = csv.DictWriter(f, fieldnames=EXPORT_COLUMNS)
            w.writeheader()
            for r in rows:
                w.writerow({k: ("true" if v else "false") if isinstance(v, bool) else ("" if v is None else v)
                            for k, v in r.items()})
        else:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return len(rows)
