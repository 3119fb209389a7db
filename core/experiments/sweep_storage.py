"""Where a sweep's study lives, and the study-wide lock.

The default storage is an SQLite file beside the project (``<project>.sweeps.sqlite``, not the runs database);
``--storage URL`` names any database Optuna supports through SQLAlchemy (PostgreSQL, MySQL). Every process of a
study takes one lock around "count the finished trials, claim the next one" — PostgreSQL's advisory lock, MySQL's
``GET_LOCK``, a file lock for SQLite — so that several processes, on one machine or many, stop at exactly N
finished trials; the same lock serialises the creation of the tables on an empty database.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from pathlib import Path

from ..errors import SettingsError, short

SUFFIX = ".sweeps.sqlite"
HEARTBEAT_S = 5          # a remote worker's heartbeat; a trial silent for GRACE_S is failed and retried
GRACE_S = 30
MAX_RETRY = 2            # a trial whose process died is retried this many times with the same values


class StorageError(SettingsError):
    """A storage URL that is malformed, unreachable or whose driver is missing (the message names it)."""


def default_url(project_path) -> str:
    p = Path(project_path).resolve()
    stem = p.name[:-len(p.suffix)] if p.suffix else p.name
    return f"sqlite:///{p.with_name(stem + SUFFIX)}"


def shown(url) -> str:
    """The URL as a message or a record may show it: the password hidden."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return short(url, 120)


def parse_url(url):
    """The SQLAlchemy URL, or StorageError naming --storage."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    try:
        u = make_url(str(url))
    except (ArgumentError, ValueError) as e:
        raise StorageError(f"--storage {short(url, 120)}: not a database URL ({e}); e.g. "
                           f"postgresql://user@host:5432/db or sqlite:///sweeps.sqlite") from None
    backend = u.get_backend_name()
    if backend not in ("sqlite", "postgresql", "mysql"):
        raise StorageError(f"--storage {shown(url)}: unsupported database {backend!r}; use postgresql://, "
                           f"mysql:// or sqlite:///")
    if backend == "sqlite" and not u.database:
        raise StorageError(f"--storage {shown(url)}: an SQLite URL names a file: sqlite:///path/to/sweeps.sqlite")
    return u


def absolute(url) -> str:
    """The URL with an SQLite file given relative to the current folder made absolute (workers start elsewhere)."""
    u = parse_url(url)
    if u.get_backend_name() == "sqlite" and u.database == ":memory:":
        raise StorageError(f"--storage {shown(url)}: an in-memory database cannot be shared with the worker "
                           f"processes; name a file: sqlite:///sweeps.sqlite")
    if u.get_backend_name() == "sqlite" and not os.path.isabs(u.database):
        return u.set(database=str(Path(u.database).expanduser().resolve())).render_as_string(hide_password=False)
    return str(url)


def _engine_kwargs(u):
    if u.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 120}}
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}


def _connect_error(url, e):
    text = " ".join(str(getattr(e, "orig", None) or e).split())
    if isinstance(e, ModuleNotFoundError) or "is not installed" in text or "No module named" in text:
        return StorageError(f"--storage {shown(url)}: the database driver is not installed; install it with "
                            f"pip install \"layerwise[cluster]\" ({short(text, 120)})")
    return StorageError(f"--storage {shown(url)}: cannot connect to the database ({short(text, 200)})")


class StudyLock:
    """The study-wide lock of one storage: ``with lock.held(study_name): ...``."""

    def __init__(self, url):
        self.url = str(url)
        self.u = parse_url(url)
        self.backend = self.u.get_backend_name()
        self._engine = None
        self._conn = None
        if self.backend == "sqlite":
            Path(self.u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        else:
            try:
                from sqlalchemy import create_engine, text
                self._engine = create_engine(self.u, poolclass=_null_pool(), **_engine_kwargs(self.u))
                self._conn = self._engine.connect()
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
            except Exception as e:  # noqa: BLE001 - any driver's failure to connect is the same message
                raise _connect_error(url, e) from None

    @contextlib.contextmanager
    def held(self, name):
        if self.backend == "sqlite":
            import fcntl
            path = Path(str(Path(self.u.database).expanduser()) + ".lock")
            with open(path, "a+") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)
            return
        from sqlalchemy import text
        if self.backend == "postgresql":
            key = int.from_bytes(hashlib.sha1(f"layerwise:{name}".encode()).digest()[:8], "big", signed=True)
            self._conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            self._conn.commit()
            try:
                yield
            finally:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                self._conn.commit()
        else:
            key = f"layerwise:{name}"[:64]
            self._conn.execute(text("SELECT GET_LOCK(:k, -1)"), {"k": key})
            try:
                yield
            finally:
                self._conn.execute(text("SELECT RELEASE_LOCK(:k)"), {"k": key})

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._engine.dispose()
            self._conn = self._engine = None


def _null_pool():
    from sqlalchemy.pool import NullPool
    return NullPool


def retry_callback():
    """Optuna's callback that enqueues a failed trial's values again (renamed in Optuna 4.9)."""
    import warnings
    import optuna.storages as st
    cls = getattr(st, "RetryHeartbeatStaleTrialCallback", None) or st.RetryFailedTrialCallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(max_retry=MAX_RETRY)


def open_storage(url, lock):
    """Optuna's RDBStorage for ``url``, its tables created under the lock. A remote storage has heartbeats: a
    trial whose process stopped beating (killed, machine gone) is failed and its values retried."""
    import optuna
    from optuna.storages import RDBStorage
    u = parse_url(url)
    kw = {}
    if u.get_backend_name() != "sqlite":
        kw = {"heartbeat_interval": HEARTBEAT_S, "grace_period": GRACE_S,
              "failed_trial_callback": retry_callback()}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with lock.held("tables"):
        try:
            return RDBStorage(str(url), engine_kwargs=_engine_kwargs(u), **kw)
        except Exception as e:  # noqa: BLE001
            raise _connect_error(url, e) from None


# -- this machine's processes ------------------------------------------------------------------------------------
HOST = socket.gethostname()


def start_time(pid):
    """The process's start time (clock ticks since boot, from /proc), so a reused pid is not taken for it."""
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid, started=None):
    """Whether the process ``pid`` (started at ``started``, when known) still runs on this machine."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, ValueError, TypeError):
        return True
    if started is not None:
        now = start_time(pid)
        return now is None or now == started
    return True


def owner_attrs():
    """What a claimed trial records about the process running it."""
    return {"host": HOST, "pid": os.getpid(), "pid_started": start_time(os.getpid())}


def is_orphan(frozen_trial):
    """A RUNNING trial whose process on this machine is gone (killed with kill -9, crashed)."""
    a = frozen_trial.user_attrs
    if a.get("host") != HOST or a.get("pid") is None:
        return False
    return not alive(a["pid"], a.get("pid_started"))
