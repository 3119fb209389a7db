"""Targets from raw values (CSV columns, NPZ arrays): which task each is, and class labels 0..K-1."""
from __future__ import annotations

import numpy as np

from ..errors import DataError

TASK_WORDS = ("classification", "multiclass", "binary", "regression")
MAX_AUTO_CLASSES = 20      # an integer-valued numeric target with at most this many values is taken as classes


def task_hint(spec, target, i):
    """The data setting 'task' for target ``target`` (the ``i``-th): one word, a mapping by name or a list."""
    t = spec.get("task")
    if isinstance(t, dict):
        t = t.get(target)
    elif isinstance(t, (list, tuple)):
        t = t[i] if i < len(t) else None
    if t is not None and t not in TASK_WORDS:
        raise DataError(f"data setting 'task' is {t!r}; expected one of {', '.join(TASK_WORDS)}")
    return t


def encode_target(values, where, hint, numeric=None):
    """(y, task, class_names) for one target. ``values`` is a 1-D numpy array (numbers or strings).

    Strings → classes (sorted). Numbers → regression, unless ``hint`` says classification or the values are
    whole numbers with at most MAX_AUTO_CLASSES distinct values. Classes are mapped to 0..K-1 in sorted order
    and ``class_names[k]`` is the original value as text."""
    values = np.asarray(values)
    if numeric is None:
        numeric = values.dtype.kind in "biuf"
    if hint == "regression":
        if not numeric:
            raise DataError(f"{where} holds text, so it cannot be a regression target")
        return values.astype(np.float32), "regression", None
    if numeric and hint is None:
        v = values.astype(np.float64)
        whole = np.all(np.isfinite(v)) and np.all(v == np.round(v))
        if values.dtype.kind == "b":
            whole = True
        if not whole or len(np.unique(v)) > MAX_AUTO_CLASSES:
            return values.astype(np.float32), "regression", None
    if numeric:
        if values.dtype.kind == "b":
            uniq = [False, True] if len(np.unique(values)) == 2 else list(np.unique(values))
            names = [str(bool(u)) for u in uniq]
            y = np.searchsorted(np.asarray(uniq), values).astype(np.int32)
        else:
            v = values.astype(np.float64)
            uniq = np.unique(v)
            names = [str(int(u)) if u == int(u) else repr(float(u)) for u in uniq]
            y = np.searchsorted(uniq, v).astype(np.int32)
    else:
        strs = np.asarray([str(a) for a in values])
        uniq = np.unique(strs)
        names = [str(u) for u in uniq]
        y = np.searchsorted(uniq, strs).astype(np.int32)
    if len(names) < 2:
        raise DataError(f"{where} has a single value ({names[0]!r} in every row): a classifier needs at least two classes")
    if hint == "binary" and len(names) != 2:
        raise DataError(f"{where} has {len(names)} classes, not 2, but the data setting 'task' says binary")
    return y, ("binary" if len(names) == 2 else "multiclass"), names
