"""Where the workbench shows itself in the window: its dock panels and the Train menu."""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QScrollArea

log = logging.getLogger(__name__)


def scrolling(widget):
    """``widget`` in a vertically scrolling area as wide as the widget needs."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    area.setWidget(widget)
    area.setObjectName(widget.objectName() + "_scroll")
    # as wide as the panel needs (it scrolls vertically only)
    area.setMinimumWidth(widget.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width() + 2)
    return area


class Docks:
    """The workbench's panels docked in the window (``by_key``: "training", "data", "plots", "features",
    "results" → its QDockWidget)."""

    def __init__(self, window, train_panel, data_panel, plots, features, results):
        self.window = window
        right = Qt.RightDockWidgetArea
        bottom = Qt.BottomDockWidgetArea
        d = self.by_key = {}
        # the side panels scroll instead of imposing their full height on the dock area (so the plots below can
        # take room while a run goes on)
        d["training"] = window.add_panel(scrolling(train_panel), "Training", right)
        d["data"] = window.add_panel(scrolling(data_panel), "Data", right)
        d["plots"] = window.add_panel(plots, "Training plots", bottom)
        d["features"] = window.add_panel(features, "Feature maps", bottom)
        d["results"] = window.add_panel(results, "Results", bottom)
        # feature maps (tabbed with the results) go beside the plots, not behind them: both are worth watching
        # at once
        try:
            window.addDockWidget(bottom, d["features"], Qt.Horizontal)
            window.tabifyDockWidget(d["features"], d["results"])
            d["features"].show()
            d["results"].show()
            d["features"].raise_()
        except Exception:
            log.debug("dock arrangement failed", exc_info=True)
        self._sized = False

    def show_for_run(self):
        """Bring the training, plot and feature-map panels to the front (and give the plots room, once)."""
        d = self.by_key
        for key in ("training", "plots", "features"):
            dock = d[key]
            if not dock.isVisible():
                dock.show()
            dock.raise_()
        plots = d["plots"]
        w = self.window
        if not self._sized and not plots.isFloating():
            # the canvas is locked while training runs: give the plots room (once per session; the user's own
            # sizing wins afterwards)
            self._sized = True
            want = int(w.height() * 0.45)
            if plots.height() < want:
                w.resizeDocks([plots], [want], Qt.Vertical)


class TrainMenu(QObject):
    """Train → Start / Stop / Continue (F5, Shift+F5, Ctrl+F5), in the window's Train menu (made when missing)."""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.start_action = QAction("&Start training", self)
        self.start_action.setShortcut(QKeySequence("F5"))
        self.start_action.setStatusTip("Train the network from fresh weights")
        self.stop_action = QAction("S&top training", self)
        self.stop_action.setShortcut(QKeySequence("Shift+F5"))
        self.stop_action.setStatusTip("Stop after the current batch; the weights learned so far are kept")
        self.continue_action = QAction("&Continue training", self)
        self.continue_action.setShortcut(QKeySequence("Ctrl+F5"))
        self.continue_action.setStatusTip("Train further from the current weights")
        bar = window.menuBar()
        menu = None
        for act in bar.actions():
            m = act.menu()
            if m is not None and act.text().replace("&", "").strip().lower() == "train":
                menu = m
                break
        if menu is None:
            menu = bar.addMenu("&Train")
        else:
            menu.addSeparator()
        self.menu = menu
        for a in (self.start_action, self.stop_action, self.continue_action):
            menu.addAction(a)

    def sync(self, running, can_continue):
        self.start_action.setEnabled(not running)
        self.stop_action.setEnabled(running)
        self.continue_action.setEnabled(not running and can_continue)
