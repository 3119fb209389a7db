"""The Training panel's Backend choice: Keras' backends (TensorFlow, JAX, PyTorch), the ones that are not installed
greyed with what to install. A run on JAX or PyTorch trains in a child process (core.training.worker_client);
the window keeps TensorFlow for shape inference."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from core.training import backends

TIP = ("The Keras backend training runs on. TensorFlow trains in this window's process; JAX and PyTorch train in "
       "a separate process (the window keeps TensorFlow) and report the same progress, curves and feature maps.")


def backend_combo() -> QComboBox:
    combo = QComboBox()
    combo.setToolTip(TIP)
    for b in backends.installed():
        text = f"{b['label']} {b['version']}" if b["installed"] else f"{b['label']} (not installed)"
        combo.addItem(text, b["name"])
        item = combo.model().item(combo.count() - 1)
        if not b["installed"]:
            item.setEnabled(False)
            item.setToolTip(b["reason"])
    return combo


def select_backend(combo, name) -> bool:
    """Show backend ``name``; False (TensorFlow shown) when it is no backend or not installed here."""
    try:
        key = backends.normalize(name)
    except Exception:
        key = None
    i = combo.findData(key) if key else -1
    usable = i >= 0 and combo.model().item(i).isEnabled()
    combo.setCurrentIndex(i if usable else max(combo.findData(backends.DEFAULT_BACKEND), 0))
    return usable


def backend_values(combo, in_project) -> dict:
    """{"backend": name} for the panel's values: only when it is not TensorFlow or the project names one (a
    project that never chose a backend does not gain the key from an edit of another setting)."""
    name = combo.currentData() or backends.DEFAULT_BACKEND
    return {"backend": name} if in_project or name != backends.DEFAULT_BACKEND else {}
