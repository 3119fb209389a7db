"""A node on the canvas: a card with the node's name, its type and key params, its output shape and
parameter count, its ports, and its category colour; drawn in the error colour when it has a problem.

Painting is level-of-detail: far out a node is one filled rectangle, a little closer a card without text.
Texts are elided once when they change, never per paint.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from core import catalog
from core.graph import output_count
from core.node_settings import is_frozen

from .. import cost_overlay, safe
from ..experiments import sweep_marks
from . import port_item
from .style import FOOT_H, GRID, HEAD_H, LOD_SIMPLE, LOD_TEXT, NODE_H, NODE_W, PORT_R, PORT_STEP, RADIUS

_FLAGS = (QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
          | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
_chips: dict = {}


def chip_pixmap(category) -> QPixmap:
    pm = _chips.get(category)
    if pm is None:
        from ..icons import category_icon
        pm = category_icon(category).pixmap(40, 40)
        _chips[category] = pm
    return pm


def scene_pos(pos) -> QPointF:
    """Where the item of a node at ``pos`` goes: NaN or infinite coordinates become 0 and huge ones are clamped
    inside the scene, so the view never gets non-finite geometry (whatever the file, a paste or a command said)."""
    return QPointF(*safe.xy(pos))


def group_inputs(node):
    """How many inputs a group node's nested model takes (from its config), or None for other nodes."""
    from core.groups import is_group
    if not is_group(node):
        return None
    if node.params.get("class_name") == "Sequential":
        return 1
    cfg = node.params.get("config")
    spec = cfg.get("input_layers") if isinstance(cfg, dict) else None
    if isinstance(spec, dict):
        return max(1, len(spec))
    if isinstance(spec, list) and spec:
        return 1 if isinstance(spec[0], str) else len(spec)
    return None


def format_count(n):
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 1_000_000:.2f}M"


def overview_lines(name, fm, width):
    """The name on one line, or split at an underscore onto two, or elided: for the zoomed-out view."""
    if fm.horizontalAdvance(name) <= width:
        return name
    cuts = [i for i, ch in enumerate(name) if ch in "_.-" and 0 < i < len(name) - 1]
    best = None
    for i in cuts:
        a, b = name[:i + 1], name[i + 1:]
        wa, wb = fm.horizontalAdvance(a), fm.horizontalAdvance(b)
        if wa <= width and wb <= width:
            score = abs(wa - wb)
            if best is None or score < best[0]:
                best = (score, a, b)
    if best is not None:
        return f"{best[1]}\n{best[2]}"
    if cuts:
        i = min(cuts, key=lambda c: abs(c - len(name) / 2))
        a, b = name[:i + 1], name[i + 1:]
        return (fm.elidedText(a, Qt.TextElideMode.ElideRight, width) + "\n"
                + fm.elidedText(b, Qt.TextElideMode.ElideLeft, width))
    return fm.elidedText(name, Qt.TextElideMode.ElideMiddle, width)


