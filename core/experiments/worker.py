"""A sweep worker: one process that imports TensorFlow once and runs trial after trial of one study.

    python -m core.experiments.worker < spec.json

It claims a trial under the study-wide lock, trains the project with the trial's values (every trial recorded as
a run), reports epoch-end values to Optuna's pruner and tells the study how the trial ended. A trial that runs
out of memory, diverges to NaN or fails to build is recorded failed with its message and the worker goes on; a
trial whose process dies is failed and retried by whoever claims next. Events go to stdout as lines
``@@lw {json}`` (``claimed``, ``ended``, ``exit``). The worker stops when the study has its finished trials, when
the parent dies, when told on stdin (a line ``stop``) or when its memory has grown past ``max_growth_mb`` (the
parent then starts a fresh one).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

from ..errors import LayerwiseError
from . import space as sp
from . import sweep_storage, sweep_study
from .sweep_trial import run_one

MARK = sweep_study.MARK


def emit(kind, **data):
    sys.stdout.write(MARK + json.dumps({"event": kind, **data}, default=str) + "\n")
    sys.stdout.flush()


def rss_mb():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError):
        return 0.0


def die_with_parent():
    """Linux: this process is killed when the process that started it dies (kill -9 of the sweep included)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - elsewhere the parent's pipe closing stops the worker
        pass


class Worker:
    def __init__(self, spec):
        self.spec = spec
        self.stop = threading.Event()
        from ..project import load_project
        self.project = load_project(spec["project"])
        self.dims = [sp.Dimension.from_dict(d) for d in spec["dimensions"]]
        self.labels = sp.labels(self.project, self.dims)
        self.lock = sweep_storage.StudyLock(spec["storage"])
        self.storage = sweep_storage.open_storage(spec["storage"], self.lock)
        self.study = sweep_study.load(self.storage, spec, len(self.storage.get_all_trials(
            self.storage.get_study_id_from_name(spec["study"]), deepcopy=False)))
        self.data = None
        self.rss0 = None

    def loop(self):
        while not self.stop.is_set():
            claim = sweep_study.claim_next(self.study, self.lock, self.spec)
            if claim == sweep_study.DONE:
                return "done"
            if claim == sweep_study.WAIT:
                self.stop.wait(1.0)
                continue
            self.run_trial(claim)
            if self.rss0 is None:
                self.rss0 = rss_mb()
            elif rss_mb() - self.rss0 > float(self.spec.get("max_growth_mb", 600)):
                return "memory"
        return "stopped"

    # -- one trial -------------------------------------------------------------------------------------------
    def run_trial(self, trial):
        params = sp.suggest(trial, self.dims)
        emit("claimed", trial=trial.number, params={self.labels.get(k, k): v for k, v in params.items()},
             pid=os.getpid())
        t0 = time.perf_counter()
        outcome = run_one(self, trial, params)
        self.tell(trial, outcome, time.perf_counter() - t0)

    def tell(self, trial, outcome, seconds):
        from optuna.trial import TrialState
        state, values, message = outcome
        if message:
            trial.set_user_attr("message", str(message)[:2000])
        if state == TrialState.COMPLETE:
            self.study.tell(trial, values)
        else:
            self.study.tell(trial, state=state)
        row = sweep_study.trial_row(self.study._storage.get_trial(trial._trial_id), self.labels)
        row["seconds"] = round(seconds, 2)
        row["rss_mb"] = round(rss_mb(), 1)    # the worker's memory after the trial (flat across trials)
        emit("ended", **row)


def _read_stdin(worker):
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    worker.stop.set()   # "stop", or the parent's end of the pipe closed


def main():
    die_with_parent()
    spec = json.loads(sys.stdin.readline())
    from ..tfload import import_keras
    import_keras()
    try:
        worker = Worker(spec)
    except (LayerwiseError, KeyError) as e:
        emit("exit", reason="error", message=str(e))
        return 2
    threading.Thread(target=_read_stdin, args=(worker,), daemon=True).start()
    reason = worker.loop()
    emit("exit", reason=reason, rss_mb=round(rss_mb(), 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
