"""The Export dialog's deployment targets (ONNX, TFLite float / dynamic / int8, SavedModel, Keras 2 .h5): the export
runs in the background through core.deploy and its parity report (largest difference per output, batch-1 latency,
the quantized test metric) is shown when it is done."""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from core.errors import LayerwiseError

from .tasks import run_task

log = logging.getLogger(__name__)

# filter text -> (target, quantize, extension added when the name has none)
FILTERS = {
    "ONNX model (*.onnx)": ("onnx", None, ".onnx"),
    "TensorFlow Lite model, float32 (*.tflite)": ("tflite", None, ".tflite"),
    "TensorFlow Lite model, dynamic-range quantized (*.tflite)": ("tflite", "dynamic", ".tflite"),
    "TensorFlow Lite model, int8 quantized on the training data (*.tflite)": ("tflite", "int8", ".tflite"),
    "SavedModel folder for TF Serving (*)": ("savedmodel", None, ""),
    "Keras 2 (tf_keras) HDF5 model (*.h5)": ("keras2", None, ".h5"),
}
BY_EXTENSION = {".onnx": "onnx", ".tflite": "tflite"}


def chosen(path, flt):
    """(path with its extension, target, quantize) for a filter of FILTERS, else None."""
    if flt not in FILTERS:
        return None
    target, quantize, ext = FILTERS[flt]
    if ext and Path(path).suffix.lower() != ext:
        path = path + ext
    return path, target, quantize


class TargetExport:
    """One window's deployment exports: at most one at a time; ``report`` is the last parity report shown."""

    def __init__(self, files):
        self.files = files
        self.running = False
        self.report = None
        self.box = None

    def start(self, path, target, quantize=None) -> bool:
        f = self.files
        if not f.ready_to_export(self.running):
            return False
        from .files import copy_project
        snapshot = copy_project(f.project)
        self.running = True
        f.doc.message.emit(f"Exporting {Path(path).name} and checking it against Keras…")

        def work():
            from core.build import build_model
            from core.deploy import export_target
            build = build_model(snapshot, with_weights=True, strict_weights=snapshot.has_weights())
            return export_target(snapshot, build, path, target, quantize)

        run_task(work, lambda rep: self._done(path, rep), lambda e: self._failed(path, e), name="export")
        return True

    def _done(self, path, report):
        self.running = False
        self.report = report
        name = Path(path).name
        self.files.doc.message.emit(f"Exported {name}: largest difference from Keras {report.max_diff:.1e}")
        self.box = QMessageBox(QMessageBox.Icon.Information, "Export checked",
                               f"Wrote {name}.\n\n" + "\n".join(report.lines()), parent=self.files.w)
        self.box.setModal(False)
        self.box.show()
        self.files.exported.emit(str(path), "")

    def _failed(self, path, e):
        self.running = False
        if not isinstance(e, (LayerwiseError, OSError)):
            log.error("export failed", exc_info=e)
        text = str(e) if isinstance(e, (LayerwiseError, OSError)) else f"{type(e).__name__}: {e}"
        self.files.w.show_error("Export failed", f"{Path(path).name}: {text}")
        self.files.exported.emit(str(path), text)
