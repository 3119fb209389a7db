"""The runs of a project, kept in one SQLite file beside it (``<project>.runs.sqlite``).

    store = RunStore(runs_path("net.layerwise"))
    rid = store.start(snapshot, seed=0, device="auto")      # snapshot: {"graph", "settings", "versions", ...}
    store.log_epoch(rid, 0, {"loss": 0.5, "val_loss": 0.6})
    store.finish(rid, "finished", metrics={"loss": 0.5}, seconds=3.2)
    store.list(); store.get(rid); store.diff(a, b)

Standard library ``sqlite3`` in WAL mode; every write is one transaction (``BEGIN IMMEDIATE``), so a process killed
in the middle of a run leaves every earlier run whole and the epochs of that one up to the last it logged; several
processes (sweep workers) may write the same file. The file holds JSON text and numbers only, never pickles; a
value that is not plain data is written as its text, a NaN or infinite number as null. A file that is not a runs
database, is damaged, or comes from a newer Layerwise raises ``RunsError`` naming it and is left untouched.
"""
from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from ..errors import RunsError
from .diff import diff_lines, graph_diff
from .sweep_storage import alive   # the same "is this process still running here" check as the sweeps

SCHEMA_VERSION = 1
SUFFIX = ".runs.sqlite"
STATUSES = ("finished", "stopped", "early-stopped", "nan", "error", "failed", "pruned", "running")
MAX_TEXT = 10_000          # characters of a name, note, tag or message
BUSY_TIMEOUT_S = 60        # how long a write waits for another process's transaction

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, status TEXT NOT NULL, started TEXT NOT NULL, ended TEXT,
    seconds REAL, samples_per_s REAL, device TEXT, seed INTEGER, sweep TEXT, trial TEXT, tags TEXT, note TEXT,
    message TEXT, weights_path TEXT, metrics TEXT, test_metrics TEXT, settings TEXT, graph TEXT, versions TEXT,
    extra TEXT, host TEXT, pid INTEGER, epochs INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS epochs (run_id INTEGER NOT NULL, epoch INTEGER NOT NULL, logs TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch));
CREATE TABLE IF NOT EXISTS batches (run_id INTEGER NOT NULL, epoch INTEGER NOT NULL, step INTEGER NOT NULL,
    logs TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS batches_run ON batches (run_id, epoch, step);
"""
_JSON_COLUMNS = ("sweep", "trial", "tags", "metrics", "test_metrics", "settings", "versions", "extra")
_LIST_COLUMNS = ("id, name, status, started, ended, seconds, samples_per_s, device, seed, sweep, trial, tags, note, "
                 "message, weights_path, metrics, test_metrics, settings, versions, extra, host, pid, epochs")


def runs_path(project_path) -> Path:
    """``net.layerwise`` -> ``net.runs.sqlite`` beside it."""
    p = Path(project_path)
    stem = p.name[:-len(p.suffix)] if p.suffix else p.name
    return p.with_name(stem + SUFFIX)


def weights_file(store_path, weights_path):
    """Where a run's kept weights are: ``weights_path`` as recorded (relative to the runs file's folder), or None
    when the run kept none. Only a file in the runs' weights folder is ever named (a record cannot point
    elsewhere)."""
    if not weights_path:
        return None
    base = Path(store_path).parent
    p = (base / str(weights_path)).resolve()
    folder = (base / (Path(store_path).name[:-len(SUFFIX)] + ".runs")).resolve()
    return p if p.parent == folder and p.name.endswith(".weights.h5") else None


def plain(value):
    """``value`` as JSON-able plain data: numpy numbers become numbers, NaN/inf become None, tuples lists, keys
    text, and anything else its text."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():   # numpy / tensor scalars
        try:
            return plain(value.item())
        except Exception:
            pass
    return str(value)


def _dump(value):
    return json.dumps(plain(value), allow_nan=False, separators=(",", ":"))


