"""app.tasks: a function run in a worker thread, its result or error delivered on the GUI thread; named slots
drop the result of a task started before (cancel-on-restart)."""
from __future__ import annotations

import threading

from app.tasks import TaskSlots, run_task, wait_all


def test_result_and_error_arrive_on_the_gui_thread(qtbot):
    gui = threading.current_thread()
    got, where, finished = [], [], []
    worker = []

    def work():
        worker.append(threading.current_thread())
        return 41 + 1

    t = run_task(work, lambda r: (got.append(r), where.append(threading.current_thread())),
                 on_finished=finished.append, name="answer")
    qtbot.waitUntil(lambda: finished == [t], timeout=5000)
    assert got == [42] and where == [gui] and worker[0] is not gui and t.delivered and not t.running

    errors = []

    def boom():
        raise ValueError("no")

    t = run_task(boom, lambda r: got.append(r), lambda e: (errors.append(e), where.append(threading.current_thread())))
    assert t.wait(5)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ValueError) and where[-1] is gui and got == [42]


def test_a_deferred_task_starts_when_asked(qtbot):
    got = []
    t = run_task(lambda: "late", got.append, start=False)
    assert not t.started and t.wait(0)     # not started: nothing to wait for
    t.start()
    qtbot.waitUntil(lambda: got == ["late"], timeout=5000)


def test_a_slot_drops_the_result_of_the_task_started_before(qtbot):
    slots = TaskSlots()
    gate = threading.Event()
    got, finished = [], []
    first = slots.start("data", lambda: gate.wait(5) and "old", got.append, on_finished=finished.append)
    assert slots.busy("data") and slots.busy() and not slots.busy("other")
    second = slots.start("data", lambda: "new", got.append, on_finished=finished.append)
    assert first.cancelled and not second.cancelled and slots.task("data") is second
    gate.set()
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=5000)
    assert got == ["new"]                  # the old answer never reaches the callbacks
    assert not slots.busy("data") and slots.task("data") is None


def test_cancel_drops_the_result_and_a_callback_may_start_the_slot_again(qtbot):
    slots = TaskSlots()
    gate = threading.Event()
    got, finished = [], []
    slots.start("evaluate", lambda: gate.wait(5) and 1, got.append, on_finished=finished.append)
    slots.cancel("evaluate")
    assert not slots.busy("evaluate")
    gate.set()
    qtbot.waitUntil(lambda: len(finished) == 1, timeout=5000)
    assert got == []

    def again(r):
        got.append(r)
        if r == "first":      # the slot is free while its callback runs (a retry starts in the same slot)
            slots.start("import", lambda: "second", again)

    slots.start("import", lambda: "first", again)
    qtbot.waitUntil(lambda: got == ["first", "second"], timeout=5000)
    wait_all(1000)


def test_an_answer_for_a_destroyed_window_is_dropped(qtbot):
    import shiboken6
    from PySide6.QtWidgets import QLabel, QWidget
    window = QWidget()
    label = QLabel("waiting", window)
    slots = TaskSlots(window)
    gate = threading.Event()
    finished = []
    slots.start("evaluate", lambda: gate.wait(5) and "late", label.setText, on_finished=finished.append)
    shiboken6.delete(window)            # the window (and its label) go while the evaluation runs
    assert not shiboken6.isValid(label)
    gate.set()
    qtbot.waitUntil(lambda: len(finished) == 1, timeout=5000)   # delivered, without touching the deleted label
    assert finished[0].cancelled


def test_only_the_gui_thread_collects_cyclic_garbage(qtbot):
    """A collection started in a worker thread frees Qt objects there (a closed window's widgets): the window
    collects on the GUI thread, from a timer, and nowhere else."""
    import gc
    import weakref
    from app.workbench.gc_tuning import collect_on_gui_thread
    collect_on_gui_thread()
    gui = threading.current_thread()
    where = []

    def seen(phase, info):
        if phase == "start":
            where.append(threading.current_thread())

    class Cycle:
        pass

    gc.callbacks.append(seen)
    try:
        probe = Cycle()
        probe.me = probe
        dead = weakref.ref(probe)
        del probe

        def allocate():                 # far past Python's thresholds: an automatic collection would start here
            for _ in range(200_000):
                c = Cycle()
                c.me = c
        t = run_task(allocate)
        assert t.wait(30)
        qtbot.waitUntil(lambda: dead() is None, timeout=5000)     # the GUI thread's timer collected it
    finally:
        gc.callbacks.remove(seen)
    assert where and all(th is gui for th in where), {th.name for th in where}
    assert not gc.isenabled()
