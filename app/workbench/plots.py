"""Live training plots (pyqtgraph): batch loss raw + smoothed, epoch loss and metrics (train vs validation),
learning rate. Curves are created once per run; incoming points go to numpy buffers in the GUI thread and a
10 Hz timer calls ``setData`` once per changed curve. Previous runs of the session stay, faded."""
from __future__ import annotations

import csv
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QGraphicsItem, QCheckBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from . import style
from .render import Ema

TRAIN_COLOR = style.TRAIN
VAL_COLOR = style.VAL
RAW_COLOR = style.RAW
LR_COLOR = style.LR
MAX_OLD_RUNS = 4
PLOTS_PER_ROW = 4
LIVE_KEYS = ("batch:raw", "batch:ema", "lr")
MAX_LIVE_POINTS = 3000
SKIP_KEYS = {"lr", "learning_rate", "time_s", "epoch", "seconds"}


class Series:
    """A growable (x, y) buffer."""

    def __init__(self, cap=256):
        self.x = np.empty(cap, dtype=np.float64)
        self.y = np.empty(cap, dtype=np.float64)
        self.n = 0
        self.dirty = False
        self.lo = math.inf      # finite bounds of y, kept as points arrive (y-range fitting without a scan)
        self.hi = -math.inf
        self.pos_lo = math.inf  # smallest positive y (log scale)

    def append(self, x, y):
        if math.isfinite(y):
            if y < self.lo:
                self.lo = y
            if y > self.hi:
                self.hi = y
            if 0 < y < self.pos_lo:
                self.pos_lo = y
        if self.n == len(self.x):
            cap = 2 * len(self.x)
            self.x = np.resize(self.x, cap)
            self.y = np.resize(self.y, cap)
        self.x[self.n] = x
        self.y[self.n] = y
        self.n += 1
        self.dirty = True

    def data(self):
        return self.x[:self.n], self.y[:self.n]

    def __len__(self):
        return self.n


def faded(color, alpha=70):
    c = QColor(color)
    c.setAlpha(alpha)
    return c


class Run:
    """One training run's buffers and curves."""

    def __init__(self, number, label):
        self.number = number
        self.label = label
        self.series: dict[str, Series] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.plot_of: dict[str, pg.PlotItem] = {}
        self.ema = Ema(0.6)
        self.history: list[dict] = []   # epoch logs, for CSV
        self.x_offset = 0.0


