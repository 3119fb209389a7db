"""Background work for the window: run a function in a worker thread, get its result or its error on the GUI thread.

``run_task(fn, on_done, on_error)`` runs ``fn()`` in a worker thread; afterwards ``on_done(result)`` or
``on_error(exception)`` runs on the GUI thread (queued through its event loop), then ``on_finished(task)``.
``TaskSlots`` gives the kinds of work of one part a name each (``"data"``, ``"evaluate"``...): starting a task in
a slot, or cancelling the slot, drops the result of the task started there before (its thread still runs to its
end, but nothing of it reaches the callbacks), so a late answer to an old question is never shown; nor is one
that comes after the window it was for has been destroyed.

Only the GUI thread touches widgets: the callbacks are the place for that, ``fn`` never is. Worker threads are
daemon threads (a window closed during a long import does not hang on exit); ``wait_all`` waits for them where
the work must not be cut off (TensorFlow at exit).
"""
from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

log = logging.getLogger(__name__)

_running: set = set()   # tasks started and not yet delivered (kept alive until then)


class _Relay(QObject):
    """Lives in the GUI thread; a worker's emit of ``ended`` is a queued call of ``_deliver`` there."""

    ended = Signal(object, bool, object)   # task, ok, result or exception

    def __init__(self):
        super().__init__()
        self.ended.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def _deliver(self, task, ok, value):
        task._deliver(ok, value)


_relay: _Relay | None = None


def _get_relay() -> _Relay:
    global _relay
    if _relay is None:
        _relay = _Relay()
        app = QCoreApplication.instance()
        if app is not None and _relay.thread() is not app.thread():
            _relay.moveToThread(app.thread())
    return _relay


class Task:
    """One function run in a worker thread. Create with ``run_task`` (or ``TaskSlots.start``)."""

    def __init__(self, fn, on_done=None, on_error=None, on_finished=None, name="task"):
        self.fn = fn
        self.name = name
        self.on_done, self.on_error, self.on_finished = on_done, on_error, on_finished
        self.cancelled = False   # the result is dropped (the thread is not interrupted)
        self.delivered = False   # the callbacks have run (or were skipped: cancelled)
        self._release = []       # run first at delivery (a slot lets go of the task)
        self._relay = _get_relay()
        self._thread = threading.Thread(target=self._run, name=f"layerwise-{name}", daemon=True)

    @property
    def started(self):
        return self._thread.ident is not None

    @property
    def running(self):
        """Started and not delivered yet."""
        return self.started and not self.delivered

    def start(self):
        _running.add(self)
        self._thread.start()
        return self

    def cancel(self):
        """Drop the result: neither ``on_done`` nor ``on_error`` will run (``on_finished`` still does)."""
        self.cancelled = True

    def wait(self, timeout=None) -> bool:
        """Block until the worker function has returned (the callbacks come later, from the event loop)."""
        if not self.started:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self):
        try:
            ok, value = True, self.fn()
        except BaseException as e:  # noqa: BLE001 - reported to the GUI thread, never lost
            log.debug("task %s failed", self.name, exc_info=True)
            ok, value = False, e
        try:
            self._relay.ended.emit(self, ok, value)
        except RuntimeError:   # the application is gone (exit while the task ran): nobody to tell
            _running.discard(self)

    def _deliver(self, ok, value):
        self.fn = None
        self.delivered = True
        _running.discard(self)
        for release in self._release:
            release(self)
        try:
            if not self.cancelled:
                callback = self.on_done if ok else self.on_error
                if callback is not None:
                    callback(value)
                elif not ok:
                    log.warning("background task %s failed: %s", self.name, value)
        finally:
            if self.on_finished is not None:
                self.on_finished(self)


def run_task(fn, on_done=None, on_error=None, name="task", on_finished=None, start=True) -> Task:
    """Run ``fn()`` in a worker thread; ``on_done(result)`` or ``on_error(exception)`` follow on the GUI thread,
    then ``on_finished(task)``. ``start=False``: the caller starts it (``task.start()``)."""
    t = Task(fn, on_done, on_error, on_finished, name)
    return t.start() if start else t


class TaskSlots:
    """Named slots of background work, at most one live task each: starting a task in a slot (or ``cancel``)
    drops the result of the one before it."""

    def __init__(self, owner=None):
        """``owner``: the widget whose parts the callbacks fill in; once it is destroyed, the answers still to come
        are dropped (a window closed while its evaluation ran)."""
        self._current: dict[str, Task] = {}
        if owner is not None:
            owner.destroyed.connect(lambda *_: self.cancel())

    def start(self, slot, fn, on_done=None, on_error=None, on_finished=None) -> Task:
        self.cancel(slot)
        t = Task(fn, on_done, on_error, on_finished, name=slot)
        t._release.append(lambda task, slot=slot: self._let_go(slot, task))
        self._current[slot] = t
        return t.start()

    def cancel(self, *slots):
        """Drop the pending results of these slots (of every slot when none is named)."""
        for slot in slots or list(self._current):
            t = self._current.pop(slot, None)
            if t is not None:
                t.cancel()

    def busy(self, *slots) -> bool:
        """Whether a task started in one of these slots (any slot when none is named) has not delivered yet."""
        return any(t.running for s, t in self._current.items() if not slots or s in slots)

    def task(self, slot) -> Task | None:
        return self._current.get(slot)

    def _let_go(self, slot, task):
        if self._current.get(slot) is task:
            del self._current[slot]


def wait_all(timeout_ms=5000):
    """Wait (at most ``timeout_ms`` in all) for the worker threads still running (at application exit)."""
    deadline = time.monotonic() + timeout_ms / 1000.0
    for t in list(_running):
        t.wait(max(0.0, deadline - time.monotonic()))
