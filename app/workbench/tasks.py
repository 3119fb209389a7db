"""Background work for the workbench: a generic one-shot task thread and the training worker.

Only the GUI thread touches widgets. Worker threads hand results over through Qt signals; the objects that
carry those signals live in the GUI thread, so every emit from a worker is a queued call.
"""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QThread, Signal

log = logging.getLogger(__name__)

_running: set = set()  # keeps task threads alive until they finish


class Task(QThread):
    """Run ``fn()`` in a thread; ``done(result)`` or ``failed(exception)`` arrive in the GUI thread."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, fn, parent=None, name="task"):
        super().__init__(parent)
        self.fn = fn
        self.setObjectName(name)
        self.finished.connect(self._forget)

    def run(self):
        try:
            result = self.fn()
        except BaseException as e:  # noqa: BLE001 - reported to the GUI, never lost
            log.debug("task %s failed", self.objectName(), exc_info=True)
            self.failed.emit(e)
            return
        self.done.emit(result)

    def _forget(self):
        _running.discard(self)
        self.fn = None
        self.deleteLater()


def run_task(fn, on_done=None, on_error=None, name="task", on_finished=None):
    """Start ``fn`` in a background thread and return the Task. ``on_finished(task)`` runs after done/failed."""
    t = Task(fn, name=name)
    if on_done is not None:
        t.done.connect(on_done)
    if on_error is not None:
        t.failed.connect(on_error)
    if on_finished is not None:
        t.finished.connect(lambda: on_finished(t))
    _running.add(t)
    t.start()
    return t


def wait_all(timeout_ms=5000):
    """Wait for the running tasks (at application exit)."""
    for t in list(_running):
        t.wait(timeout_ms)


class TrainBridge(QObject):
    """Signals from a training run. Lives in the GUI thread; emitted from the worker (queued)."""

    started = Signal(object)                 # info dict
    batch = Signal(int, int, object, object)  # epoch, step, logs, info
    epoch = Signal(int, object)              # epoch, logs
    features = Signal(int, int, object)      # epoch, step, {node_id: array}
    error = Signal(object)                   # TrainingError during the run (the result follows)
    finished = Signal(object)                # TrainResult
    failed = Signal(object)                  # exception before training started (DataError, BuildError...)


def make_state(bridge: TrainBridge, min_interval=0.04):
    """A core.training.TrainState that forwards to ``bridge``'s queued signals, at most one batch report
    every ``min_interval`` seconds (the engine already samples batches by time; this is a second guard)."""
    from core.training import TrainState

    class QtTrainState(TrainState):
        def __init__(self):
            super().__init__()
            self._last = 0.0

        def on_start(self, info):
            bridge.started.emit(dict(info))

        def on_batch(self, epoch, step, logs, info):
            now = time.perf_counter()
            if now - self._last < min_interval:
                return
            self._last = now
            bridge.batch.emit(int(epoch), int(step), dict(logs), dict(info or {}))

        def on_epoch(self, epoch, logs):
            bridge.epoch.emit(int(epoch), dict(logs))

        def on_features(self, epoch, step, features):
            bridge.features.emit(int(epoch), int(step), dict(features))

        def on_end(self, result):
            pass  # the worker emits ``finished`` with the returned result

        def on_error(self, error):
            bridge.error.emit(error)

    return QtTrainState()


class TrainThread(QThread):
    """Runs ``fn(state)`` (which calls core.training.run) and emits the bridge's finished/failed."""

    def __init__(self, fn, state, bridge, parent=None):
        super().__init__(parent)
        self.setObjectName("layerwise-training")
        self.fn = fn
        self.state = state
        self.bridge = bridge

    def run(self):
        try:
            result = self.fn(self.state)
        except BaseException as e:  # noqa: BLE001
            log.debug("training failed before it started", exc_info=True)
            self.bridge.failed.emit(e)
            return
        self.bridge.finished.emit(result)
