"""The Sweep panel and the dimension marks in the real main window (offscreen): marking a param is one undo step
and shows a badge on its card, the panel shows a study's trials (also those run by another process), the best
so far and the objective against a dimension, a bad setting is said in the panel with the window alive, and
"Apply best" sets the trial's values on the graph and the settings as one undo step."""
from __future__ import annotations

import pytest

pytest.importorskip("optuna")

from core.experiments import space as sp  # noqa: E402
from core.experiments.sweep import prepare  # noqa: E402
from core.experiments import sweep_storage, sweep_study  # noqa: E402
from core.project import Project, save_project  # noqa: E402
from tests.app.test_editor_support import isolated, keras_loaded, window_with_plugins  # noqa: E402,F401  (fixtures)
from tests.core.helpers import chain  # noqa: E402


def iris_project(path):
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 8, "activation": "relu"}, "hidden"),
                 ("Dropout", {"rate": 0.2}, "drop"), ("Dense", {"units": 3, "activation": "softmax"}, "probs"),
                 ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.training.update({"epochs": 2, "batch_size": 16, "device": "cpu"})
    save_project(p, path)
    return p


@pytest.fixture
def window(qtbot, isolated, keras_loaded, tmp_path):  # noqa: F811
    path = tmp_path / "iris.layerwise"
    iris_project(path)
    with window_with_plugins(qtbot, path) as w:
        yield w, path


def test_marking_a_param_is_one_undo_step_and_badges_its_card(window):
    from app.experiments.sweep_marks import SetSweepSection, badge_for, swept_params
    from core.experiments.sweep_section import section_of, with_dimension
    w, _ = window
    p = w.project
    hidden = p.graph.by_name("hidden").id
    dim = sp.parse_dim("hidden.units=4:32:log", p)
    w.document.undo_stack.push(SetSweepSection(p, with_dimension(section_of(p), dim), "Sweep hidden.units"))
    assert swept_params(p, hidden) == ["units"] and badge_for(p, hidden) == "sweep: units"
    assert "hidden.units 4:32:log" in w.sweeps.panel.dims.text()
    w.document.undo_stack.undo()
    assert "sweep" not in p.extra and badge_for(p, hidden) is None
    assert "none" in w.sweeps.panel.dims.text()
    # the inspector's right-click menu on a param: leave the node out in some trials, one undo step
    from app.experiments.sweep_marks import menu_for
    drop = p.graph.by_name("drop")
    menu = menu_for(w, p, drop, "rate", w.document.undo_stack.push)
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Sweep rate…", "Sweep: try without 'drop'"]
    menu.actions()[1].trigger()
    assert swept_params(p, drop.id) == ["optional"] and badge_for(p, drop.id) == "sweep: optional"
    assert [a.text() for a in menu_for(w, p, drop, "rate", w.document.undo_stack.push).actions()][1] == \
        "Always keep 'drop'"
    w.document.undo_stack.undo()
    assert swept_params(p, drop.id) == []


def fill_study(path):
    """A study with three trials, as another process would leave it."""
    spec = prepare(path, ["hidden.units=4:32", "compile.optimizer.learning_rate=1e-3:1e-1:log", "drop=optional"],
                   trials=3, study="seen")
    lock = sweep_storage.StudyLock(spec["storage"])
    study = sweep_study.load(sweep_storage.open_storage(spec["storage"], lock), spec)
    dims = [sp.Dimension.from_dict(d) for d in spec["dimensions"]]
    for units, lr, keep, value in ((8, 0.01, True, 0.6), (24, 0.03, False, 0.2), (16, 0.002, True, 0.9)):
        t = study.ask()
        hidden = next(d.path for d in dims if d.path.endswith(".units"))
        drop = next(d.path for d in dims if d.kind == "optional")
        study.enqueue_trial({hidden: units, "compile.optimizer.learning_rate": lr, drop: keep})
        study.tell(t, state=__import__("optuna").trial.TrialState.FAIL)
        t = study.ask()
        sp.suggest(t, dims)
        study.tell(t, value)
    lock.close()
    return spec


def test_the_panel_shows_a_studys_trials_and_apply_best_is_one_undo_step(window, qtbot):
    from core.experiments.sweep import StudyView
    w, path = window
    spec = fill_study(path)
    ctl = w.sweeps
    ctl.spec, ctl.view = spec, StudyView(spec)
    ctl.poll()
    panel = ctl.panel
    assert panel.table.rowCount() == 6
    statuses = sorted(panel.table.item(i, 1).text() for i in range(6))
    assert statuses == ["failed"] * 3 + ["finished"] * 3
    xs, ys = panel.best_curve.getData()
    assert list(ys) == [0.6, 0.2, 0.2]
    p = w.project
    hidden, drop = p.graph.by_name("hidden").id, p.graph.by_name("drop").id
    before_lr = p.compile["optimizer"]["learning_rate"]
    ctl.apply(True)
    assert p.graph.nodes[hidden].params["units"] == 24 and drop not in p.graph.nodes
    assert p.compile["optimizer"]["learning_rate"] == pytest.approx(0.03)
    assert p.graph.inputs_of(p.graph.by_name("probs").id) == [hidden]
    w.document.undo_stack.undo()                               # one step puts everything back
    assert p.graph.nodes[hidden].params["units"] == 8 and drop in p.graph.nodes
    assert p.compile["optimizer"]["learning_rate"] == before_lr
    ctl.view.close()


def test_a_bad_setting_or_an_unsaved_project_is_said_in_the_panel(window):
    w, _ = window
    ctl = w.sweeps
    ctl.start()      # no dimensions marked
    assert "no dimensions to sweep" in ctl.panel.status.text()
    ctl.panel.storage.setText("postgresql://u@127.0.0.1:1/db")
    from app.experiments.sweep_marks import SetSweepSection
    from core.experiments.sweep_section import with_dimension
    w.document.undo_stack.push(SetSweepSection(w.project, with_dimension({}, sp.parse_dim(
        "compile.optimizer.learning_rate=1e-3:1e-1:log", w.project)), "Sweep lr"))
    ctl.start()
    assert "Save the project first" in ctl.panel.status.text()
    save_project(w.project, w.project.path)
    w.document.undo_stack.setClean()
    ctl.start()
    assert "cannot connect to the database" in ctl.panel.status.text() and w.isVisible()
