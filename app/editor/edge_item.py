"""Edges as smooth cubic curves from an output port to an input port, and the dashed line that follows
the mouse while a connection is being dragged."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QPainterPathStroker
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from .style import LOD_SIMPLE


def curve(p1: QPointF, p2: QPointF, direction="LR") -> QPainterPath:
    path = QPainterPath(p1)
    if direction == "TB":
        d = p2.y() - p1.y()
        k = max(40.0, min(abs(d) * 0.5, 160.0)) if d >= 0 else max(80.0, min(abs(d) * 0.5, 240.0))
        path.cubicTo(QPointF(p1.x(), p1.y() + k), QPointF(p2.x(), p2.y() - k), p2)
    else:
        d = p2.x() - p1.x()
        k = max(40.0, min(abs(d) * 0.5, 160.0)) if d >= 0 else max(80.0, min(abs(d) * 0.5, 240.0))
        path.cubicTo(QPointF(p1.x() + k, p1.y()), QPointF(p2.x() - k, p2.y()), p2)
    return path


class EdgeItem(QGraphicsItem):
    def __init__(self, scene, edge, src_item, dst_item):
        super().__init__()
        self.sc = scene
        self.edge = edge
        self.src = src_item
        self.dst = dst_item
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0.0)
        self._hover = False
        self._shape = None
        self._path = QPainterPath()
        self._brect = QRectF()
        self.update_path()

    def update_path(self):
        p1 = self.src.out_port_scene(self.edge.src_port)
        p2 = self.dst.in_port_scene(self.edge.port)
        self.prepareGeometryChange()
        self._p1, self._p2 = p1, p2
        self._path = curve(p1, p2, self.sc.direction)
        self._brect = self._path.boundingRect().adjusted(-4, -4, 4, 4)
        self._shape = None

    def boundingRect(self):
        return self._brect

    def shape(self):
        if self._shape is None:
            s = QPainterPathStroker()
            s.setWidth(12)
            self._shape = s.createStroke(self._path)
        return self._shape

    def paint(self, painter, option, widget=None):
        st = self.sc.style
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if lod < LOD_SIMPLE:
            painter.setPen(st.edge_sel_pen if self.isSelected() else st.edge_low_pen)
            painter.drawLine(self._p1, self._p2)
            return
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.isSelected():
            painter.setPen(st.edge_sel_pen)
        elif self._hover:
            painter.setPen(st.edge_hover_pen)
        else:
            painter.setPen(st.edge_pen)
        painter.drawPath(self._path)

    def hoverEnterEvent(self, event):
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hover = False
        self.update()


class TempEdge(QGraphicsItem):
    """The line from the port being dragged to the mouse."""

    def __init__(self, scene, anchor: QPointF, from_output: bool):
        super().__init__()
        self.sc = scene
        self.anchor = anchor
        self.from_output = from_output
        self.ok = True
        self.setZValue(5.0)
        self._path = QPainterPath()
        self._brect = QRectF()
        self.set_end(anchor)

    def set_end(self, p: QPointF, ok=True):
        self.prepareGeometryChange()
        self.ok = ok
        a, b = (self.anchor, p) if self.from_output else (p, self.anchor)
        self._path = curve(a, b, self.sc.direction)
        self._brect = self._path.boundingRect().adjusted(-4, -4, 4, 4)
        self.update()

    def boundingRect(self):
        return self._brect

    def paint(self, painter, option, widget=None):
        st = self.sc.style
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(st.temp_pen if self.ok else st.temp_bad_pen)
        painter.drawPath(self._path)
