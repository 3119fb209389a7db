"""The Runs panel in the real main window (offscreen): the table (filter, sort), curves of selected runs overlaid
in the plots, what differs, the structural diff on the canvas, restore as one undo step, rename / tag / note /
delete, a training from the window recorded, and a runs database that cannot be read said in the panel with the
window alive and the file kept."""
from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import Qt

from core.experiments.record import snapshot
from core.experiments.runs import RunStore, runs_path
from core.project import Project, save_project
from tests.app.test_editor_support import isolated, keras_loaded, window_with_plugins  # noqa: F401  (fixtures)
from tests.core.helpers import chain


def iris_project(path):
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 8, "activation": "relu"}, "hidden"),
                 ("Dense", {"units": 3, "activation": "softmax"}, "probs"),
                 ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.training.update({"epochs": 2, "batch_size": 16, "device": "cpu"})
    save_project(p, path)
    return p


def record(store, project, lr, loss, status="finished", units=None):
    p = copy.deepcopy(project)
    p.compile["optimizer"] = {"name": "adam", "learning_rate": lr}
    if units is not None:
        p.graph.set_param(p.graph.by_name("hidden").id, "units", units)
        p.graph.add_node("Dropout", {"rate": 0.3}, name="extra", pos=(900.0, 300.0))
    rid = store.start(snapshot(p))
    for e in range(3):
        store.log_epoch(rid, e, {"loss": loss + 1 - e * 0.3, "val_loss": loss + 1.2 - e * 0.3, "accuracy": 0.5 + e / 10})
    store.finish(rid, status, metrics={"loss": loss, "val_loss": loss + 0.2, "accuracy": 0.8}, seconds=3.0 + lr)
    return rid


@pytest.fixture
def window(qtbot, isolated, keras_loaded, tmp_path):  # noqa: F811
    path = tmp_path / "iris.layerwise"
    project = iris_project(path)
    store = RunStore(runs_path(path))
    ids = [record(store, project, 0.001, 0.5), record(store, project, 0.01, 0.3),
           record(store, project, 0.1, 0.9, status="nan", units=32)]
    store.close()
    with window_with_plugins(qtbot, path) as w:
        w.runs.dock.raise_()
        yield w, w.runs, ids


def cells(panel, column):
    m = panel.model
    col = [c.title for c in m.columns].index(column)
    return [m.index(r, col).data() for r in panel.visible_rows()]


def test_the_table_lists_the_runs_with_what_differs(window):
    w, ctl, ids = window
    panel = ctl.panel
    titles = [c.title for c in panel.model.columns]
    assert titles[:4] == ["Name", "When", "Status", "Duration"]
    assert "learning_rate" in titles and "loss" in titles and "val_loss" in titles
    assert "epochs" not in titles and "batch_size" not in titles           # the same in every run
    assert panel.count.text() == "3 runs"
    panel.table.sortByColumn(titles.index("loss"), Qt.SortOrder.AscendingOrder)
    assert cells(panel, "loss") == ["0.3", "0.5", "0.9"]
    assert cells(panel, "Name") == ["run 2", "run 1", "run 3"]
    panel.filter.setText("nan")
    assert cells(panel, "Name") == ["run 3"] and panel.count.text() == "1 of 3 runs"
    panel.filter.setText("")
    status = [c.title for c in panel.model.columns].index("Status")
    assert panel.model.index(0, status).data(Qt.ItemDataRole.ForegroundRole) is not None
    panel.table.sortByColumn(titles.index("Name"), Qt.SortOrder.DescendingOrder)
    panel.select_ids([ids[0]])
    panel.table.sortByColumn(titles.index("loss"), Qt.SortOrder.DescendingOrder)
    assert cells(panel, "loss") == ["0.9", "0.5", "0.3"] and panel.selected_ids() == [ids[0]]   # follows its run


def test_selecting_runs_overlays_their_curves_and_says_what_differs(window):
    w, ctl, ids = window
    ctl.panel.select_ids(ids[:2])
    plots = w.workbench.plots
    items = [it for _plot, it in ctl.overlay.items]
    assert len(items) == 6          # 2 runs x (loss, val_loss, accuracy)
    loss_plot = plots.epoch_plot("loss")
    assert sum(1 for p, _ in ctl.overlay.items if p is loss_plot) == 4
    assert list(items[0].xData) == [1, 2, 3]
    text = ctl.panel.details.toPlainText()
    assert "run 2 against run 1:" in text and "compile.optimizer.learning_rate: 0.001 -> 0.01" in text
    assert "epochs" not in text
    ctl.panel.select_ids(ids[:1])
    assert ctl.overlay.items == []
    lines = ctl.show_differences([ids[0], ids[2]])
    assert "node extra (Dropout) added" in lines and "units 8 -> 32" in lines


def test_the_structural_diff_is_drawn_on_the_canvas(window):
    w, ctl, ids = window
    diff = ctl.diff_on_canvas([ids[2]])        # the current graph against run 3 (which has an extra node)
    hidden = w.project.graph.by_name("hidden").id
    assert diff["changed"] == {hidden: ["units 32 -> 8"]} and len(diff["removed"]) == 1
    assert len(ctl.canvas.items) == 4          # a frame and a label for each
    frames = [it for it in ctl.canvas.items if hasattr(it, "path")]
    card = w.scene.nodes[hidden].sceneBoundingRect()
    assert any(f.sceneBoundingRect().contains(card.center()) for f in frames)
    assert "1 removed" in ctl.panel.details.toPlainText()
    w.project.graph.move(hidden, (10.0, 10.0))     # the next edit takes the marks away
    assert ctl.canvas.items == []


