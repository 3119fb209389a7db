"""Numpy only: turn activations, inputs and labels into arrays that the views show.

Kept free of Qt so it is easy to test and cheap to call from any thread.
"""
from __future__ import annotations

import math

import numpy as np


def normalise(a, per_channel_axis=None):
    """Scale to 0..1 (per channel along ``per_channel_axis`` if given). Constant maps become 0.5."""
    a = np.asarray(a, dtype=np.float32)
    if per_channel_axis is None:
        lo, hi = _finite_range(a)
        return _scale(a, lo, hi)
    moved = np.moveaxis(a, per_channel_axis, 0)
    out = np.empty_like(moved)
    for i in range(moved.shape[0]):
        lo, hi = _finite_range(moved[i])
        out[i] = _scale(moved[i], lo, hi)
    return np.moveaxis(out, 0, per_channel_axis)


def _finite_range(a):
    f = a[np.isfinite(a)]
    if f.size == 0:
        return 0.0, 0.0
    return float(f.min()), float(f.max())


def _scale(a, lo, hi):
    if hi - lo <= 1e-12:
        return np.where(np.isfinite(a), 0.5, np.nan).astype(np.float32)
    return ((a - lo) / (hi - lo)).astype(np.float32)


def grid_shape(n, aspect=1.0):
    """Columns and rows for ``n`` tiles, roughly square (``aspect`` = tile height / width)."""
    if n <= 0:
        return 0, 0
    cols = max(1, int(math.ceil(math.sqrt(n * aspect))))
    rows = int(math.ceil(n / cols))
    return cols, rows


def tile(tiles, cols=None, gap=1, fill=np.nan):
    """Stack 2-D tiles (n, h, w) into one image (rows*h + gaps, cols*w + gaps); gaps hold ``fill``."""
    tiles = np.asarray(tiles, dtype=np.float32)
    n, h, w = tiles.shape
    if cols is None:
        cols, rows = grid_shape(n, h / max(w, 1))
    else:
        rows = int(math.ceil(n / cols))
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap), fill, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = tiles[i]
    return out


MAX_CHANNELS = 256


def feature_view(a, kind_hint=None):
    """What to draw for one sample's activation ``a`` (no batch axis).

    Returns (kind, data, text):
      "grid"    data = tiled image (channels of a conv map, each scaled to 0..1, NaN gaps)
      "heatmap" data = 2-D array (time × units, or an attention matrix grid)
      "bars"    data = 1-D array
      "value"   data = scalar array
    """
    a = np.asarray(a)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float32)
    if a.ndim == 0 or a.size == 1:
        return "bars", a.reshape(-1).astype(np.float32), "1 value"
    if a.ndim == 1:
        return "bars", a.astype(np.float32), f"{a.shape[0]} units"
    if a.ndim == 2:
        return "heatmap", a.astype(np.float32), f"{a.shape[0]} steps × {a.shape[1]} units"
    if a.ndim == 3:
        h, w, c = a.shape
        shown = min(c, MAX_CHANNELS)
        chans = np.moveaxis(a[..., :shown], -1, 0)
        img = tile(normalise(chans, per_channel_axis=0))
        more = f" (first {shown} shown)" if shown < c else ""
        return "grid", img, f"{c} channels of {h}×{w}{more}"
    # 4-D and more (Conv3D): the middle slice along the first spatial axis
    mid = a.shape[0] // 2
    kind, data, text = feature_view(a[mid])
    return kind, data, f"{text}, slice {mid + 1} of {a.shape[0]}"


def attention_view(scores):
    """One sample's attention scores (heads, Tq, Tk) → one tiled image (heads side by side) and a caption."""
    s = np.asarray(scores, dtype=np.float32)
    if s.ndim == 2:
        s = s[None]
    while s.ndim > 3:  # attention over more than one axis: keep the first of the extra axes
        s = s[:, 0]
    heads = s.shape[0]
    cols = min(heads, 4)
    img = tile(normalise(s, per_channel_axis=0), cols=cols, gap=1)
    return img, f"{heads} head{'s' if heads != 1 else ''}, {s.shape[1]} queries × {s.shape[2]} keys"


def input_view(x):
    """A sample's input for display: ("image", HxW or HxWx3 array in 0..1) / ("heatmap", 2-D) / ("bars", 1-D)."""
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        x = x.astype(np.float32)
    if x.ndim == 3 and x.shape[-1] in (1, 3, 4):
        img = normalise(x[..., :3] if x.shape[-1] != 1 else x[..., 0])
        return "image", img
    if x.ndim == 3:
        return "image", normalise(x.mean(axis=-1))
    if x.ndim == 2:
        return "heatmap", normalise(x)
    return "bars", x.reshape(-1).astype(np.float32)


def is_image_shape(shape):
    shape = tuple(shape)
    return len(shape) == 3 and shape[-1] in (1, 3, 4) and shape[0] >= 4 and shape[1] >= 4


def to_rgb8(x):
    """An image sample (H, W[, C]) of any range → uint8 (H, W, 3), for thumbnails."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 3 and x.shape[-1] == 4:
        x = x[..., :3]
    x = normalise(x)
    x = np.nan_to_num(x, nan=0.0)
    u = (x * 255).round().astype(np.uint8)
    if u.ndim == 2:
        u = np.repeat(u[..., None], 3, axis=-1)
    return np.ascontiguousarray(u)


class Ema:
    """Exponential moving average with bias correction (as in TensorBoard's smoothing)."""

    def __init__(self, alpha=0.9):
        self.alpha = alpha
        self.value = 0.0
        self.weight = 0.0

    def reset(self):
        self.value = 0.0
        self.weight = 0.0

    def add(self, y):
        if not math.isfinite(y):
            return float("nan")
        self.value = self.alpha * self.value + (1 - self.alpha) * y
        self.weight = self.alpha * self.weight + (1 - self.alpha)
        return self.value / self.weight


def fmt_eta(seconds):
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_rate(x):
    if x is None or not math.isfinite(x):
        return "–"
    if x >= 10000:
        return f"{x / 1000:,.0f}k"
    return f"{x:,.0f}"


def fmt_metric(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(v):
        return str(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4f}"
