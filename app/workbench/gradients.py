"""The gradient view in the window: the Gradients panel (layers × time heatmap of the gradient per weight, log
scale; click a layer for histograms of its weights, gradients and activations at the latest probe and its
history), a live badge on each weighted node's card, and the problems said in words in the Problems panel.

The statistics come from ``core.telemetry`` (a probe at a time-based cadence in the training thread); records
arrive through a queued signal. A hidden panel only stores them and draws once when it is shown again.
``install(window)`` adds it all (after the workbench); the runner asks ``attach`` to add the probe to a run.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import (QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QSplitter, QVBoxLayout, QWidget)

from .. import safe
from . import style

MAX_COLUMNS = 400          # probes kept in the heatmap (the oldest drop out)
HEALTH = {"ok": "#1f9d55", "warn": "#b7791f", "bad": "#d93d42"}


def grad_value(d):
    """What the heatmap shows for a layer: its kernel's gradient per weight (else its gradient norm)."""
    v = d.get("kernel_grad_rms")
    return v if v is not None else d.get("grad_norm")


def badge_of(d, problems):
    """(text, level, tooltip) of a layer's card badge."""
    g = grad_value(d)
    text = "∇ —" if g is None else f"∇ {g:.0e}"
    if problems:
        level = "bad" if any(p.kind in ("nonfinite", "vanishing", "exploding") for p in problems) else "warn"
        return text, level, "\n".join(p.message for p in problems)
    ur = d.get("update_ratio")
    tip = f"gradient per weight {g:.2e}" if g is not None else "no gradient"
    if ur is not None:
        tip += f"; last update {ur:.1e} of the weights"
    if d.get("dead_fraction") is not None:
        tip += f"; dead units {d['dead_fraction']:.0%}"
    return text, "ok", tip


