"""Every settings edit in the window is one undo step, and undo/redo put back the value the panels show
(issue 11): the project settings panel (name, optimizer, schedule, regularization), the training panel, the data
panel, and a fine-tune phase of the transfer part (which lowers the learning rate)."""
from __future__ import annotations

import pytest

from tests.app.test_editor_support import isolated, keras_loaded  # noqa: F401  (fixtures)
from tests.conftest import EXAMPLES, ROOT

TRANSFER = ROOT / "resources" / "transfer"


@pytest.fixture
def win(qtbot, isolated, keras_loaded):  # noqa: F811
    """The main window with the digits example and its installed parts (workbench, transfer)."""
    from app.files import load_example
    from app.main_window import MainWindow
    w = MainWindow(load_example(EXAMPLES / "digits_cnn.layerwise"), plugins=False, start_keras=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.install_plugins()
    w.document.infer_now()
    wb = w.workbench
    qtbot.waitUntil(lambda: wb.dataset is not None, timeout=60_000)
    qtbot.wait(400)                       # longer than the data panel's edit debounce
    assert w.undo_stack.count() == 0, [w.undo_stack.text(i) for i in range(w.undo_stack.count())]
    yield w
    wb.shutdown()
    w.document.undo_stack.setClean()
    w.document._extra_dirty = False
    w.close()


def one_step(win, edit):
    """Run ``edit``; it must add exactly one undo step. Returns the step's text."""
    stack = win.undo_stack
    n = stack.index()
    edit()
    assert stack.index() == stack.count() == n + 1, [stack.text(i) for i in range(stack.count())]
    return stack.text(n)


# -- the project settings panel -----------------------------------------------------------------------------------
def test_learning_rate_edits_merge_and_undo_restores_the_shown_value(win):
    sp = win.settings_panel
    ed = sp.opt_editors["learning_rate"]
    old = win.project.compile["optimizer"]["learning_rate"]
    assert ed.spin.value() == pytest.approx(old)

    def commit(v):
        ed.spin.setValue(v)
        ed.spin.editingFinished.emit()
    text = one_step(win, lambda: commit(0.01))
    assert text == "Change learning rate" and win.project.compile["optimizer"]["learning_rate"] == 0.01
    n = win.undo_stack.count()
    commit(0.02)                              # the same field again, right away: the same step
    assert win.undo_stack.count() == n and win.project.compile["optimizer"]["learning_rate"] == 0.02
    win.undo_stack.undo()
    assert win.project.compile["optimizer"]["learning_rate"] == old
    assert sp.opt_editors["learning_rate"].spin.value() == pytest.approx(old)
    win.undo_stack.redo()
    assert sp.opt_editors["learning_rate"].spin.value() == pytest.approx(0.02)
    assert win.isWindowModified()
    win.undo_stack.undo()
    assert not win.isWindowModified()         # back to the saved state


def test_optimizer_and_schedule_kind_are_one_step_each(win, qtbot):
    sp = win.settings_panel
    i = sp.opt_combo.findData("sgd")

    def pick(combo, key):
        j = combo.findData(key)
        combo.setCurrentIndex(j)
        combo.activated.emit(j)
    one_step(win, lambda: pick(sp.opt_combo, "sgd"))
    assert i >= 0 and win.project.compile["optimizer"]["name"] == "sgd"
    qtbot.waitUntil(lambda: "momentum" in win.settings_panel.opt_editors)   # the panel rebuilt for SGD
    one_step(win, lambda: pick(win.settings_panel.sch_combo, "step"))
    assert win.project.compile["schedule"]["kind"] == "step"
    qtbot.waitUntil(lambda: "decay_steps" in win.settings_panel.sch_editors)
    ed = win.settings_panel.sch_editors["decay_steps"]
    old = win.project.compile["schedule"]["decay_steps"]
    one_step(win, lambda: ed.spin.setValue(old + 500))   # an int editor commits each value
    assert win.project.compile["schedule"]["decay_steps"] == old + 500
    win.undo_stack.undo()
    assert win.project.compile["schedule"]["decay_steps"] == old and ed.spin.value() == old
    win.undo_stack.undo()
    qtbot.waitUntil(lambda: win.settings_panel.sch_combo.currentData() == "none")
    assert win.project.compile["schedule"] == {"kind": "none"} and not win.settings_panel.sch_editors
    win.undo_stack.undo()
    qtbot.waitUntil(lambda: win.settings_panel.opt_combo.currentData() == "adam")
    assert win.project.compile["optimizer"]["name"] == "adam" and "momentum" not in win.settings_panel.opt_editors


def test_regularization_and_name_edits_undo_to_the_shown_value(win):
    sp = win.settings_panel
    old = win.project.regularization["dropout"]

    def dropout():
        sp.dropout.setValue(0.3)
        sp.dropout.editingFinished.emit()
    assert one_step(win, dropout) == "Global dropout 0.3"
    assert win.project.regularization["dropout"] == 0.3
    win.undo_stack.undo()
    assert win.project.regularization["dropout"] == old and sp.dropout.value() == pytest.approx(old)

    old_name = win.project.name

    def rename():
        sp.name_edit.setText("renamed net")
        sp.name_edit.editingFinished.emit()
    one_step(win, rename)
    assert win.project.name == "renamed net" and "renamed net" in win.windowTitle()
    win.undo_stack.undo()
    assert win.project.name == old_name and sp.name_edit.text() == old_name
    assert "renamed net" not in win.windowTitle()


# -- the training panel ------------------------------------------------------------------------------------------------
def test_training_panel_edits_are_undo_steps(win):
    tp = win.workbench.train_panel
    t = win.project.training
    epochs, patience, enabled = t["epochs"], t["early_stopping"]["patience"], t["early_stopping"]["enabled"]
    assert tp.epochs.value() == epochs

    assert one_step(win, lambda: tp.epochs.setValue(epochs + 3)) == "Change epochs"
    assert win.project.training["epochs"] == epochs + 3
    n = win.undo_stack.count()
    tp.epochs.setValue(epochs + 4)            # typing on in the spin box: the same step
    tp.epochs.setValue(epochs + 5)
    assert win.undo_stack.count() == n and win.project.training["epochs"] == epochs + 5

    one_step(win, lambda: tp.es_enabled.setChecked(not enabled))
    assert win.project.training["early_stopping"]["enabled"] is (not enabled)
    one_step(win, lambda: tp.es_patience.setValue(patience + 2))
    assert win.project.training["early_stopping"]["patience"] == patience + 2
    one_step(win, lambda: tp.batch.setValue(48))
    assert win.project.training["batch_size"] == 48

    win.undo_stack.undo()
    assert win.project.training["batch_size"] == t["batch_size"] and tp.batch.value() == t["batch_size"]
    win.undo_stack.undo()
    assert tp.es_patience.value() == patience and win.project.training["early_stopping"]["patience"] == patience
    win.undo_stack.undo()
    assert tp.es_enabled.isChecked() is enabled
    win.undo_stack.undo()
    assert tp.epochs.value() == epochs and win.project.training["epochs"] == epochs
    win.undo_stack.redo()
    assert tp.epochs.value() == epochs + 5
    assert win.undo_stack.index() == 1


# -- the data panel ---------------------------------------------------------------------------------------------------
def test_data_panel_edits_are_undo_steps(win, qtbot):
    wb = win.workbench
    dp = wb.data_panel
    stack = win.undo_stack
    old = dict(win.project.data)
    dp.name.setCurrentIndex(dp.name.findData("iris"))
    qtbot.waitUntil(lambda: win.project.data.get("name") == "iris", timeout=5000)
    assert stack.count() == 1
    qtbot.waitUntil(lambda: wb.dataset is not None and wb.dataset.name == "iris", timeout=30_000)
    dp.val.setValue(30)
    qtbot.waitUntil(lambda: win.project.data.get("validation_split") == 0.3, timeout=5000)
    assert stack.count() == 2 and stack.text(1) == "Change validation split"

    stack.undo()
    assert win.project.data["validation_split"] == old["validation_split"]
    qtbot.waitUntil(lambda: dp.val.value() == round(100 * old["validation_split"]), timeout=5000)
    stack.undo()
    assert win.project.data == old
    qtbot.waitUntil(lambda: dp.name.currentData() == old["name"], timeout=5000)
    qtbot.waitUntil(lambda: wb.dataset is not None and wb.dataset.name == old["name"], timeout=30_000)
    assert stack.count() == 2                 # showing the undone values is no new edit
    stack.redo()
    qtbot.waitUntil(lambda: dp.name.currentData() == "iris", timeout=5000)
    assert win.project.data["name"] == "iris"


# -- a fine-tune phase (transfer) ------------------------------------------------------------------------------------------
def test_undoing_a_fine_tune_phase_restores_the_learning_rate_shown(win, qtbot):
    ui = win.transfer
    sp = win.settings_panel
    g = win.project.graph
    win.scene.select_ids([])
    ui.add_base_with({"source": "file", "path": str(TRANSFER / "digits04_base.keras"), "frozen": True}, wait=True)
    qtbot.waitUntil(lambda: g.by_name("digits04_base") is not None and not ui.busy, timeout=60_000)
    base = g.by_name("digits04_base")
    win.select_node(base.id)
    lr = win.project.compile["optimizer"]["learning_rate"]
    assert sp.opt_editors["learning_rate"].spin.value() == pytest.approx(lr)
    steps = win.undo_stack.count()

    r = ui.fine_tune(2, 0.1)
    low = round(lr * 0.1, 9)
    assert r["learning_rate"] == (lr, low) and win.undo_stack.count() == steps + 1
    assert win.settings_panel.opt_editors["learning_rate"].spin.value() == pytest.approx(low)

    win.undo_stack.undo()
    assert win.project.compile["optimizer"]["learning_rate"] == lr
    qtbot.waitUntil(lambda: win.settings_panel.opt_editors["learning_rate"].spin.value() == pytest.approx(lr),
                    timeout=5000)
    win.undo_stack.redo()
    assert win.project.compile["optimizer"]["learning_rate"] == low
    qtbot.waitUntil(lambda: win.settings_panel.opt_editors["learning_rate"].spin.value() == pytest.approx(low),
                    timeout=5000)
