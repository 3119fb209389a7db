"""Import TensorFlow/Keras once, quietly (TensorFlow prints start-up chatter on stderr that users need not see)."""
from __future__ import annotations

import contextlib
import os
import sys
import threading

_lock = threading.Lock()
_done = False


@contextlib.contextmanager
def quiet_stderr():
    """Send file descriptor 2 to the null device while the block runs (TensorFlow's C++ start-up messages bypass
    ``sys.stderr``), then restore it. ``LAYERWISE_TF_VERBOSE=1`` keeps it; where descriptor 2 cannot be
    redirected the block runs as it is. Python's own ``sys.stderr`` object is untouched (a log file stays one)."""
    if os.environ.get("LAYERWISE_TF_VERBOSE"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
    except (OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        try:
            os.dup2(saved, 2)
            os.close(saved)
        except OSError:
            pass


def is_loaded():
    """Whether ``import_keras`` has finished (Keras can be used without waiting for it)."""
    return _done


def import_keras():
    """Import keras (and TensorFlow under it) with its C++ start-up messages silenced. Returns the module.
    (Descriptor 2 is process-wide: it is redirected only when importing from the main thread.)"""
    global _done
    if _done:
        import keras
        return keras
    with _lock:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
        main = threading.current_thread() is threading.main_thread()
        with quiet_stderr() if main else contextlib.nullcontext():
            if os.environ.get("KERAS_BACKEND", "tensorflow").strip().lower() in ("", "tensorflow"):
                import tensorflow  # noqa: F401  (under JAX / PyTorch, a backend worker, TensorFlow is not needed)
            import keras
            try:
                import absl.logging
                absl.logging.set_verbosity(absl.logging.ERROR)
            except ImportError:
                pass
        _done = True
        return keras