def _text(value):
    return None if value is None else str(value)[:MAX_TEXT]


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunStore:
    """The runs database at ``path`` (created on the first write if it does not exist). Safe to share between
    threads; each method is one transaction."""

    def __init__(self, path):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = None
        self._open()

    # -- the file ------------------------------------------------------------------------------------------
    def _bad(self, why):
        return RunsError(f"{self.path}: {why}; the file was left as it is (move it away to start a new runs "
                         f"database)")

    def _open(self):
        if self.path.exists() and not self.path.is_file():
            raise RunsError(f"{self.path}: is not a file (a runs database is one file)")
        try:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as e:
            raise RunsError(f"{self.path}: cannot open the runs database ({e})") from None
        self._conn = conn
        try:
            self._check_and_create()
        except RunsError:
            self.close()
            raise
        except sqlite3.DatabaseError as e:
            self.close()
            raise self._bad(f"not a Layerwise runs database, or damaged ({e})") from None

    def _check_and_create(self):
        c = self._conn
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise self._bad("not a Layerwise runs database (an SQLite file with other tables)")
        if "meta" in tables:
            row = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            try:
                version = int(row[0])
            except (TypeError, ValueError):
                raise self._bad("not a Layerwise runs database (no schema version)") from None
            if version > SCHEMA_VERSION:
                raise self._bad(f"runs database version {version} was written by a newer Layerwise; this one reads "
                                f"up to version {SCHEMA_VERSION}")
        if tables != {"meta", "runs", "epochs", "batches", "sqlite_sequence"}:
            c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")
        if tables >= {"meta", "runs", "epochs", "batches"}:
            return      # (a damaged page is found, and said, when it is read)
        with self._write() as w:
            for stmt in _TABLES.split(";"):
                if stmt.strip():
                    w.execute(stmt)
            w.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self):
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write(self):
        return _Transaction(self)

    def _read(self, sql, args=()):
        with self._lock:
            if self._conn is None:
                raise RunsError(f"{self.path}: the runs database is closed")
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as e:
                raise self._bad(f"cannot be read ({e})") from None

    # -- writing a run ---------------------------------------------------------------------------------------
    def start(self, snapshot: dict, *, name=None, sweep=None, trial=None, seed=0, device=None) -> int:
        """A new run, status "running"; returns its id. ``snapshot``: {"graph": project-file graph, "settings":
        {"compile", "regularization", "data", "training"}, "versions": {package: version}, ...}; other keys are
        kept as the run's ``extra``."""
        snap = dict(snapshot or {})
        graph, settings, versions = snap.pop("graph", None), snap.pop("settings", {}), snap.pop("versions", {})
        with self._write() as w:
            cur = w.execute(
                "INSERT INTO runs (name, status, started, device, seed, sweep, trial, tags, settings, graph, "
                "versions, extra, host, pid) VALUES (?, 'running', ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?, ?, ?)",
                (_text(name), _now(), _text(device), int(seed or 0), _dump(sweep), _dump(trial), _dump(settings),
                 _dump(graph), _dump(versions), _dump(snap), socket.gethostname(), os.getpid()))
            rid = int(cur.lastrowid)
            if name is None:
                w.execute("UPDATE runs SET name=? WHERE id=?", (f"run {rid}", rid))
        return rid

    def log_epoch(self, run_id, epoch, logs: dict):
        """The values at the end of ``epoch`` (0-based); logging an epoch again replaces it."""
        with self._write() as w:
            w.execute("INSERT OR REPLACE INTO epochs (run_id, epoch, logs) VALUES (?, ?, ?)",
                      (int(run_id), int(epoch), _dump(logs)))
            w.execute("UPDATE runs SET epochs=(SELECT COUNT(*) FROM epochs WHERE run_id=?) WHERE id=?",
                      (int(run_id), int(run_id)))

    def log_batches(self, run_id, rows):
        """Sampled batches: ``rows`` of (epoch, step, logs)."""
        rows = [(int(run_id), int(e), int(s), _dump(logs)) for e, s, logs in rows]
        if rows:
            with self._write() as w:
                w.executemany("INSERT INTO batches (run_id, epoch, step, logs) VALUES (?, ?, ?, ?)", rows)

    def finish(self, run_id, status, *, metrics=None, test_metrics=None, seconds=None, samples_per_s=None,
               message=None, weights_path=None, device=None):
        """How the run ended (one of ``STATUSES``) and its final values."""
        if status not in STATUSES:
            raise ValueError(f"run status must be one of {', '.join(STATUSES)}, got {status!r}")
        self._get_row(run_id)
        with self._write() as w:
            w.execute("UPDATE runs SET status=?, ended=?, metrics=?, test_metrics=?, seconds=?, samples_per_s=?, "
                      "message=?, weights_path=?, device=COALESCE(?, device) WHERE id=?",
                      (status, _now(), _dump(metrics or {}), _dump(test_metrics), plain(_num(seconds)),
                       plain(_num(samples_per_s)), _text(message), _text(weights_path), _text(device), int(run_id)))

    # -- reading ---------------------------------------------------------------------------------------------
    def list(self, *, sweep=None) -> list:
        """Every run, oldest first, as plain dicts (no graph, no curves); ``sweep``: only that sweep's runs."""
        rows = self._read(f"SELECT {_LIST_COLUMNS} FROM runs ORDER BY id")
        runs = [self._as_dict(r) for r in rows]
        if sweep is not None:
            runs = [r for r in runs if _sweep_name(r["sweep"]) == sweep]
        return runs

    def get(self, run_id) -> dict:
        """One run with its graph and its ``curves`` (epochs: [logs...], batches: [(epoch, step, logs)...])."""
        r = self._as_dict(self._get_row(run_id))
        r["graph"] = _load(self._read("SELECT graph FROM runs WHERE id=?", (int(run_id),))[0][0])
        r["curves"] = self.curves(run_id)
        return r

    def curves(self, run_id) -> dict:
        eps = self._read("SELECT epoch, logs FROM epochs WHERE run_id=? ORDER BY epoch", (int(run_id),))
        bs = self._read("SELECT epoch, step, logs FROM batches WHERE run_id=? ORDER BY epoch, step, rowid",
                        (int(run_id),))
        return {"epochs": [dict(_load(logs) or {}, epoch=e) for e, logs in eps],
                "batches": [(e, s, _load(logs) or {}) for e, s, logs in bs]}

    def _get_row(self, run_id):
        try:
            rid = int(run_id)
        except (TypeError, ValueError):
            raise RunsError(f"{self.path}: a run id is a whole number, got {run_id!r}") from None
        rows = self._read(f"SELECT {_LIST_COLUMNS} FROM runs WHERE id=?", (rid,))
        if not rows:
            known = self._read("SELECT MIN(id), MAX(id), COUNT(*) FROM runs")[0]
            which = f"runs {known[0]}..{known[1]}" if known[2] else "no runs yet"
            raise RunsError(f"{self.path}: no run {rid} (it holds {which})")
        return rows[0]

    def _as_dict(self, row):
        keys = [k.strip() for k in _LIST_COLUMNS.split(",")]
        r = dict(zip(keys, row))
        for k in _JSON_COLUMNS:
            r[k] = _load(r[k])
        r["tags"] = r["tags"] or []
        r["metrics"] = r["metrics"] or {}
        r["settings"] = r["settings"] or {}
        if r["status"] == "running" and r["host"] == socket.gethostname() and r["pid"] and not alive(r["pid"]):
            r["status"] = "failed"
            r["message"] = r["message"] or "the process training this run ended before the run did (killed?)"
        return r

    def diff(self, a, b) -> list:
        """One line per setting path or node that differs between runs ``a`` and ``b`` (b against a)."""
        ra, rb = self.get(a), self.get(b)
        return diff_lines(ra["settings"], rb["settings"], ra["graph"], rb["graph"])

    def graph_diff(self, a, b) -> dict:
        """{"added", "removed", "changed"} node ids of run b's graph against run a's."""
        return graph_diff(self.get(a)["graph"], self.get(b)["graph"])

    # -- editing ---------------------------------------------------------------------------------------------
    def rename(self, run_id, name):
        self._update(run_id, "name", _text(name))

    def tag(self, run_id, tags):
        """Set the run's tags (a list of text; one text is one tag)."""
        tags = [tags] if isinstance(tags, str) else list(tags or [])
        self._update(run_id, "tags", _dump(sorted({_text(t).strip() for t in tags if str(t).strip()})))

    def note(self, run_id, text):
        self._update(run_id, "note", _text(text))

    def delete(self, run_id):
        """The run, its curves and the weights it kept."""
        kept = weights_file(self.path, self._as_dict(self._get_row(run_id))["weights_path"])
        with self._write() as w:
            for table, col in (("batches", "run_id"), ("epochs", "run_id"), ("runs", "id")):
                w.execute(f"DELETE FROM {table} WHERE {col}=?", (int(run_id),))
        if kept is not None:
            kept.unlink(missing_ok=True)

    def _update(self, run_id, column, value):
        self._get_row(run_id)
        with self._write() as w:
            w.execute(f"UPDATE runs SET {column}=? WHERE id=?", (value, int(run_id)))


class _Transaction:
    """``with store._write() as conn:`` one ``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error)."""

    def __init__(self, store):
        self.store = store

    def __enter__(self):
        self.store._lock.acquire()
        conn = self.store._conn
        if conn is None:
            self.store._lock.release()
            raise RunsError(f"{self.store.path}: the runs database is closed")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            self.store._lock.release()
            raise self.store._bad(f"cannot be written ({e})") from None
        return conn

    def __exit__(self, kind, exc, tb):
        conn = self.store._conn
        try:
            if kind is None:
                conn.execute("COMMIT")
            else:
                conn.execute("ROLLBACK")
        except sqlite3.Error as e:
            if kind is None:
                raise self.store._bad(f"cannot be written ({e})") from None
        finally:
            self.store._lock.release()
        if isinstance(exc, sqlite3.DatabaseError):
            raise self.store._bad(f"cannot be written ({exc})") from None
        return False


def _num(v):
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _load(text):
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _sweep_name(sweep):
    if isinstance(sweep, dict):
        return sweep.get("study") or sweep.get("name")
    return sweep
