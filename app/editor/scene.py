"""The canvas scene: one item per core node and edge, kept in step with the graph's events.

The scene never changes the graph itself; user gestures (connect, move) become undo commands pushed on
the document, and the graph's events bring the items up to date.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsScene

from core.infer import shape_text

from .. import commands, safe
from .edge_item import EdgeItem, TempEdge
from .node_item import NodeItem, format_count, scene_pos
from .style import CanvasStyle

HUGE = 200_000.0


class GraphScene(QGraphicsScene):
    selection_ids_changed = Signal(list)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.doc = document
        self.style = CanvasStyle()
        self.direction = document.direction
        self.snap = True
        self.applying = False       # moving items to follow the graph: no snapping
        self.locked = False
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict = {}
        self.graph = None
        self._drag = None
        self._press = None
        self._result = None
        self.setSceneRect(QRectF(-HUGE / 2, -HUGE / 2, HUGE, HUGE))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.selectionChanged.connect(self._selection_changed)
        document.project_changed.connect(self.set_project)
        document.inference_updated.connect(self.apply_result)
        document.direction_changed.connect(self.set_direction)
        document.locked_changed.connect(self.set_locked)
        self.set_project(document.project)

    # -- building ------------------------------------------------------------------------------------------
    def set_project(self, project):
        if self.graph is not None:
            self._subscribe(self.graph, False)
        self.graph = project.graph
        self._drag = None
        self.clear()
        self.nodes.clear()
        self.edges.clear()
        self._result = None
        self.direction = self.doc.direction
        for node in self.graph.nodes.values():
            self._node_added(node)
        for e in self.graph.edges:
            self._edge_added(e)
        self._subscribe(self.graph, True)
        if self.doc.result is not None:
            self.apply_result(self.doc.result)

    def _subscribe(self, graph, on):
        ev = graph.events
        pairs = [(ev.node_added, self._node_added), (ev.node_removed, self._node_removed),
                 (ev.edge_added, self._edge_added), (ev.edge_removed, self._edge_removed),
                 (ev.param_changed, self._param_changed), (ev.node_moved, self._node_moved),
                 (ev.node_renamed, self._refresh_node), (ev.settings_changed, self._refresh_node)]
        for event, cb in pairs:
            event.connect(cb) if on else event.disconnect(cb)

    # -- graph events ----------------------------------------------------------------------------------------
    def _node_added(self, node):
        item = NodeItem(self, node)
        if self.locked:
            item.setFlag(item.GraphicsItemFlag.ItemIsMovable, False)
        self.nodes[node.id] = item
        self.addItem(item)
        if self._result is not None:
            self._apply_one(node.id, item)

    def _node_removed(self, node):
        item = self.nodes.pop(node.id, None)
        if item is not None:
            for e in list(item.edges):
                self._drop_edge_item(e)
            self.removeItem(item)

    def _edge_added(self, edge):
        s, d = self.nodes.get(edge.src), self.nodes.get(edge.dst)
        if s is None or d is None:
            return
        d.refresh()
        item = EdgeItem(self, edge, s, d)
        s.edges.append(item)
        d.edges.append(item)
        self.edges[edge] = item
        self.addItem(item)
        for e in d.edges:
            e.update_path()
        s.update()

    def _edge_removed(self, edge):
        item = self.edges.get(edge)
        if item is not None:
            self._drop_edge_item(item)
        d = self.nodes.get(edge.dst)
        if d is not None:
            d.refresh()
            for e in d.edges:
                e.update_path()
        s = self.nodes.get(edge.src)
        if s is not None:
            s.update()

    def _drop_edge_item(self, item):
        self.edges.pop(item.edge, None)
        for end in (item.src, item.dst):
            if item in end.edges:
                end.edges.remove(item)
        if item.scene() is self:
            self.removeItem(item)

    def _param_changed(self, node, key):
        self._refresh_node(node)

    def _refresh_node(self, node):
        item = self.nodes.get(node.id)
        if item is not None:
            item.refresh(node)
            for e in item.edges:
                e.update_path()

    def _node_moved(self, node):
        item = self.nodes.get(node.id)
        target = scene_pos(node.pos)
        if item is not None and item.pos() != target:
            self.applying = True
            try:
                item.setPos(target)
            finally:
                self.applying = False

    # -- inference ----------------------------------------------------------------------------------------------
    def apply_result(self, result):
        """Show shapes, parameter counts and problems; only items whose text changed are repainted."""
        self._result = result
        changed = 0
        for k, item in self.nodes.items():
            changed += self._apply_one(k, item)
        return changed

    def _apply_one(self, k, item):
        res = self._result
        info = res.nodes.get(k) if res is not None else None
        if info is None:
            return item.set_info("…", "", None, False)
        own = self._input_shape(k) if info.shape is None else None
        if info.shape is not None:   # a node with several outputs: each output's shape, by port
            text = shape_text(info.outputs if info.outputs else info.shape)
        elif own is not None:   # an Input has its shape even while nothing is connected to it
            return item.set_info(own, "", info.error, True)
        elif info.blocked:
            text = "waiting for inputs"
        else:
            text = "no shape"
        n = info.params
        params = f"{format_count(n)} params" if n else ""
        return item.set_info(text, params, info.error, info.shape is not None)

    def _input_shape(self, k):
        """An Input node's own shape as text ("8×8×1"), or None (another type, or no usable shape param)."""
        node = self.graph.nodes.get(k) if self.graph is not None else None
        if node is None or node.type != "Input":
            return None
        shape = node.params.get("shape")
        if not isinstance(shape, (list, tuple)) or not all(
                d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in shape):
            return None
        return shape_text((None, *shape))

    # -- state ----------------------------------------------------------------------------------------------
    def set_style(self, style=None):
        self.style = style or CanvasStyle()
        for item in self.nodes.values():
            item._elide()
            item.update()
        for e in self.edges.values():
            e.update()
        self.update()

    def set_direction(self, direction):
        if direction == self.direction:
            return
        self.direction = direction
        for item in self.nodes.values():
            item._relayout()
        for e in self.edges.values():
            e.update_path()

    def set_locked(self, locked, reason=""):
        self.locked = locked
        for item in self.nodes.values():
            item.setFlag(item.GraphicsItemFlag.ItemIsMovable, not locked)

    def view_scale(self):
        views = self.views()
        return views[0].transform().m11() if views else 1.0

    def selected_node_ids(self):
        return [it.node_id for it in self.selectedItems() if isinstance(it, NodeItem)]

    def selected_edges(self):
        return [it.edge for it in self.selectedItems() if isinstance(it, EdgeItem)]

    def _selection_changed(self):
        self.selection_ids_changed.emit(self.selected_node_ids())

    def select_ids(self, ids):
        self.blockSignals(True)
        try:
            self.clearSelection()
            for k in ids:
                it = self.nodes.get(k)
                if it is not None:
                    it.setSelected(True)
        finally:
            self.blockSignals(False)
        self._selection_changed()

    def nodes_rect(self, ids=None):
        items = [self.nodes[k] for k in (ids or self.nodes) if k in self.nodes]
        if not items:
            return QRectF()
        r = items[0].sceneBoundingRect()
        for it in items[1:]:
            r = r.united(it.sceneBoundingRect())
        return r

    # -- moving: one undo step per drag ----------------------------------------------------------------------------
    def mousePressEvent(self, event):
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self._drag is None:
            self._press = {it.node_id: (it.pos().x(), it.pos().y()) for it in self.selectedItems()
                           if isinstance(it, NodeItem)}

    def mouseReleaseEvent(self, event):
        super().mouseReleaseEvent(event)
        press, self._press = self._press, None
        if not press:
            return
        moves = {}
        for k, old in press.items():
            it = self.nodes.get(k)
            if it is None:
                continue
            new = (it.pos().x(), it.pos().y())
            if new != tuple(self.graph.nodes[k].pos):
                moves[k] = (tuple(self.graph.nodes[k].pos), new)
        if moves and not self.doc.push(commands.MoveNodes(self.graph, moves)):
            for k, (old, _) in moves.items():
                self._node_moved(self.graph.nodes[k])

    # -- connecting by dragging between ports --------------------------------------------------------------------
    def begin_connect(self, item, hit, scene_pos):
        side, idx = hit
        g = self.graph
        pickup = None
        if side == "out":
            drag = {"src": item.node_id, "src_port": idx, "from_output": True, "anchor": item.out_port_scene(idx)}
        else:
            existing = [e for e in g.in_edges(item.node_id) if e.port == idx]
            if existing:  # pick the edge up by its input end, to re-route or drop it
                pickup = existing[0]
                src = self.nodes[pickup.src]
                drag = {"src": pickup.src, "src_port": pickup.src_port, "from_output": True,
                        "anchor": src.out_port_scene(pickup.src_port)}
                ei = self.edges.get(pickup)
                if ei is not None:
                    ei.setVisible(False)
            else:
                drag = {"dst": item.node_id, "port": idx, "from_output": False, "anchor": item.in_port_scene(idx)}
        drag["pickup"] = pickup
        drag["temp"] = TempEdge(self, drag["anchor"], drag["from_output"])
        drag["hot"] = None
        self.addItem(drag["temp"])
        self._drag = drag
        self.update_connect(scene_pos)

    def _target(self, pos):
        """(item, side, index, reason) for the best target under ``pos``; reason None when allowed."""
        d = self._drag
        r = max(12.0, 9.0 / max(self.view_scale(), 0.05))
        area = QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r)
        for it in self.items(area):
            if not isinstance(it, NodeItem):
                continue
            local = it.mapFromScene(pos)
            hit = it.port_at(local, r)
            body = it.contains(local) and hit is None
            if d["from_output"]:
                if it.node_id == d["src"] and hit is None:
                    continue
                if hit is not None and hit[0] == "in":
                    port = hit[1]
                elif body or (hit is not None and hit[0] == "out"):
                    port = None
                else:
                    continue
                pk = d["pickup"]
                if pk is not None and pk.dst == it.node_id and (port is None or pk.port == port):
                    return it, "in", pk.port, None
                reason = self.graph.can_connect(d["src"], it.node_id, port, d.get("src_port", 0))
                if port is None:
                    port = self.graph.free_port(it.node_id) if reason is None else None
                if reason is None and port is not None and it.fixed_inputs is not None and port >= it.n_in:
                    n = it.fixed_inputs
                    reason = (f"{safe.clip(it.name)} (a nested model) takes {n} input{'s' if n != 1 else ''}, "
                              f"and all are connected")
                return it, "in", port, reason
            if it.node_id == d["dst"]:
                continue
            if (hit is not None and hit[0] == "out") or body or hit is not None:
                out = hit[1] if hit is not None and hit[0] == "out" else 0
                return it, "out", out, self.graph.can_connect(it.node_id, d["dst"], d["port"], out)
        return None

    def update_connect(self, pos):
        d = self._drag
        if d is None:
            return
        tgt = self._target(pos)
        hot = None
        end, ok = pos, True
        if tgt is not None:
            it, side, port, reason = tgt
            ok = reason is None
            if side == "in" and port is not None and port < it.n_in:
                end = it.in_port_scene(port)
                hot = (it, ("in", port, ok))
            elif side == "out":
                end = it.out_port_scene(port)
                hot = (it, ("out", port, ok))
            else:
                hot = None
        if d["hot"] is not None and (hot is None or hot[0] is not d["hot"][0]):
            d["hot"][0].set_hot(None)
        if hot is not None:
            hot[0].set_hot(hot[1])
        d["hot"] = hot
        d["temp"].set_end(end, ok)

    def end_connect(self, pos):
        d = self._drag
        if d is None:
            return
        tgt = self._target(pos)
        self._drag = None
        if d["hot"] is not None:
            d["hot"][0].set_hot(None)
        self.removeItem(d["temp"])
        pickup = d["pickup"]
        if pickup is not None:
            ei = self.edges.get(pickup)
            if ei is not None:
                ei.setVisible(True)
        g = self.graph
        if tgt is None:
            if pickup is not None:
                self.doc.push(commands.Disconnect(g, [pickup]))
            return
        it, side, port, reason = tgt
        if reason is not None:
            self.doc.message.emit(f"Cannot connect: {reason}")
            return
        if d["from_output"]:
            src, dst, out = d["src"], it.node_id, d.get("src_port", 0)
        else:
            src, dst, port, out = it.node_id, d["dst"], d["port"], port
        if pickup is not None:
            if pickup.dst == dst and pickup.port == port:
                return
            self.doc.push_all(f"Reconnect {safe.clip(g.nodes[src].name)} → {safe.clip(g.nodes[dst].name)}",
                              [commands.Disconnect(g, [pickup]), commands.Connect(g, src, dst, port, out)])
        else:
            self.doc.push(commands.Connect(g, src, dst, port, out))

    def connect_nodes(self, src, dst, port=None):
        """Connect programmatically (tests, palette): refused connections go to the status bar."""
        reason = self.graph.can_connect(src, dst, port)
        if reason is not None:
            self.doc.message.emit(f"Cannot connect: {reason}")
            return False
        return self.doc.push(commands.Connect(self.graph, src, dst, port))