def test_restore_is_one_undo_step(window):
    w, ctl, ids = window
    before = w.project.to_dict()
    w.project.training["epochs"] = 7
    assert ctl.restore(ids[2])
    p = w.project
    assert p.compile["optimizer"]["learning_rate"] == 0.1
    assert p.graph.by_name("hidden").params["units"] == 32 and p.graph.by_name("extra") is not None
    assert p.training["epochs"] == 2
    assert "initial_epoch" not in p.training        # command-line-only values are not put into the project
    stack = w.document.undo_stack
    assert stack.undoText() == "Restore run 3"
    stack.undo()
    assert p.graph.by_name("extra") is None and p.compile["optimizer"]["learning_rate"] == 0.001
    assert p.training["epochs"] == 7
    assert p.to_dict()["graph"] == before["graph"]
    stack.redo()
    assert p.graph.by_name("extra") is not None


def test_rename_tag_note_delete(window):
    w, ctl, ids = window
    ctl.rename(ids[0], "baseline")
    ctl.tag(ids[0], ["keep", "small"])
    ctl.note(ids[0], "the first one")
    assert "baseline" in cells(ctl.panel, "Name") and "keep, small" in cells(ctl.panel, "Tags")
    ctl.panel.filter.setText("first one")                # the note is searched too
    assert cells(ctl.panel, "Name") == ["baseline"]
    ctl.panel.filter.setText("")
    ctl.delete([ids[1]])
    assert len(ctl.runs) == 2 and RunStore(runs_path(w.project.path)).list()[1]["id"] == ids[2]


def test_a_training_in_the_window_is_recorded(window, qtbot):
    w, ctl, ids = window
    wb = w.workbench
    qtbot.waitUntil(lambda: wb.dataset is not None, timeout=30000)
    with qtbot.waitSignal(wb.run_finished, timeout=120000) as blocker:
        assert wb.start()
    assert blocker.args[0] is not None and blocker.args[0].error is None
    qtbot.waitUntil(lambda: len(ctl.runs) == 4, timeout=10000)
    new = ctl.runs[-1]
    assert new["status"] == "finished" and set(new["metrics"]) >= {"loss", "val_loss", "accuracy"}
    assert len(RunStore(runs_path(w.project.path)).curves(new["id"])["epochs"]) == 2


@pytest.mark.parametrize("content", [b"\x00not a database" * 200])
def test_an_unreadable_runs_database_is_said_and_kept(qtbot, isolated, keras_loaded, tmp_path, content):  # noqa: F811
    from app.main_window import MainWindow
    from core.project import load_project
    path = tmp_path / "iris.layerwise"
    iris_project(path)
    db = runs_path(path)
    db.write_bytes(content)
    w = MainWindow(load_project(path), plugins=False, start_keras=False)
    qtbot.addWidget(w)
    w.show()
    w.install_plugins()
    ctl = w.runs
    assert str(db) in ctl.panel.details.toPlainText() and "not a Layerwise runs database" in ctl.error
    assert ctl.panel.count.text() == "runs database unreadable"
    # a training goes on, unrecorded, after one message naming the file
    wb = w.workbench
    qtbot.waitUntil(lambda: wb.dataset is not None, timeout=30000)
    with qtbot.waitSignal(wb.run_finished, timeout=120000) as blocker:
        assert wb.start()
    assert blocker.args[0] is not None and blocker.args[0].error is None
    assert w.last_error[0] == "Runs are not recorded" and str(db) in w.last_error[1]
    assert db.read_bytes() == content and w.isVisible()
    wb.shutdown()
    w.document.undo_stack.setClean()
    w.document._extra_dirty = False


def test_save_as_moves_the_runs_with_the_project(window, tmp_path):
    w, ctl, ids = window
    w.project.training["epochs"] = 3          # an unsaved change, so that saving clears it
    assert w.files.save_to(tmp_path / "copy.layerwise")
    assert ctl.runs == [] and "no runs yet" in ctl.panel.count.text()
    assert not runs_path(tmp_path / "copy.layerwise").exists()    # reading makes no file


def test_restore_brings_back_the_weights_a_run_kept(window):
    import numpy as np
    from core.project import write_weights_file
    w, ctl, ids = window
    from core.graph import Graph
    g = Graph.from_dict(w.project.graph.to_dict())
    hidden = g.by_name("hidden").id
    g.nodes[hidden].weights = [np.full((4, 8), 0.5, "float32"), np.zeros(8, "float32")]
    folder = w.project.path.parent / "iris.runs"
    folder.mkdir()
    write_weights_file(g, folder / "run-1.weights.h5")
    store = RunStore(runs_path(w.project.path))
    store.finish(ids[0], "finished", metrics={"loss": 0.5}, weights_path="iris.runs/run-1.weights.h5")
    store.close()
    ctl.refresh()
    assert ctl.restore(ids[0]) and "and trained weights" in ctl.panel.details.toPlainText()
    assert float(w.project.graph.nodes[hidden].weights[0][0, 0]) == 0.5
    w.document.undo_stack.undo()
    assert w.project.graph.nodes[hidden].weights is None
