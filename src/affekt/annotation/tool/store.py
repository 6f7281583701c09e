"""Where the answers live: one SQLite file per project (``answers.sqlite``), and the lock that
keeps a project to one server.

Durability: WAL journal with ``synchronous=FULL``, each answer committed in its own
transaction before its HTTP response is sent. In WAL mode ``synchronous=NORMAL`` would already
survive a crash or SIGKILL of the server (a committed transaction is in the WAL file, which the
next open replays), but not a power cut or an OS crash, which can drop the transactions since
the last checkpoint; FULL syncs the WAL at every commit, so an answer acknowledged to the
page is on disk. It costs one fsync per answer, nothing at the pace people label.

A damaged file is refused with an error naming it (never silently recreated).
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

from affekt.core.errors import InputError

SCHEMA_VERSION = 1
APPLICATION_ID = 0x416E6E6F  # "Anno": marks the file as an affekt annotation store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    answer_id TEXT UNIQUE,            -- made by the page: a retried request is stored once
    item TEXT NOT NULL,
    annotator TEXT NOT NULL,
    labels TEXT NOT NULL,             -- JSON list, in the scheme's order
    valence INTEGER, arousal INTEGER, dominance INTEGER,
    unsure INTEGER NOT NULL DEFAULT 0,
    not_applicable INTEGER NOT NULL DEFAULT 0,
    gold INTEGER NOT NULL DEFAULT 0,
    suggestion TEXT,                  -- JSON list: what the model suggested, when it was shown
    shown_at TEXT,                    -- ISO 8601 UTC
    answered_at TEXT NOT NULL,        -- ISO 8601 UTC (when the server stored it)
    duration_ms INTEGER,
    UNIQUE (item, annotator)
);
CREATE TABLE IF NOT EXISTS leases (
    annotator TEXT PRIMARY KEY,       -- one item in hand per annotator
    item TEXT NOT NULL,
    shown_at REAL NOT NULL,           -- epoch seconds
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS model_scores (
    model TEXT NOT NULL,
    item TEXT NOT NULL,
    scores TEXT,                      -- JSON {label: score}, null when the model could not read the item
    PRIMARY KEY (model, item)
);
"""


def corrupt(path: Path, why: str) -> InputError:
    return InputError(f"'{path}' is not a readable annotation database ({why}); it may be damaged. Nothing was "
                      "changed. Restore it from a backup, or try `sqlite3 answers.sqlite .recover | sqlite3 "
                      "recovered.sqlite` and put the recovered file in its place")


