"""Colours for the workbench's plots and labels, following the app's light/dark theme when there is one."""
from __future__ import annotations

LIGHT = {"panel": "#ffffff", "text": "#1d2129", "muted": "#69707d", "faint": "#9aa1ad", "border": "#dfe2e7",
         "accent": "#2f6fed", "error": "#d93d42", "ok": "#1f9d55", "warn": "#b7791f", "panel_alt": "#f7f8fa"}

TRAIN = "#2f6fed"      # training curves
VAL = "#e8710a"        # validation curves
RAW = "#9dbcf5"        # raw batch loss
LR = "#1f9d55"         # learning rate


def tokens() -> dict:
    try:
        from app import theme
        t = theme.current()
        return {k: t.get(k, v) for k, v in LIGHT.items()}
    except Exception:  # the workbench also runs inside a bare test window
        return dict(LIGHT)


def on_change(callback):
    """Call ``callback(tokens)`` whenever the app's theme changes."""
    try:
        from app import theme
        theme.manager().changed.connect(lambda _t: callback(tokens()))
    except Exception:
        pass


def style_plot(plot, t=None, title=None):
    """Colours of a pyqtgraph PlotItem: axes, grid, title."""
    t = t or tokens()
    for ax in ("left", "bottom"):
        a = plot.getAxis(ax)
        a.setTextPen(t["muted"])
        a.setPen(t["border"])
    if title is not None:
        plot.setTitle(title, size="9pt", color=t["text"])
