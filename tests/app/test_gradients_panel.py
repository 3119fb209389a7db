"""The gradient view in the real window during a real run: badges on the weighted nodes' cards, the Gradients
panel (heatmap, a layer's histograms and history), the vanishing gradients of deep_sigmoid in the Problems panel,
a hidden panel that only draws when shown, and the Explain panel."""
from __future__ import annotations

import pytest

from tests.conftest import EXAMPLES


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERWISE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LAYERWISE_NO_DIALOGS", "1")
    from app.main_window import MainWindow
    from core.project import load_project
    w = MainWindow(load_project(EXAMPLES / "deep_sigmoid.layerwise", load_weights=False))
    qtbot.addWidget(w)
    w.resize(1500, 950)
    w.show()
    qtbot.waitUntil(lambda: w.is_keras_ready() and "app.workbench.gradients" in w.plugins, timeout=60000)
    yield w
    w.workbench.runner.shutdown()


def test_badges_panel_problems_and_explain_during_a_real_run(window, qtbot):
    w, wb = window, window.workbench
    view = wb.gradients
    view.dock.show()
    view.dock.raise_()
    wb.train_panel.epochs.setValue(3)
    wb.start_action.trigger()
    qtbot.waitUntil(lambda: wb.result is not None and not wb.runner.running, timeout=90000)
    assert wb.result.error is None
    qtbot.waitUntil(lambda: view.panel.records and not view.panel.dirty, timeout=5000)
    panel = view.panel
    weighted = [f"hidden_{i}" for i in range(1, 11)] + ["digit"]
    assert panel.names == weighted
    img = panel.image.image
    assert img is not None and img.shape == (len(panel.columns), len(weighted))
    ids = {n.name: k for k, n in wb.project.graph.nodes.items()}
    assert set(view.badges) == {ids[n] for n in weighted}
    first, last = view.badges[ids["hidden_1"]], view.badges[ids["digit"]]
    assert first.parentItem() is w.scene.nodes[ids["hidden_1"]] and first.text.startswith("∇")
    assert first.colour.name() == "#d93d42" and last.colour.name() == "#1f9d55"   # vanishing / healthy
    assert any("hidden_1 (training): vanishing gradients at 'hidden_1'" in t for t in w.problems.items())
    panel.select_layer("hidden_3")
    assert panel.selected == "hidden_3"
    assert all(p.listDataItems() or p.items for p in panel.hists.values())
    assert panel.history.listDataItems()
    # explain a test sample
    box = view.explain.box
    view.explain.dock.show()
    view.explain.dock.raise_()
    assert box.button.isEnabled()
    box.button.click()
    qtbot.waitUntil(lambda: box.picture.pixmap() is not None and not box.picture.pixmap().isNull(), timeout=30000)
    assert box.caption.text().startswith("Sample 0 of the test split: predicted class")


def test_a_hidden_panel_keeps_the_records_and_draws_when_shown(window, qtbot):
    panel = window.workbench.gradients.panel
    window.workbench.gradients.dock.hide()
    rec = {"epoch": 0, "step": 3, "layers": {"a": {"kernel_grad_rms": 1e-3, "param": "kernel"},
                                             "b": {"kernel_grad_rms": 1e-1, "param": "kernel"}}, "problems": []}
    panel.add_record(rec)
    qtbot.wait(400)
    assert panel.dirty and panel.image.image is None
    window.workbench.gradients.dock.show()
    window.workbench.gradients.dock.raise_()
    qtbot.waitUntil(lambda: not panel.dirty, timeout=3000)
    assert panel.image.image.shape == (1, 2) and "epoch 1, batch 4: 1 probes" in panel.status.text()
