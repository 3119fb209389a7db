"""Editing actions on the canvas (add, delete, copy/paste, duplicate, auto-layout, fit, export a picture),
each turned into undo commands on the document."""
from __future__ import annotations

import json

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QCursor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from core.errors import LayerwiseError
from core.layout import layered
from core.graph import validate_graph_dict

from .. import commands, safe
from .node_item import NodeItem
from .scene import GraphScene
from .style import GRID, NODE_H, NODE_W
from .view import GraphView

GRAPH_MIME = "application/x-layerwise-graph"
MAX_IMAGE_SIDE = 16384.0   # pixels: a picture of the graph never needs a gigabyte
LAYOUT_GAPS = {"LR": (64.0, 36.0), "TB": (56.0, 40.0)}   # auto-layout: between layers, between nodes of a layer


def _snap(v):
    return round(v / GRID) * GRID


def layout_positions(graph, direction="LR", sizes=None):
    """Auto-layout positions for the canvas: core.layout's layered drawing with the cards' sizes and gaps, on the
    grid, keeping the graph's top-left corner (NaN, infinite or huge positions of a broken file do not drag the
    drawing off the canvas)."""
    nan = float("nan")
    xs = [x for x in (safe.coord(n.pos[0], nan) for n in graph.nodes.values()) if x == x]
    ys = [y for y in (safe.coord(n.pos[1], nan) for n in graph.nodes.values()) if y == y]
    anchor = (safe.coord(min(xs, default=0.0)), safe.coord(min(ys, default=0.0)))
    return layered(graph, direction, sizes=sizes, default_size=(NODE_W, NODE_H), gaps=LAYOUT_GAPS[direction],
                   anchor=anchor, grid=GRID)


