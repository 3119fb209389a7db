"""The Sweep panel: the sweep's settings (objective, second objective, trials, time budget, workers, pruning),
Start / Stop, a live table of the study's trials, the best-so-far curve, the objective against a dimension, the
Pareto front for two objectives, and "Apply best" (or the selected trial) as one undo step.

The sweep runs in worker processes (``core.experiments.sweep.Sweep``, driven from a plain thread that only waits
on them); the panel polls the study's storage, so trials run by other machines on the same study show up too.
The search space is the project file's ``sweep`` section (dimensions marked in the inspector).
"""
from __future__ import annotations

import math
import threading

import pyqtgraph as pg
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QLayout, QLineEdit, QPushButton,
                               QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.errors import LayerwiseError
from core.experiments import space as sp
from core.experiments.sweep import Sweep, StudyView, best_so_far, pareto, prepare
from core.experiments.sweep_section import section_dims, section_of

from ..commands import GraphEdit, SetProjectSettings

COLUMNS = ("trial", "status", "value", "seconds", "params")
OBJECTIVES = ("val_loss", "loss", "val_accuracy", "accuracy")


class ApplyTrial(QUndoCommand):
    """A trial's values set on the graph and the settings, as one undo step (node params, optional nodes and the
    compile settings through a GraphEdit; other sections through SetProjectSettings)."""

    def __init__(self, project, row, dims):
        super().__init__(f"Apply sweep trial {row.get('trial')}")
        by_label = {v: k for k, v in sp.labels(project, dims).items()}
        params = {by_label.get(k, k): v for k, v in (row.get("params") or {}).items()}
        graph_part = {k: v for k, v in params.items() if k.split(".", 1)[0] not in ("regularization", "training")}
        self.parts = [GraphEdit(project, self.text(), lambda: sp.apply_in_place(project, graph_part, dims))]
        for section in ("regularization", "training"):
            changes = [(tuple(k.split(".")[1:]), v) for k, v in params.items() if k.split(".", 1)[0] == section]
            if changes:
                self.parts.append(SetProjectSettings(project, section, changes))

    def redo(self):
        for part in self.parts:
            part.redo()

    def undo(self):
        for part in reversed(self.parts):
            part.undo()


