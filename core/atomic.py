"""Files written whole or not at all: what a save writes goes to a temporary file in the same folder, which
replaces the target only when the write succeeded (``os.replace``, atomic on one file system). When anything
fails the target is left as it was and the temporary file is removed.

    with replacing(path) as tmp:      # tmp: a Path beside ``path``
        write_something(tmp)          # h5py, model.save, open(tmp, "wb")...

A save that was killed halfway leaves its temporary file (``.<name>.XXXXXXXX.tmp``); the next save of the same
file removes those older than a minute.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

STALE_TMP_SECONDS = 60              # a save's temporary file older than this was left by a killed save
_TMP_TAIL = re.compile(r"\.[a-z0-9_]{8}\.tmp")   # what tempfile.mkstemp adds after our prefix


def clean_stale_temporaries(path, age=STALE_TMP_SECONDS):
    """Remove what killed saves of ``path`` left behind: ``.<name>.XXXXXXXX.tmp`` files in its folder older than
    ``age`` seconds (a save in progress is younger). Only that exact pattern, only plain files. Returns them."""
    path = Path(path)
    prefix = f".{path.name}"
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    now = time.time()
    for e in entries:
        if not e.name.startswith(prefix) or not _TMP_TAIL.fullmatch(e.name[len(prefix):]):
            continue
        try:
            if not e.is_file(follow_symlinks=False) or now - e.stat(follow_symlinks=False).st_mtime < age:
                continue
            os.unlink(e.path)
            removed.append(Path(e.path))
        except OSError:
            pass
    return removed


@contextlib.contextmanager
def replacing(path, *, suffix=".tmp"):
    """A temporary path (an empty file) in ``path``'s folder; when the block ends without an exception it replaces
    ``path``, else it is removed. ``suffix``: the temporary file's extension, for writers that pick the format
    by it (Keras' ``model.save``); only ``.tmp`` leftovers are cleaned up by later saves."""
    path = Path(path)
    clean_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=str(path.parent))
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write(path, data: bytes | str):
    """Write ``data`` (text as UTF-8) to ``path`` atomically, flushed to the disk before it replaces the file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with replacing(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
