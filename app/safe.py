"""Values from a project file as the window can show them: any JSON value read as a number, a mapping or a
position, and text cut short enough to lay out. Qt-free.

The loader refuses most bad values; these helpers keep the views calm about whatever still reaches them (an
older loader, a paste, a command, a bug): they return a usable value and say whether the original was one.
"""
from __future__ import annotations

import math

SHOWN_CHARS = 60          # names and captions: at most this many characters are shown
EDIT_CHARS = 1000         # editors (line edits) hold at most this much text
TIP_CHARS = 400           # tooltips and problem messages
POS_LIMIT = 90_000.0      # node positions are kept inside the canvas scene (±100 000)


def clip(text, n=SHOWN_CHARS) -> str:
    """``text`` as a string of at most ``n`` characters (an ellipsis marks a cut)."""
    s = text if isinstance(text, str) else str(text)
    if len(s) <= n:
        return s
    return s[:max(0, n - 1)] + "…"


def number(value, default, lo=None, hi=None, whole=False):
    """(a finite number within [lo, hi], ok): ``default`` for a non-number; out-of-range values are clamped.
    ``ok`` is False when the value had to be replaced or clamped. Booleans are not numbers."""
    ok = True
    v = value
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        v, ok = default, False
    elif isinstance(v, float) and not math.isfinite(v):
        v, ok = default, False
    if v is None:   # no usable value and no default
        return None, False
    if whole and not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        else:
            v, ok = int(round(v)) if isinstance(v, float) else int(default), False
    if lo is not None and v < lo:
        v, ok = lo, False
    if hi is not None and v > hi:
        v, ok = hi, False
    return v, ok


def mapping(value):
    """(value if it is a dict else {}, ok)."""
    if isinstance(value, dict):
        return value, True
    return {}, value is None


def coord(v, default=0.0, limit=POS_LIMIT) -> float:
    """One coordinate the canvas can use: finite, inside ±``limit``; anything else becomes ``default``."""
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return default
    if not math.isfinite(f):
        return default
    return min(max(f, -limit), limit)


def xy(pos, default=(0.0, 0.0), limit=POS_LIMIT):
    """(x, y) for a node position that may be anything (NaN, infinite, huge, not a pair)."""
    try:
        x, y = pos[0], pos[1]
    except (TypeError, IndexError, KeyError):
        return default
    return coord(x, default[0], limit), coord(y, default[1], limit)