class SweepPanel(QWidget):
    start_clicked = Signal()
    stop_clicked = Signal()
    apply_clicked = Signal(bool)        # True: the best trial; False: the selected one
    watch_clicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sweepPanel")
        outer = QHBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)   # minimumSizeHint below decides
        left = QWidget()
        left.setMaximumWidth(360)
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._form())
        lay.addLayout(self._buttons())
        self.status = QLabel("Mark params as dimensions in the inspector (right-click a param), then Start.")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addStretch(1)
        outer.addWidget(left)
        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        split.addWidget(self.table)
        split.addWidget(self._plots())
        outer.addWidget(split, 1)

    def minimumSizeHint(self):
        """Small enough to fit a bottom dock (the wrapped labels would ask for more): the plots and the table
        take what is left."""
        return QSize(640, 330)

    def _form(self):
        form = QFormLayout()
        self.objective = QComboBox()
        self.objective.setEditable(True)
        self.objective.addItems(OBJECTIVES)
        self.direction = QComboBox()
        self.direction.addItems(("auto", "min", "max"))
        row = QHBoxLayout()
        row.addWidget(self.objective, 1)
        row.addWidget(self.direction)
        form.addRow("Objective", row)
        self.second = QComboBox()
        self.second.addItems(("none", "params", "samples_per_s"))
        form.addRow("Second objective", self.second)
        self.trials, self.budget, self.workers, self.epochs = QSpinBox(), QSpinBox(), QSpinBox(), QSpinBox()
        for box, lo, hi, value, special in ((self.trials, 1, 100000, 20, None), (self.budget, 0, 10 ** 7, 0, "none"),
                                            (self.workers, 1, 64, 1, None), (self.epochs, 0, 100000, 0, "project's")):
            box.setRange(lo, hi)
            box.setValue(value)
            if special:
                box.setSpecialValueText(special)
        self.budget.setSuffix(" s")
        form.addRow("Finished trials", self.trials)
        form.addRow("Time budget", self.budget)
        form.addRow("Workers", self.workers)
        form.addRow("Epochs per trial", self.epochs)
        self.pruning = QCheckBox("Prune bad trials (median of earlier trials)")
        self.pruning.setChecked(True)
        form.addRow("", self.pruning)
        self.study = QLineEdit()
        self.study.setPlaceholderText("PROJECT-sweep")
        self.storage = QLineEdit()
        self.storage.setPlaceholderText("beside the project (SQLite); or postgresql://user@host/db")
        form.addRow("Study", self.study)
        form.addRow("Storage", self.storage)
        self.dims = QLabel("no dimensions")
        self.dims.setWordWrap(True)
        form.addRow("Dimensions", self.dims)
        return form

    def _buttons(self):
        row = QHBoxLayout()
        self.start_btn, self.stop_btn = QPushButton("Start"), QPushButton("Stop")
        self.watch_btn = QPushButton("Watch")
        self.watch_btn.setToolTip("Show the trials of this study as they end, run here or by other machines")
        self.best_btn, self.pick_btn = QPushButton("Apply best"), QPushButton("Apply selected")
        self.stop_btn.setEnabled(False)
        for b in (self.start_btn, self.stop_btn, self.watch_btn, self.best_btn, self.pick_btn):
            row.addWidget(b)
        self.watch_btn.clicked.connect(self.watch_clicked)
        self.start_btn.clicked.connect(self.start_clicked)
        self.stop_btn.clicked.connect(self.stop_clicked)
        self.best_btn.clicked.connect(lambda: self.apply_clicked.emit(True))
        self.pick_btn.clicked.connect(lambda: self.apply_clicked.emit(False))
        return row

    def _plots(self):
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        self.best_plot = pg.PlotWidget()
        self.best_plot.setLabel("left", "best so far")
        self.best_plot.setLabel("bottom", "trial")
        self.best_curve = self.best_plot.plot([], [], pen=pg.mkPen("#4C9BE8", width=2), symbol="o", symbolSize=5)
        self.dim_pick = QComboBox()
        self.dim_plot = pg.PlotWidget()
        self.dim_plot.setLabel("left", "objective")
        self.dim_points = pg.ScatterPlotItem(size=7, brush=pg.mkBrush("#E8A33C"))
        self.dim_plot.addItem(self.dim_points)
        self.pareto_plot = pg.PlotWidget()
        self.pareto_plot.setLabel("bottom", "objective 1 (Pareto front in red)")
        self.pareto_plot.setLabel("left", "objective 2")
        self.all_points = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(150, 150, 150, 160))
        self.front_points = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#D9534F"))
        self.pareto_plot.addItem(self.all_points)
        self.pareto_plot.addItem(self.front_points)
        self.pareto_plot.setVisible(False)
        for plot in (self.best_plot, self.dim_plot, self.pareto_plot):
            plot.setBackground(None)          # the panel's own background (light or dark theme)
            plot.showGrid(x=True, y=True, alpha=0.2)
        dim_box = QWidget()
        dl = QVBoxLayout(dim_box)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(self.dim_pick)
        dl.addWidget(self.dim_plot, 1)
        for w in (self.best_plot, dim_box, self.pareto_plot):
            w.setMinimumHeight(110)
            lay.addWidget(w, 1)
        return box

    def show_section(self, sec):
        """The project file's sweep settings in the form."""
        if sec.get("objective"):
            metric, _, way = str(sec["objective"]).partition(":")
            self.objective.setCurrentText(metric)
            self.direction.setCurrentText(way if way in ("min", "max") else "auto")
        self.second.setCurrentText(str(sec.get("second") or "none").partition(":")[0])
        self.trials.setValue(int(sec.get("trials") or 20))
        self.workers.setValue(int(sec.get("workers") or 1))
        self.budget.setValue(int(sec.get("timeout") or 0))
        self.pruning.setChecked(bool(sec.get("pruning", True)))
        self.study.setText(str(sec.get("study") or ""))

    # -- what the controller shows ------------------------------------------------------------------------------
    def set_running(self, running):
        self.start_btn.setEnabled(not running)
        self.stop_btn.setEnabled(running)

    def show_rows(self, rows, directions):
        self.table.setRowCount(len(rows))
        for i, r in enumerate(sorted(rows, key=lambda r: -r["trial"])):
            value = r.get("values") or r.get("value")
            cells = (r["trial"], r["status"], _fmt(value), _fmt(r.get("seconds")),
                     "  ".join(f"{_short_path(k)}={_fmt(v)}" for k, v in r.get("params", {}).items()))
            for j, c in enumerate(cells):
                item = QTableWidgetItem(str(c))
                if j == 0:
                    item.setData(Qt.ItemDataRole.UserRole, r["trial"])
                if r.get("message"):
                    item.setToolTip(r["message"])
                self.table.setItem(i, j, item)
        direction = directions[0] if directions else "minimize"
        pts = best_so_far(rows, direction)
        self.best_curve.setData([p[0] for p in pts], [p[1] for p in pts])
        self.best_plot.enableAutoRange()
        self._dimension_points(rows)
        self._pareto(rows, directions)

    def _dimension_points(self, rows):
        names = sorted({k for r in rows for k in r.get("params", {})})
        if [self.dim_pick.itemText(i) for i in range(self.dim_pick.count())] != names:
            current = self.dim_pick.currentText()
            self.dim_pick.clear()
            self.dim_pick.addItems(names)
            if current in names:
                self.dim_pick.setCurrentText(current)
        name = self.dim_pick.currentText()
        done = [r for r in rows if r.get("status") == "finished" and r.get("value") is not None]
        xs, ys = [], []
        for r in done:
            x = r.get("params", {}).get(name)
            if isinstance(x, bool):
                x = float(x)
            if isinstance(x, (int, float)):
                xs.append(float(x))
                ys.append(r["value"])
        log = bool(xs) and min(xs) > 0 and max(xs) / min(xs) > 50    # a log range reads best on a log axis
        self.dim_plot.setLabel("bottom", f"log10 {_short_path(name)}" if log else _short_path(name))
        self.dim_points.setData([math.log10(x) for x in xs] if log else xs, ys)
        self.dim_plot.enableAutoRange()

    def _pareto(self, rows, directions):
        two = len(directions) == 2
        self.pareto_plot.setVisible(two)
        if not two:
            return
        pts = [r for r in rows if r.get("status") == "finished" and len(r.get("values") or ()) == 2]
        front = pareto(rows, directions)
        self.all_points.setData([r["values"][0] for r in pts], [r["values"][1] for r in pts])
        self.front_points.setData([r["values"][0] for r in front], [r["values"][1] for r in front])

    def selected_trial(self):
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None


