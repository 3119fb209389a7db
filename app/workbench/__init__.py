"""The training workbench: data, training settings and controls, live plots, feature maps and results,
added to the main window as dock panels plus a Train menu.

``install(window)`` uses only the window API written down in ``app.contracts.WorkbenchHost``: ``project``,
``project_changed``, ``inference_updated``, ``selection_changed``, ``keras_ready`` / ``is_keras_ready()``,
``last_inference()``, ``add_panel``, ``set_editing_locked``, ``mark_dirty``, ``push_edit``, ``select_node``,
``show_error``, plus the QMainWindow's menu bar, status bar and dock arrangement.

Modules: ``workbench`` (the controller: panels ↔ window, the project's data), ``runner`` (the run state machine and
the training worker), ``analysis`` (evaluation and feature maps after or during a run), ``docks`` (dock panels and
the Train menu), ``gc_tuning`` (process-wide GC/GIL tweaks during runs), ``settings_edits`` (the panels' edits of
the project's settings), and the panels: ``data_panel``, ``train_panel``, ``plots``, ``features``, ``results``.
Background work goes through ``app.tasks``.
"""
from __future__ import annotations


def install(window):
    """Add the workbench to ``window``; returns the Workbench (also kept as ``window.workbench``)."""
    from .workbench import Workbench
    wb = Workbench(window)
    window.workbench = wb
    return wb
