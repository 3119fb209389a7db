"""Training settings (epochs, batch size, device, mixed precision, early stopping), Start / Stop / Continue,
and the progress line (epoch, batch, samples/s, ETA)."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from .. import safe
from . import style
from .backend_choice import backend_combo, backend_values, select_backend
from .render import fmt_eta, fmt_metric, fmt_rate

MONITORS = ["val_loss", "loss", "val_accuracy", "accuracy"]


class _Note(QLabel):
    """A line of text that takes no room while it is empty (no blank gap under the progress bar)."""

    def setText(self, text):
        super().setText(text)
        self.setVisible(bool(text))


class TrainPanel(QWidget):
    start_clicked = Signal()
    stop_clicked = Signal()
    continue_clicked = Signal()
    settings_changed = Signal(dict)   # the project's "training" section, edited

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("workbench_training")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        self.form = self._build_settings_form()
        lay.addLayout(self._build_buttons())
        self._build_progress(lay)
        # the controls and where the run is come first (always in view); the settings below
        line = QFrame()
        line.setFrameShape(QFrame.HLine)
        line.setFrameShadow(QFrame.Plain)
        line.setForegroundRole(QPalette.Mid)
        lay.addWidget(line)
        lay.addLayout(self.form)
        lay.addStretch(1)
        self._connect_signals()
        self._loading = False
        self._tips = {}       # each field's own tooltip, while a note about an unusable value replaces it
        self._invalid = {}    # field -> the project's value it could not show
        self._last_batch_shown = 0.0
        self._devices = []
        self.set_devices(None)
        self.set_running(False, can_continue=False)

    # -- building the widgets --------------------------------------------------------------------------------
    def _build_settings_form(self):
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100000)
        self.epochs.setToolTip("How many passes over the training data")
        self.batch = QSpinBox()
        self.batch.setRange(1, 1 << 20)
        self.batch.setToolTip("Samples per training step (on All GPUs: the global batch, split evenly between them)")
        self.batch_note = _Note("")   # what each GPU gets on All GPUs
        self.batch_note.setForegroundRole(QPalette.PlaceholderText)
        self.device = QComboBox()
        self.device.setToolTip("Where training runs. Greyed-out GPUs cannot be used; hover them for the reason.")
        self.device.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.device.setMinimumContentsLength(12)
        self._device_model = QStandardItemModel(self.device)
        self.device.setModel(self._device_model)
        self.mixed = QCheckBox("Mixed precision (float16)")
        self.mixed.setToolTip("Faster on recent GPUs; only available when training on a GPU")
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch)
        form.addRow("", self.batch_note)
        form.addRow("Device", self.device)
        form.addRow("", self.mixed)
        self.backend = backend_combo()
        form.addRow("Backend", self.backend)
        self._build_early_stopping(form)
        return form

    def _build_early_stopping(self, form):
        # early stopping: a check box in the field column like the other options, its settings in rows below
        self.es_enabled = QCheckBox("Early stopping")
        self.es_enabled.setToolTip("Stop when the watched value has not improved for a number of epochs")
        self.es_monitor = QComboBox()
        self.es_monitor.setEditable(True)
        self.es_monitor.addItems(MONITORS)
        self.es_monitor.setToolTip("The value early stopping watches")
        self.es_patience = QSpinBox()
        self.es_patience.setRange(0, 10000)
        self.es_patience.setSuffix(" epochs")
        self.es_patience.setToolTip("How many epochs without improvement end the run")
        self.es_restore = QCheckBox("Restore the best weights")
        self.es_restore.setToolTip("At the end, go back to the weights of the best epoch")
        form.addRow("", self.es_enabled)
        form.addRow("Watch", self.es_monitor)
        form.addRow("Patience", self.es_patience)
        form.addRow("", self.es_restore)

    def _build_buttons(self):
        buttons = QHBoxLayout()
        self.start_btn = QPushButton("Start")
        self.start_btn.setToolTip("Train from fresh weights (F5)")
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setToolTip("Stop after the current batch; the weights learned so far are kept")
        self.continue_btn = QPushButton("Continue")
        self.continue_btn.setToolTip("Train further from the current weights")
        for b in (self.start_btn, self.stop_btn, self.continue_btn):
            b.setMinimumWidth(72)
            buttons.addWidget(b)
        self.start_btn.setDefault(True)
        return buttons

    def _build_progress(self, lay):
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)   # a long line must not widen the dock
        self.status.setStyleSheet("font-weight: 600;")
        lay.addWidget(self.status)
        self.progress = QProgressBar()   # thin, without text: the line above says where the run is
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        lay.addWidget(self.progress)
        self.message = _Note("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.message.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
        lay.addWidget(self.message)
        self.detail = _Note("")
        self.detail.setWordWrap(True)
        self.detail.setForegroundRole(QPalette.PlaceholderText)
        lay.addWidget(self.detail)
        self.message.setText("")
        self.detail.setText("")

    def _connect_signals(self):
        self.start_btn.clicked.connect(self.start_clicked)
        self.stop_btn.clicked.connect(self.stop_clicked)
        self.continue_btn.clicked.connect(self.continue_clicked)
        for w in (self.epochs, self.batch, self.es_patience):
            w.valueChanged.connect(self._changed)
        self.device.currentIndexChanged.connect(self._device_changed)
        self.mixed.toggled.connect(self._changed)
        self.backend.currentIndexChanged.connect(self._changed)
        self.es_enabled.toggled.connect(self._changed)
        self.es_monitor.currentTextChanged.connect(self._changed)
        self.es_restore.toggled.connect(self._changed)

    # -- settings <-> project --------------------------------------------------------------------------------
    def load(self, training: dict):
        """Show the project's "training" section. Any JSON value is tolerated: one that is not usable shows the
        default (or the nearest allowed value) and the field is marked invalid, with the reason in its tooltip."""
        self._loading = True
        try:
            t, ok = safe.mapping(training)
            self._invalid = {} if ok else {"training": training}
            self._show_int(self.epochs, t, "epochs", 10)
            self._show_int(self.batch, t, "batch_size", 32)
            dev = t.get("device", "auto")
            self._select_device(dev if isinstance(dev, str) else "auto")
            self._mark(self.device, not isinstance(dev, str), dev)
            mixed = t.get("mixed_precision", False)
            self.mixed.setChecked(mixed is True)
            self._backend_set = "backend" in t
            self._mark(self.backend, not select_backend(self.backend, t.get("backend", "tensorflow")), t.get("backend"))
            es, es_ok = safe.mapping(t.get("early_stopping"))
            enabled = es.get("enabled", False)
            self.es_enabled.setChecked(enabled is True)
            self._mark(self.es_enabled, not es_ok or not isinstance(enabled, bool),
                       t.get("early_stopping") if not es_ok else enabled)
            monitor = es.get("monitor", "val_loss")
            self.es_monitor.setCurrentText(safe.clip(monitor, safe.SHOWN_CHARS) if isinstance(monitor, str)
                                           else "val_loss")
            self._mark(self.es_monitor, not isinstance(monitor, str), monitor)
            self._show_int(self.es_patience, es, "patience", 5)
            self.es_restore.setChecked(es.get("restore_best_weights", True) is not False)
            self._update_mixed()
            self._update_es()
        finally:
            self._loading = False

    def _show_int(self, spin, section, key, default):
        raw = section.get(key, default)
        v, ok = safe.number(raw, default, spin.minimum(), spin.maximum(), whole=True)
        spin.setValue(int(v) if ok else default)   # 1e12 epochs: the default, not a run of 100 000
        self._mark(spin, not ok, raw)

    def _mark(self, w, bad, raw=None):
        """Mark a field whose project value was not usable (a red frame, the value in the tooltip)."""
        tips = self._tips
        if w not in tips:
            tips[w] = w.toolTip()
        w.setProperty("invalid", "true" if bad else "false")
        w.style().unpolish(w)
        w.style().polish(w)
        if bad:
            self._invalid[w] = raw
            w.setToolTip(f"The project's value {safe.clip(repr(raw))} is not usable; the default is shown."
                         f"\n{tips[w]}")
        else:
            self._invalid.pop(w, None)
            w.setToolTip(tips[w])

    def invalid_fields(self):
        """The fields that show a default instead of the project's value (widgets, plus "training" when the whole
        section was not an object)."""
        return list(getattr(self, "_invalid", {}))

    def _update_es(self):
        on = self.es_enabled.isChecked() and not self._running
        for w in (self.es_monitor, self.es_patience, self.es_restore):
            w.setEnabled(on)
            label = self.form.labelForField(w)
            if label is not None:
                label.setEnabled(on)

    def values(self) -> dict:
        return {"epochs": self.epochs.value(), "batch_size": self.batch.value(),
                "device": self.device.currentData() or "auto",
                "mixed_precision": self.mixed.isChecked() and self.mixed.isEnabled(),
                "early_stopping": {"enabled": self.es_enabled.isChecked(),
                                   "monitor": self.es_monitor.currentText().strip() or "val_loss",
                                   "patience": self.es_patience.value(),
                                   "restore_best_weights": self.es_restore.isChecked()},
                **backend_values(self.backend, getattr(self, "_backend_set", False))}

    def _changed(self, *_):
        self._update_mixed()
        self._update_es()
        if not self._loading:
            self.settings_changed.emit(self.values())

    def _device_changed(self, _i):
        self._changed()

    # -- devices ---------------------------------------------------------------------------------------------
    def set_devices(self, devices):
        """``devices`` from core.training.list_devices(); None while TensorFlow is still loading."""
        want = self.device.currentData() or "auto"
        self._loading, was = True, self._loading
        m = self._device_model
        m.clear()
        auto = QStandardItem("Automatic")
        auto.setToolTip("A GPU when one is usable, else the CPU")
        auto.setData("auto", Qt.UserRole)
        m.appendRow(auto)
        self._devices = devices or []
        if devices is None:
            it = QStandardItem("(looking for devices…)")
            it.setEnabled(False)
            m.appendRow(it)
        gpu_i = 0
        for d in self._devices:
            kind = d.get("kind", "cpu")
            if kind == "cpu":
                key = "cpu"
            else:
                key = d.get("id") or f"gpu:{gpu_i}"
                gpu_i += 1
            text = _with_memory(d, key)
            usable = bool(d.get("usable", True))
            if not usable and d.get("reason"):
                text = f"{text} — unavailable"
            it = QStandardItem(text)
            it.setData(key, Qt.UserRole)
            it.setData(kind, Qt.UserRole + 1)
            if not usable:
                it.setEnabled(False)
                it.setToolTip(d.get("reason") or "not usable")
            else:
                it.setToolTip(d.get("name", key))
            m.appendRow(it)
        m.appendRow(_all_gpus_item(self._devices))
        self._select_device(want)
        self._loading = was
        self._update_mixed()

    def _select_device(self, key):
        key = key if isinstance(key, str) and key else "auto"
        for i in range(self._device_model.rowCount()):
            it = self._device_model.item(i)
            if it.data(Qt.UserRole) == key and it.isEnabled():
                self.device.setCurrentIndex(i)
                return
        if key.startswith("gpu"):  # keep the saved choice visible even before devices are known
            for i in range(self._device_model.rowCount()):
                if self._device_model.item(i).data(Qt.UserRole + 1) == "gpu" and self._device_model.item(i).isEnabled():
                    self.device.setCurrentIndex(i)
                    return
        self.device.setCurrentIndex(0)

    def _device_is_gpu(self):
        key = self.device.currentData() or "auto"
        if key.startswith("gpu"):
            return True
        if key in ("auto", "all"):
            return any(d.get("kind") == "gpu" and d.get("usable") for d in self._devices)
        return False

    def _update_batch_note(self):
        n = _usable_gpus(self._devices) if (self.device.currentData() or "auto") == "all" else 0
        b = self.batch.value()
        self.batch_note.setText(f"global batch: {b / n:g} samples per GPU on each of {n} GPUs" if n >= 2 else "")

    def _update_mixed(self):
        self._update_batch_note()
        gpu = self._device_is_gpu()
        self.mixed.setEnabled(gpu and not self._running)
        self.mixed.setToolTip("Faster on recent GPUs" if gpu else "Only available when training on a GPU")

    # -- run state --------------------------------------------------------------------------------------------
    _running = False

    def set_running(self, running, can_continue=None, waiting=False):
        self._running = running
        self.start_btn.setEnabled(not running)
        self.stop_btn.setEnabled(running)
        if can_continue is not None:
            self._can_continue = can_continue
        self.continue_btn.setEnabled(not running and getattr(self, "_can_continue", False))
        for w in (self.epochs, self.batch, self.device, self.es_enabled, self.backend):
            w.setEnabled(not running)
        self._update_mixed()
        self._update_es()
        if running:
            self.message.setText("")
            if waiting:
                self.progress.setRange(0, 0)  # busy indicator while TensorFlow loads / the model builds
                self.set_status(waiting)
        else:
            self.progress.setRange(0, 1000)

    def set_status(self, text):
        if self.status.text() != text:
            self.status.setText(text)

    def set_preparing(self, text):
        self.progress.setRange(0, 0)
        self.set_status(text)
        self.detail.setText(text)

    def show_start(self, info, epochs_total):
        self.status.setStyleSheet("font-weight: 600;")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self._info = dict(info)
        self._epochs_total = epochs_total
        dev = info.get("device", "")
        self.detail.setText(f"Training on {dev}: {info.get('samples', '?')} samples, batch size "
                            f"{info.get('batch_size', '?')}, {info.get('steps_per_epoch', '?')} batches per epoch")

    def show_batch(self, epoch, step, info, initial_epoch=0):
        # a styled QProgressBar repaints synchronously on every change: 4 updates a second are plenty
        now = time.perf_counter()
        if now - self._last_batch_shown < 0.25:
            return
        self._last_batch_shown = now
        steps = max(1, int(self._info.get("steps_per_epoch") or 1)) if hasattr(self, "_info") else 1
        total = max(1, int(getattr(self, "_epochs_total", 1)))
        done = (epoch - initial_epoch) + (step + 1) / steps
        span = max(1, total - initial_epoch)
        self.progress.setValue(int(1000 * min(1.0, done / span)))
        self.set_status(f"Epoch {epoch + 1}/{total} · batch {step + 1}/{steps} · "
                                f"{fmt_rate(info.get('samples_per_s'))} samples/s · ETA {fmt_eta(info.get('eta_s'))}")

    def show_epoch(self, epoch, logs, initial_epoch=0):
        total = max(1, int(getattr(self, "_epochs_total", 1)))
        span = max(1, total - initial_epoch)
        self.progress.setValue(int(1000 * min(1.0, (epoch + 1 - initial_epoch) / span)))
        parts = [f"{k} {fmt_metric(v)}" for k, v in logs.items() if k not in ("lr", "time_s")
                 and isinstance(v, (int, float))]
        self.message.setStyleSheet("")
        self.message.setText(f"Epoch {epoch + 1}: " + ", ".join(parts))

    def show_done(self, text, ok=True):
        self.progress.setRange(0, 1000)
        if ok:
            self.progress.setValue(1000)
        self.set_status(text.split("\n")[0][:80] if ok else "Stopped by an error")
        self.status.setStyleSheet("font-weight: 600;" + ("" if ok else f" color: {style.tokens()['error']};"))
        self.message.setStyleSheet("" if ok else f"color: {style.tokens()['error']};")
        self.message.setText(text)

    def show_error(self, text):
        self.show_done(text, ok=False)


def _with_memory(d, key):
    """'GPU 0: NVIDIA H200 · 140 GB' (the memory when it is known)."""
    name, mem = d.get("name", key), d.get("memory")
    return f"{name} · {mem / 2 ** 30:.0f} GB" if isinstance(mem, (int, float)) and mem > 0 else name


def _usable_gpus(devices):
    return sum(1 for d in devices if d.get("kind") == "gpu" and d.get("usable", True))


def _all_gpus_item(devices):
    """"All GPUs": data-parallel training on every usable GPU (tf.distribute.MirroredStrategy); greyed with the
    reason where there are fewer than two."""
    n = _usable_gpus(devices)
    it = QStandardItem(f"All GPUs ({n})" if n >= 2 else "All GPUs")
    it.setData("all", Qt.UserRole)
    it.setData("gpu", Qt.UserRole + 1)
    if n >= 2:
        it.setToolTip(f"Train on all {n} GPUs at once (data-parallel): each GPU takes an equal part of every batch")
    else:
        it.setEnabled(False)
        it.setToolTip("Needs two or more usable GPUs; this machine has " + ("one" if n == 1 else "none"))
    return it
