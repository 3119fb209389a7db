"""Keras' backends: which are installed (TensorFlow always; JAX and PyTorch through the ``[jax]`` / ``[torch]``
extras), their versions, the one a run asks for, and the one this process runs.

Keras fixes its backend once per process (``KERAS_BACKEND``, read when Keras is imported). The window and the
command line keep TensorFlow; a run on another backend trains in a child process started with ``KERAS_BACKEND``
set (``core.training.backend_worker``). Nothing here imports Keras, TensorFlow, JAX or PyTorch: finding out
whether one is installed reads the package metadata only.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import SettingsError, short

BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT_BACKEND = "tensorflow"
BACKENDS_TEXT = "tensorflow, jax or torch"


@dataclass(frozen=True)
class Backend:
    name: str            # "jax": what KERAS_BACKEND takes
    label: str           # "JAX": what a person reads
    module: str          # the package that must import ("jax")
    distribution: str    # its distribution on PyPI ("jax")
    extra: str           # the extra that installs it ("jax"), "" for TensorFlow (always installed)


INFO = {
    "tensorflow": Backend("tensorflow", "TensorFlow", "tensorflow", "tensorflow", ""),
    "jax": Backend("jax", "JAX", "jax", "jax", "jax"),
    "torch": Backend("torch", "PyTorch", "torch", "torch", "torch"),
}


def version_of(name) -> str | None:
    """The installed version of backend ``name``'s package, or None when it is not installed."""
    from importlib import metadata, util
    b = INFO[name]
    if util.find_spec(b.module) is None:
        return None
    try:
        return metadata.version(b.distribution)
    except metadata.PackageNotFoundError:
        return "unknown version"


def installed() -> list[dict]:
    """Every backend: [{"name", "label", "installed", "version", "extra", "reason"}] (reason: why it cannot be
    chosen, with what to install)."""
    out = []
    for name in BACKENDS:
        v = version_of(name)
        out.append({"name": name, "label": INFO[name].label, "installed": v is not None, "version": v,
                    "extra": INFO[name].extra, "reason": "" if v is not None else install_hint(name)})
    return out


def install_hint(name) -> str:
    b = INFO[name]
    return (f"{b.label} is not installed: install the [{b.extra}] extra (pip install \"layerwise[{b.extra}]\", "
            f"or pip install {b.distribution})")


def normalize(name) -> str:
    """The backend name ``name`` asks for ("TensorFlow" -> "tensorflow"; "pytorch" -> "torch"); SettingsError
    for a name that is no backend."""
    text = str(name if name is not None else DEFAULT_BACKEND).strip().lower()
    text = {"tf": "tensorflow", "pytorch": "torch"}.get(text, text)
    if text not in BACKENDS:
        raise SettingsError(f"backend {short(name)}: not a Keras backend; expected {BACKENDS_TEXT}")
    return text


def check(name) -> str:
    """The backend ``name`` normalized; SettingsError when it is unknown or not installed (naming the extra)."""
    text = normalize(name)
    if version_of(text) is None:
        raise SettingsError(f"backend {text}: {install_hint(text)}")
    return text


def current() -> str:
    """The backend this process runs (or will run once Keras is imported)."""
    import sys
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        try:
            return keras.backend.backend()
        except Exception:
            pass
    return os.environ.get("KERAS_BACKEND", DEFAULT_BACKEND).strip().lower() or DEFAULT_BACKEND


def is_tensorflow() -> bool:
    return current() == "tensorflow"


def needs_worker(name) -> bool:
    """Whether a run on backend ``name`` must train in a child process (another backend than this one's)."""
    return normalize(name) != current()


def describe(name=None) -> str:
    """'JAX 0.4.30' (the backend's label and version)."""
    name = normalize(name or current())
    return f"{INFO[name].label} {version_of(name) or '(not installed)'}"

