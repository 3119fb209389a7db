"""What went wrong, in one line: TensorFlow's errors made readable, and every failure inside training mapped to a
``TrainingError`` of a kind ("nan" | "oom" | "data" | "error")."""
from __future__ import annotations

import re

from ..errors import DataError, TrainingError

_TF_NOISE = ("Graph execution error", "Detected at node", "<stack traces unavailable>", "[[", "File \"",
             "Stack trace", "Node:", "Op:", "(most recent call last)")


def plain_message(exc):
    """One informative line of an exception (TensorFlow's op errors carry their message after a stack header)."""
    text = getattr(exc, "message", None) or str(exc)
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(_TF_NOISE)]
    line = (useful or lines or [type(exc).__name__])[0]
    line = re.sub(r"\s*\[\[.*$", "", line)
    return line[:300]


def training_error(exc, tf):
    """The ``TrainingError`` that reports ``exc`` (raised inside fit or the test evaluation)."""
    if isinstance(exc, TrainingError):
        return exc
    from .neutral import data_errors, is_oom
    if is_oom(exc, tf):
        return TrainingError("out of memory while training: use a smaller batch size or a smaller network "
                             f"({plain_message(exc)})", kind="oom")
    if isinstance(exc, MemoryError):
        return TrainingError("out of memory while training: use a smaller batch size or a smaller network",
                             kind="oom")
    if isinstance(exc, (DataError, StopIteration) + data_errors(tf)):
        return TrainingError(f"a data error stopped training: {plain_message(exc)}", kind="data")
    return TrainingError(f"training failed: {type(exc).__name__}: {plain_message(exc)}", kind="error")
