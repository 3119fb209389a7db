"""Light and dark themes (following the system unless the user picks one), and the category colours.

Colours are tokens; ``resources/style/app.qss`` is a template that uses them as ``@name``. Widgets that
paint themselves (the canvas) read ``theme.current()`` and listen to ``theme.manager().changed``.
"""
from __future__ import annotations

import re

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from .paths import ICONS, STYLE

# after app.qss: a disabled check box or label reads as disabled (faint text), a checked box keeps its tick visible
EXTRA_QSS = """
QCheckBox:disabled, QLabel:disabled { color: @faint; }
QCheckBox::indicator:checked:disabled { background: @faint; border-color: @faint; image: url(@icondir/check-white.svg); }
"""

LIGHT = {
    "name": "light",
    "window": "#f3f4f6", "panel": "#ffffff", "panel_alt": "#f7f8fa", "border": "#dfe2e7",
    "text": "#1d2129", "muted": "#69707d", "faint": "#9aa1ad",
    "accent": "#2f6fed", "accent_text": "#ffffff", "accent_soft": "#dfe9fd",
    "hover": "#eef1f5", "input": "#ffffff", "input_border": "#cfd4dc",
    "canvas": "#eef0f3", "grid": "#e3e6eb", "grid_major": "#d6dae1",
    "card": "#ffffff", "card_border": "#d3d8e0", "card_shadow": "#1a000000",
    "edge": "#8d96a6", "edge_selected": "#2f6fed",
    "port": "#ffffff", "port_border": "#7d8696",
    "error": "#d93d42", "error_soft": "#fde7e7", "ok": "#1f9d55", "warn": "#b7791f",
    "shape": "#2456c5", "scroll": "#c5cad3",
}
DARK = {
    "name": "dark",
    "window": "#1c1d21", "panel": "#24262b", "panel_alt": "#2a2c32", "border": "#34373e",
    "text": "#e6e8ec", "muted": "#a0a6b1", "faint": "#737a86",
    "accent": "#4d8dff", "accent_text": "#ffffff", "accent_soft": "#263a5e",
    "hover": "#30333a", "input": "#1d1f23", "input_border": "#40444c",
    "canvas": "#18191c", "grid": "#212328", "grid_major": "#2a2d33",
    "card": "#2a2d33", "card_border": "#3d414a", "card_shadow": "#66000000",
    "edge": "#727b8a", "edge_selected": "#5b9bff",
    "port": "#2a2d33", "port_border": "#9aa1ad",
    "error": "#ff5f66", "error_soft": "#4a2326", "ok": "#3ecf7a", "warn": "#e3a53b",
    "shape": "#8cb4ff", "scroll": "#4a4e57",
}

# one colour per catalog category (the palette chips and the node accent strip)
CATEGORY_COLORS = {
    "Input / Output": "#3b82f6",
    "Core": "#8b5cf6",
    "Regularization": "#f59e0b",
    "Reshaping": "#64748b",
    "Convolution": "#10b981",
    "Pooling": "#14b8a6",
    "Normalization": "#eab308",
    "Embedding": "#ec4899",
    "Recurrent": "#f97316",
    "Attention": "#d946ef",
    "Merge": "#06b6d4",
    "Preprocessing": "#84cc16",
    "Augmentation": "#22c55e",
    "Other": "#94a3b8",
}
MODES = ("system", "light", "dark")


def category_color(category) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, "#94a3b8"))


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is not None:
        try:
            return app.styleHints().colorScheme() == Qt.ColorScheme.Dark
        except AttributeError:  # Qt < 6.5
            pass
        win = app.palette().color(QPalette.ColorRole.Window)
        return win.lightness() < 128
    return False


class ThemeManager(QObject):
    """Holds the user's choice (system / light / dark) and the resulting tokens; emits ``changed``."""

    changed = Signal(dict)

    def __init__(self):
        super().__init__()
        self.mode = "system"
        self.tokens = LIGHT
        self._qss_template = None
        self._hooked = False

    def set_mode(self, mode):
        if mode not in MODES:
            mode = "system"
        self.mode = mode
        self.apply()

    def resolve(self):
        if self.mode == "dark" or (self.mode == "system" and system_is_dark()):
            return DARK
        return LIGHT

    def apply(self):
        app = QGuiApplication.instance()
        self.tokens = self.resolve()
        if app is None:
            return
        if not self._hooked:
            self._hooked = True
            try:
                app.styleHints().colorSchemeChanged.connect(lambda *_: self.mode == "system" and self.apply())
            except AttributeError:
                pass
        app.setPalette(make_palette(self.tokens))
        if hasattr(app, "setStyleSheet"):
            app.setStyleSheet(self.stylesheet())
        self.changed.emit(self.tokens)

    def stylesheet(self):
        if self._qss_template is None:
            try:
                self._qss_template = (STYLE / "app.qss").read_text(encoding="utf-8")
            except OSError:
                self._qss_template = ""
            self._qss_template += EXTRA_QSS
        t = dict(self.tokens, icondir=ICONS.as_posix())
        return re.sub(r"@([a-z_]+)", lambda m: t.get(m.group(1), m.group(0)), self._qss_template)


_manager = None


def manager() -> ThemeManager:
    global _manager
    if _manager is None:
        _manager = ThemeManager()
    return _manager


def current() -> dict:
    return manager().tokens


def color(name) -> QColor:
    return QColor(current()[name])


def make_palette(t) -> QPalette:
    p = QPalette()
    R = QPalette.ColorRole
    pairs = {R.Window: "window", R.WindowText: "text", R.Base: "input", R.AlternateBase: "panel_alt",
             R.ToolTipBase: "panel", R.ToolTipText: "text", R.Text: "text", R.Button: "panel",
             R.ButtonText: "text", R.BrightText: "error", R.Highlight: "accent", R.HighlightedText: "accent_text",
             R.Link: "accent", R.PlaceholderText: "faint", R.Mid: "border", R.Dark: "border", R.Midlight: "hover",
             R.Light: "panel", R.Shadow: "border"}
    for role, key in pairs.items():
        p.setColor(role, QColor(t[key]))
    for role in (R.Text, R.WindowText, R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(t["faint"]))
    return p
