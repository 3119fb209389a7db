"""Experiments in the window: every training recorded as a run (``recording``, called by the workbench's runner)
and the Runs panel (``panel``: the table and buttons; ``table``: its model; ``controller``: reading the runs
database and acting; ``marks``: the structural diff on the canvas and the curves overlaid in the plots;
``restore``: a run's graph and settings put back as one undo step).

``install(window)`` docks the Runs panel beside the workbench's plots; it uses the window API of
``app.contracts.WorkbenchHost`` plus the canvas scene (``window.scene``) and the workbench (``window.workbench``).
"""
from __future__ import annotations


def install(window):
    """Add the Runs panel to ``window``; returns its controller (also ``window.runs``)."""
    from PySide6.QtCore import Qt

    from .controller import RunsController
    from .panel import RunsPanel
    wb = window.workbench
    panel = RunsPanel()
    ctl = RunsController(window, panel, wb.plots)
    dock = window.add_panel(panel, "Runs", Qt.DockWidgetArea.BottomDockWidgetArea)
    try:
        window.tabifyDockWidget(wb.docks.by_key["results"], dock)
        wb.docks.by_key["plots"].raise_()
    except (KeyError, RuntimeError):
        pass
    ctl.dock = dock
    ctl.plots_dock = wb.docks.by_key.get("plots")
    window.refresh_dock_titles()
    dock.visibilityChanged.connect(lambda visible: ctl.refresh() if visible else None)
    wb.run_finished.connect(lambda _result: ctl.refresh())
    window.runs = ctl
    ctl.refresh()
    from . import sweep_panel
    sweeps = sweep_panel.install(window)   # the Sweep panel, tabbed with the Runs panel
    try:
        window.tabifyDockWidget(dock, sweeps.dock)
        wb.docks.by_key["plots"].raise_()
    except (KeyError, RuntimeError):
        pass
    return ctl
