"""The training workbench (issue 5), offscreen with pytest-qt.

Most tests drive the panels through ``FakeWindow``: a minimal QMainWindow with the window API of
``app.contracts.WorkbenchHost`` (kept here, on purpose: the workbench relies on that API only). One test installs
the workbench in the real MainWindow.
"""
from __future__ import annotations

import html

import numpy as np
import pytest
from PySide6.QtCore import Qt, Signal
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
        self.inference = None
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

    def push_edit(self, command):   # no undo history here: the edit is applied and the project is unsaved
        command.redo()
        self.dirty += 1
        return True

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
        self.inference = Inference().run(self.project.graph, self.project.regularization)
        self.inference_updated.emit(self.inference)

    def last_inference(self):
        return self.inference

    def select_node(self, node_id):
        self.selection_changed.emit([node_id])

    def show_error(self, title, message, details=None):
        self.errors.append((title, message))

    def set_project(self, project):
        self.project = project
        self.project_changed.emit(project)
        if self._ready:
            self.infer()


def example(name, epochs=2, batch_size=32, **data):
    p = load_project(EXAMPLES / f"{name}.layerwise")
    p.training["epochs"] = epochs
    p.training["batch_size"] = batch_size
    p.data.update(data)
    return p


def digits_project(epochs=2):
    return example("digits_cnn", epochs)


def open_bench(qtbot, project):
    from app.workbench import install
    w = FakeWindow(project)
    qtbot.addWidget(w)
    wb = install(w)
    w.make_ready()
    w.show()
    qtbot.waitUntil(lambda: wb.dataset is not None, timeout=30000)
    return w, wb


@pytest.fixture
def bench(qtbot):
    w, wb = open_bench(qtbot, digits_project())
    yield w, wb
    wb.shutdown()


def node_id(project, name):
    return project.graph.by_name(name).id


def test_short_run_on_digits_plots_features_results_export(bench, qtbot, tmp_path):
    w, wb = bench
    conv = node_id(w.project, "conv2d")
    w.select_node(conv)                       # the feature panel follows the canvas selection
    assert wb.features.current_node() == conv
    wb.features.every.setValue(5)
    assert wb.start()
    assert w.locked[-1] == (True, "training in progress")
    assert not wb.train_panel.start_btn.isEnabled() and wb.train_panel.stop_btn.isEnabled()
    # live: batch points and a feature map arrive while training runs
    qtbot.waitUntil(lambda: wb.plots.point_count("batch:raw") >= 3, timeout=60000)
    with qtbot.waitSignal(wb.features_shown, timeout=60000):
        pass
    feats = wb.last_features
    assert feats[conv].shape == (1, 8, 8, 32)
    assert wb.features.last_kind == "grid"
    assert wb.features.last_shape == (6 * 8 + 5, 6 * 8 + 5)   # 32 channels tiled 6 × 6 with 1-pixel gaps
    with qtbot.waitSignal(wb.run_finished, timeout=120000) as blocker:
        pass
    result = blocker.args[0]
    assert result is not None and result.error is None and not result.stopped
    assert w.locked[-1][0] is False
    assert w.dirty >= 1                       # the trained weights went into the project
    assert w.project.graph.nodes[conv].weights is not None
    wb.plots.refresh()
    assert wb.plots.point_count("loss") == 2 and wb.plots.point_count("val_loss") == 2
    assert wb.plots.point_count("accuracy") == 2
    x, y = wb.plots.run.curves["batch:raw"].getData()
    assert len(x) >= 3 and np.isfinite(y).all()
    # results: confusion matrix over the whole test split
    qtbot.waitUntil(lambda: wb.evaluation is not None, timeout=60000)
    ev = wb.evaluation
    assert ev.split == "test" and ev.n == wb.dataset.test.n
    m = ev.outputs[0].matrix
    assert m.shape == (10, 10) and m.sum() == wb.dataset.test.n
    assert wb.results.matrix.rowCount() == 10
    # clicking a cell shows exactly its samples
    wb.results._cell_clicked(3, 3)
    assert len(wb.results.shown_indices) == m[3, 3]
    assert wb.results.grid.count() == min(m[3, 3], 120)
    # export
    png = wb.plots.export_png(tmp_path / "plots.png")
    assert png and (tmp_path / "plots.png").stat().st_size > 1000
    wb.plots.export_csv(tmp_path / "history.csv")
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,") and "val_loss" in lines[0] and len(lines) == 3
    # continue from the trained weights: the same run goes on at epoch 3
    wb.train_panel.epochs.setValue(1)
    assert wb.train_panel.continue_btn.isEnabled()
    run_before = wb.plots.run
    with qtbot.waitSignal(wb.run_finished, timeout=120000) as blocker:
        assert wb.start(continuing=True)
    r2 = blocker.args[0]
    assert r2.error is None and r2.build is result.build
    assert wb.plots.run is run_before and wb.epoch_reached == 3
    wb.plots.refresh()
    assert wb.plots.point_count("loss") == 3


