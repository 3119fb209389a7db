"""Keras' download cache, shared by the Keras datasets (core.datasets.keras_cache) and the ImageNet weights of
pretrained bases (core.bases).

Keras keeps what it downloads under ``$KERAS_HOME`` (else ``~/.keras``, or ``/tmp/.keras`` when the home folder
cannot be written): datasets in ``datasets/``, weights in ``models/``. Layerwise looks there first, so a machine
that has run Keras online before, or a file copied into the cache, works offline. A download starts only when
Keras' download host answers within a few seconds (:func:`online`, which cannot hang on a stuck name lookup) and
runs with a socket timeout, so a stalled transfer ends; the callers turn "not cached and offline" into one clear
message saying where the file was expected.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

DOWNLOAD_HOST = ("storage.googleapis.com", 443)     # where keras.datasets and keras.applications download from


def keras_home() -> Path:
    """The folder Keras downloads into, worked out as Keras does it: $KERAS_HOME, else ~/.keras (/tmp/.keras when
    the home folder cannot be written)."""
    home = os.environ.get("KERAS_HOME")
    if home:
        return Path(home).expanduser()
    base = Path("~").expanduser()
    return (base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras"


def cache_dirs() -> list:
    """Where Keras keeps downloaded files, first the folder new downloads go to (:func:`keras_home`), then the
    other places a cached file may lie: ~/.keras and the temporary folder's .keras."""
    dirs = [keras_home(), Path("~").expanduser() / ".keras", Path("/tmp/.keras"),
            Path(tempfile.gettempdir()) / ".keras"]
    out = []
    for d in dirs:
        if d not in out:
            out.append(d)
    return out


def online(host=DOWNLOAD_HOST[0], port=DOWNLOAD_HOST[1], timeout=3.0) -> bool:
    """Whether the host answers within ``timeout`` seconds (name lookup included: run in a thread, so a stuck
    resolver cannot hang the caller)."""
    result = []

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return bool(result and result[0])


def switched_off() -> bool:
    """Whether downloads are switched off for this process (the LAYERWISE_OFFLINE environment variable)."""
    return bool(os.environ.get("LAYERWISE_OFFLINE"))


@contextlib.contextmanager
def socket_timeout(seconds):
    """Every socket opened inside the block times out after ``seconds`` (so a stalled download ends)."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def fetch_into_cache(url, name, subdir, timeout=30.0) -> Path:
    """Download ``url`` into Keras' cache as ``subdir/name`` through keras.utils.get_file (into a temporary folder
    first, so an interrupted download never leaves a partial file in the cache). Returns the cached file."""
    import keras
    target = cache_dirs()[0] / subdir
    target.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="layerwise-download-")
    try:
        with socket_timeout(timeout):
            got = keras.utils.get_file(name, url, cache_dir=tmp, cache_subdir="")
        final = target / name
        shutil.move(got, final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["DOWNLOAD_HOST", "keras_home", "cache_dirs", "online", "switched_off", "socket_timeout",
           "fetch_into_cache"]