class GradientsPanel(QWidget):
    """Draws the records it is given; only while visible (a hidden panel keeps them and draws when shown)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("workbench_gradients")
        self.records, self.names, self.columns = [], [], []
        self.selected = None
        self.dirty = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.status = QLabel("Train the network to see its gradients: a probe measures every weighted layer a few "
                             "times a second.")
        self.status.setProperty("role", "muted")
        self.enabled = QCheckBox("Gradient view on")
        self.enabled.setChecked(True)
        self.enabled.setToolTip("Measure gradients, updates and dead units while training (off: nothing is probed)")
        top.addWidget(self.status, 1)
        top.addWidget(self.enabled)
        lay.addLayout(top)
        split = QSplitter(Qt.Horizontal)
        self.layers = QListWidget()
        self.layers.setMaximumWidth(230)
        self.layers.currentRowChanged.connect(self._select_row)
        split.addWidget(self.layers)
        self.graphs = pg.GraphicsLayoutWidget()
        self.graphs.setBackground(style.tokens()["panel"])
        split.addWidget(self.graphs)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self._make_plots()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self.redraw)

    def _make_plots(self):
        g = self.graphs
        self.heat = g.addPlot(row=0, col=0, colspan=3)
        style.style_plot(self.heat, title="gradient per weight, log10 (layers × probes)")
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.heat.addItem(self.image)
        self.heat.invertY(True)
        self.heat.setMouseEnabled(x=False, y=False)
        self.heat.scene().sigMouseClicked.connect(self._heat_clicked)
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=12)
        self.bar.setImageItem(self.image, insert_in=self.heat)
        self.hists = {}
        for i, part in enumerate(("weights", "gradients", "activations")):
            p = g.addPlot(row=1, col=i)
            style.style_plot(p, title=part)
            self.hists[part] = p
        self.history = g.addPlot(row=2, col=0, colspan=3)
        style.style_plot(self.history, title="history: gradient per weight and update ratio (log10)")
        self.history.addLegend(offset=(8, 4))
        g.ci.layout.setRowStretchFactor(0, 3)

    # -- records -----------------------------------------------------------------------------------------------
    def clear(self, text="Training… the first probe comes after the first batch."):
        self.records, self.names, self.columns = [], [], []
        self.layers.clear()
        self.image.clear()
        for p in list(self.hists.values()) + [self.history]:
            p.clear()
        self.status.setText(text)
        self.dirty = False

    def add_record(self, rec):
        self.records = (self.records + [rec])[-MAX_COLUMNS:]
        if not self.names:
            self.names = list(rec["layers"])
        self.columns = (self.columns + [[grad_value(rec["layers"].get(n, {})) for n in self.names]])[-MAX_COLUMNS:]
        self.dirty = True
        if self.isVisible() and not self.timer.isActive():
            self.timer.start()

    def showEvent(self, event):
        super().showEvent(event)
        if self.dirty:
            self.timer.start(0)

    # -- drawing -----------------------------------------------------------------------------------------------
    def redraw(self):
        if not self.records or not self.isVisible():
            return
        self.dirty = False
        rec = self.records[-1]
        n_bad = len(rec.get("problems") or [])
        self.status.setText(f"epoch {rec['epoch'] + 1}, batch {rec['step'] + 1}: {len(self.records)} probes, "
                            + (f"{n_bad} problem(s) — see the Problems panel" if n_bad else "no problems"))
        self._fill_list(rec)
        a = np.array([[np.nan if v is None or v <= 0 else math.log10(v) for v in col] for col in self.columns],
                     dtype="float32")
        if np.isfinite(a).any():
            lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
            self.image.setImage(np.nan_to_num(a, nan=lo), autoLevels=False, levels=(lo, max(hi, lo + 1e-6)))
            self.bar.setLevels((lo, max(hi, lo + 1e-6)))
            self.image.setRect(QRectF(0, 0, a.shape[0], a.shape[1]))
            step = max(1, math.ceil(len(self.names) / 10))   # at most about ten names on the axis
            self.heat.getAxis("left").setTicks([[(i + 0.5, safe.clip(n, 14)) for i, n in enumerate(self.names)
                                                  if i % step == 0]])
        self._draw_layer()

    def _fill_list(self, rec):
        probs = {}
        for p in rec.get("problems") or []:
            probs.setdefault(p.layer, []).append(p)
        keep = self.layers.currentRow()
        self.layers.blockSignals(True)
        self.layers.clear()
        for name in self.names:
            text, level, tip = badge_of(rec["layers"].get(name, {}), probs.get(name))
            it = QListWidgetItem(f"{safe.clip(name)}   {text}")
            it.setForeground(QColor(HEALTH[level]))
            it.setToolTip(safe.clip(tip, safe.TIP_CHARS))
            self.layers.addItem(it)
        self.layers.setCurrentRow(keep if 0 <= keep < len(self.names) else len(self.names) - 1)
        self.layers.blockSignals(False)
        self.selected = self.names[self.layers.currentRow()] if self.names else None

    def _select_row(self, row):
        if 0 <= row < len(self.names):
            self.selected = self.names[row]
            self._draw_layer()

    def _heat_clicked(self, ev):
        pos = self.heat.vb.mapSceneToView(ev.scenePos())
        row = int(math.floor(pos.y()))
        if 0 <= row < len(self.names):
            self.layers.setCurrentRow(row)

    def select_layer(self, name):
        if name in self.names:
            self.layers.setCurrentRow(self.names.index(name))

    def _draw_layer(self):
        name = self.selected
        if name is None or not self.records:
            return
        hist = (self.records[-1].get("hist") or {}).get(name, {})
        for part, plot in self.hists.items():
            plot.clear()
            counts, lo, hi = hist.get(part, ([], 0.0, 0.0))
            if counts and hi > lo:
                w = (hi - lo) / len(counts)
                xs = lo + w * (np.arange(len(counts)) + 0.5)
                plot.addItem(pg.BarGraphItem(x=xs, height=counts, width=w, brush=style.TRAIN, pen=None))
        self.history.clear()
        for key, colour, label in (("kernel_grad_rms", style.TRAIN, "gradient"), ("update_ratio", style.VAL,
                                                                                   "update ratio")):
            ys = [r["layers"].get(name, {}).get(key) for r in self.records]
            pts = [(i, math.log10(v)) for i, v in enumerate(ys) if v is not None and v > 0]
            if pts:
                x, y = zip(*pts)
                self.history.plot(list(x), list(y), pen=pg.mkPen(colour, width=2), name=label)


class Badge(QGraphicsItem):
    """A small coloured label at the foot of a node card (a child of the card's item)."""

    def __init__(self, parent):
        super().__init__(parent)
        self.text, self.colour = "", QColor(HEALTH["ok"])
        self.setZValue(5)
        self.font = QFont()
        self.font.setPointSizeF(7.5)
        self.font.setBold(True)

    def set(self, text, level, tip):
        self.text, self.colour = text, QColor(HEALTH[level])
        self.setToolTip(safe.clip(tip, safe.TIP_CHARS))
        p = self.parentItem()
        self.setPos(p.w - 64, -8)
        self.update()

    def boundingRect(self):
        return QRectF(0, 0, 58, 15)

    def paint(self, painter, option, widget=None):
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.colour)
        painter.drawRoundedRect(self.boundingRect(), 7, 7)
        painter.setPen(QPen(QColor("white")))
        painter.setFont(self.font)
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, self.text)