def test_stop_mid_run_keeps_weights(qtbot):
    w, wb = open_bench(qtbot, digits_project(epochs=200))
    try:
        wb.start()
        qtbot.waitUntil(lambda: wb.plots.point_count("batch:raw") >= 2, timeout=60000)
        with qtbot.waitSignal(wb.run_finished, timeout=60000) as blocker:
            wb.stop()
        r = blocker.args[0]
        assert r.stopped and r.error is None and r.epochs_done < 200
        assert w.project.graph.nodes[node_id(w.project, "conv2d")].weights is not None
        assert w.locked[-1][0] is False
        assert wb.train_panel.start_btn.isEnabled() and wb.train_panel.continue_btn.isEnabled()
        assert "Stopped" in wb.train_panel.message.text()
    finally:
        wb.shutdown()


def test_attention_scores_per_head(qtbot):
    p = example("attention", epochs=1, samples=600)
    w, wb = open_bench(qtbot, p)
    try:
        att = node_id(p, "self_attention")
        w.select_node(att)
        wb.features.every.setValue(0)          # at each epoch's end
        with qtbot.waitSignal(wb.run_finished, timeout=120000):
            wb.start()
        qtbot.waitUntil(lambda: wb.features.last_kind == "attention", timeout=60000)
        scores = wb.last_features[f"{att}:scores"]
        assert scores.shape == (1, 2, 10, 10)  # one sample, 2 heads, 10 queries × 10 keys
        assert np.allclose(scores.sum(-1), 1.0, atol=1e-4)
        assert wb.features.last_shape == (10, 2 * 10 + 1)   # the heads side by side
    finally:
        wb.shutdown()


def test_errors_are_reported_without_a_crash(qtbot, tmp_path):
    # a dataset that does not fit: reported before training, nothing locked afterwards
    p = digits_project()
    p.data["form"] = "flat"
    w, wb = open_bench(qtbot, p)
    try:
        qtbot.waitUntil(lambda: "Does not fit" in wb.data_panel.fit.text(), timeout=10000)
        with qtbot.waitSignal(wb.run_finished, timeout=60000) as blocker:
            wb.start()
        assert blocker.args[0] is None
        assert "(64,)" in wb.train_panel.message.text() and "(8, 8, 1)" in wb.train_panel.message.text()
        assert w.locked[-1][0] is False and wb.train_panel.start_btn.isEnabled()
        # NaN in the data: the whole file is checked when it loads (wherever the split puts the sample), the data
        # panel says which array, sample and value, and a start is refused with the same message
        x = np.random.default_rng(0).normal(size=(400, 8, 8, 1)).astype("float32")
        x[5, 0, 0, 0] = np.nan
        y = np.arange(400) % 10
        np.savez(tmp_path / "bad.npz", x=x, y=y)
        data = {"source": "npz", "path": str(tmp_path / "bad.npz"), "x": "x", "y": "y",
                "validation_split": 0.2, "test_split": 0.2}
        wb.data_panel.load(data)
        wb._data_spec_changed(data)
        qtbot.waitUntil(lambda: wb._data_error is not None, timeout=30000)
        want = "bad.npz: array 'x' has a NaN at sample 5 (index [5, 0, 0, 0])"
        assert wb.dataset is None and want in wb._data_error
        assert want in html.unescape(wb.data_panel.status.text())
        with qtbot.waitSignal(wb.run_finished, timeout=60000) as blocker:
            wb.start()
        assert blocker.args[0] is None                       # refused before training started
        message = html.unescape(wb.train_panel.message.text())
        assert want in message and "finite numbers" in message
        assert w.locked[-1][0] is False and wb.train_panel.start_btn.isEnabled()
        # finite data so large (every sample 3e38) that the network overflows: the loss becomes NaN in the first
        # epoch whatever the split (every sample is the same), and the run ends with a message
        np.savez(tmp_path / "huge.npz", x=np.full((400, 8, 8, 1), 3e38, dtype="float32"), y=y)
        data = dict(data, path=str(tmp_path / "huge.npz"))
        wb.data_panel.load(data)
        wb._data_spec_changed(data)
        qtbot.waitUntil(lambda: wb.dataset is not None and wb.dataset.name == "huge", timeout=30000)
        with qtbot.waitSignal(wb.run_finished, timeout=120000) as blocker:
            wb.start()
        r = blocker.args[0]
        assert r is not None and r.error is not None and r.error.kind == "nan", r and r.error
        assert "loss became nan" in wb.train_panel.message.text()
        assert w.locked[-1][0] is False
        assert wb.train_panel.start_btn.isEnabled()
    finally:
        wb.shutdown()


def test_data_panel_edits_project_and_shows_mismatch(bench, qtbot):
    w, wb = bench
    qtbot.wait(600)                       # longer than the panel's edit debounce
    assert w.dirty == 0                   # showing a project is not an edit of it
    dirty = w.dirty
    wb.data_panel.name.setCurrentIndex(wb.data_panel.name.findData("iris"))
    qtbot.waitUntil(lambda: w.project.data.get("name") == "iris", timeout=5000)
    assert w.dirty > dirty
    qtbot.waitUntil(lambda: wb.dataset is not None and wb.dataset.name == "iris", timeout=30000)
    text = wb.data_panel.fit.text()
    assert "Does not fit" in text and "(4,)" in text
    assert wb.data_panel.table.rowCount() > 0          # rows preview for tabular data
    assert wb.data_panel._bars.opts["height"].sum() == wb.dataset.train.n
    wb.data_panel.val.setValue(30)
    qtbot.waitUntil(lambda: w.project.data.get("validation_split") == 0.3, timeout=5000)


