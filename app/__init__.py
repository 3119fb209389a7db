"""Layerwise's PySide6 window: a view over ``core`` (the graph editor, panels, files).

Entry point: ``app.main.run_gui(path)``. Only this package imports Qt; ``core`` never does.
"""
from __future__ import annotations

import sys


def _guard_none_refcount():
    """PySide6 6.12 wheels (abi3) return ``None`` from void methods without a new reference, which is fine on
    Python ≥ 3.12 (``None`` is immortal there) but on 3.11 drops ``None``'s reference count by one per call:
    after a few thousand calls (``QRectF.setWidth``, ``QPainter.drawRect``, ``update()``...) Python aborts with
    "none_dealloc: deallocating None". ``None`` is a static singleton that is never freed, so giving it a huge
    reference count (what 3.12's immortal objects do) is harmless and keeps the window alive."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or hasattr(sys, "getobjects"):
        return False
    import ctypes
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    return True


NONE_GUARDED = _guard_none_refcount()
