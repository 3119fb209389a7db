"""The training workbench: data, training settings and controls, live plots, feature maps and results,
added to the main window as dock panels plus a Train menu.

``install(window)`` uses only the main window's public API (see notes/contracts.md): ``project``,
``project_changed``, ``inference_updated``, ``selection_changed``, ``keras_ready`` / ``is_keras_ready()``,
``add_panel``, ``set_editing_locked``, ``mark_dirty``, ``statusBar()``; plus QMainWindow's menu bar and dock
arrangement when the window has them.
"""
from __future__ import annotations


def install(window):
    """Add the workbench to ``window``; returns the Workbench (also kept as ``window.workbench``)."""
    from .workbench import Workbench
    wb = Workbench(window)
    window.workbench = wb
    return wb
