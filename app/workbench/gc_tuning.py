"""Process-wide tuning of the garbage collector and the GIL for a window that trains in a worker thread.

Both change the whole Python process, not the workbench: they live here, apart, so that is visible.
"""
from __future__ import annotations

import gc
import sys

_frozen = False
_switch_saved = None


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
