"""The canvas view: wheel zoom around the cursor, pan with the middle button or space+drag, fit to view,
rubber-band selection, a line grid that fades out when zoomed far out, and drops from the palette."""
from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QGraphicsView

from .style import GRID

LAYER_MIME = "application/x-layerwise-layer"
MIN_ZOOM, MAX_ZOOM = 0.03, 3.0


class GraphView(QGraphicsView):
    layer_dropped = Signal(str, QPointF)     # layer type, scene position
    zoom_changed = Signal(float)
    context_requested = Signal(QPointF, QPoint)   # scene position, global position

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState
                                  | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan = None
        self._space = False

    # -- zoom ------------------------------------------------------------------------------------------------
    def zoom(self):
        return self.transform().m11()

    def set_zoom(self, z, anchor_view_pos=None):
        z = max(MIN_ZOOM, min(MAX_ZOOM, z))
        f = z / self.zoom()
        if abs(f - 1) < 1e-9:
            return
        old_anchor = self.transformationAnchor()
        if anchor_view_pos is None:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.scale(f, f)
        self.setTransformationAnchor(old_anchor)
        self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event):
        dy = event.angleDelta().y() or event.angleDelta().x()
        if not dy:
            return
        self.set_zoom(self.zoom() * math.pow(1.0015, dy), event.position())
        event.accept()

    def zoom_in(self):
        self.set_zoom(self.zoom() * 1.25)

    def zoom_out(self):
        self.set_zoom(self.zoom() / 1.25)

    def fit(self, rect: QRectF | None = None, max_zoom=1.0):
        """Fit the graph (or ``rect``) in the view, not closer than ``max_zoom``."""
        sc = self.scene()
        r = rect if rect is not None else sc.nodes_rect()
        if r.isNull() or r.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoom_changed.emit(self.zoom())
            return
        m = 48.0
        vr = self.viewport().rect()
        if vr.width() < 10 or vr.height() < 10:
            return
        zx = (vr.width() - 2 * m) / r.width()
        zy = (vr.height() - 2 * m) / r.height()
        z = max(MIN_ZOOM, min(max_zoom, zx, zy))
        self.resetTransform()
        self.scale(z, z)
        self.centerOn(r.center())
        self.zoom_changed.emit(self.zoom())

    # -- pan --------------------------------------------------------------------------------------------------
    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self._space):
            self._pan = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._pan is not None:
            d = event.position() - self._pan
            self._pan = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(round(d.x())))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(round(d.y())))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._pan is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._pan = None
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def contextMenuEvent(self, event):
        sp = self.mapToScene(event.pos())
        item = self.scene().itemAt(sp, self.transform())
        if item is not None and not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        elif item is None:
            self.scene().clearSelection()
        self.context_requested.emit(sp, event.globalPos())
        event.accept()

    # -- background grid ------------------------------------------------------------------------------------------
    def drawBackground(self, painter, rect):
        st = self.scene().style
        painter.fillRect(rect, st.canvas)
        z = self.zoom()
        if z < 0.18:
            return
        steps = [(GRID * 5, st.grid_major_pen)]
        if GRID * z >= 9:
            steps.insert(0, (GRID, st.grid_pen))
        aa = painter.testRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for step, pen in steps:
            left = math.floor(rect.left() / step) * step
            top = math.floor(rect.top() / step) * step
            lines = []
            x = left
            while x <= rect.right():
                lines.append(QLineF(x, rect.top(), x, rect.bottom()))
                x += step
            y = top
            while y <= rect.bottom():
                lines.append(QLineF(rect.left(), y, rect.right(), y))
                y += step
            painter.setPen(pen)
            painter.drawLines(lines)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, aa)

    # -- drops from the palette --------------------------------------------------------------------------------------
    def dragEnterEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event):
        md = event.mimeData()
        if md.hasFormat(LAYER_MIME):
            type_name = bytes(md.data(LAYER_MIME)).decode("utf-8")
            self.layer_dropped.emit(type_name, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            return
        super().dropEvent(event)
