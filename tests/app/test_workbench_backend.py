"""The Training panel's Backend choice: every Keras backend listed, the ones not installed greyed with what to
install; the project's setting shown and written back; a run on JAX from the workbench trains in a worker process
and reports its progress, curves and feature maps, and the results view evaluates the trained weights."""
from __future__ import annotations

import importlib.util
import time

import pytest

from app.workbench import checkpoints
from app.workbench.backend_choice import backend_combo, backend_values, select_backend
from core.training import backends
from core.training.checkpoint import load
from tests.app.test_workbench import digits_project, node_id, open_bench

HAS_JAX = importlib.util.find_spec("jax") is not None


def test_the_combo_lists_every_backend_and_greys_the_missing_ones(qtbot, monkeypatch):
    monkeypatch.setattr(backends, "version_of", lambda n: {"tensorflow": "2.21.0", "jax": "0.4.30"}.get(n))
    combo = backend_combo()
    qtbot.addWidget(combo)
    assert [combo.itemData(i) for i in range(combo.count())] == ["tensorflow", "jax", "torch"]
    assert combo.itemText(0) == "TensorFlow 2.21.0" and combo.itemText(2) == "PyTorch (not installed)"
    torch_item = combo.model().item(2)
    assert not torch_item.isEnabled() and "[torch]" in torch_item.toolTip()
    assert select_backend(combo, "jax") and combo.currentData() == "jax"
    assert not select_backend(combo, "torch") and combo.currentData() == "tensorflow"   # not installed
    assert not select_backend(combo, "theano") and combo.currentData() == "tensorflow"
    assert backend_values(combo, in_project=False) == {}    # a project that never chose one gains no key
    assert backend_values(combo, in_project=True) == {"backend": "tensorflow"}


@pytest.mark.skipif(not HAS_JAX, reason="JAX is not installed (the test extra installs its CPU build)")
def test_a_run_on_jax_from_the_workbench(qtbot):
    project = digits_project(epochs=1)
    project.training["backend"] = "jax"
    w, wb = open_bench(qtbot, project)
    try:
        tp = wb.train_panel
        assert tp.backend.currentData() == "jax" and tp.values()["backend"] == "jax"
        conv = node_id(w.project, "conv2d")
        w.select_node(conv)
        started = time.time()
        with qtbot.waitSignal(wb.run_finished, timeout=180000) as blocker:
            assert wb.start()
        result = blocker.args[0]
        assert result.error is None and result.device == "CPU (JAX)" and result.epochs_done == 1
        assert not any("extension" in m for m in result.warnings), result.warnings
        # the worker wrote the run's checkpoint beside the project (Continue in a new session resumes from it)
        path = checkpoints.path_of(w.project)
        assert path.stat().st_mtime >= started - 1 and load(path).epoch == 1
        assert checkpoints.resumable(w.project) is not None
        assert wb.last_features[conv].shape == (1, 8, 8, 32)     # feature maps crossed from the worker
        wb.plots.refresh()
        assert wb.plots.point_count("loss") == 1 and wb.plots.point_count("batch:raw") >= 2
        assert w.project.graph.nodes[conv].weights is not None   # the trained weights are the project's
        qtbot.waitUntil(lambda: wb.evaluation is not None, timeout=60000)
        assert wb.evaluation.outputs[0].matrix.sum() == wb.dataset.test.n
    finally:
        wb.shutdown()
