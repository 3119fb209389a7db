"""Seeded, stratified train/validation/test splits, and wrapping split arrays into a :class:`Dataset`."""
from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from .records import Dataset, Split


def split_fractions(spec, default_val=0.15, default_test=0.15):
    """(validation, test) fractions from the data settings, each at least 0 and together less than 1."""
    out = []
    for key, default in (("validation_split", default_val), ("test_split", default_test)):
        v = spec.get(key, default)
        if v is None:
            v = 0.0
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise DataError(f"data setting '{key}' must be a number between 0 and 1, got {v!r}")
        if not 0.0 <= v < 1.0:
            raise DataError(f"data setting '{key}' is {v}; it must be at least 0 and less than 1")
        out.append(float(v))
    if out[0] + out[1] >= 1.0:
        raise DataError(f"data settings 'validation_split' ({out[0]}) and 'test_split' ({out[1]}) add up to "
                        f"{out[0] + out[1]:g}: nothing is left for training (they must add up to less than 1)")
    return out


def split_indices(n, val_frac, test_frac, seed=0, strata=None):
    """Seeded (train, val, test) index arrays. With ``strata`` (integer labels) every class is split in the same
    proportions (each class keeps at least one training sample). Each part is shuffled."""
    rng = np.random.default_rng(seed)
    if strata is None:
        groups = [np.arange(n)]
    else:
        strata = np.asarray(strata)
        groups = [np.flatnonzero(strata == c) for c in np.unique(strata)]
    sizes = [len(g) for g in groups]
    n_tests, n_vals = _allocate(sizes, test_frac), _allocate(sizes, val_frac)
    tr, va, te = [], [], []
    for idx, m, n_test, n_val in zip(groups, sizes, n_tests, n_vals):
        idx = rng.permutation(idx)
        while n_test + n_val >= m and (n_test or n_val):   # keep at least one training sample of each class
            if n_val >= n_test and n_val:
                n_val -= 1
            else:
                n_test -= 1
        te.append(idx[:n_test])
        va.append(idx[n_test:n_test + n_val])
        tr.append(idx[n_test + n_val:])
    parts = [rng.permutation(np.concatenate(p)).astype(np.int64) for p in (tr, va, te)]
    return tuple(parts)


def _allocate(sizes, frac):
    """Per-group counts that add up to round(total * frac), each group getting its share (largest remainders)."""
    total = int(math.floor(sum(sizes) * frac + 0.5))
    base = [int(math.floor(m * frac)) for m in sizes]
    order = sorted(range(len(sizes)), key=lambda i: -(sizes[i] * frac - base[i]))
    for i in order[:max(0, total - sum(base))]:
        base[i] += 1
    return base


def make_splits(xs, ys, spec, tasks, default_val=0.15, default_test=0.15, name="dataset"):
    """Split arrays (all with the same first axis) into train/val/test Splits (stratified on the first
    classification output)."""
    val_frac, test_frac = split_fractions(spec, default_val, default_test)
    n = len(xs[0])
    strata = None
    for y, task in zip(ys, tasks):
        if task != "regression":
            strata = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
            break
    tr, va, te = split_indices(n, val_frac, test_frac, spec.get("seed", 0), strata)
    if len(tr) == 0:
        raise DataError(f"{name}: the split leaves no training samples ({n} samples, validation_split {val_frac}, "
                        f"test_split {test_frac})")

    def take(idx):
        if len(idx) == 0:
            return None
        return Split(x=[a[idx] for a in xs], y=[a[idx] for a in ys], n=int(len(idx)))
    return take(tr), take(va), take(te)


def classes_of(y):
    """(task, num_classes) for integer labels 0..K-1."""
    k = int(y.max()) + 1 if len(y) else 0
    return ("binary" if k == 2 else "multiclass"), k


def make_dataset(name, spec, xs, ys, input_names, output_names, tasks, class_names, desc, input_dtypes=None,
                 default_val=0.15, default_test=0.15, feature_names=None):
    """Split arrays and wrap them in a Dataset (classification outputs hold int labels 0..K-1)."""
    train, val, test = make_splits(xs, ys, spec, tasks, default_val, default_test, name=name)
    return Dataset(name=name, train=train, val=val, test=test,
                   input_shapes=[tuple(a.shape[1:]) for a in xs], output_shapes=[tuple(a.shape[1:]) for a in ys],
                   input_names=list(input_names), output_names=list(output_names), tasks=list(tasks),
                   class_names=[list(c) if c is not None else None for c in class_names],
                   num_classes=[len(c) if c is not None else None for c in class_names], description=desc,
                   input_dtypes=input_dtypes or [("int32" if a.dtype.kind in "iu" else "float32") for a in xs],
                   feature_names=feature_names)
