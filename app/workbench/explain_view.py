"""Explain a prediction (the Explain panel, a tab beside the Results panel): pick a sample of the test split and get its saliency map and, from
a convolution node (chosen in the box or selected on the canvas), its Grad-CAM laid over the input; sequences get
a per-step attribution strip. ``core.explain`` does the work in a worker thread; this module only draws."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSpinBox, QVBoxLayout,
                               QWidget)

from .. import safe
from ..tasks import run_task


class ExplainBox(QWidget):
    requested = Signal(int, str)      # sample index, Grad-CAM node id ("" for none)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("workbench_explain")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Explain sample"))
        self.sample = QSpinBox()
        self.sample.setRange(0, 0)
        row.addWidget(self.sample)
        row.addStretch(1)
        lay.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("Grad-CAM of"))
        self.layer = QComboBox()
        self.layer.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer.setMinimumContentsLength(10)
        self.layer.addItem("(none)", "")
        self.layer.setToolTip("a convolution node; selecting one on the canvas picks it here")
        row.addWidget(self.layer)
        self.button = QPushButton("Explain")
        self.button.setEnabled(False)
        self.button.clicked.connect(lambda: self.requested.emit(self.sample.value(), self.layer.currentData() or ""))
        row.addWidget(self.button)
        row.addStretch(1)
        lay.addLayout(row)
        self.caption = QLabel("After training: why the network predicts what it does for one test sample.")
        self.caption.setProperty("role", "muted")
        self.caption.setWordWrap(True)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.picture = QLabel()
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setMinimumHeight(120)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.caption)
        lay.addWidget(self.picture, 1)

    def ready(self, n_samples, nodes):
        """Enable for a trained model: ``n_samples`` in the split, ``nodes`` [(id, name)] Grad-CAM can use."""
        self.sample.setRange(0, max(n_samples - 1, 0))
        self.layer.clear()
        self.layer.addItem("(none)", "")
        for k, name in nodes:
            self.layer.addItem(safe.clip(name), k)
        self.button.setEnabled(n_samples > 0)

    def pick_layer(self, node_id):
        i = self.layer.findData(node_id)
        if i >= 0:
            self.layer.setCurrentIndex(i)

    def say(self, text):
        self.caption.setText(safe.clip(text, safe.TIP_CHARS))

    def show_picture(self, rgb, text):
        rgb = np.ascontiguousarray(rgb)
        h, w = rgb.shape[:2]
        img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        pm = QPixmap.fromImage(img)
        room_w, room_h = max(self.picture.width(), 160), max(self.picture.height(), 120)
        if pm.width() > room_w or pm.height() > room_h:
            pm = pm.scaled(room_w, room_h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
        self.picture.setPixmap(pm)
        self.say(text)


def spatial_nodes(build, graph):
    """[(node id, name)] of the nodes whose output has height and width (or steps): what Grad-CAM can use."""
    out = []
    for k, t in build.tensors.items():
        n = graph.nodes.get(k)
        if n is not None and n.type not in ("Input", "Output") and len(t.shape) >= 3 and k in build.layers:
            out.append((k, n.name))
    return out


def caption(ex):
    what = f"class {ex.class_index} ({ex.score:.2f})" if ex.class_index is not None else f"{ex.score:.4g}"
    panels = ["input", "saliency"] + (["Grad-CAM of " + ex.cam_layer] if ex.cam_layer else [])
    if ex.kind == "sequence":
        panels = ["input (rows: features)", "saliency", ex.method or "attribution"]
    return f"Sample {ex.index} of the {ex.split} split: predicted {what}. " + " · ".join(panels)


class ExplainController(QObject):
    def __init__(self, window, workbench):
        super().__init__(workbench)
        self.window, self.wb = window, workbench
        self.box = ExplainBox()
        self.dock = window.add_panel(self.box, "Explain", Qt.DockWidgetArea.BottomDockWidgetArea)
        try:   # a tab beside the Results panel
            window.tabifyDockWidget(workbench.docks.by_key["results"], self.dock)
            workbench.docks.by_key["features"].raise_()
        except (KeyError, RuntimeError):
            pass
        self.box.requested.connect(self.explain)
        workbench.run_finished.connect(self._run_finished)
        workbench.run_started.connect(lambda: self.box.button.setEnabled(False))
        window.scene.selection_ids_changed.connect(self._selected)
        self.task = None

    def _run_finished(self, result):
        if result is None or result.build is None or result.error is not None:
            return
        ds = result.dataset
        split = next((s for s in (ds.test, ds.val, ds.train) if s is not None and s.x is not None), None)
        n = 0 if split is None else len(split.x[0] if isinstance(split.x, (list, tuple)) else split.x)
        self.box.ready(n, spatial_nodes(result.build, self.wb.project.graph))

    def _selected(self, ids):
        if ids:
            self.box.pick_layer(ids[0])

    def explain(self, sample, node_id):
        result = self.wb.result
        if result is None or result.build is None or self.wb.runner.running:
            self.box.say("Train the network first (or wait for the run to end).")
            return
        graph = self.wb.project.graph
        layer = graph.nodes[node_id].name if node_id in graph.nodes else None

        def work():
            from core.explain import explain_sample, sample_of
            from core.explain_png import render
            xs, label, split = sample_of(result.dataset, graph, sample)
            ex = explain_sample(result.build, graph, xs, layer=layer)
            ex.split, ex.index, ex.label = split, sample, label
            return render(ex), caption(ex)

        self.box.say("Explaining…")
        self.task = self.wb.runner.uses_model(run_task(work, lambda r: self.box.show_picture(*r),
                                                       lambda e: self.box.say(str(e)), name="explain",
                                                       on_finished=self.wb.runner.model_task_done))