def test_close_during_training_asks_then_stops(qtbot):
    w, wb = open_bench(qtbot, digits_project(epochs=200))
    asked = []
    wb.confirm_close = lambda: asked.append(1) or True
    try:
        wb.start()
        qtbot.waitUntil(lambda: wb.plots.point_count("batch:raw") >= 1, timeout=60000)
        w.close()
        assert asked == [1]
        qtbot.waitUntil(lambda: not w.isVisible(), timeout=60000)
        assert not wb.running
        assert wb.result is not None and wb.result.stopped
    finally:
        wb.shutdown()


def test_two_outputs_classification_and_regression(qtbot):
    p = example("two_heads", epochs=1, samples=600)
    w, wb = open_bench(qtbot, p)
    try:
        dense = node_id(p, "trunk_1")
        w.select_node(dense)
        with qtbot.waitSignal(wb.run_finished, timeout=120000) as blocker:
            wb.start()
        assert blocker.args[0].error is None
        qtbot.waitUntil(lambda: wb.evaluation is not None, timeout=60000)
        ev = wb.evaluation
        n = wb.dataset.test.n
        kinds = {o.name: o for o in ev.outputs}
        assert set(kinds) == {"kind", "size"}
        assert kinds["kind"].matrix.sum() == n and kinds["size"].matrix is None
        assert len(kinds["size"].y_true) == len(kinds["size"].y_pred) == n
        assert wb.results.output_box.isVisible() or wb.results.output_box.count() == 2
        wb.results.output_box.setCurrentIndex(1)        # the regression output: predicted vs true
        assert wb.results.left.currentWidget() is wb.results.scatter
        assert len(wb.results._points.data) == n
        # a dense layer after training: its units as bars, computed with the trained weights
        qtbot.waitUntil(lambda: "trained weights" in wb.features.caption.text(), timeout=60000)
        assert wb.features.last_kind == "bars" and wb.features.last_shape == (64,)
    finally:
        wb.shutdown()


def test_in_the_real_main_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERWISE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LAYERWISE_NO_DIALOGS", "1")
    main_window = pytest.importorskip("app.main_window")
    w = main_window.MainWindow(digits_project(epochs=1))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: getattr(w, "workbench", None) is not None, timeout=20000)
    wb = w.workbench
    try:
        titles = {d.windowTitle() for d in w.findChildren(QDockWidget)}
        assert {"Training", "Data", "Training plots", "Feature maps", "Results"} <= titles
        menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions() if a.menu()}
        texts = [a.text().replace("&", "") for a in menus["Train"].actions()]
        assert {"Start training", "Stop training", "Continue training"} <= set(texts)
        qtbot.waitUntil(lambda: w.is_keras_ready() and wb.dataset is not None, timeout=60000)
        with qtbot.waitSignal(wb.run_finished, timeout=120000) as blocker:
            wb.start_action.trigger()
            assert w.document.locked
        assert blocker.args[0].error is None
        assert not w.document.locked and w.document.dirty    # unlocked; the trained weights make it unsaved
        assert w.project.graph.by_name("conv2d").weights is not None
    finally:
        wb.shutdown()


def test_live_feature_maps_are_drawn_at_most_every_gap_and_the_newest_one(bench, qtbot):
    """Maps streamed every batch (tens a second on digits) are drawn at most once per LIVE_FEATURES_GAP_S; the ones
    between are skipped, and the one drawn is the newest streamed."""
    import time
    from app.workbench.analysis import LIVE_FEATURES_GAP_S
    w, wb = bench
    conv = node_id(w.project, "conv2d")
    w.select_node(conv)
    wb.features.every.setValue(1)
    wb.train_panel.epochs.setValue(4)
    streamed, drawn = [], []
    wb.runner.bridge.features.connect(lambda *a: streamed.append(time.perf_counter()))
    wb.features_shown.connect(lambda node: drawn.append((time.perf_counter(), wb.runner.meta.get("feature_at"),
                                                         wb.runner.active)))
    with qtbot.waitSignal(wb.run_finished, timeout=120000) as blocker:
        assert wb.start()
    assert blocker.args[0].error is None
    live = [d for d in drawn if d[2]]
    assert len(live) >= 2 and len(streamed) > 3 * len(live), (len(streamed), len(live))
    gaps = [b[0] - a[0] for a, b in zip(live, live[1:])]
    assert min(gaps) >= LIVE_FEATURES_GAP_S - 0.005, gaps
    # each drawn map says which batch it is of, and they come in training order
    assert [d[1] for d in live] == sorted(d[1] for d in live)