class NodeItem(QGraphicsItem):
    def __init__(self, scene, node):
        super().__init__()
        self.sc = scene
        self.node_id = node.id
        self.setFlags(_FLAGS)
        self.setAcceptHoverEvents(True)
        self.setZValue(1.0)
        self.edges = []            # EdgeItems that touch this node
        self.shape_text = "…"      # until TensorFlow is ready
        self.params_text = ""
        self.error = None
        self.has_shape = False
        self.hot = None            # (side, index, ok) while a connection is dragged over a port
        self.overlay = None        # (share 0..1, figure text) while the cost overlay is on (app.cost_overlay)
        self._connecting = False
        self._brect = QRectF()
        self.refresh(node)
        self.setPos(scene_pos(node.pos))

    # -- data -------------------------------------------------------------------------------------------
    def refresh(self, node=None):
        """Re-read name, type summary, category and ports from the core node."""
        node = node or self.sc.graph.nodes[self.node_id]
        spec = node.spec
        self.type_name = node.type
        self.category = spec.category if spec else "Other"
        # names and summaries are cut before any eliding: a megabyte of text is never laid out
        self.name = safe.clip(node.name, safe.EDIT_CHARS)
        self.summary = safe.clip(catalog.summary_text(node.type, node.params), safe.EDIT_CHARS)
        self.description = spec.description if spec else ""
        self.frozen = is_frozen(node)
        self.has_out = node.type != "Output"
        self.n_out = output_count(node) if self.has_out else 0
        self.n_in = self.sc.graph.port_count(node.id) if (spec and spec.inputs[1] != 0) else 0
        self.fixed_inputs = group_inputs(node)
        if self.fixed_inputs is not None:   # a nested model takes as many inputs as its config says, no spare one
            used = max([e.port + 1 for e in self.sc.graph.in_edges(node.id)], default=0)
            self.n_in = max(self.fixed_inputs, used)
        names = spec.input_names if spec else ()
        self.port_names = [spec.port_name(i) for i in range(self.n_in)] if (names and self.n_in > 1) else []
        self.connected = {e.port for e in self.sc.graph.in_edges(node.id)} if self.n_in else set()
        self._relayout()

    def _relayout(self):
        direction = self.sc.direction
        band = bool(self.port_names) and direction == "LR"   # named ports get their own rows under the header
        w = NODE_W
        if band:
            h = HEAD_H + self.n_in * PORT_STEP + 6 + FOOT_H
        elif direction == "TB":
            h = NODE_H
        else:
            h = max(NODE_H, max(self.n_in, self.n_out) * PORT_STEP + 28)
        if band:
            h = max(h, self.n_out * PORT_STEP + 28)
        self.prepareGeometryChange()
        self.w, self.h, self.x0 = w, h, 12.0
        self.foot = h - FOOT_H if band else HEAD_H
        m = PORT_R + 4
        self._brect = QRectF(-m, -m, w + 2 * m, h + 2 * m + 3)
        if band:
            self._in_pos = [QPointF(0.0, HEAD_H + 3 + PORT_STEP * (i + 0.5)) for i in range(self.n_in)]
        else:
            self._in_pos = [port_item.input_pos(w, h, self.n_in, i, direction) for i in range(self.n_in)]
        self._outs = [port_item.output_pos(w, h, direction, self.n_out, i) for i in range(self.n_out)]
        self._out_pos = self._outs[0] if self._outs else port_item.output_pos(w, h, direction)
        self._card = QRectF(0, 0, w, h)
        head = QPainterPath()
        hh = HEAD_H
        head.moveTo(0, hh)
        head.lineTo(0, RADIUS)
        head.arcTo(QRectF(0, 0, 2 * RADIUS, 2 * RADIUS), 180, -90)
        head.lineTo(w - RADIUS, 0)
        head.arcTo(QRectF(w - 2 * RADIUS, 0, 2 * RADIUS, 2 * RADIUS), 90, -90)
        head.lineTo(w, hh)
        head.closeSubpath()
        self._head = head
        self._elide()
        self.update()

    def _elide(self):
        st = self.sc.style
        self._overview = {}
        tw = self.w - self.x0 - 26 - 10
        # the name stops short of the problem badge or the "frozen" note in the top-right corner
        if self.error:
            name_w = self.w - 23 - 4 - (self.x0 + 26)
        elif self.frozen:
            name_w = self.w - 10 - st.small_fm.horizontalAdvance("frozen") - 6 - (self.x0 + 26)
        else:
            name_w = tw
        cut = 2 * safe.SHOWN_CHARS   # more than a card shows: eliding never measures a long text
        self._name_e = st.title_fm.elidedText(safe.clip(self.name, cut), Qt.TextElideMode.ElideRight, name_w)
        self._summary_e = st.body_fm.elidedText(safe.clip(self.summary, cut), Qt.TextElideMode.ElideRight, tw)
        right = st.body_fm.horizontalAdvance(self.params_text) + 8 if self.params_text else 0
        self._shape_e = st.shape_fm.elidedText(safe.clip(self.shape_text, cut), Qt.TextElideMode.ElideMiddle,
                                               self.w - self.x0 - 12 - right)
        esc = html.escape
        tip = (f"<b>{esc(safe.clip(self.name))}</b> — {esc(safe.clip(self.summary))}"
               f"<br><span>{esc(safe.clip(self.description, safe.TIP_CHARS))}</span>")
        if self.error:
            tip += (f"<br><br><b style='color:{st.tokens['error']}'>Problem:</b> "
                    f"{esc(safe.clip(self.error, safe.TIP_CHARS))}")
        self.setToolTip(tip)

    def set_info(self, shape_text, params_text, error, has_shape=True):
        """Shape, parameter count and problem from the latest inference; repaints only on change."""
        shape_text = safe.clip(shape_text, safe.EDIT_CHARS)
        error = safe.clip(error, safe.EDIT_CHARS) if error else error
        if (shape_text, params_text, error, has_shape) == (self.shape_text, self.params_text, self.error, self.has_shape):
            return False
        self.shape_text, self.params_text, self.error, self.has_shape = shape_text, params_text, error, has_shape
        self._elide()
        self.update()
        return True

    # -- geometry ---------------------------------------------------------------------------------------------
    def boundingRect(self):
        return self._brect

    def in_port_scene(self, i) -> QPointF:
        if 0 <= i < len(self._in_pos):
            return self.pos() + self._in_pos[i]
        return self.pos() + QPointF(0, self.h / 2)

    def out_port_scene(self, i=0) -> QPointF:
        return self.pos() + (self._outs[i] if 0 <= i < len(self._outs) else self._out_pos)

    def port_at(self, local, radius=10.0):
        """("in", i) or ("out", 0) for the port within ``radius`` of ``local`` (item coordinates), else None."""
        best, best_d = None, radius * radius
        for i, p in enumerate(self._in_pos):
            d = (p.x() - local.x()) ** 2 + (p.y() - local.y()) ** 2
            if d <= best_d:
                best, best_d = ("in", i), d
        for i, p in enumerate(self._outs):
            d = (p.x() - local.x()) ** 2 + (p.y() - local.y()) ** 2
            if d <= best_d:
                best, best_d = ("out", i), d
        return best

    def center(self):
        return self.pos() + QPointF(self.w / 2, self.h / 2)

    # -- painting --------------------------------------------------------------------------------------------
    def paint(self, painter, option, widget=None):
        st = self.sc.style
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        cat = st.cat(self.category)
        if lod < LOD_SIMPLE:
            painter.fillRect(self._card, st.error if self.error else cat)
            if selected:
                painter.setPen(st.sel_pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(self._card)
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(st.shadow_brush)
        painter.drawRoundedRect(self._card.translated(0, 2.5), RADIUS, RADIUS)
        painter.setBrush(st.card_brush)
        painter.drawRoundedRect(self._card, RADIUS, RADIUS)
        if self.overlay is not None:
            cost_overlay.paint_tint(painter, self)
        soft = st.error_soft if self.error else st.category_soft.get(self.category, st.category_soft["Other"])
        if lod >= LOD_TEXT:
            painter.setBrush(soft)
            painter.drawPath(self._head)
            self._paint_text(painter, st)
        else:
            self._paint_overview(painter, st, lod, soft)
        # outline
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.error:
            painter.setPen(st.err_sel_pen if selected else st.err_pen)
        else:
            painter.setPen(st.sel_pen if selected else st.card_pen)
        painter.drawRoundedRect(self._card, RADIUS, RADIUS)
        self._paint_ports(painter, st)

    def _paint_overview(self, painter, st, lod, soft):
        """Zoomed out: the card tinted in its category colour, with the name large enough to read."""
        painter.setBrush(soft)
        painter.drawRoundedRect(self._card, RADIUS, RADIUS)
        painter.fillRect(QRectF(0, RADIUS, 5, self.h - 2 * RADIUS), st.error if self.error else st.cat(self.category))
        font, fm, px = st.overview_font(lod)
        lines = self._overview.get(px)
        if lines is None:
            lines = self._overview[px] = overview_lines(safe.clip(self.name, 2 * safe.SHOWN_CHARS), fm, self.w - 14)
        painter.setFont(font)
        painter.setPen(st.error if self.error else st.text)
        painter.drawText(QRectF(7, 0, self.w - 14, self.h), Qt.AlignmentFlag.AlignCenter, lines)

    def _paint_text(self, painter, st):
        x0 = self.x0
        painter.drawPixmap(QRectF(x0, 12, 18, 18), chip_pixmap(self.category), QRectF(0, 0, 40, 40))
        tx = x0 + 26
        painter.setFont(st.title_font)
        painter.setPen(st.text)
        painter.drawText(QPointF(tx, 25), self._name_e)
        painter.setFont(st.body_font)
        painter.setPen(st.muted)
        if self.overlay is None:
            painter.drawText(QPointF(tx, 42), self._summary_e)
        else:   # the cost overlay's figure instead of the type line
            cost_overlay.paint_figure(painter, self, st, QPointF(tx, 42))
        painter.setPen(st.divider_pen)
        painter.drawLine(QPointF(1, HEAD_H), QPointF(self.w - 1, HEAD_H))
        if self.foot != HEAD_H:
            painter.drawLine(QPointF(1, self.foot), QPointF(self.w - 1, self.foot))
        base = self.foot + (self.h - self.foot) / 2 + 4
        painter.setFont(st.shape_font if self.has_shape else st.body_font)
        painter.setPen(st.error if self.error else (st.shape if self.has_shape else st.faint))
        painter.drawText(QPointF(self.x0, base), self._shape_e)
        if self.params_text:
            painter.setFont(st.body_font)
            painter.setPen(st.muted)
            painter.drawText(QRectF(self.w - 140, self.foot, 130, self.h - self.foot),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.params_text)
        if self.error:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(st.error)
            c = QPointF(self.w - 16, 21)
            painter.drawEllipse(c, 7, 7)
            painter.setPen(st.card_brush.color())
            painter.setFont(st.small_font)
            painter.drawText(QRectF(c.x() - 7, c.y() - 7, 14, 14), Qt.AlignmentFlag.AlignCenter, "!")
        elif self.frozen:
            painter.setFont(st.small_font)
            painter.setPen(st.faint)
            painter.drawText(QRectF(self.w - 70, 12, 60, 14), Qt.AlignmentFlag.AlignRight, "frozen")
        sweep_marks.paint_badge(painter, self, st)   # "sweep: units" while a param is a sweep dimension
        if self.port_names and self.sc.direction == "LR":
            painter.setFont(st.small_font)
            painter.setPen(st.muted)
            for p, name in zip(self._in_pos, self.port_names):
                painter.drawText(QRectF(p.x() + 11, p.y() - 8, self.w - 24, 16),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)

    def _paint_ports(self, painter, st):
        hot = self.hot
        for i, p in enumerate(self._in_pos):
            if hot is not None and hot[0] == "in" and hot[1] == i:
                painter.setPen(st.port_hot_pen)
                painter.setBrush(st.port_hot_brush if hot[2] else st.port_bad_brush)
                painter.drawEllipse(p, PORT_R + 1.5, PORT_R + 1.5)
                continue
            painter.setPen(st.port_pen)
            painter.setBrush(st.port_pen.color() if i in self.connected else st.port_brush)
            painter.drawEllipse(p, PORT_R, PORT_R)
        for i, p in enumerate(self._outs):
            if hot is not None and hot[0] == "out" and hot[1] == i:
                painter.setPen(st.port_hot_pen)
                painter.setBrush(st.port_hot_brush if hot[2] else st.port_bad_brush)
                painter.drawEllipse(p, PORT_R + 1.5, PORT_R + 1.5)
            else:
                painter.setPen(st.port_pen)
                painter.setBrush(st.port_pen.color() if self.edges_out(i) else st.port_brush)
                painter.drawEllipse(p, PORT_R, PORT_R)

    def edges_out(self, port=None):
        """Whether an edge leaves this node (from output ``port``, or from any)."""
        for e in self.edges:
            if e.src is self and (port is None or e.edge.src_port == port):
                return True
        return False

    def set_hot(self, hot):
        if hot != self.hot:
            self.hot = hot
            self.update()

    # -- interaction -----------------------------------------------------------------------------------------
    def itemChange(self, change, value):
        GC = QGraphicsItem.GraphicsItemChange
        if change == GC.ItemPositionChange and self.sc.snap and not self.sc.applying:
            return QPointF(round(value.x() / GRID) * GRID, round(value.y() / GRID) * GRID)
        if change == GC.ItemPositionHasChanged:
            for e in self.edges:
                e.update_path()
        return super().itemChange(change, value)

    def _port_radius(self):
        view_scale = self.sc.view_scale()
        return max(10.0, 7.0 / max(view_scale, 0.05))

    def hoverMoveEvent(self, event):
        hit = self.port_at(event.pos(), self._port_radius())
        self.setCursor(Qt.CursorShape.CrossCursor if hit else Qt.CursorShape.ArrowCursor)
        super().hoverMoveEvent(event)

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton and not self.sc.locked:
            hit = self.port_at(event.pos(), self._port_radius())
            if hit:
                self._connecting = True
                self.sc.begin_connect(self, hit, event.scenePos())
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._connecting:
            self.sc.update_connect(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._connecting:
            self._connecting = False
            self.sc.end_connect(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
