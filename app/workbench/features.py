"""Feature maps: what one layer outputs for one sample, live during training and after it.

Conv maps → a tiled grid of channel images, sequences (RNN/Conv1D outputs) → a time × units heatmap,
dense outputs → bars, attention layers → the score matrix of every head. The sample's input is drawn beside.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout,
                               QWidget)

from .. import safe
from . import style
from .render import attention_view, feature_view, input_view

HINT = "Train the network, or pick a layer of a trained one, to see what it outputs."
ATTENTION_TYPES = {"MultiHeadAttention", "Attention", "AdditiveAttention"}
SKIP_TYPES = {"Output"}


def _cmap():
    try:
        return pg.colormap.get("viridis")
    except Exception:  # pragma: no cover - pyqtgraph without its colour maps
        return None


class _View:
    """A PlotItem that shows either an image (grid/heatmap) or bars."""

    def __init__(self, title, lut=None):
        self.plot = pg.PlotItem()
        style.style_plot(self.plot, title=title)
        self.title = title
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        if lut is not None:
            self.image.setColorMap(lut)
        self.plot.addItem(self.image)
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.8, brush=style.TRAIN, pen=None)
        self.plot.addItem(self.bars)
        self.bars.setVisible(False)
        self.mode = None
        self.data = None
        self.plot.hideAxis("left")      # nothing to measure until there is data
        self.plot.hideAxis("bottom")

    def set_title(self, text):
        self.title = text
        self.plot.setTitle(text, size="9pt", color=style.tokens()["text"])

    def show_image(self, img, rgb=False, gray=False):
        self.data = img
        if self.mode != "image":
            self.mode = "image"
            self.bars.setVisible(False)
            self.image.setVisible(True)
            self.plot.invertY(True)
            self.plot.setAspectLocked(True)
            self.plot.hideAxis("left")
            self.plot.hideAxis("bottom")
        if gray and not rgb:
            self.image.setColorMap(pg.ColorMap([0, 1], [(0, 0, 0), (255, 255, 255)]))
        elif not rgb and _cmap() is not None:
            self.image.setColorMap(_cmap())
        self.image.setImage(np.asarray(img, dtype=np.float32), autoLevels=False, levels=(0.0, 1.0))
        h, w = img.shape[:2]
        self.plot.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)

    def show_heatmap(self, arr, xlabel="", ylabel=""):
        arr = np.asarray(arr, dtype=np.float32)
        finite = arr[np.isfinite(arr)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi - lo < 1e-12:
            hi = lo + 1.0
        self.data = arr
        if self.mode != "heatmap":
            self.mode = "heatmap"
            self.bars.setVisible(False)
            self.image.setVisible(True)
            self.plot.invertY(True)
            self.plot.setAspectLocked(False)
            self.plot.showAxis("left")
            self.plot.showAxis("bottom")
            if _cmap() is not None:
                self.image.setColorMap(_cmap())
        self.plot.setLabel("bottom", xlabel, color=style.tokens()["muted"])
        self.plot.setLabel("left", ylabel, color=style.tokens()["muted"])
        self.image.setImage(arr, autoLevels=False, levels=(lo, hi))
        h, w = arr.shape
        self.plot.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)

    def show_bars(self, values, xlabel="unit"):
        v = np.nan_to_num(np.asarray(values, dtype=np.float32).reshape(-1))
        self.data = v
        if self.mode != "bars":
            self.mode = "bars"
            self.image.setVisible(False)
            self.bars.setVisible(True)
            self.plot.invertY(False)
            self.plot.setAspectLocked(False)
            self.plot.showAxis("left")
            self.plot.showAxis("bottom")
        self.plot.setLabel("bottom", xlabel, color=style.tokens()["muted"])
        self.plot.setLabel("left", "")
        self.bars.setOpts(x=np.arange(len(v)), height=v, width=0.8)
        lo, hi = float(min(0.0, v.min(initial=0.0))), float(max(0.0, v.max(initial=0.0)))
        if hi - lo < 1e-9:
            hi = lo + 1.0
        self.plot.setRange(xRange=(-0.5, len(v) - 0.5), yRange=(lo, hi), padding=0.05)

    def clear(self):
        self.image.clear()
        self.bars.setOpts(x=[0], height=[0])
        self.data = None
        self.mode = None
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")


class FeaturePanel(QWidget):
    """The feature-map dock. The workbench feeds it (``show_features``) and listens to ``wanted`` for recomputes."""

    wanted = Signal()          # layer or sample changed: the workbench computes or waits for the live stream

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("workbench_features")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        bar = QHBoxLayout()
        self.layer = QComboBox()
        self.layer.setMinimumContentsLength(9)
        self.layer.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.layer.setToolTip("The layer whose output is shown")
        self.follow = QCheckBox("Follow canvas")
        self.follow.setChecked(True)
        self.follow.setToolTip("Show the layer selected on the canvas")
        self.sample = QSpinBox()
        self.sample.setRange(0, 0)
        self.sample.setToolTip("Index of the sample (in the validation split, else the training split)")
        self.every = QSpinBox()
        self.every.setRange(0, 9999)
        self.every.setValue(50)
        self.every.setSingleStep(10)
        self.every.setSpecialValueText("each epoch")
        self.every.setSuffix(" batches")
        self.every.setToolTip("How often feature maps refresh during training (0 = at the end of each epoch)")
        # two short rows, so a narrow dock does not scroll sideways
        bar.addWidget(QLabel("Layer"))
        bar.addWidget(self.layer, 1)
        bar.addWidget(self.follow)
        lay.addLayout(bar)
        bar2 = QHBoxLayout()
        bar2.addWidget(QLabel("Sample"))
        bar2.addWidget(self.sample)
        bar2.addSpacing(10)
        bar2.addWidget(QLabel("Refresh"))
        bar2.addWidget(self.every)
        bar2.addStretch(1)
        lay.addLayout(bar2)

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setMinimumHeight(120)
        self.glw.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.input_view = _View("Input")
        self.output_view = _View("Output", lut=_cmap())
        self.glw.addItem(self.input_view.plot, row=0, col=0)
        self.glw.addItem(self.output_view.plot, row=0, col=1)
        self.glw.ci.layout.setColumnStretchFactor(0, 1)
        self.glw.ci.layout.setColumnStretchFactor(1, 3)
        lay.addWidget(self.glw, 1)
        self.caption = QLabel(HINT)
        # no word wrap: a wrapping label makes the dock's scroll area size the panel to its preferred height
        self.caption.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.caption.setForegroundRole(QPalette.PlaceholderText)
        lay.addWidget(self.caption)

        self.apply_theme(style.tokens())
        style.on_change(self.apply_theme)
        self.node_types: dict[str, str] = {}
        self.node_names: dict[str, str] = {}
        self.last_kind = None
        self.last_shape = None
        self.layer.currentIndexChanged.connect(lambda _i: self.wanted.emit())
        self.sample.valueChanged.connect(lambda _v: self.wanted.emit())

    def apply_theme(self, t):
        self.glw.setBackground(t["panel"])
        for v in (self.input_view, self.output_view):
            style.style_plot(v.plot, t, v.title)

    # -- inputs ----------------------------------------------------------------------------------------------------
    def set_nodes(self, nodes):
        """``nodes``: [(id, name, type)] in graph order. Keeps the current choice when it still exists."""
        cur = self.current_node()
        self.node_types = {k: t for k, _n, t in nodes}
        self.node_names = {k: n for k, n, _t in nodes}
        self.layer.blockSignals(True)
        self.layer.clear()
        for k, name, typ in nodes:
            if typ in SKIP_TYPES:
                continue
            self.layer.addItem(f"{safe.clip(name)}  ·  {typ}", k)
        idx = self.layer.findData(cur) if cur else -1
        if idx < 0:
            idx = self._default_index()
        self.layer.setCurrentIndex(idx)
        self.layer.blockSignals(False)
        if self.current_node() != cur:
            self.wanted.emit()

    def _default_index(self):
        # the first layer with weights that is not an input: usually the first conv/dense layer
        for i in range(self.layer.count()):
            t = self.node_types.get(self.layer.itemData(i))
            if t not in ("Input", "Rescaling", "Normalization", "Reshape", "Flatten", "Dropout"):
                return i
        return 0 if self.layer.count() else -1

    def follow_selection(self, ids):
        if not self.follow.isChecked() or not ids:
            return
        idx = self.layer.findData(ids[0])
        if idx >= 0 and idx != self.layer.currentIndex():
            self.layer.setCurrentIndex(idx)

    def set_sample_count(self, n):
        self.sample.setMaximum(max(0, int(n) - 1))

    def current_node(self):
        return self.layer.currentData()

    def current_sample(self):
        return self.sample.value()

    def refresh_every(self):
        return self.every.value()

    # -- drawing -----------------------------------------------------------------------------------------------
    def show_features(self, node_id, features, sample_input=None, when=""):
        """Draw ``features[node_id]`` (first sample) and, for attention nodes, ``features[node_id + ':scores']``."""
        if node_id is None or node_id not in features and f"{node_id}:scores" not in features:
            return False
        name = safe.clip(self.node_names.get(node_id, node_id))
        typ = self.node_types.get(node_id, "")
        scores = features.get(f"{node_id}:scores")
        if scores is not None and len(scores):
            img, text = attention_view(np.asarray(scores)[0])
            self.output_view.set_title(f"{name} · attention scores")
            self.output_view.show_heatmap(img, "key position (heads side by side)", "query position")
            self.last_kind = "attention"
            self.last_shape = img.shape
        else:
            a = np.asarray(features[node_id])
            if a.ndim == 0 or not len(a):
                return False
            kind, data, text = feature_view(a[0])
            self.output_view.set_title(f"{name} · {typ}" if typ else name)
            if kind == "grid":
                self.output_view.show_image(data)
            elif kind == "heatmap":
                self.output_view.show_heatmap(data, "unit", "step")
            else:
                self.output_view.show_bars(data)
            self.last_kind = kind
            self.last_shape = data.shape
        if sample_input is not None:
            self.show_input(sample_input)
        self.caption.setText(f"{name}: {text}" + (f"  —  {when}" if when else ""))
        return True

    def show_input(self, x):
        x = np.asarray(x)
        key = (self.current_sample(), x.shape, x.dtype.str, hash(x.tobytes()) if x.size <= 1 << 16 else id(x))
        if key == getattr(self, "_input_key", None):
            return   # the same sample again (every live refresh): nothing to redraw
        self._input_key = key
        kind, data = input_view(x)
        self.input_view.set_title(f"Input · sample {self.current_sample()}")
        if kind == "image":
            self.input_view.show_image(data, rgb=data.ndim == 3, gray=data.ndim == 2)
        elif kind == "heatmap":
            self.input_view.show_heatmap(data, "feature", "step")
        else:
            self.input_view.show_bars(data, "feature")

    def show_message(self, text):
        self.caption.setText(text)

    def clear(self, caption=HINT):
        """Forget what is shown (another project, or New): pictures, titles and caption go back to the start."""
        self._input_key = None
        self.input_view.clear()
        self.output_view.clear()
        self.input_view.set_title("Input")
        self.output_view.set_title("Output")
        self.last_kind = None
        self.last_shape = None
        self.caption.setText(caption)
