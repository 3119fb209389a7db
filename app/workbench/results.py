"""After training: test metrics, the confusion matrix (click a cell to see its samples), a grid of sample
predictions for image data, predicted-vs-true for regression.

``core.evaluate.evaluate(...)`` does the numpy/Keras work in a worker thread; ``ResultsPanel`` only draws its
``Evaluation``.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QSizePolicy, QComboBox, QHBoxLayout, QHeaderView, QLabel, QSplitter, QStackedWidget, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.evaluate import Evaluation

from .. import safe
from . import style
from .render import fmt_metric
from .thumbs import ThumbGrid, is_image_batch

MAX_SHOWN = 120       # samples shown for a clicked cell


class ResultsPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("workbench_results")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        top = QHBoxLayout()
        self.metrics = QLabel("Train the network to see how it does on the test split.")
        self.metrics.setTextFormat(Qt.RichText)
        # no word wrap: a wrapping label makes the dock's scroll area size the panel to its preferred height
        self.metrics.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        top.addWidget(self.metrics, 1)
        self.output_box = QComboBox()
        self.output_box.setVisible(False)
        self.output_box.currentIndexChanged.connect(self._show_output)
        top.addWidget(self.output_box)
        lay.addLayout(top)

        split = QSplitter(Qt.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.left_title = QLabel("")
        self.left_title.setStyleSheet("font-weight: 600;")
        ll.addWidget(self.left_title)
        self.left = QStackedWidget()
        self.matrix = QTableWidget()
        self.matrix.setEditTriggers(QTableWidget.NoEditTriggers)
        self.matrix.setSelectionMode(QTableWidget.SingleSelection)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.matrix.verticalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.matrix.horizontalHeader().setMinimumSectionSize(22)
        self.matrix.verticalHeader().setMinimumSectionSize(18)
        self.matrix.setToolTip("Rows: true class · columns: predicted class. Click a cell to see its samples.")
        self.matrix.cellClicked.connect(self._cell_clicked)
        self.scatter = pg.PlotWidget()
        self.scatter.setBackground(style.tokens()["panel"])
        style.style_plot(self.scatter.getPlotItem())
        style.on_change(lambda t: (self.scatter.setBackground(t["panel"]), style.style_plot(self.scatter.getPlotItem(), t)))
        self.scatter.setLabel("bottom", "true value", color=style.tokens()["muted"])
        self.scatter.setLabel("left", "predicted", color=style.tokens()["muted"])
        self.scatter.showGrid(x=True, y=True, alpha=0.2)
        self._points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(31, 119, 180, 140))
        self._diag = pg.PlotDataItem(pen=pg.mkPen("#999", width=1, style=Qt.DashLine))
        self.scatter.addItem(self._diag)
        self.scatter.addItem(self._points)
        self.left.addWidget(self.matrix)
        self.left.addWidget(self.scatter)
        ll.addWidget(self.left, 1)
        split.addWidget(left)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.right_title = QLabel("")
        self.right_title.setStyleSheet("font-weight: 600;")
        # no word wrap: a wrapping label makes the dock's scroll area size the panel to its preferred height
        self.right_title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        rl.addWidget(self.right_title)
        self.samples = QStackedWidget()
        self.grid = ThumbGrid(44)
        self.rows = QTableWidget()
        self.rows.setEditTriggers(QTableWidget.NoEditTriggers)
        self.rows.verticalHeader().setDefaultSectionSize(20)
        self.samples.addWidget(self.grid)
        self.samples.addWidget(self.rows)
        rl.addWidget(self.samples, 1)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([520, 420])
        lay.addWidget(split, 1)
        self.evaluation: Evaluation | None = None

    # -- showing ------------------------------------------------------------------------------------------------
    def clear(self, text="Training…"):
        self.evaluation = None
        self.metrics.setText(text)
        self.matrix.clear()
        self.matrix.setRowCount(0)
        self.matrix.setColumnCount(0)
        self.grid.clear()
        self.rows.setRowCount(0)
        self.left_title.setText("")
        self.right_title.setText("")
        self.output_box.setVisible(False)

    def show_evaluation(self, ev: Evaluation, note=""):
        self.evaluation = ev
        if ev.metrics:
            items = [f"<td style='padding-right:16px'>{html.escape(k)}: <b>{fmt_metric(v)}</b></td>"
                     for k, v in ev.metrics.items()]
            rows = "".join("<tr>" + "".join(items[i:i + 3]) + "</tr>" for i in range(0, len(items), 3))
            self.metrics.setText(f"<b>{ev.split.capitalize()} split</b> ({ev.n:,} samples)"
                                 f"<table>{rows}</table>" + (f"<i>{html.escape(note)}</i>" if note else ""))
        else:
            self.metrics.setText(f"No test metrics. {html.escape(note)}")
        self.output_box.blockSignals(True)
        self.output_box.clear()
        for o in ev.outputs:
            self.output_box.addItem(safe.clip(o.name))
        self.output_box.setVisible(len(ev.outputs) > 1)
        self.output_box.blockSignals(False)
        self._show_output(0)

    def _show_output(self, i):
        ev = self.evaluation
        if ev is None or not (0 <= i < len(ev.outputs)):
            return
        o = ev.outputs[i]
        if o.task == "regression":
            self.left.setCurrentWidget(self.scatter)
            self.left_title.setText(f"Predicted vs true — {safe.clip(o.name)}")
            self._points.setData(o.y_true, o.y_pred)
            lo = float(np.nanmin([o.y_true.min(initial=0), o.y_pred.min(initial=0)]))
            hi = float(np.nanmax([o.y_true.max(initial=1), o.y_pred.max(initial=1)]))
            self._diag.setData([lo, hi], [lo, hi])
            self._show_samples(np.arange(min(len(o.y_true), 48)), o, "The first test samples")
            return
        self.left.setCurrentWidget(self.matrix)
        acc = float(np.mean(o.y_true == o.y_pred)) if len(o.y_true) else 0.0
        self.left_title.setText(f"Confusion matrix — {safe.clip(o.name)} (rows: true, columns: predicted; "
                                f"{acc:.1%} right)")
        self._fill_matrix(o)
        self._show_samples(np.arange(min(len(o.y_true), 48)), o, "Sample predictions (red: wrong)")

    def _fill_matrix(self, o):
        m = o.matrix
        k = m.shape[0]
        names = [str(n) for n in (o.class_names or range(k))]
        self.matrix.clear()
        self.matrix.setRowCount(k)
        self.matrix.setColumnCount(k)
        self.matrix.setHorizontalHeaderLabels([n[:12] for n in names])
        self.matrix.setVerticalHeaderLabels([n[:16] for n in names])
        row_tot = m.sum(axis=1, keepdims=True).clip(min=1)
        for r in range(k):
            for c in range(k):
                v = int(m[r, c])
                it = QTableWidgetItem(str(v) if v else "")
                it.setTextAlignment(Qt.AlignCenter)
                frac = v / row_tot[r, 0]
                if r == c:
                    col = QColor.fromRgbF(0.12, 0.55, 0.25, 0.15 + 0.7 * frac)
                else:
                    col = QColor.fromRgbF(0.85, 0.2, 0.2, min(0.85, 0.1 + 2.0 * frac) if v else 0.0)
                it.setBackground(col)
                if frac > 0.55:
                    it.setForeground(QColor("white"))
                it.setToolTip(f"true {names[r]}, predicted {names[c]}: {v} sample{'s' if v != 1 else ''}")
                self.matrix.setItem(r, c, it)

    def _cell_clicked(self, r, c):
        ev = self.evaluation
        if ev is None:
            return
        o = ev.outputs[max(0, self.output_box.currentIndex())]
        if o.matrix is None:
            return
        idx = np.flatnonzero((o.y_true == r) & (o.y_pred == c))
        names = o.class_names or [str(i) for i in range(o.matrix.shape[0])]
        self._show_samples(idx[:MAX_SHOWN], o, f"True {names[r]}, predicted {names[c]}: {len(idx)} "
                                               f"sample{'s' if len(idx) != 1 else ''}"
                                               + (f" (first {MAX_SHOWN} shown)" if len(idx) > MAX_SHOWN else ""))
        self.shown_indices = idx

    def _show_samples(self, idx, o, title):
        ev = self.evaluation
        self.right_title.setText(title)
        self.shown_indices = np.asarray(idx)
        names = o.class_names
        if ev.x is not None and is_image_batch(ev.x):
            labels, borders, tips = [], [], []
            for i in idx:
                if o.task == "regression":
                    labels.append(f"{o.y_pred[i]:.3g}")
                    borders.append("#1f77b4")
                    tips.append(f"true {o.y_true[i]:.4g}, predicted {o.y_pred[i]:.4g}")
                    continue
                t, p = int(o.y_true[i]), int(o.y_pred[i])
                tn = names[t] if names and 0 <= t < len(names) else str(t)
                pn = names[p] if names and 0 <= p < len(names) else str(p)
                labels.append(pn if t == p else f"{pn} ≠ {tn}")
                borders.append("#2e7d32" if t == p else "#c62828")
                tips.append(f"sample {i}: true {tn}, predicted {pn}")
            self.grid.fill([ev.x[i] for i in idx], labels, borders, tips)
            self.samples.setCurrentWidget(self.grid)
            return
        self.samples.setCurrentWidget(self.rows)
        x = ev.x.reshape(len(ev.x), -1) if ev.x is not None else np.zeros((len(o.y_true), 0))
        ncol = min(x.shape[1], 30)
        cols = (list(ev.columns)[:ncol] if ev.columns and len(ev.columns) >= ncol
                else [str(i) for i in range(ncol)])
        self.rows.clear()
        self.rows.setRowCount(len(idx))
        self.rows.setColumnCount(2 + ncol)
        self.rows.setHorizontalHeaderLabels(["true", "predicted"] + cols)
        for r, i in enumerate(idx):
            if o.task == "regression":
                t, p = f"{o.y_true[i]:.4g}", f"{o.y_pred[i]:.4g}"
                wrong = False
            else:
                ti, pi = int(o.y_true[i]), int(o.y_pred[i])
                t = names[ti] if names and 0 <= ti < len(names) else str(ti)
                p = names[pi] if names and 0 <= pi < len(names) else str(pi)
                wrong = ti != pi
            for c, txt in enumerate([t, p]):
                it = QTableWidgetItem(str(txt))
                if wrong and c == 1:
                    it.setForeground(QColor(style.tokens()["error"]))
                self.rows.setItem(r, c, it)
            for c in range(ncol):
                it = QTableWidgetItem(f"{x[i, c]:g}")
                it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.rows.setItem(r, 2 + c, it)
        self.rows.resizeColumnsToContents()
