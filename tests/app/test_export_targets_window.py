"""The window's Export dialog offers the deployment targets; an export runs in the background and shows its parity
report (the largest difference from Keras, batch-1 latency)."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from app.export_targets import FILTERS, chosen

from .test_editor_support import isolated, keras_loaded, win  # noqa: F401


def test_the_dialog_offers_every_target_and_the_report_is_shown(win, isolated, qtbot, monkeypatch):
    offered = {}

    def save_name(parent, title, start, filters):
        offered["filters"] = filters.split(";;")
        return str(isolated / "digits"), "TensorFlow Lite model, float32 (*.tflite)"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    with qtbot.waitSignal(win.files.exported, timeout=120_000) as sig:
        assert win.files.export_dialog()
    out = isolated / "digits.tflite"
    assert sig.args == [str(out), ""]
    assert set(FILTERS) <= set(offered["filters"])
    assert out.is_file()
    box = win.files.targets.box
    assert box.isVisible() and "largest difference" in box.text() and "batch-1 latency: Keras" in box.text()
    assert win.files.targets.report.max_diff <= 1e-4
    box.close()


def test_a_filter_picks_the_target_and_the_extension():
    assert chosen("/tmp/m", "ONNX model (*.onnx)") == ("/tmp/m.onnx", "onnx", None)
    assert chosen("/tmp/m.tflite", "TensorFlow Lite model, int8 quantized on the training data (*.tflite)") == \
        ("/tmp/m.tflite", "tflite", "int8")
    assert chosen("/tmp/served", "SavedModel folder for TF Serving (*)") == ("/tmp/served", "savedmodel", None)
    assert chosen("/tmp/m.h5", "Keras HDF5 model (*.h5)") is None
