"""Drawing run comparisons where the person looks: the structural diff on the canvas (a coloured frame around added
and changed cards, a dashed ghost where a removed node was) and the curves of several runs overlaid in the
workbench's epoch plots, one colour per run."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsSimpleTextItem

from .. import safe

DIFF_COLOURS = {"added": "#1f9d55", "removed": "#d93d42", "changed": "#e8a10a"}
RUN_COLOURS = ("#2f6fed", "#e8710a", "#1f9d55", "#9b51e0", "#d93d42", "#00a3a3", "#a0522d", "#e84393")
GHOST_SIZE = (180.0, 70.0)
SKIP = {"lr", "learning_rate", "time_s", "epoch"}


class CanvasDiff:
    """Frames on a QGraphicsScene whose ``nodes`` maps node ids to card items (``w``, ``h``)."""

    def __init__(self, scene):
        self.scene = scene
        self.items = []

    def clear(self):
        for it in self.items:
            if it.scene() is not None:
                it.scene().removeItem(it)
        self.items = []

    def show(self, diff, ghosts, notes=None):
        """``diff``: core.experiments.diff.graph_diff; ``ghosts``: {node id: (x, y, label)} for nodes not on the
        canvas; ``notes``: {node id: what changed}. Returns how many marks were drawn."""
        self.clear()
        notes = notes or {}
        for kind in ("added", "removed"):
            for nid in diff[kind]:
                self._mark(nid, kind, notes.get(nid), ghosts)
        for nid in diff["changed"]:
            self._mark(nid, "changed", notes.get(nid), ghosts)
        return len(self.items) // 2

    def _mark(self, nid, kind, note, ghosts):
        card = self.scene.nodes.get(nid)
        if card is not None:
            rect = card.mapRectToScene(QRectF(0, 0, card.w, card.h)).adjusted(-6, -6, 6, 6)
            dashed = False
        elif nid in ghosts:
            x, y, label = ghosts[nid]
            rect = QRectF(x, y, *GHOST_SIZE)
            dashed = True
            note = note or label
        else:
            return
        colour = QColor(DIFF_COLOURS[kind])
        path = QPainterPath()
        path.addRoundedRect(rect, 12, 12)
        frame = QGraphicsPathItem(path)
        pen = QPen(colour, 3, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        frame.setPen(pen)
        fill = QColor(colour)
        fill.setAlpha(40 if dashed else 18)
        frame.setBrush(QBrush(fill))
        frame.setZValue(50)
        frame.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        frame.setToolTip(f"{kind}: {note}" if note else kind)
        text = QGraphicsSimpleTextItem(safe.clip(f"{kind}" + (f": {note}" if note else ""), 70))
        font = QFont()
        font.setPointSizeF(8.5)
        font.setBold(True)
        text.setFont(font)
        text.setBrush(QBrush(colour))
        text.setPos(rect.left() + 4, rect.top() - 18)
        text.setZValue(51)
        for it in (frame, text):
            self.scene.addItem(it)
            self.items.append(it)


def _finite(values):
    return [v if isinstance(v, (int, float)) and math.isfinite(v) else math.nan for v in values]


class CurveOverlay:
    """Epoch curves of several runs in the workbench's plots (training solid, validation dashed)."""

    def __init__(self, plots):
        self.plots = plots
        self.items = []     # (plot, item)

    def clear(self):
        for plot, item in self.items:
            plot.removeItem(item)
        self.items = []

    def show(self, runs):
        """``runs``: [(label, curves)] with curves from ``RunStore.curves``. Returns {label: colour}."""
        self.clear()
        colours = {}
        bounds = {}      # plot -> [x max, y min, y max]
        for i, (label, curves) in enumerate(runs):
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            colours[label] = colour
            epochs = curves.get("epochs") or []
            x = [e.get("epoch", j) + 1 for j, e in enumerate(epochs)]
            for key in sorted({k for e in epochs for k in e} - SKIP):
                val = key.startswith("val_")
                plot = self.plots.epoch_plot(key[4:] if val else key)
                style = Qt.PenStyle.DashLine if val else Qt.PenStyle.SolidLine
                self._add(plot, x, [e.get(key) for e in epochs], pg.mkPen(colour, width=2, style=style), bounds,
                          f"{label}: {'validation' if val else 'training'} {key.removeprefix('val_')}", symbol=True)
            bx, by = batch_points(curves.get("batches") or [])
            if bx:
                self._add(self.plots.batch_plot, bx, by, pg.mkPen(colour, width=1), bounds, f"{label}: batch loss")
        for plot, (xmax, lo, hi) in bounds.values():
            plot.setXRange(0, max(xmax, 1), padding=0.02)
            if math.isfinite(lo) and math.isfinite(hi):
                pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
                plot.setYRange(lo - pad, hi + pad, padding=0)
        return colours

    def _add(self, plot, x, y, pen, bounds, tip, symbol=False):
        y = _finite(y)
        extra = dict(symbol="o", symbolSize=4, symbolPen=None, symbolBrush=pen.color()) if symbol else {}
        item = pg.PlotDataItem(x, y, pen=pen, connect="finite", **extra)
        item.setToolTip(tip)
        item.setZValue(20)
        plot.addItem(item)
        self.items.append((plot, item))
        b = bounds.setdefault(id(plot), (plot, [0.0, math.inf, -math.inf]))[1]
        finite = [v for v in y if math.isfinite(v)]
        b[0] = max(b[0], max(x, default=0))
        if finite:
            b[1], b[2] = min(b[1], min(finite)), max(b[2], max(finite))


def batch_points(batches):
    """(x in epochs, loss) of sampled batches: epoch + (step + 1) / the steps seen in that epoch."""
    steps = {}
    for e, s, _logs in batches:
        steps[e] = max(steps.get(e, 0), s + 1)
    pts = [(e + (s + 1) / (steps[e] + 1), logs.get("loss")) for e, s, logs in batches if "loss" in logs]
    return [p[0] for p in pts], [p[1] for p in pts]
