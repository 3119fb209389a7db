"""Data panel: choose the dataset (built-in, CSV, NPZ, image folder), the validation/test split; see shapes,
class balance, a preview, and whether it fits the network's Input/Output nodes."""
from __future__ import annotations

import copy
import html
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QPushButton, QSizePolicy, QSpinBox, QStackedWidget, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from . import style
from .data_preview import csv_header, npz_keys
from .thumbs import ThumbGrid, is_image_batch

SOURCES = [("builtin", "Built-in dataset"), ("csv", "CSV file"), ("npz", "NPZ file (numpy arrays)"),
           ("image_folder", "Image folder (one subfolder per class)")]
try:
    from core.datasets import GENERATED_TASKS, KERAS_SETS, SKLEARN_SETS
except ImportError:  # pragma: no cover
    SKLEARN_SETS, GENERATED_TASKS, KERAS_SETS = ("digits", "iris", "wine", "breast_cancer"), (), ()
BUILTIN_GROUPS = [("scikit-learn", tuple(SKLEARN_SETS)), ("generated", tuple(GENERATED_TASKS)),
                  ("Keras cache", tuple(KERAS_SETS))]


def _builtin_names():
    try:
        from core.datasets import builtin_names
        names = builtin_names()
    except Exception:  # pragma: no cover
        names = [n for _g, ns in BUILTIN_GROUPS for n in ns]
    return names


def _source_of(name):
    try:
        from core.datasets import source_of
        return source_of(name) or "builtin"
    except Exception:  # pragma: no cover
        return "builtin"


def _path_row(placeholder, browse):
    w = QWidget()
    h = QHBoxLayout(w)
    h.setContentsMargins(0, 0, 0, 0)
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    btn = QPushButton("Browse…")
    btn.clicked.connect(browse)
    h.addWidget(edit, 1)
    h.addWidget(btn)
    return w, edit


