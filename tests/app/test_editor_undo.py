"""Undo/redo of every kind of edit: one named step each, and the graph and project come back exactly."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF

from app import commands

from .test_editor import drag_connect, drop
from .test_editor_support import isolated, keras_loaded, node_by_name, snapshot, win  # noqa: F401


def check_undo_redo(w, do, name_part):
    before = snapshot(w)
    depth = w.undo_stack.count()
    do()
    after = snapshot(w)
    assert after != before
    assert w.undo_stack.count() == depth + 1
    assert name_part in w.undo_stack.undoText(), w.undo_stack.undoText()
    assert name_part in w.actions_.undo.text()
    w.undo_stack.undo()
    assert snapshot(w) == before
    assert set(w.scene.nodes) == set(w.project.graph.nodes)
    assert set(w.scene.edges) == set(w.project.graph.edges)
    w.undo_stack.redo()
    assert snapshot(w) == after
    assert set(w.scene.nodes) == set(w.project.graph.nodes)
    assert set(w.scene.edges) == set(w.project.graph.edges)
    w.document.infer_now()
    assert not any(p.message.startswith("Shape inference failed") for p in w.document.result.problems)


def test_undo_add(win):
    check_undo_redo(win, lambda: drop(win.view, "LSTM", QPoint(200, 200)), "Add lstm")


def test_undo_delete_nodes_with_edges(win):
    ids = [node_by_name(win, n).id for n in ("conv2d_1", "max_pooling2d")]
    order = list(win.project.graph.nodes)

    def do():
        win.scene.select_ids(ids)
        assert win.editor.delete_selected()
    check_undo_redo(win, do, "Delete 2 nodes")
    win.undo_stack.undo()
    assert list(win.project.graph.nodes) == order  # node order (model input/output order) restored


def test_undo_connect_and_disconnect(win):
    sc, g = win.scene, win.project.graph
    drop(win.view, "Dense", QPoint(200, 300))
    new = list(g.nodes.values())[-1]
    pool = node_by_name(win, "max_pooling2d")
    check_undo_redo(win, lambda: drag_connect(sc, sc.nodes[pool.id], sc.nodes[new.id]), "Connect")
    edge = g.in_edges(new.id)[0]

    def disconnect():
        sc.clearSelection()
        sc.edges[edge].setSelected(True)
        assert win.editor.delete_selected()
    check_undo_redo(win, disconnect, "Disconnect")


def test_undo_move_is_one_step_per_drag(win):
    sc, g = win.scene, win.project.graph
    conv = node_by_name(win, "conv2d")
    item = sc.nodes[conv.id]

    def drag():
        sc.select_ids([conv.id])
        sc._press = {conv.id: (item.pos().x(), item.pos().y())}
        for k in range(1, 6):   # several mouse moves, one release
            item.setPos(item.pos() + QPointF(13, 7))
        sc.mouseReleaseEvent(_release())
    check_undo_redo(win, drag, "Move conv2d")
    x, y = g.nodes[conv.id].pos
    assert x % 20 == 0 and y % 20 == 0  # snapped to the grid


def _release():
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtWidgets import QGraphicsSceneMouseEvent
    ev = QGraphicsSceneMouseEvent(QEvent.Type.GraphicsSceneMouseRelease)
    ev.setButton(Qt.MouseButton.LeftButton)
    return ev


def test_undo_param_rename_settings(win):
    g = win.project.graph
    dense = node_by_name(win, "dense")
    win.select_node(dense.id)
    insp = win.inspector
    check_undo_redo(win, lambda: insp.editors["units"].spin.setValue(128), "Change dense units")
    check_undo_redo(win, lambda: insp.editors["activation"].committed.emit("tanh"), "Change dense activation")

    def rename():
        insp.name_edit.setText("hidden")
        insp._rename()
    check_undo_redo(win, rename, "Rename dense to hidden")
    assert win.scene.nodes[dense.id].name == "hidden"
    check_undo_redo(win, lambda: insp.trainable.setChecked(False), "trainable")
    check_undo_redo(win, lambda: insp.l2_box.setChecked(True), "L2 override")
    check_undo_redo(win, lambda: insp.drop_box.setChecked(False), "global dropout")
    assert g.nodes[dense.id].settings == {"trainable": False, "l2": 0.0, "global_dropout": False}


def test_consecutive_spin_steps_merge_into_one_step(win):
    dense = node_by_name(win, "dense")
    win.select_node(dense.id)
    depth = win.undo_stack.count()
    spin = win.inspector.editors["units"].spin
    for _ in range(4):
        spin.stepBy(1)
    assert win.project.graph.nodes[dense.id].params["units"] == 68
    assert win.undo_stack.count() == depth + 1
    win.undo_stack.undo()
    assert win.project.graph.nodes[dense.id].params["units"] == 64


def test_undo_paste(win):
    sc = win.scene
    ids = [node_by_name(win, n).id for n in ("dense", "dropout")]

    def do():
        sc.select_ids(ids)
        assert win.editor.copy()
        assert win.editor.paste()
    check_undo_redo(win, do, "Paste 2 nodes")


def test_undo_auto_layout(win):
    check_undo_redo(win, lambda: win.editor.auto_layout("TB"), "Auto-layout (top to bottom)")
    assert win.document.direction == "TB"
    win.undo_stack.undo()
    assert win.document.direction == "LR"
    win.undo_stack.redo()
    g = win.project.graph
    ys = [g.nodes[k].pos[1] for k in g.topological_order()]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)   # a chain goes straight down


def test_undo_project_settings(win):
    sp = win.settings_panel
    check_undo_redo(win, lambda: sp._reg("dropout", 0.3), "Global dropout 0.3")
    assert win.project.regularization["dropout"] == 0.3
    i = sp.opt_combo.findData("sgd")

    def optimizer():
        sp.opt_combo.setCurrentIndex(i)
        sp.opt_combo.activated.emit(i)
    check_undo_redo(win, optimizer, "Optimizer SGD")
    assert win.project.compile["optimizer"]["name"] == "sgd"
    assert win.project.compile["optimizer"]["learning_rate"] == 0.003  # kept from Adam


def test_edit_menu_lists_named_steps(win):
    drop(win.view, "Dense", QPoint(200, 200))
    win.editor.auto_layout("LR")
    win.actions_._fill_history()
    texts = [a.text() for a in win.actions_.history_menu.actions()]
    assert texts[:2] == ["Add dense_1", "Auto-layout (left to right)"]
    assert win.windowTitle().startswith("digits_cnn*") or win.isWindowModified()


def test_commands_change_only_the_core_graph(win):
    """Views follow events: a command pushed directly still updates the canvas."""
    g = win.project.graph
    cmd = commands.AddNode(g, "Dense", (0.0, 600.0))
    win.document.push(cmd)
    assert cmd.node.id in win.scene.nodes
    win.undo_stack.undo()
    assert cmd.node.id not in win.scene.nodes
