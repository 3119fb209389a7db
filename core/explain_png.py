"""Pictures of an Explanation without Qt or matplotlib: numpy arrays composed into panels and a PNG writer of our
own (zlib + the PNG chunk format).

    rgb = render(explanation)     # (H, W, 3) uint8
    write_png(rgb, "why.png")

Image inputs: the input (grey), the saliency map (|gradient|, heat colours) and, with Grad-CAM, the map laid over
the input. Sequences: the input as a strip (one row per feature), the saliency strip and the per-step attribution
(blue negative, red positive). Flat inputs with a square number of values are drawn as images."""
from __future__ import annotations

import math
import struct
import zlib

import numpy as np

PANEL = 192      # pixels: the height of an image panel
CELL = 14        # pixels per step of a sequence strip
GAP = 8
BG = 255

_HEAT = np.array([[0, 0, 0], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], dtype="float32")


def heat(v):
    """Values in [0, 1] -> RGB (black, purple, red, orange, pale yellow)."""
    v = np.clip(np.nan_to_num(np.asarray(v, dtype="float32")), 0, 1) * (len(_HEAT) - 1)
    i = np.minimum(v.astype(int), len(_HEAT) - 2)
    t = (v - i)[..., None]
    return (_HEAT[i] * (1 - t) + _HEAT[i + 1] * t).astype("uint8")


def diverging(v):
    """Values in [-1, 1] -> blue (negative), white (0), red (positive)."""
    v = np.clip(np.nan_to_num(np.asarray(v, dtype="float32")), -1, 1)[..., None]
    white = np.array([255, 255, 255], "float32")
    pos, neg = np.array([200, 30, 30], "float32"), np.array([30, 70, 200], "float32")
    out = np.where(v >= 0, white + (pos - white) * v, white + (neg - white) * (-v))
    return out.astype("uint8")


def unit(a):
    a = np.nan_to_num(np.asarray(a, dtype="float32"))
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def grey(a):
    g = (unit(a) * 255).astype("uint8")
    return np.repeat(g[..., None], 3, axis=-1)


def scale(rgb, h=PANEL):
    """Nearest-neighbour enlargement to height ``h`` (whole pixels per value where possible)."""
    k = max(1, h // rgb.shape[0])
    return np.repeat(np.repeat(rgb, k, axis=0), k, axis=1)


def hstack(panels):
    h = max(p.shape[0] for p in panels)
    gap = np.full((h, GAP, 3), BG, "uint8")
    parts = []
    for p in panels:
        if p.shape[0] < h:
            p = np.concatenate([p, np.full((h - p.shape[0], p.shape[1], 3), BG, "uint8")])
        parts += [p, gap]
    return np.concatenate(parts[:-1], axis=1)


def vstack(rows):
    w = max(r.shape[1] for r in rows)
    out = []
    for r in rows:
        if r.shape[1] < w:
            r = np.concatenate([r, np.full((r.shape[0], w - r.shape[1], 3), BG, "uint8")], axis=1)
        out += [r, np.full((GAP, w, 3), BG, "uint8")]
    return np.concatenate(out[:-1])


def _as_image(ex):
    """(input (H, W, C), saliency (H, W), cam or None) for image-like explanations."""
    x, sal = ex.x, ex.saliency_map()
    cam = ex.cam
    if ex.kind == "vector":
        side = int(math.isqrt(x.size))
        x = x.reshape(side, side, 1)
        sal = sal.reshape(side, side)
        cam = cam.reshape(side, side) if cam is not None and cam.size == side * side else None
    return x, sal, cam


def _image_panels(ex):
    x, sal, cam = _as_image(ex)
    base = grey(x.mean(axis=-1)) if x.shape[-1] != 3 else (unit(x) * 255).astype("uint8")
    panels = [scale(base), scale(heat(unit(sal)))]
    if cam is not None:
        over = (0.45 * base + 0.55 * heat(cam)).astype("uint8")
        panels.append(scale(over))
    return hstack(panels)


def _strip(values, colours, rows=1):
    v = np.asarray(values, "float32").reshape(rows, -1)
    rgb = colours(v)
    return np.repeat(np.repeat(rgb, CELL, axis=0), CELL, axis=1)


def _sequence_rows(ex):
    x = ex.x if ex.kind == "sequence" else ex.x.reshape(-1, 1)
    rows = [_strip(unit(x.T), heat, rows=x.shape[1])]
    rows.append(_strip(unit(ex.saliency_map()), heat))
    attr = ex.attribution if ex.attribution is not None else ex.saliency_map()
    top = float(np.max(np.abs(attr))) or 1.0
    rows.append(_strip(np.asarray(attr) / top, diverging))
    if ex.cam is not None and ex.cam.ndim == 1:
        rows.append(_strip(ex.cam, heat))
    return vstack(rows)


def render(ex):
    """The explanation as an RGB picture (uint8, (H, W, 3)) with a white margin."""
    square = ex.kind == "vector" and math.isqrt(ex.x.size) ** 2 == ex.x.size and ex.x.size >= 16
    body = _image_panels(ex) if ex.kind == "image" or square else _sequence_rows(ex)
    m = GAP * 2
    out = np.full((body.shape[0] + 2 * m, body.shape[1] + 2 * m, 3), BG, "uint8")
    out[m:m + body.shape[0], m:m + body.shape[1]] = body
    return out


def png_bytes(rgb):
    """An RGB uint8 array as the bytes of a PNG file (8-bit truecolour, no interlace)."""
    rgb = np.ascontiguousarray(rgb, dtype="uint8")
    h, w = rgb.shape[:2]
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def write_png(rgb, path):
    """Write the picture to ``path`` (whole or not at all)."""
    from .atomic import atomic_write
    atomic_write(path, png_bytes(rgb))
    return path


__all__ = ["render", "png_bytes", "write_png", "heat", "diverging"]
