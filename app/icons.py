"""Icons drawn from the SVGs in ``resources/icons`` (``currentColor`` takes the theme's text colour), and the
category chips of the palette (the category colour with a white glyph)."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from . import theme
from .paths import ICONS

_cache: dict = {}
_svg_text: dict = {}
SIZES = (16, 20, 24, 32, 40, 48)

CATEGORY_GLYPHS = {
    "Input / Output": "cat-io", "Core": "cat-core", "Regularization": "cat-regularization",
    "Reshaping": "cat-reshaping", "Convolution": "cat-convolution", "Pooling": "cat-pooling",
    "Normalization": "cat-normalization", "Embedding": "cat-embedding", "Recurrent": "cat-recurrent",
    "Attention": "cat-attention", "Merge": "cat-merge", "Preprocessing": "cat-preprocessing",
    "Augmentation": "cat-augmentation", "Other": "cat-other",
}


def _renderer(name, color):
    text = _svg_text.get(name)
    if text is None:
        try:
            text = (ICONS / f"{name}.svg").read_text(encoding="utf-8")
        except OSError:
            text = ""
        _svg_text[name] = text
    return QSvgRenderer(QByteArray(text.replace("currentColor", color).encode("utf-8")))


def icon(name, color=None) -> QIcon:
    """A themed icon (rendered at several sizes so it stays sharp at 200% scaling)."""
    color = color or theme.current()["text"]
    key = ("icon", name, color)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    r = _renderer(name, color)
    ic = QIcon()
    if r.isValid():
        for s in SIZES:
            pm = QPixmap(s, s)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            r.render(p, QRectF(0, 0, s, s))
            p.end()
            ic.addPixmap(pm)
    _cache[key] = ic
    return ic


def category_icon(category) -> QIcon:
    """A rounded square in the category's colour with the category's glyph in white."""
    col = theme.CATEGORY_COLORS.get(category, "#94a3b8")
    key = ("cat", category, col)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    r = _renderer(CATEGORY_GLYPHS.get(category, "cat-other"), "#ffffff")
    ic = QIcon()
    for s in SIZES:
        pm = QPixmap(s, s)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(col))
        p.drawRoundedRect(QRectF(0, 0, s, s), s * 0.26, s * 0.26)
        if r.isValid():
            m = s * 0.18
            r.render(p, QRectF(m, m, s - 2 * m, s - 2 * m))
        p.end()
        ic.addPixmap(pm)
    _cache[key] = ic
    return ic


def app_icon() -> QIcon:
    key = ("app",)
    if key not in _cache:
        _cache[key] = QIcon(str(ICONS / "layerwise.svg"))
    return _cache[key]


def clear():
    _cache.clear()
