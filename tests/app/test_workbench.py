"""The training workbench (issue 5), offscreen with pytest-qt.

Uses the real MainWindow when it can be created, else ``FakeWindow``: a minimal QMainWindow with the window API
from notes/contracts.md (kept here, in the tests, on purpose).
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QMainWindow

from tests.conftest import EXAMPLES

from core.project import load_project


class FakeWindow(QMainWindow):
    project_changed = Signal(object)
    inference_updated = Signal(object)
    selection_changed = Signal(list)
    keras_ready = Signal()

    def __init__(self, project):
        super().__init__()
        self.project = project
        self.locked = []
        self.dirty = 0
        self.errors = []
        self._ready = False
        self.resize(1400, 900)

    def add_panel(self, widget, title, area=Qt.RightDockWidgetArea):
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def set_editing_locked(self, locked, reason):
        self.locked.append((locked, reason))

    def mark_dirty(self):
        self.dirty += 1

    def is_keras_ready(self):
        return self._ready

    def make_ready(self):
        from core.tfload import import_keras
        from core.infer import Inference
        import_keras()
        self._ready = True
        self.keras_ready.emit()
        self.infer()

    def infer(self):
        from core.infer import Inference
        self.inference_updated.emit(Inference().run(self.project.graph, self.project.regularization))

    def select_node(self, node_id):
        self.selection_changed.emit([node_id])

    def show_error(self, title, message, details=None):
        self.errors.append((title, message))

    def set_project(self, project):
        self.project = project
        self.project_changed.emit(project)
        if self._ready:
            self.infer()


def digits_project(epochs=2):
    p = load_project(EXAMPLES / "digits_cnn.layerwise")
    p.training["epochs"] = epochs
    p.training["batch_size"] = 32
    return p


@pytest.fixture
def bench(qtbot):
    from app.workbench import install
    w = FakeWindow(digits_project())
    qtbot.addWidget(w)
    wb = install(w)
    w.make_ready()
    w.show()
    qtbot.waitUntil(lambda: wb.dataset is not None, timeout=20000)
    yield w, wb
    wb.shutdown()


def test_short_run_on_digits_plots_points_and_results(bench, qtbot):
    w, wb = bench
    wb.features.every.setValue(5)
    assert wb.start()
    assert w.locked[-1] == (True, "training in progress")
    qtbot.waitUntil(lambda: wb.plots.point_count("batch:raw") >= 3, timeout=60000)
    with qtbot.waitSignal(wb.run_finished, timeout=120000) as blocker:
        pass
    result = blocker.args[0]
    assert result is not None and result.error is None
    assert w.locked[-1][0] is False
    assert wb.plots.point_count("loss") == 2 and wb.plots.point_count("val_loss") == 2
    qtbot.waitUntil(lambda: wb.evaluation is not None, timeout=60000)
    ev = wb.evaluation
    assert ev.outputs[0].matrix.sum() == wb.dataset.test.n
