"""The editor, offscreen: palette drops, connecting (and refusals), live shapes, problems, clipboard."""
from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from app.editor.view import LAYER_MIME

from .test_editor_support import isolated, keras_loaded, node_by_name, win  # noqa: F401


def drop(view, type_name, view_pos=QPoint(200, 150)):
    md = QMimeData()
    md.setData(LAYER_MIME, type_name.encode())
    ev = QDropEvent(QPointF(view_pos), Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    view.dropEvent(ev)
    return ev


def status(w):
    return w.statusBar().currentMessage()


def test_window_opens_with_example_and_shapes(win):
    g = win.project.graph
    assert win.windowTitle().startswith("digits_cnn")
    assert set(win.scene.nodes) == set(g.nodes)
    assert len(win.scene.edges) == len(g.edges)
    conv = win.scene.nodes[node_by_name(win, "conv2d").id]
    assert conv.shape_text == "8×8×32"
    assert conv.summary == "Conv2D 32 3×3 relu"
    assert conv.params_text == "320 params"
    assert win.summary.text()["total"] == f"{win.document.result.total:,}"


def test_drop_from_palette_places_node_at_drop_point(win):
    n_before = len(win.project.graph.nodes)
    ev = drop(win.view, "Dense", QPoint(300, 200))
    assert ev.isAccepted()
    g = win.project.graph
    assert len(g.nodes) == n_before + 1
    new = list(g.nodes.values())[-1]
    assert new.type == "Dense" and new.name == "dense_1"
    item = win.scene.nodes[new.id]
    centre = win.view.mapToScene(QPoint(300, 200))
    assert item.sceneBoundingRect().contains(centre)
    assert win.scene.selected_node_ids() == [new.id]
    assert win.undo_stack.undoText() == "Add dense_1"


def test_palette_double_click_adds_after_selected_and_connects(win):
    conv = node_by_name(win, "conv2d_2")
    win.select_node(conv.id)
    win.palette.activated.emit("BatchNormalization")
    g = win.project.graph
    new = list(g.nodes.values())[-1]
    assert new.type == "BatchNormalization"
    assert g.inputs_of(new.id) == [conv.id]
    assert win.scene.selected_node_ids() == [new.id]
    win.document.infer_now()
    assert win.scene.nodes[new.id].shape_text == "4×4×64"


def test_palette_search_filters(win):
    win.palette.search.setText("recurrent")
    visible = [win.palette.item_for(t) for t in ("LSTM", "GRU", "Dense")]
    assert not visible[0].isHidden() and not visible[1].isHidden()
    assert visible[2].isHidden()
    assert "long short-term memory" in win.palette.item_for("LSTM").toolTip(0)


def drag_connect(scene, src_item, dst_item, port=0):
    scene.begin_connect(src_item, ("out", 0), src_item.out_port_scene())
    scene.update_connect(dst_item.in_port_scene(port))
    scene.end_connect(dst_item.in_port_scene(port))


def test_connect_by_dragging_between_ports(win):
    g = win.project.graph
    drop(win.view, "Dense", QPoint(300, 300))
    new = list(g.nodes.values())[-1]
    pool = node_by_name(win, "max_pooling2d")
    drag_connect(win.scene, win.scene.nodes[pool.id], win.scene.nodes[new.id])
    assert g.inputs_of(new.id) == [pool.id]
    assert win.undo_stack.undoText().startswith("Connect max_pooling2d")
    assert len(win.scene.edges) == len(g.edges)


def test_refused_connections_say_why(win):
    g, sc = win.project.graph, win.scene
    pixels, conv = node_by_name(win, "pixels"), node_by_name(win, "conv2d")
    n_edges = len(g.edges)
    # a full port
    drag_connect(sc, sc.nodes[pixels.id], sc.nodes[conv.id])
    assert len(g.edges) == n_edges
    assert "already connected" in status(win)
    # a cycle: conv2d_2 -> concat -> dense_x, then dense_x -> concat port 2
    conv2 = node_by_name(win, "conv2d_2")
    drop(win.view, "Concatenate", QPoint(250, 250))
    cat = list(g.nodes.values())[-1]
    drag_connect(sc, sc.nodes[conv2.id], sc.nodes[cat.id], 0)
    drop(win.view, "Dense", QPoint(450, 250))
    dense = list(g.nodes.values())[-1]
    drag_connect(sc, sc.nodes[cat.id], sc.nodes[dense.id], 0)
    n_edges = len(g.edges)
    drag_connect(sc, sc.nodes[dense.id], sc.nodes[cat.id], 1)
    assert len(g.edges) == n_edges
    assert "would make a cycle" in status(win)
    # an Input takes no inputs
    drag_connect(sc, sc.nodes[dense.id], sc.nodes[pixels.id], 0)
    assert len(g.edges) == n_edges


def test_reroute_by_picking_up_an_input_end(win):
    g, sc = win.project.graph, win.scene
    flatten = node_by_name(win, "flatten")
    dense = node_by_name(win, "dense")
    (edge,) = g.in_edges(dense.id)
    sc.begin_connect(sc.nodes[dense.id], ("in", 0), sc.nodes[dense.id].in_port_scene(0))
    sc.end_connect(QPointF(-5000, -5000))   # dropped on empty canvas: disconnected
    assert g.in_edges(dense.id) == []
    win.undo_stack.undo()
    assert g.in_edges(dense.id) == [edge]
    assert g.inputs_of(dense.id) == [flatten.id]


def test_param_edit_changes_downstream_shapes(win):
    g = win.project.graph
    conv2 = node_by_name(win, "conv2d_2")
    flatten = node_by_name(win, "flatten")
    win.select_node(conv2.id)
    assert win.inspector.node_id == conv2.id
    assert win.scene.nodes[flatten.id].shape_text == "1024"
    ed = win.inspector.editors["filters"]
    ed.spin.setValue(16)
    assert g.nodes[conv2.id].params["filters"] == 16
    win.document.infer_now()
    assert win.scene.nodes[conv2.id].shape_text == "4×4×16"
    assert win.scene.nodes[flatten.id].shape_text == "256"
    assert win.scene.nodes[conv2.id].summary == "Conv2D 16 3×3 relu"
    win.undo_stack.undo()
    win.document.infer_now()
    assert win.scene.nodes[flatten.id].shape_text == "1024"
    assert ed.spin.value() == 64  # the inspector follows undo


def test_invalid_param_refused_with_reason(win):
    g = win.project.graph
    drop_node = node_by_name(win, "dropout")
    win.select_node(drop_node.id)
    win.inspector._commit_param("rate", 1.0)
    assert g.nodes[drop_node.id].params["rate"] == 0.2
    assert "must be < 1" in win.inspector.error.text()
    assert "must be < 1" in status(win)
    pixels = node_by_name(win, "pixels")
    win.select_node(pixels.id)
    ed = win.inspector.editors["shape"]
    ed.edit.setText("8 x 1")
    ed._commit()
    assert g.nodes[pixels.id].params["shape"] == [8, 8, 1]
    assert win.inspector.error.isVisible() or "expected a list of integers" in status(win)


def test_problem_shown_on_node_and_listed(win, qtbot):
    g, sc = win.project.graph, win.scene
    dense = node_by_name(win, "dense")
    (edge,) = g.in_edges(dense.id)
    win.select_node(dense.id)
    sc.clearSelection()
    sc.edges[edge].setSelected(True)
    win.editor.delete_selected()
    win.document.infer_now()
    item = sc.nodes[dense.id]
    assert item.error and "not connected" in item.error
    assert "not connected" in item.toolTip()
    rows = win.problems.items()
    assert any(r.startswith("dense:") and "not connected" in r for r in rows)
    assert win.problems_dock.windowTitle().startswith("Problems (")
    # clicking the problem selects and centres its node
    sc.clearSelection()
    win.view.centerOn(-3000, -3000)
    i = next(i for i in range(win.problems.list.count()) if win.problems.list.item(i).text().startswith("dense:"))
    win.problems.list.itemClicked.emit(win.problems.list.item(i))
    assert sc.selected_node_ids() == [dense.id]
    centre = win.view.mapToScene(win.view.viewport().rect().center())
    assert (centre - item.center()).manhattanLength() < 5


def test_copy_paste_and_duplicate(win):
    g, sc = win.project.graph, win.scene
    a, b = node_by_name(win, "conv2d"), node_by_name(win, "conv2d_1")
    sc.select_ids([a.id, b.id])
    n0, e0 = len(g.nodes), len(g.edges)
    assert win.editor.copy()
    text = QApplication.clipboard().text()
    assert json.loads(text)["nodes"][0]["name"] == "conv2d"
    ids = win.editor.paste()
    assert len(ids) == 2 and len(g.nodes) == n0 + 2 and len(g.edges) == e0 + 1
    names = sorted(g.nodes[k].name for k in ids)
    assert names == ["conv2d_3", "conv2d_4"]
    assert sorted(sc.selected_node_ids()) == sorted(ids)
    assert win.undo_stack.undoText().startswith("Paste")
    win.undo_stack.undo()
    assert len(g.nodes) == n0
    sc.select_ids([a.id, b.id])
    dup = win.editor.duplicate()
    assert len(dup) == 2 and len(g.nodes) == n0 + 2
    assert win.undo_stack.undoText().startswith("Duplicate")


def test_pasting_text_that_is_not_a_graph_does_nothing(win):
    g = win.project.graph
    before = g.to_dict()
    depth = win.undo_stack.count()
    for text in ("hello", "[1, 2]", '{"nodes": "x"}', '{"nodes": [{"id": "a", "type": "Nope", "name": "a"}]}',
                 '{"nodes": [{"id": "a", "type": "Dense", "name": "a", "params": {"units": "many"}}]}', ""):
        QApplication.clipboard().setText(text)
        assert win.editor.paste() is None
    assert g.to_dict() == before
    assert win.undo_stack.count() == depth
    assert "no Layerwise nodes" in status(win)


def test_lock_blocks_edits(win):
    g = win.project.graph
    conv = node_by_name(win, "conv2d")
    win.set_editing_locked(True, "training is running")
    win.scene.select_ids([conv.id])
    assert not win.editor.delete_selected()
    assert conv.id in g.nodes
    assert "training is running" in status(win)
    assert win.canvas.banner.isVisibleTo(win)
    win.set_editing_locked(False, "")
    assert win.editor.delete_selected()
    assert conv.id not in g.nodes


def test_zoom_and_fit(win):
    v = win.view
    win.editor.fit()
    z = v.zoom()
    rect = win.scene.nodes_rect()
    vis = v.mapToScene(v.viewport().rect()).boundingRect()
    assert vis.contains(rect)
    v.zoom_in()
    assert v.zoom() > z
    win.view.set_zoom(100)
    assert v.zoom() <= 3.0


def test_context_menu_adds_a_layer_where_clicked(win):
    g = win.project.graph
    pos = QPointF(-900.0, -700.0)
    m = win.actions_.context_menu(pos, win.view.mapToGlobal(QPoint(10, 10)))
    add = next(a.menu() for a in m.actions() if a.text() == "Add Layer Here")
    conv_menu = next(a.menu() for a in add.actions() if a.text() == "Convolution")
    next(a for a in conv_menu.actions() if a.text() == "Conv2D").trigger()
    m.close()
    new = list(g.nodes.values())[-1]
    assert new.type == "Conv2D"
    assert win.scene.nodes[new.id].sceneBoundingRect().contains(pos)


def test_every_param_kind_has_an_editor(qtbot):
    from app.panels.param_editors import EDITORS, ReadOnlyEditor, make_editor
    from core.catalog import Param, ParamKind
    assert set(EDITORS) == set(ParamKind)
    for kind in ParamKind:
        p = Param("p", kind, None, choices=("a", "b"), length=2)
        ed = make_editor(p)
        qtbot.addWidget(ed)
        assert type(ed) is EDITORS[kind]
    bare = make_editor(Param("class_name", ParamKind.CHOICE, "Identity"))   # a choice with no choices to offer
    qtbot.addWidget(bare)
    assert isinstance(bare, ReadOnlyEditor)
