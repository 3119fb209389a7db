"""Process-wide tuning of the garbage collector and the GIL for a window that trains in a worker thread.

Each changes the whole Python process, not the workbench: they live here, apart, so that is visible.
"""
from __future__ import annotations

import gc
import sys

_frozen = False
_switch_saved = None
_collector = None


def fast_gil_handoff(on):
    """While a run goes on, hand the GIL between threads every 1 ms instead of Python's 5 ms: after a burst of GUI
    work (a repaint) the training thread gets it back sooner, and the other way round (measured here: samples/s
    of a window run up, timer delays still far under a frame). ``on=False`` puts the interval back."""
    global _switch_saved
    if on and _switch_saved is None:
        _switch_saved = sys.getswitchinterval()
        sys.setswitchinterval(min(_switch_saved, 0.001))
    elif not on and _switch_saved is not None:
        sys.setswitchinterval(_switch_saved)
        _switch_saved = None


def freeze_startup_objects():
    """Move the objects alive once TensorFlow has loaded (modules, the window: hundreds of thousands, all permanent)
    out of the cyclic garbage collector's view. A full collection otherwise walks them all: ~0.4 s with the GIL held,
    a visible freeze of the window in the middle of a run. Garbage made later is collected as before. Once per
    process."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()


class _GuiThreadCollector:
    """Python's cyclic collector, run from a timer on the GUI thread instead of at whatever allocation crosses its
    threshold. Left automatic, a collection can start in a worker thread (a training tracing its step allocates a
    lot) and free the widgets of a closed window there; Qt objects must die on their own thread, and PySide's
    destructor then deadlocks against the GUI thread (seen: a training in the window that never ended). Each tick
    collects the oldest generation whose count is past Python's threshold, the way Python itself picks it."""

    def __init__(self, interval_ms):
        from PySide6.QtCore import QCoreApplication, QTimer
        self.thresholds = gc.get_threshold()
        self.timer = QTimer(QCoreApplication.instance())
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)

    def tick(self):
        counts, generation = gc.get_count(), -1
        for g in range(3):
            if counts[g] <= self.thresholds[g]:
                break
            generation = g
        if generation >= 0:
            gc.collect(generation)


def collect_on_gui_thread(interval_ms=100):
    """From now on only the GUI thread collects cyclic garbage (on a timer, every ``interval_ms``). Call it on the
    GUI thread once a QApplication exists; calling it again does nothing."""
    global _collector
    if _collector is not None:
        return
    _collector = _GuiThreadCollector(interval_ms)
    gc.disable()
    _collector.timer.start()


def automatic_collection():
    """Hand collection back to Python (tests of the core after those of the window; nothing in the app calls it)."""
    global _collector
    if _collector is None:
        return
    _collector.timer.stop()
    _collector.timer.deleteLater()
    _collector = None
    gc.enable()
    gc.collect()