class DataPanel(QWidget):
    spec_changed = Signal(dict)     # the user edited the data settings (the workbench stores and reloads)
    reload_clicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("workbench_data")
        self.base_dir: Path | None = None
        self._loading = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        lay.addLayout(self._build_source_row())
        self.pages = QStackedWidget()
        self.pages.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        self.pages.addWidget(self._build_builtin_page())
        self.pages.addWidget(self._build_csv_page())
        self.pages.addWidget(self._build_npz_page())
        self.pages.addWidget(self._build_image_page())
        lay.addWidget(self.pages)
        lay.addLayout(self._build_split_row())
        self._build_status(lay)
        lay.addWidget(self._build_balance_plot())
        self._build_preview(lay)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(350)
        self._debounce.timeout.connect(self._emit_spec)
        self._spec = {}
        self._connect_edits()
        self._loading = True      # showing the first page is not an edit
        self._source_changed()
        self._loading = False

    # -- building the widgets --------------------------------------------------------------------------------
    def _build_source_row(self):
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.source = QComboBox()
        for key, text in SOURCES:
            self.source.addItem(text, key)
        self.source.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(12)
        src_row = QWidget()
        sr = QHBoxLayout(src_row)
        sr.setContentsMargins(0, 0, 0, 0)
        sr.addWidget(self.source, 1)
        self.reload_btn = QPushButton("Reload")
        self.reload_btn.setToolTip("Load the data again (after the file changed)")
        sr.addWidget(self.reload_btn)
        form.addRow("Source", src_row)
        return form

    @staticmethod
    def _page_form():
        p = QWidget()
        f = QFormLayout(p)
        f.setContentsMargins(0, 0, 0, 0)
        f.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        return p, f

    def _build_builtin_page(self):
        p, f = self._page_form()
        self.name = QComboBox()
        self.name.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.name.setMinimumContentsLength(12)
        avail = set(_builtin_names())
        for group, names in BUILTIN_GROUPS:
            for n in names:
                if n in avail:
                    self.name.addItem(f"{n}  ({group})", n)
        for n in sorted(avail - {n for _g, ns in BUILTIN_GROUPS for n in ns}):
            self.name.addItem(n, n)
        self.form = QComboBox()
        self.form.addItem("8×8×1 images", "images")
        self.form.addItem("64 values per sample", "flat")
        self.samples = QSpinBox()
        self.samples.setRange(100, 1_000_000)
        self.samples.setSingleStep(500)
        self.samples.setValue(4000)
        self.seq_len = QSpinBox()
        self.seq_len.setRange(0, 10000)
        self.seq_len.setSpecialValueText("task default")
        self.seq_len.setValue(0)
        f.addRow("Dataset", self.name)
        f.addRow("Form", self.form)
        f.addRow("Samples", self.samples)
        f.addRow("Sequence length", self.seq_len)
        self._builtin_form = f
        return p

    def _build_csv_page(self):
        p, f = self._page_form()
        row, self.csv_path = _path_row("file.csv", lambda: self._browse("csv"))
        self.csv_target = QComboBox()
        self.csv_target.setEditable(True)
        self.csv_target.setToolTip("The column to predict; several columns: separate them with commas")
        f.addRow("File", row)
        f.addRow("Target column", self.csv_target)
        return p

    def _build_npz_page(self):
        p, f = self._page_form()
        row, self.npz_path = _path_row("arrays.npz", lambda: self._browse("npz"))
        self.npz_x = QComboBox()
        self.npz_x.setEditable(True)
        self.npz_x.setToolTip("Array(s) with the inputs; several: separate with commas")
        self.npz_y = QComboBox()
        self.npz_y.setEditable(True)
        self.npz_y.setToolTip("Array(s) with the targets; several: separate with commas")
        f.addRow("File", row)
        f.addRow("Inputs (x)", self.npz_x)
        f.addRow("Targets (y)", self.npz_y)
        return p

    def _build_image_page(self):
        p, f = self._page_form()
        row, self.img_path = _path_row("folder with one subfolder per class", lambda: self._browse("dir"))
        size = QWidget()
        sh = QHBoxLayout(size)
        sh.setContentsMargins(0, 0, 0, 0)
        self.img_h = QSpinBox()
        self.img_w = QSpinBox()
        for s in (self.img_h, self.img_w):
            s.setRange(4, 4096)
            s.setValue(64)
        sh.addWidget(self.img_h)
        sh.addWidget(QLabel("×"))
        sh.addWidget(self.img_w)
        sh.addStretch(1)
        self.img_mode = QComboBox()
        self.img_mode.addItem("RGB", "rgb")
        self.img_mode.addItem("Grayscale", "grayscale")
        f.addRow("Folder", row)
        f.addRow("Image size", size)
        f.addRow("Colours", self.img_mode)
        return p

    def _build_split_row(self):
        split = QHBoxLayout()
        self.val = QDoubleSpinBox()
        self.test = QDoubleSpinBox()
        for s in (self.val, self.test):
            s.setRange(0.0, 90.0)
            s.setDecimals(0)
            s.setSuffix(" %")
            s.setSingleStep(5)
        self.val.setToolTip("Share of the samples held out to watch overfitting during training")
        self.test.setToolTip("Share of the samples held out for the final test after training")
        split.addWidget(QLabel("Validation"))
        split.addWidget(self.val)
        split.addSpacing(8)
        split.addWidget(QLabel("Test"))
        split.addWidget(self.test)
        split.addStretch(1)
        return split

    def _build_status(self, lay):
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.RichText)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.status)
        self.fit = QLabel("")
        self.fit.setWordWrap(True)
        self.fit.setTextFormat(Qt.RichText)
        lay.addWidget(self.fit)

    def _build_balance_plot(self):
        self.balance = pg.PlotWidget()
        self.balance.setBackground(None)
        self.balance.setFixedHeight(110)
        self.balance.setMenuEnabled(False)
        self.balance.hideButtons()
        self.balance.setMouseEnabled(False, False)
        self.balance.setTitle("Class balance (training split)", size="8pt", color=style.tokens()["muted"])
        style.style_plot(self.balance.getPlotItem())
        self.balance.getAxis("left").setWidth(36)
        self._bars = pg.BarGraphItem(x=[0], height=[0], width=0.75, brush="#5b8def", pen=None)
        self.balance.addItem(self._bars)
        self.balance.setVisible(False)
        return self.balance

    def _build_preview(self, lay):
        self.preview_title = QLabel("Preview")
        self.preview_title.setStyleSheet("font-weight: 600;")
        lay.addWidget(self.preview_title)
        self.preview = QStackedWidget()
        self.thumbs = ThumbGrid(40)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.preview.addWidget(self.thumbs)
        self.preview.addWidget(self.table)
        self.preview.setMinimumHeight(120)
        lay.addWidget(self.preview, 1)

    def _connect_edits(self):
        """Every widget edit goes through ``_edited`` (debounced into ``spec_changed``)."""
        self.reload_btn.clicked.connect(self.reload_clicked)
        self.source.currentIndexChanged.connect(self._source_changed)
        for sig in (self.name.currentIndexChanged, self.form.currentIndexChanged, self.img_mode.currentIndexChanged,
                    self.samples.valueChanged, self.seq_len.valueChanged, self.val.valueChanged,
                    self.test.valueChanged, self.img_h.valueChanged, self.img_w.valueChanged):
            sig.connect(self._edited)
        for e in (self.csv_path, self.npz_path, self.img_path):
            e.editingFinished.connect(self._path_edited)
        for c in (self.csv_target, self.npz_x, self.npz_y):
            c.activated.connect(self._edited)
            c.lineEdit().editingFinished.connect(self._edited)
        self.name.currentIndexChanged.connect(self._name_changed)

    def _name_changed(self, _i):
        if not self._loading:  # another task: its own default length
            self._loading = True
            self.seq_len.setValue(0)
            self._loading = False

    # -- spec <-> widgets ------------------------------------------------------------------------------------------
    def load(self, spec: dict, base_dir=None):
        """Show ``spec`` (a project's data section) in the widgets, without emitting spec_changed."""
        self._loading = True
        try:
            self._spec = copy.deepcopy(spec or {})
            self.base_dir = Path(base_dir) if base_dir else None
            s = self._spec
            src = s.get("source", "builtin")
            if src in ("generated", "keras"):
                src = "builtin"
            i = self.source.findData(src)
            self.source.setCurrentIndex(max(0, i))
            if src == "builtin":
                j = self.name.findData(s.get("name", "digits"))
                self.name.setCurrentIndex(max(0, j))
                self.form.setCurrentIndex(max(0, self.form.findData(s.get("form", "images"))))
                self.samples.setValue(int(s.get("samples", 4000)))
                self.seq_len.setValue(int(s.get("seq_len", 0)))
            elif src == "csv":
                self.csv_path.setText(str(s.get("path", "")))
                self._fill_csv_columns()
                t = s.get("target", "")
                self.csv_target.setCurrentText(", ".join(t) if isinstance(t, list) else str(t))
            elif src == "npz":
                self.npz_path.setText(str(s.get("path", "")))
                self._fill_npz_keys()
                for box, key in ((self.npz_x, "x"), (self.npz_y, "y")):
                    v = s.get(key, key)
                    box.setCurrentText(", ".join(v) if isinstance(v, list) else str(v))
            elif src == "image_folder":
                self.img_path.setText(str(s.get("path", "")))
                size = s.get("image_size", [64, 64])
                self.img_h.setValue(int(size[0]))
                self.img_w.setValue(int(size[1]))
                self.img_mode.setCurrentIndex(max(0, self.img_mode.findData(s.get("color_mode", "rgb"))))
            self.val.setValue(round(100 * float(s.get("validation_split", 0.15) or 0)))
            self.test.setValue(round(100 * float(s.get("test_split", 0.15) or 0)))
            self._update_rows()
        finally:
            self._loading = False
            self._debounce.stop()   # what was pending before the project was shown is no edit of it

    def spec(self) -> dict:
        """The data section the widgets describe (unknown keys of the same source are kept)."""
        src = self.source.currentData()
        old = self._spec
        out = {}
        if src == "builtin":
            name = self.name.currentData() or "digits"
            real = _source_of(name)
            same = old.get("name") == name
            out = {k: v for k, v in old.items() if same and k not in ("source", "name", "path")}
            out.update({"source": real, "name": name})
            if name == "digits" and (self.form.currentData() != "images" or "form" in old):
                out["form"] = self.form.currentData()
            elif name != "digits" or self.form.currentData() == "images":
                out.pop("form", None)  # "images" is the default: an untouched project stays unchanged
            if real == "generated":
                out["samples"] = self.samples.value()
                if self.seq_len.value() > 0:
                    out["seq_len"] = self.seq_len.value()
                else:
                    out.pop("seq_len", None)
            else:
                out.pop("samples", None)
                out.pop("seq_len", None)
        else:
            same = old.get("source") == src
            out = {k: v for k, v in old.items() if same and k not in ("name",)}
            out["source"] = src
            if src == "csv":
                out["path"] = self.csv_path.text().strip()
                t = [c.strip() for c in self.csv_target.currentText().split(",") if c.strip()]
                if t:
                    out["target"] = t[0] if len(t) == 1 else t
                else:
                    out.pop("target", None)
            elif src == "npz":
                out["path"] = self.npz_path.text().strip()
                for box, key in ((self.npz_x, "x"), (self.npz_y, "y")):
                    v = [c.strip() for c in box.currentText().split(",") if c.strip()]
                    out[key] = (v[0] if len(v) == 1 else v) if v else key
            elif src == "image_folder":
                out["path"] = self.img_path.text().strip()
                out["image_size"] = [self.img_h.value(), self.img_w.value()]
                out["color_mode"] = self.img_mode.currentData()
        out["validation_split"] = round(self.val.value() / 100.0, 4)
        out["test_split"] = round(self.test.value() / 100.0, 4)
        if "seed" in old and "seed" not in out:
            out["seed"] = old["seed"]
        return out

    def _source_changed(self, *_):
        self.pages.setCurrentIndex(max(0, self.source.currentIndex()))
        # the stack takes the height of the page shown, not of its tallest page
        for i in range(self.pages.count()):
            page = self.pages.widget(i)
            page.setSizePolicy(QSizePolicy.Preferred if i == self.pages.currentIndex() else QSizePolicy.Ignored,
                               QSizePolicy.Preferred if i == self.pages.currentIndex() else QSizePolicy.Ignored)
        self.pages.adjustSize()
        self._update_rows()
        self._edited()

    def _update_rows(self):
        name = self.name.currentData()
        gen = _source_of(name) == "generated"
        f = self._builtin_form
        for w, show in ((self.form, name == "digits"), (self.samples, gen), (self.seq_len, gen)):
            w.setVisible(show)
            lab = f.labelForField(w)
            if lab is not None:
                lab.setVisible(show)

    def _edited(self, *_):
        self._update_rows()
        if self._loading:
            return
        self._debounce.start()

    def _path_edited(self):
        src = self.source.currentData()
        if src == "csv":
            self._fill_csv_columns()
        elif src == "npz":
            self._fill_npz_keys()
        self._edited()

    def _emit_spec(self):
        spec = self.spec()
        if spec != self._spec:
            self._spec = copy.deepcopy(spec)
            self.spec_changed.emit(spec)

    def _resolve(self, p):
        p = Path(p).expanduser()
        if not p.is_absolute() and self.base_dir is not None:
            p = self.base_dir / p
        return p

    def _fill_csv_columns(self):
        cur = self.csv_target.currentText()
        cols = csv_header(self._resolve(self.csv_path.text().strip())) if self.csv_path.text().strip() else []
        self.csv_target.blockSignals(True)
        self.csv_target.clear()
        self.csv_target.addItems(cols)
        self.csv_target.setCurrentText(cur if cur else (cols[-1] if cols else ""))
        self.csv_target.blockSignals(False)

    def _fill_npz_keys(self):
        keys = npz_keys(self._resolve(self.npz_path.text().strip())) if self.npz_path.text().strip() else []
        for box, default in ((self.npz_x, "x"), (self.npz_y, "y")):
            cur = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItems(keys)
            box.setCurrentText(cur or (default if default in keys else (keys[0] if keys else default)))
            box.blockSignals(False)

    def _browse(self, kind):
        start = str(self.base_dir or Path.home())
        if kind == "dir":
            path = QFileDialog.getExistingDirectory(self, "Image folder", start)
            edit = self.img_path
        else:
            filt = "CSV files (*.csv *.tsv *.txt)" if kind == "csv" else "NumPy archives (*.npz)"
            path, _ = QFileDialog.getOpenFileName(self, "Data file", start, filt + ";;All files (*)")
            edit = self.csv_path if kind == "csv" else self.npz_path
        if path:
            edit.setText(path)
            self._path_edited()

    def set_enabled_for_run(self, running):
        for w in (self.source, self.pages, self.val, self.test, self.reload_btn):
            w.setEnabled(not running)

    # -- showing a dataset -----------------------------------------------------------------------------------
    def show_loading(self, text="Loading data…"):
        self.status.setText(f"<i>{html.escape(text)}</i>")
        self.fit.setText("")

    def show_error(self, text):
        self.status.setText(f"<span style='color:{style.tokens()['error']}'>{html.escape(text)}</span>")
        self.fit.setText("")
        self.balance.setVisible(False)
        self.preview_title.setText("Preview")
        self.thumbs.clear()
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)

    def show_dataset(self, ds, preview):
        """``preview``: {"x": first input's samples, "y": labels of the first output, "counts": per class}."""
        from core.datasets import shape_str as _shape_str
        lines = [f"<b>{html.escape(ds.name)}</b>"]
        if ds.description:
            lines.append(f"<span style='color:{style.tokens()['muted']}'>{html.escape(ds.description)}</span>")
        ns = [f"{s.n:,} {label}" for label, s in (("training", ds.train), ("validation", ds.val),
                                                   ("test", ds.test)) if s is not None]
        lines.append("Samples: " + ", ".join(ns))
        ins = ", ".join(f"{html.escape(n)} {_shape_str(tuple(s))}" for n, s in zip(ds.input_names, ds.input_shapes))
        lines.append(f"Input{'s' if len(ds.input_names) > 1 else ''}: {ins}")
        outs = []
        for name, task, k, shape in zip(ds.output_names, ds.tasks, ds.num_classes, ds.output_shapes):
            outs.append(f"{html.escape(name)}: {k} classes" if k else f"{html.escape(name)}: {task} {_shape_str(tuple(shape))}")
        lines.append(f"Target{'s' if len(outs) > 1 else ''}: " + "; ".join(outs))
        self.status.setText("<br>".join(lines))
        counts = preview.get("counts")
        if counts is not None and len(counts):
            self._bars.setOpts(x=np.arange(len(counts)), height=np.asarray(counts, dtype=float), width=0.75)
            names = preview.get("class_names") or [str(i) for i in range(len(counts))]
            ax = self.balance.getAxis("bottom")
            step = max(1, len(counts) // 12)
            ax.setTicks([[(i, str(names[i])[:10]) for i in range(0, len(counts), step)]])
            self.balance.setXRange(-0.6, len(counts) - 0.4, padding=0)
            self.balance.setYRange(0, max(1, float(np.max(counts))) * 1.1, padding=0)
            self.balance.setVisible(True)
        else:
            self.balance.setVisible(False)
        x = preview.get("x")
        labels = preview.get("labels") or []
        if x is not None and is_image_batch(x):
            self.thumbs.fill(list(x), labels=labels[:len(x)] if labels else None)
            self.preview.setCurrentWidget(self.thumbs)
            self.preview_title.setText(f"Preview: the first {len(x)} training samples")
        elif x is not None:
            self._fill_table(np.asarray(x), preview.get("columns"), labels, preview.get("target_name", "target"))
            self.preview.setCurrentWidget(self.table)
            self.preview_title.setText(f"Preview: the first {len(x)} training rows")
        else:
            self.preview_title.setText("Preview: none")

    def _fill_table(self, x, columns, labels, target_name):
        x = x.reshape(len(x), -1)
        ncol = min(x.shape[1], 40)
        cols = list(columns or [])[:ncol] if columns and len(columns) >= ncol else [str(i) for i in range(ncol)]
        has_y = bool(labels)
        self.table.clear()
        self.table.setRowCount(len(x))
        self.table.setColumnCount(ncol + (1 if has_y else 0))
        self.table.setHorizontalHeaderLabels(([target_name] if has_y else []) + cols)
        for r in range(len(x)):
            c0 = 0
            if has_y:
                it = QTableWidgetItem(str(labels[r]))
                it.setForeground(pg.mkColor(style.tokens()["accent"]))
                self.table.setItem(r, 0, it)
                c0 = 1
            for c in range(ncol):
                v = x[r, c]
                txt = f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)
                it = QTableWidgetItem(txt)
                it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, c + c0, it)
        self.table.resizeColumnsToContents()

    def show_fit(self, messages, graph_ok=True):
        if messages:
            items = "".join(f"<li>{html.escape(m)}</li>" for m in messages)
            self.fit.setText(f"<span style='color:{style.tokens()['error']}'><b>Does not fit the network:</b></span>"
                             f"<ul style='margin-left:-20px'>{items}</ul>")
        elif graph_ok:
            self.fit.setText(f"<span style='color:{style.tokens()['ok']}'>✓ Fits the network's Input and Output</span>")
        else:
            self.fit.setText("")