def _short_path(path):
    """``compile.optimizer.learning_rate`` -> ``optimizer.learning_rate`` (the table's params column)."""
    parts = str(path).split(".")
    return ".".join(parts[-2:])


def _fmt(v):
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


class SweepController(QObject):
    finished = Signal(object)     # the sweep's summary (from the thread that waited on the workers)

    def __init__(self, window, panel):
        super().__init__(panel)
        self.window, self.panel = window, panel
        self.sweep = None
        self.spec = None
        self.view = None
        self.rows = []
        self.timer = QTimer(self)
        self.timer.setInterval(1500)
        self.timer.timeout.connect(self.poll)
        panel.start_clicked.connect(self.start)
        panel.stop_clicked.connect(self.stop)
        panel.apply_clicked.connect(self.apply)
        panel.watch_clicked.connect(self.watch)
        panel.dim_pick.currentTextChanged.connect(lambda _t: self.panel.show_rows(self.rows, self._directions()))
        self.finished.connect(self._finished)
        window.project_changed.connect(lambda p: (self.show_dimensions(), panel.show_section(section_of(p))))
        panel.show_section(section_of(window.project))
        from .sweep_marks import follow, repaint_cards
        follow(self, lambda _p: (self.show_dimensions(), repaint_cards(getattr(window, "scene", None))))
        self.show_dimensions()

    def show_dimensions(self):
        p = self.window.project
        try:
            dims = section_dims(p)
        except LayerwiseError as e:
            self.panel.dims.setText(str(e))
            return
        labels = sp.labels(p, dims)
        text = "; ".join(f"{labels[d.path]} {_spec_text(d)}" for d in dims)
        self.panel.dims.setText(text or "none: right-click a param in the inspector and choose Sweep")

    def _options(self):
        pn = self.panel
        direction = {"min": ":min", "max": ":max"}.get(pn.direction.currentText(), "")
        return dict(trials=pn.trials.value(), workers=pn.workers.value(), epochs=pn.epochs.value() or None,
                    timeout=pn.budget.value() or None, storage=pn.storage.text().strip() or None,
                    study=pn.study.text().strip() or None, objective=pn.objective.currentText().strip() + direction,
                    second=None if pn.second.currentText() == "none" else pn.second.currentText(),
                    pruning=pn.pruning.isChecked())

    def start(self):
        p = self.window.project
        if p.path is None or self.window.document.dirty:
            self.panel.status.setText("Save the project first: the workers train the saved file.")
            return
        try:
            self.spec = prepare(p.path, (), **self._options())
        except LayerwiseError as e:
            self.panel.status.setText(f"Cannot start: {e}")
            return
        self.sweep = Sweep(self.spec)
        self.view = StudyView(self.spec)
        threading.Thread(target=self._wait, args=(self.sweep,), daemon=True, name="sweep").start()
        self.panel.set_running(True)
        self.panel.status.setText(f"Study {self.spec['study']}: running {self.spec['workers']} worker(s)…")
        self.timer.start()

    def watch(self):
        """Follow the study named in the panel without starting workers here (other machines run it)."""
        p = self.window.project
        if p.path is None:
            self.panel.status.setText("Save the project first.")
            return
        try:
            self.spec = prepare(p.path, (), **self._options())
        except LayerwiseError as e:
            self.panel.status.setText(f"Cannot watch: {e}")
            return
        self.view = StudyView(self.spec)
        self.poll()
        self.timer.start()
        self.panel.status.setText(f"Watching study {self.spec['study']} ({self.spec['storage']}).")

    def _wait(self, sweep):
        try:
            summary = sweep.run()
        except Exception as e:  # noqa: BLE001 - said in the panel; the window goes on
            summary = {"error": str(e), "finished": 0, "trials": 0, "best": []}
        self.finished.emit(summary)

    def stop(self):
        if self.sweep is not None:
            self.sweep.request_stop()
            self.panel.status.setText("Stopping: no new trials; the running ones finish.")

    def _finished(self, summary):
        self.timer.stop()
        self.poll()
        self.panel.set_running(False)
        err = summary.get("error")
        self.panel.status.setText(f"Stopped: {err}" if err else
                                  f"Study {self.spec['study']}: {summary['finished']} of {summary['trials']} "
                                  f"finished trials.")

    def _directions(self):
        return self._dirs if getattr(self, "_dirs", None) else []

    def poll(self):
        if self.view is None:
            return
        try:
            self.rows, self._dirs = self.view.rows()
        except Exception as e:  # noqa: BLE001 - a storage gone away is said, the window goes on
            self.panel.status.setText(f"Cannot read the study: {e}")
            return
        self.panel.show_rows(self.rows, self._dirs)
        ended = sum(1 for r in self.rows if r["status"] not in ("running", "waiting"))
        runs = getattr(self.window, "runs", None)
        if ended != getattr(self, "_ended", 0) and runs is not None:
            self._ended = ended
            runs.refresh()       # each trial is a run: the Runs panel shows it

    def apply(self, best):
        if self.view is None:
            return
        if best:
            rows = self.view.best()
            row = rows[0] if rows else None
        else:
            n = self.panel.selected_trial()
            row = next((r for r in self.rows if r["trial"] == n), None)
        if row is None or not row.get("params"):
            self.panel.status.setText("No finished trial to apply yet.")
            return
        dims = [sp.Dimension.from_dict(d) for d in self.spec["dimensions"]]
        self.window.push_edit(ApplyTrial(self.window.project, row, dims))
        self.panel.status.setText(f"Applied trial {row['trial']} (Edit → Undo puts the old values back).")


def _spec_text(d):
    if d.kind in ("int", "float"):
        return f"{d.low}:{d.high}" + (":log" if d.log else "")
    if d.kind == "choice":
        return ",".join(str(c) for c in d.choices)
    return "optional" if d.kind == "optional" else f"= {d.value}"


def install(window):
    """Dock the Sweep panel; returns its controller (also ``window.sweeps``)."""
    panel = SweepPanel()
    ctl = SweepController(window, panel)
    dock = window.add_panel(panel, "Sweep", Qt.DockWidgetArea.BottomDockWidgetArea)
    if dock.widget() is not panel:      # no scrolling: the table and the plots shrink to the dock instead
        box = dock.widget()
        dock.setWidget(panel)
        box.deleteLater()
    ctl.dock = dock
    window.sweeps = ctl
    return ctl


__all__ = ["ApplyTrial", "SweepPanel", "SweepController", "install", "section_of"]
