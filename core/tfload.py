"""Import TensorFlow/Keras once, quietly (TensorFlow prints start-up chatter on stderr that users need not see)."""
from __future__ import annotations

import os
import sys
import threading

_lock = threading.Lock()
_done = False


def import_keras():
    """Import keras (and TensorFlow under it) with its C++ start-up messages silenced. Returns the module."""
    global _done
    if _done:
        import keras
        return keras
    with _lock:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
        saved = None
        try:
            if threading.current_thread() is threading.main_thread() and not os.environ.get("LAYERWISE_TF_VERBOSE"):
                sys.stderr.flush()
                saved = os.dup(2)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            import tensorflow  # noqa: F401
            import keras
            try:
                import absl.logging
                absl.logging.set_verbosity(absl.logging.ERROR)
            except ImportError:
                pass
        finally:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
        _done = True
        return keras