class PlotsPanel(QWidget):
    """The plots dock."""

    exported = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("workbench_plots")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        bar = QHBoxLayout()
        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip("Logarithmic y axis for the loss plots")
        self.log_box.toggled.connect(self._set_log)
        self.old_box = QCheckBox("Earlier runs")
        self.old_box.setChecked(True)
        self.old_box.setToolTip("Show the earlier runs of this session, faded, for comparison")
        self.old_box.toggled.connect(self._show_old)
        self.smooth = QDoubleSpinBox()
        self.smooth.setRange(0.0, 0.99)
        self.smooth.setSingleStep(0.05)
        self.smooth.setValue(0.6)
        self.smooth.setToolTip("Smoothing of the batch loss (exponential moving average; 0 = none)")
        self.smooth.setPrefix("smooth ")
        self.smooth.valueChanged.connect(self._resmooth)
        self.png_btn = QPushButton("PNG…")
        self.png_btn.setToolTip("Save the plots as a PNG image")
        self.png_btn.clicked.connect(lambda: self.export_png())
        self.csv_btn = QPushButton("CSV…")
        self.csv_btn.setToolTip("Save the epoch history (loss and metrics per epoch) as CSV")
        self.csv_btn.clicked.connect(lambda: self.export_csv())
        bar.addWidget(self.log_box)
        bar.addWidget(self.old_box)
        bar.addSpacing(8)
        bar.addWidget(self.smooth)
        bar.addStretch(1)
        lay.addLayout(bar)
        bar = QHBoxLayout()   # second row: the legend and the exports (a narrow dock never scrolls sideways)
        # one legend for all plots (per-plot legends cover the curves in small plots)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.RichText)
        self.legend.setToolTip("Colours of the curves; the x axis of every plot counts epochs")
        self.legend.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)   # clipped, never widens the dock
        self.legend.setMinimumWidth(40)
        self._set_legend()
        bar.addWidget(self.legend, 1)
        bar.addSpacing(8)
        bar.addWidget(self.png_btn)
        bar.addWidget(self.csv_btn)
        lay.addLayout(bar)

        self._managed = {}
        self.x_range = None
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.glw.setMinimumHeight(120)
        lay.addWidget(self.glw, 1)
        self.batch_plot = self._new_plot("Batch loss", "epoch")
        self.glw.addItem(self.batch_plot, row=0, col=0)
        self.lr_plot = self._new_plot("Learning rate", "epoch")
        self.lr_plot.setMaximumWidth(300)
        self.glw.addItem(self.lr_plot, row=0, col=1)
        self.epoch_layout = self.glw.addLayout(row=1, col=0, colspan=2)
        self.epoch_plots: dict[str, pg.PlotItem] = {}
        self._epoch_plot("loss")   # there from the start, so the layout does not jump after the first epoch

        self.runs: list[Run] = []
        self.run: Run | None = None
        self.steps_per_epoch = 1
        self.x_range = None
        self._managed = {}
        self.apply_theme(style.tokens())
        style.on_change(self.apply_theme)
        self.timer = QTimer(self)
        # 10 Hz: live to the eye. Each tick re-sets the changed curves and repaints the plots, GUI-thread time that a
        # run shares (the GIL); 5 Hz measured no lower
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # -- plots -------------------------------------------------------------------------------------------------
    def _set_legend(self):
        muted = style.tokens()["muted"]
        self.legend.setText(f"<span style='color:{TRAIN_COLOR}'>━</span> training&nbsp;&nbsp;"
                            f"<span style='color:{VAL_COLOR}'>━</span> validation&nbsp;&nbsp;"
                            f"<span style='color:{RAW_COLOR}'>━</span> batch (raw)&nbsp;&nbsp;"
                            f"<span style='color:{muted}'>x: epochs</span>")

    def apply_theme(self, t):
        self.glw.setBackground(t["panel"])
        for p in [self.batch_plot, self.lr_plot, *self.epoch_plots.values()]:
            style.style_plot(p, t, p.titleLabel.text)

    def _new_plot(self, title, xlabel):
        p = pg.PlotItem()
        style.style_plot(p, title=title)
        # no grid: pyqtgraph draws it with the axes over the whole plot, so every curve update would repaint it
        p.getAxis("bottom").setHeight(22)   # no "epoch" label under every plot: the toolbar says it once
        p.enableAutoRange(x=False, y=False)  # x: the run's epochs; y: fitted in refresh() with hysteresis
        p.vb.sigRangeChangedManually.connect(lambda *_a, p=p: self._managed.__setitem__(id(p), False))
        p.getAxis("left").setWidth(44)
        p.setMenuEnabled(False)
        p.hideButtons()
        p.setClipToView(True)
        p.setDownsampling(auto=True, mode="peak")
        return p

    def _epoch_plot(self, base):
        p = self.epoch_plots.get(base)
        if p is None:
            title = "Loss per epoch" if base == "loss" else base.replace("_", " ").capitalize()
            p = self._new_plot(title, "epoch")
            if self.log_box.isChecked() and base.endswith("loss"):
                p.setLogMode(y=True)
            if self.x_range is not None:
                p.setXRange(*self.x_range, padding=0.02)
            i = len(self.epoch_plots)
            self.epoch_plots[base] = p
            self.epoch_layout.addItem(p, row=i // PLOTS_PER_ROW, col=i % PLOTS_PER_ROW)
        return p

    def epoch_plot(self, base):
        """The epoch plot of one metric (``loss``, ``accuracy``...), made when missing (runs overlaid for comparison
        draw into it)."""
        return self._epoch_plot(base)

    def expect_metrics(self, names):
        """Create the epoch plots of metrics the run will report (before it starts, so no plot appears mid-run)."""
        for base in names:
            self._epoch_plot(base)

    def _curve(self, run, key):
        c = run.curves.get(key)
        if c is not None:
            return c
        if key == "batch:raw":
            plot, pen, name = self.batch_plot, pg.mkPen(RAW_COLOR, width=1), "raw"
        elif key == "batch:ema":
            # 1-pixel pens for the curves redrawn 20 times a second: Qt's raster engine strokes wider lines the
            # slow way
            plot, pen, name = self.batch_plot, pg.mkPen(TRAIN_COLOR, width=1), "smoothed"
        elif key == "lr":
            plot, pen, name = self.lr_plot, pg.mkPen(LR_COLOR, width=1), None
        else:
            val = key.startswith("val_")
            base = key[4:] if val else key
            plot = self._epoch_plot(base)
            pen = pg.mkPen(VAL_COLOR if val else TRAIN_COLOR, width=2)
            name = "validation" if val else "training"
        if key in LIVE_KEYS:
            # redrawn 20 times a second: the light PlotCurveItem (PlotDataItem.setData costs ~1 ms a call); long
            # series are thinned and log scale applied in refresh()
            c = pg.PlotCurveItem(pen=pen, connect="finite")
        else:
            c = pg.PlotDataItem(pen=pen, connect="finite", symbol="o", symbolSize=5, symbolPen=None,
                                symbolBrush=pen.color())
        if name:
            c.setToolTip(name)
        c.setZValue(10)
        plot.addItem(c)
        run.curves[key] = c
        run.plot_of[key] = plot
        return c

    # -- runs ----------------------------------------------------------------------------------------------------
    def start_run(self, label, continuing=False, x_offset=0.0):
        """A new run (earlier ones fade), or continue the current one (``continuing``)."""
        if continuing and self.run is not None:
            return self.run
        if self.run is not None:
            self._fade(self.run)
            self.runs.append(self.run)
            while len(self.runs) > MAX_OLD_RUNS:
                self._remove(self.runs.pop(0))
        number = (self.runs[-1].number + 1) if self.runs else 1
        self.run = Run(number, label)
        self.run.ema.alpha = self.smooth.value()
        self.run.x_offset = x_offset
        return self.run

    def _fade(self, run):
        # an earlier run keeps its smoothed batch loss and its epoch curves (the raw batch loss and the learning
        # rate would only crowd the plots), drawn faded and cached as pixmaps: the live curves repaint over them
        # 20 times a second, the cached ones are copied, not redrawn
        for key in [k for k in ("batch:raw", "lr") if k in run.curves]:
            run.plot_of[key].removeItem(run.curves.pop(key))
            run.plot_of.pop(key)
            run.series.pop(key, None)
        for key, c in run.curves.items():
            color = c.opts["pen"].color() if hasattr(c.opts.get("pen"), "color") else QColor("#888")
            c.setPen(pg.mkPen(faded(color), width=1))
            if c.opts.get("symbol"):
                c.setSymbol(None)
            c.setZValue(1)
            c.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
            c.setVisible(self.old_box.isChecked())

    def _remove(self, run):
        for key, c in run.curves.items():
            run.plot_of[key].removeItem(c)
        run.curves.clear()
        run.plot_of.clear()
        run.series.clear()

    def clear_all(self):
        for run in self.runs + ([self.run] if self.run else []):
            self._remove(run)
        self.runs.clear()
        self.run = None

    # -- data in (GUI thread, from queued signals) ----------------------------------------------------------------
    def on_start(self, info):
        self.steps_per_epoch = max(1, int(info.get("steps_per_epoch") or 1))
        epochs = int(info.get("epochs") or 1)
        self.x_range = (0, max(1, epochs))
        # a fixed x frame (the whole run) that fills up as it trains; only y follows the data
        for p in self._plots():
            p.setXRange(*self.x_range, padding=0.02)
            self._managed[id(p)] = True

    def on_batch(self, epoch, step, logs, info):
        run = self.run
        if run is None:
            return
        x = epoch + (step + 1) / self.steps_per_epoch
        loss = logs.get("loss")
        if loss is not None:
            loss = float(loss)
            run.series.setdefault("batch:raw", Series()).append(x, loss if math.isfinite(loss) else np.nan)
            sm = run.ema.add(loss) if run.ema.alpha > 0 else loss
            run.series.setdefault("batch:ema", Series()).append(x, sm)
        lr = (info or {}).get("lr")
        if lr is not None and math.isfinite(float(lr)):
            # a point when the rate changes, else a few per epoch: a constant rate need not repaint its plot
            # 20 times a second
            lr = float(lr)
            s = run.series.setdefault("lr", Series())
            if not s.n or s.y[s.n - 1] != lr or x - s.x[s.n - 1] >= 0.25:
                s.append(x, lr)

    def on_epoch(self, epoch, logs):
        run = self.run
        if run is None:
            return
        x = epoch + 1
        row = {"epoch": x}
        # the losses first (their plots come first), then the metrics
        for k, v in sorted(logs.items(), key=lambda kv: (not kv[0].replace("val_", "").endswith("loss"), kv[0])):
            try:
                v = float(v)
            except (TypeError, ValueError):
                continue
            row[k] = v
            if k in SKIP_KEYS:
                continue
            run.series.setdefault(k, Series(64)).append(x, v if math.isfinite(v) else np.nan)
        run.history.append(row)
        if "lr" in logs and "lr" not in run.series:
            run.series.setdefault("lr", Series()).append(x, float(logs["lr"]))

    def refresh(self):
        """Timer tick: push changed buffers to their curves (one setData per curve)."""
        run = self.run
        if run is None or not self.isVisible():
            return   # a hidden panel catches up when it is shown (the buffers stay dirty)
        touched = {}
        created = 0
        for key, s in run.series.items():
            if s.dirty:
                if key not in run.curves:
                    if created:   # at most one new curve per tick: creation (and its legend entry) is costly
                        continue
                    created += 1
                s.dirty = False
                x, y = s.data()
                if key in LIVE_KEYS:
                    x, y = self._live_data(key, x, y)
                self._curve(run, key).setData(x, y)
                plot = run.plot_of[key]
                touched[id(plot)] = plot
        for plot in touched.values():
            self._fit_y(plot)

    def _live_data(self, key, x, y):
        """Thin a long live series to at most MAX_LIVE_POINTS (the last point kept) and apply the log scale."""
        n = len(x)
        if n > MAX_LIVE_POINTS:
            step = -(-n // MAX_LIVE_POINTS)
            idx = np.r_[np.arange(0, n - 1, step), n - 1]
            x, y = x[idx], y[idx]
        if key != "lr" and self.log_box.isChecked():
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)
        return x, y

    def _plots(self):
        return [self.batch_plot, self.lr_plot, *self.epoch_plots.values()]

    def _is_log(self, plot):
        if plot is self.batch_plot:
            return self.log_box.isChecked()
        base = next((b for b, p in self.epoch_plots.items() if p is plot), "")
        return self.log_box.isChecked() and base.endswith("loss")

    def _fit_y(self, plot, force=False):
        """Fit the y range to the data of the visible runs, with hysteresis: the range changes only when the data
        leave it or fill less than 40% of it (so axes are not redrawn on every tick)."""
        if not force and not self._managed.get(id(plot), True):
            return
        log = self._is_log(plot)
        lo, hi = math.inf, -math.inf
        runs = ([self.run] if self.run else []) + (self.runs if self.old_box.isChecked() else [])
        for run in runs:
            for key, s in run.series.items():
                if run.plot_of.get(key) is not plot or not s.n:
                    continue
                lo = min(lo, s.pos_lo if log else s.lo)
                hi = max(hi, s.hi)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return
        if log:
            lo, hi = math.log10(lo), math.log10(max(hi, lo))
        if plot is self.lr_plot and not log:
            lo = min(0.0, lo)
        span = hi - lo
        if span <= 0:
            span = abs(hi) * 0.2 or 1.0
            lo, hi = lo - span / 2, hi + span / 2
        cur_lo, cur_hi = plot.vb.viewRange()[1]
        if not force and cur_lo <= lo and cur_hi >= hi and (cur_hi - cur_lo) <= 2.5 * span:
            return
        pad = 0.06 * span
        plot.setYRange(lo - pad if not (plot is self.lr_plot and lo == 0) else 0.0, hi + pad, padding=0)
        self._managed[id(plot)] = True

    def fit_all(self):
        for p in self._plots():
            self._fit_y(p, force=True)

    # -- options -------------------------------------------------------------------------------------------------
    def _set_log(self, on):
        self.batch_plot.setLogMode(y=on)
        for base, p in self.epoch_plots.items():
            if base.endswith("loss"):
                p.setLogMode(y=on)
        for run in self.runs + ([self.run] if self.run else []):   # the live curves take log10 values
            for key in ("batch:raw", "batch:ema"):
                s, c = run.series.get(key), run.curves.get(key)
                if s is not None and c is not None:
                    c.setData(*self._live_data(key, *s.data()))
        self.fit_all()

    def _show_old(self, on):
        for run in self.runs:
            for c in run.curves.values():
                c.setVisible(on)
        self.fit_all()

    def _resmooth(self, alpha):
        run = self.run
        if run is None:
            return
        run.ema = Ema(alpha)
        raw = run.series.get("batch:raw")
        if raw is None:
            return
        ema = Series(max(256, len(raw)))
        for x, y in zip(*raw.data()):
            ema.append(x, run.ema.add(y) if alpha > 0 else y)
        run.series["batch:ema"] = ema

    # -- export --------------------------------------------------------------------------------------------------
    def export_png(self, path=None):
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save plots as PNG", "training.png", "PNG image (*.png)")
            if not path:
                return None
        self.refresh()
        ok = self.glw.grab().save(str(path), "PNG")
        if ok:
            self.exported.emit(str(path))
        return str(path) if ok else None

    def history_rows(self):
        run = self.run
        return list(run.history) if run else []

    def export_csv(self, path=None):
        rows = self.history_rows()
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save history as CSV", "history.csv", "CSV (*.csv)")
            if not path:
                return None
        keys = ["epoch"]
        for r in rows:
            for k in r:
                if k not in keys:
                    keys.append(k)
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k, "") for k in keys})
        self.exported.emit(str(path))
        return str(path)

    def point_count(self, key="batch:raw"):
        """How many points the current run has for ``key`` (tests)."""
        if self.run is None or key not in self.run.series:
            return 0
        return len(self.run.series[key])