class GradientView(QObject):
    """Connects a run's probe records to the panel, the node cards and the Problems panel."""

    probed = Signal(object)      # a record (emitted in the training thread, delivered queued)
    warned = Signal(str)

    def __init__(self, window, workbench):
        super().__init__(workbench)
        self.window, self.wb = window, workbench
        self.panel = GradientsPanel()
        self.dock = window.add_panel(self.panel, "Gradients", Qt.DockWidgetArea.BottomDockWidgetArea)
        try:
            window.tabifyDockWidget(workbench.docks.by_key["features"], self.dock)
            workbench.docks.by_key["features"].raise_()
            self.dock.visibilityChanged.connect(lambda v: v and self.panel.timer.start(0))
        except (KeyError, RuntimeError):
            pass
        self.badges = {}
        self.problems = {}       # (kind, node id) -> text, shown in the Problems panel
        self.probed.connect(self._on_probe)
        self.warned.connect(lambda m: window.statusBar().showMessage(m, 8000))
        workbench.run_started.connect(self.reset)

    @property
    def on(self):
        return self.panel.enabled.isChecked()

    def attach(self, project, cfg):
        """Add the probe to a run's callbacks (when the view is on)."""
        if not self.on:
            return
        from core.telemetry import telemetry_callback
        cfg.extra_callbacks = [*(cfg.extra_callbacks or ()),
                               telemetry_callback(project, self.probed.emit, histograms=True, warn=self.warned.emit)]

    def reset(self):
        self.panel.clear()
        for b in self.badges.values():
            if b.scene() is not None:
                b.scene().removeItem(b)
        self.badges, self.problems = {}, {}
        self._show_problems()

    def _on_probe(self, rec):
        self.panel.add_record(rec)
        graph = self.wb.project.graph
        ids = {n.name: k for k, n in graph.nodes.items()}
        by_layer = {}
        for p in rec.get("problems") or []:
            by_layer.setdefault(p.layer, []).append(p)
            k = ids.get(p.layer)
            if k is not None and (p.kind, k) not in self.problems:
                self.problems[(p.kind, k)] = p.message
        self._badges(rec, ids, by_layer)
        self._show_problems()

    def _badges(self, rec, ids, by_layer):
        items = self.window.scene.nodes
        for name, d in rec["layers"].items():
            k = ids.get(name)
            if k is None or k not in items or d.get("param") is None:
                continue
            b = self.badges.get(k)
            if b is None or b.parentItem() is not items[k]:
                b = self.badges[k] = Badge(items[k])
            b.set(*badge_of(d, by_layer.get(name)))

    def _show_problems(self):
        rows = [(k, text) for (_kind, k), text in self.problems.items()]
        self.window.problems.show_training_problems(rows)


def install(window):
    """Add the gradient view to ``window`` (after the workbench); returns it (also ``workbench.gradients``)."""
    wb = window.workbench
    view = GradientView(window, wb)
    wb.gradients = view
    features = wb.docks.by_key.get("features")
    if features is not None:   # hidden feature maps are not drawn while training (app.workbench.analysis)
        features.visibilityChanged.connect(lambda visible: visible and wb.analysis.catch_up())
    from .explain_view import ExplainController
    view.explain = ExplainController(window, wb)
    return view