class Store:
    """The answers of one project. Every method is safe to call from several threads."""

    def __init__(self, path, *, create: bool = False, writer: bool = True):
        self.path = Path(path)
        self.writer = writer  # the server's store checkpoints the WAL when it closes; a reader leaves it
        if not create and not self.path.exists():
            raise InputError(f"'{self.path}' does not exist: the project holds no answers database")
        self._lock = threading.RLock()
        try:
            self.con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise corrupt(self.path, str(exc)) from None
        try:
            self._check_and_create()
        except sqlite3.DatabaseError as exc:
            self.con.close()
            raise corrupt(self.path, str(exc)) from None
        except InputError:
            self.con.close()
            raise

    def _check_and_create(self) -> None:
        con = self.con
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and app_id != APPLICATION_ID:
            raise corrupt(self.path, f"it is an SQLite database of something else (tables: {', '.join(sorted(tables))})")
        check = con.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise corrupt(self.path, f"SQLite's integrity check says: {check}")
        mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":  # e.g. a file system without shared memory: still safe, less concurrent
            con.execute("PRAGMA journal_mode=DELETE")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("PRAGMA busy_timeout=30000")
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputError(f"'{self.path}' was written by a newer affekt (store version {version}); upgrade affekt")
        if not tables:
            with self.transaction():
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        con.execute(stmt)
                con.execute(f"PRAGMA application_id={APPLICATION_ID}")
                con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        missing = {"answers", "leases", "model_scores"} - {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        if missing:
            raise corrupt(self.path, f"tables missing: {', '.join(sorted(missing))}")

    # ------------------------------------------------------------------ plumbing
    class _Tx:
        def __init__(self, store):
            self.store = store

        def __enter__(self):
            self.store._lock.acquire()
            try:
                self.store.con.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store._lock.release()
                raise
            return self.store.con

        def __exit__(self, kind, exc, tb):
            try:
                self.store.con.execute("COMMIT" if kind is None else "ROLLBACK")
            finally:
                self.store._lock.release()

    def transaction(self):
        """``with store.transaction() as con:`` one write transaction, committed (synced) on exit."""
        return Store._Tx(self)

    def query(self, sql: str, args=()) -> list[tuple]:
        with self._lock:
            return self.con.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            if self.writer:
                try:
                    self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error:
                    pass
            self.con.close()

    # ------------------------------------------------------------------ answers
    COLUMNS = ("id", "answer_id", "item", "annotator", "labels", "valence", "arousal", "dominance", "unsure",
               "not_applicable", "gold", "suggestion", "shown_at", "answered_at", "duration_ms")

    def answers(self) -> list[dict]:
        """Every answer, in the order they were stored."""
        rows = self.query(f"SELECT {', '.join(self.COLUMNS)} FROM answers ORDER BY id")
        out = []
        for r in rows:
            d = dict(zip(self.COLUMNS, r))
            d["labels"] = json.loads(d["labels"])
            d["suggestion"] = None if d["suggestion"] is None else json.loads(d["suggestion"])
            for k in ("unsure", "not_applicable", "gold"):
                d[k] = bool(d[k])
            out.append(d)
        return out

    def answer_by_id(self, answer_id: str) -> dict | None:
        rows = self.query("SELECT item, annotator FROM answers WHERE answer_id = ?", (answer_id,))
        return {"item": rows[0][0], "annotator": rows[0][1]} if rows else None

    def add_answer(self, row: dict) -> None:
        """Store one answer and drop its annotator's lease, in one committed transaction."""
        cols = [c for c in self.COLUMNS if c != "id"]
        vals = [json.dumps(list(row[c]), ensure_ascii=False) if c == "labels" else
                (None if row.get(c) is None else json.dumps(list(row[c]), ensure_ascii=False)) if c == "suggestion"
                else int(row[c]) if c in ("unsure", "not_applicable", "gold") else row.get(c) for c in cols]
        with self.transaction() as con:
            con.execute(f"INSERT INTO answers ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", vals)
            con.execute("DELETE FROM leases WHERE annotator = ? AND item = ?", (row["annotator"], row["item"]))

    # ------------------------------------------------------------------ leases
    def leases(self) -> list[tuple[str, str, float, float]]:
        return [tuple(r) for r in self.query("SELECT annotator, item, shown_at, expires FROM leases")]

    def set_lease(self, annotator: str, item: str, shown_at: float, expires: float) -> None:
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO leases (annotator, item, shown_at, expires) VALUES (?, ?, ?, ?)",
                        (annotator, item, shown_at, expires))

    def drop_expired(self, now: float) -> None:
        with self.transaction() as con:
            con.execute("DELETE FROM leases WHERE expires <= ?", (now,))

    # ------------------------------------------------------------------ model scores
    def scores(self, model: str) -> dict[str, dict | None]:
        return {item: None if s is None else json.loads(s)
                for item, s in self.query("SELECT item, scores FROM model_scores WHERE model = ?", (model,))}

    def put_scores(self, model: str, scores: dict[str, dict | None]) -> None:
        with self.transaction() as con:
            con.executemany("INSERT OR REPLACE INTO model_scores (model, item, scores) VALUES (?, ?, ?)",
                            [(model, item, None if s is None else json.dumps(s)) for item, s in scores.items()])


# ---------------------------------------------------------------------- the project lock
class ProjectLock:
    """An exclusive lock on a project folder (``.lock``), held while a server has it open.

    ``fcntl.flock`` on an open file: the kernel drops it when the process ends, however it ends
    (SIGKILL included), so a crashed server never leaves a stale lock behind. The file holds the
    owner's pid and address, for the message a second server gets."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / ".lock"
        self.fd: int | None = None

    def acquire(self, note: str = "") -> ProjectLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock (say so)
            import warnings

            warnings.warn("this system has no fcntl: nothing stops two servers opening this project at once")
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                owner = os.pread(fd, 400, 0).decode("utf-8", "replace").strip()
            finally:
                os.close(fd)
            raise InputError(f"the annotation project in '{self.path.parent}' is already open in another "
                             f"affekt annotate ({owner or 'pid unknown'}); two servers on one project would hand out "
                             "the same items twice. Use that one, or stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}{', ' + note if note else ''}".encode(), 0)
        self.fd = fd
        return self

    def note(self, text: str) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, f"pid {os.getpid()}, {text}".encode(), 0)

    def release(self) -> None:
        if self.fd is not None:
            try:
                os.ftruncate(self.fd, 0)
            finally:
                os.close(self.fd)  # closing the file drops the lock
                self.fd = None