class EditorController(QObject):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.doc = document
        self.scene = GraphScene(document, self)
        self.view = GraphView(self.scene)
        self.view.layer_dropped.connect(self.add_layer_at)
        self._paste_count = 0

    @property
    def graph(self):
        return self.doc.project.graph

    # -- adding -----------------------------------------------------------------------------------------------
    def add_layer_at(self, type_name, scene_pos: QPointF):
        """A layer dropped from the palette: centred on the drop point."""
        pos = (_snap(scene_pos.x() - NODE_W / 2), _snap(scene_pos.y() - NODE_H / 2))
        cmd = commands.AddNode(self.graph, type_name, pos)
        if self.doc.push(cmd):
            self.scene.select_ids([cmd.node.id])
            return cmd.node.id
        return None

    def add_layer_after_selected(self, type_name):
        """Palette double-click: add after the selected node and connect it (or in the view's centre)."""
        sel = self.scene.selected_node_ids()
        g = self.graph
        src = sel[-1] if sel else None
        if src is not None and g.nodes[src].type == "Output":
            src = None
        if src is None:
            c = self.view.mapToScene(self.view.viewport().rect().center())
            return self.add_layer_at(type_name, c)
        item = self.scene.nodes[src]
        if self.doc.direction == "TB":
            pos = QPointF(item.pos().x(), item.pos().y() + item.h + 60)
        else:
            pos = QPointF(item.pos().x() + item.w + 80, item.pos().y())
        pos = self._free_spot(pos)
        cmd = commands.AddNode(g, type_name, (pos.x(), pos.y()), connect_from=src)
        if self.doc.push(cmd):
            if not cmd.edges:
                why = g.can_connect(src, cmd.node.id)
                if why:
                    self.doc.message.emit(f"Added {cmd.node.name} without connecting it: {why}")
            self.scene.select_ids([cmd.node.id])
            self.view.ensureVisible(self.scene.nodes[cmd.node.id], 60, 60)
            return cmd.node.id
        return None

    def _free_spot(self, pos: QPointF) -> QPointF:
        step = QPointF(0, NODE_H + 40) if self.doc.direction == "LR" else QPointF(NODE_W + 40, 0)
        for _ in range(50):
            r = QRectF(pos.x() + 2, pos.y() + 2, NODE_W - 4, NODE_H - 4)
            if not any(isinstance(it, NodeItem) for it in self.scene.items(r)):
                return QPointF(_snap(pos.x()), _snap(pos.y()))
            pos = pos + step
        return pos

    # -- removing ----------------------------------------------------------------------------------------------
    def delete_selected(self):
        ids = self.scene.selected_node_ids()
        edges = self.scene.selected_edges()
        if not ids and not edges:
            return False
        if ids:
            return self.doc.push(commands.RemoveItems(self.graph, ids, edges))
        return self.doc.push(commands.Disconnect(self.graph, edges))

    # -- clipboard ---------------------------------------------------------------------------------------------
    def copy(self):
        ids = self.scene.selected_node_ids()
        if not ids:
            self.doc.message.emit("Nothing selected to copy")
            return False
        d = self.graph.to_dict(ids)
        d["format"] = "layerwise-graph"
        text = json.dumps(d, indent=1, ensure_ascii=False)
        # plain text (JSON): readable anywhere, and no Python-owned QMimeData is left in the clipboard at exit
        QApplication.clipboard().setText(text)
        self.doc.message.emit(f"Copied {len(ids)} node{'s' if len(ids) != 1 else ''}")
        self._paste_count = 0
        return True

    def paste(self):
        md = QApplication.clipboard().mimeData()
        text = None
        if md is not None and md.hasFormat(GRAPH_MIME):
            text = bytes(md.data(GRAPH_MIME)).decode("utf-8", "replace")
        elif md is not None and md.hasText():
            text = md.text()
        data = self._parse_fragment(text)
        if data is None:
            self.doc.message.emit("The clipboard holds no Layerwise nodes to paste")
            return None
        self._paste_count += 1
        return self._paste(data, "Paste", self._paste_offset(data))

    def duplicate(self):
        ids = self.scene.selected_node_ids()
        if not ids:
            self.doc.message.emit("Nothing selected to duplicate")
            return None
        return self._paste(self.graph.to_dict(ids), "Duplicate", (GRID * 2, GRID * 2))

    def _parse_fragment(self, text):
        if not text or len(text) > 20_000_000:
            return None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not data["nodes"]:
            return None
        data = {"nodes": data["nodes"], "edges": data.get("edges", [])}
        try:
            validate_graph_dict(data)
        except LayerwiseError:
            return None
        return data

    def _paste_offset(self, data):
        nan = float("nan")
        pos = [safe.xy(n.get("pos", (0, 0)) if isinstance(n, dict) else None, (nan, nan)) for n in data["nodes"]]
        xs = [x for x, _y in pos if x == x] or [0.0]   # non-finite positions are left out (x == x: not NaN)
        ys = [y for _x, y in pos if y == y] or [0.0]
        vp = self.view.viewport()
        local = vp.mapFromGlobal(QCursor.pos())
        if vp.rect().contains(local):
            p = self.view.mapToScene(local)
            return (_snap(p.x() - min(xs)), _snap(p.y() - min(ys)))
        k = GRID * 2 * self._paste_count
        return (k, k)

    def _paste(self, data, text, offset):
        cmd = commands.Paste(self.graph, data, offset, text)
        try:
            ok = self.doc.push(cmd)
        except LayerwiseError as e:  # validated above; a refusal here leaves the graph as it was
            self.doc.message.emit(f"Cannot paste: {e}")
            return None
        if ok and cmd.ids:
            self.scene.select_ids(cmd.ids)
            return cmd.ids
        return None

    def select_all(self):
        self.scene.select_ids(list(self.scene.nodes))

    # -- view ------------------------------------------------------------------------------------------------------
    def fit(self):
        self.view.fit()

    def select_node(self, node_id, centre=True):
        item = self.scene.nodes.get(node_id)
        if item is None:
            return False
        self.scene.select_ids([node_id])
        if centre:
            self.view.centerOn(item.center())
        return True

    def auto_layout(self, direction=None):
        direction = direction or self.doc.direction
        g = self.graph
        if not g.nodes:
            return False
        sizes = {k: (it.w, it.h if direction == self.doc.direction else it.h) for k, it in self.scene.nodes.items()}
        new = layout_positions(g, direction, sizes)
        moves = {k: (tuple(g.nodes[k].pos), p) for k, p in new.items() if tuple(g.nodes[k].pos) != p}
        if not moves and direction == self.doc.direction:
            self.doc.message.emit("The graph is already laid out")
            return False
        label = "Auto-layout" + (" (left to right)" if direction == "LR" else " (top to bottom)")
        ok = self.doc.push(commands.MoveNodes(g, moves, label, doc=self.doc, direction=direction))
        if ok:
            self.view.fit()
        return ok

    # -- pictures ------------------------------------------------------------------------------------------------------
    def render_image(self, scale=2.0) -> QImage:
        r = self.scene.nodes_rect().adjusted(-24, -24, 24, 24)
        if r.isEmpty():
            r = QRectF(0, 0, 200, 100)
        scale = min(scale, MAX_IMAGE_SIDE / max(r.width(), r.height(), 1.0))   # nodes far apart: a smaller picture
        img = QImage(QSize(int(r.width() * scale), int(r.height() * scale)), QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(QColor(self.scene.style.canvas))
        p = QPainter(img)
        p.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                         | QPainter.RenderHint.SmoothPixmapTransform)
        self._render(p, QRectF(0, 0, img.width(), img.height()), r)
        p.end()
        return img

    def _render(self, painter, target, source):
        sel = self.scene.selectedItems()
        for it in sel:
            it.setSelected(False)
        try:
            self.scene.render(painter, target, source)
        finally:
            for it in sel:
                it.setSelected(True)

    def export_image(self, path):
        """Write the graph as a PNG or SVG picture; returns the path. Raises OSError when it cannot write."""
        path = str(path)
        if path.lower().endswith(".svg"):
            from PySide6.QtSvg import QSvgGenerator
            r = self.scene.nodes_rect().adjusted(-24, -24, 24, 24)
            gen = QSvgGenerator()
            gen.setFileName(path)
            gen.setSize(QSize(int(r.width()), int(r.height())))
            gen.setViewBox(QRectF(0, 0, r.width(), r.height()))
            gen.setTitle(safe.clip(self.doc.project.name))
            p = QPainter()
            if not p.begin(gen):
                raise OSError(f"cannot write {path}")
            p.fillRect(QRectF(0, 0, r.width(), r.height()), self.scene.style.canvas)
            self._render(p, QRectF(0, 0, r.width(), r.height()), r)
            p.end()
        else:
            img = self.render_image()
            if not img.save(path, "PNG"):
                raise OSError(f"cannot write {path}")
        return path


__all__ = ["EditorController", "GRAPH_MIME", "Qt"]
