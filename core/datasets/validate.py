"""Checks shared by the sources: whole-number settings, file paths, finite values that fit float32."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError


# -- settings --------------------------------------------------------------------------------------------------
def int_setting(spec, key, default, lo, hi, what=""):
    """The whole-number data setting ``key`` (``default`` when absent), between ``lo`` and ``hi``."""
    v = spec.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v:
        raise DataError(f"data setting '{key}' must be a whole number, got {v!r}")
    v = int(v)
    if not lo <= v <= hi:
        raise DataError(f"data setting '{key}' is {v}; it must be between {lo} and {hi}{what}")
    return v


def resolve_path(spec, base_dir, what):
    """The existing file or folder the data setting 'path' names (relative to ``base_dir``, the project's folder)."""
    p = spec.get("path")
    if not p or not isinstance(p, (str, Path)):
        raise DataError(f"data setting 'path' is missing: which {what} to read")
    path = Path(p).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise DataError(f"{path}: no such {'folder' if what == 'image folder' else 'file'}")
    return path


# -- values: finite and within float32 -------------------------------------------------------------------------------
F32_MAX = float(np.finfo(np.float32).max)
_CHECK_BLOCK = 1 << 22          # values looked at in one go (keeps the temporary masks small on big arrays)


def _bad_values(a, f32=True):
    """(first bad index tuple, samples with a bad value) for NaN/inf values of a float array, and values too large
    for float32 when ``f32`` (the array is trained as float32); None when every value is fine. Checked in blocks of
    samples over the whole array."""
    if a.dtype.kind != "f" or a.size == 0 or a.ndim == 0:
        return None
    wide = f32 and a.dtype.itemsize > 4
    per = max(1, a.size // max(1, len(a)))
    step = max(1, _CHECK_BLOCK // per)
    first, samples = None, 0
    for s in range(0, len(a), step):
        block = a[s:s + step]
        bad = ~np.isfinite(block)
        if wide:
            with np.errstate(invalid="ignore"):
                bad |= np.abs(block) > F32_MAX
        if not bad.any():
            continue
        samples += int(bad.reshape(len(block), -1).any(axis=1).sum())
        if first is None:
            at = [int(i) for i in np.argwhere(bad)[0]]
            at[0] += s
            first = tuple(at)
    return None if first is None else (first, samples)


def check_values(a, where, f32=True):
    """Raise DataError when the numeric array ``a`` (samples on the first axis) holds NaN or infinite values, or
    values a float32 cannot hold. ``where`` names it, e.g. "nan.npz: array 'features'". The whole array is
    checked (before any split), and the message names the first offending sample, its index and value."""
    found = _bad_values(np.asarray(a), f32)
    if found is None:
        return
    at, samples = found
    v = a[at]
    index = f" (index [{', '.join(str(i) for i in at)}])" if len(at) > 1 else ""
    kinds = "NaN, infinite or too large values" if np.isfinite(v) else "NaN or infinite values"
    more = f"; {samples} samples in all hold {kinds}" if samples > 1 else ""
    if np.isfinite(v):
        raise DataError(f"{where} has the value {float(v):g} at sample {at[0]}{index}{more}: too large for the 32-bit "
                        f"floats Layerwise trains with (at most about 3.4e38); scale the values or drop those samples")
    what = "a NaN" if np.isnan(v) else f"an infinite value ({float(v)})"
    raise DataError(f"{where} has {what} at sample {at[0]}{index}{more}; Layerwise needs finite numbers: fix or "
                    f"drop those samples")
