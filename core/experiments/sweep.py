"""Sweeps: an Optuna study over a project's search space, its trials run by worker processes.

    spec = prepare("net.layerwise", dims=["compile.optimizer.learning_rate=1e-4:1e-1:log"], trials=20)
    summary = Sweep(spec, on_event=print).run()            # blocks; on_event gets each worker event (a dict)

``prepare`` checks everything a person can get wrong (dimensions, storage URL, a study name holding another
search space) and raises a ``SettingsError`` naming the field before any worker starts. ``Sweep.run`` starts
``workers`` processes (``core.experiments.worker``: each imports TensorFlow once and runs many trials), restarts
one that dies (its trial failed and retried) or whose memory grew, stops them at the time budget, and returns
when the study has ``trials`` finished trials. The coordinator never imports TensorFlow.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from ..errors import SettingsError, short
from . import space as sp
from . import sweep_storage, sweep_study
from .sweep_section import section_dims, section_of

MAX_WORKERS = 64


def _check_counts(trials, workers, epochs, timeout):
    if not isinstance(trials, int) or trials < 1:
        raise SettingsError(f"--trials: the number of finished trials must be at least 1, got {short(trials)}")
    if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise SettingsError(f"--workers: must be 1 to {MAX_WORKERS}, got {short(workers)}")
    if epochs is not None and (not isinstance(epochs, int) or epochs < 1):
        raise SettingsError(f"--epochs: must be at least 1, got {short(epochs)}")
    if timeout is not None and not timeout > 0:
        raise SettingsError(f"--timeout: must be a number of seconds above 0, got {short(timeout)}")


def objective_spec(text, default_metric):
    """``val_loss``, ``val_accuracy:max`` -> {"metric", "direction"}."""
    metric, _, way = str(text or default_metric).partition(":")
    way = way.strip().lower()
    if way not in ("", "min", "max", "minimize", "maximize"):
        raise SettingsError(f"--objective {short(text)}: the direction is min or max, got {short(way)}")
    direction = {"min": "minimize", "max": "maximize"}.get(way, way) or sweep_study.direction_of(metric)
    return {"metric": metric.strip() or default_metric, "direction": direction}


def default_metric(project):
    split = (project.data or {}).get("validation_split", 0)
    return "val_loss" if isinstance(split, (int, float)) and split > 0 else "loss"


def prepare(project_path, dims=(), *, trials=None, workers=None, epochs=None, timeout=None, storage=None,
            study=None, objective=None, second=None, pruning=None, seed=None, device=None, pruner=None):
    """The checked spec of a sweep (a dict, JSON only), its study created or joined. Values not given come from
    the project's ``sweep`` section, then the defaults."""
    from ..project import load_project
    project = load_project(project_path)
    sec = section_of(project)
    dim_list = _merged_dims(project, sec, dims)
    trials = trials if trials is not None else sec.get("trials", 20)
    workers = workers if workers is not None else sec.get("workers", 1)
    timeout = timeout if timeout is not None else sec.get("timeout")
    _check_counts(trials, workers, epochs, timeout)
    url = sweep_storage.absolute(storage) if storage else sweep_storage.default_url(project_path)
    spec = {"project": str(Path(project_path).resolve()), "project_name": project.name,
            "dimensions": [d.to_dict() for d in dim_list], "trials": trials, "workers": workers,
            "epochs": epochs, "timeout": timeout, "storage": url,
            "study": study or sec.get("study") or f"{project.name}-sweep",
            "objective": objective_spec(objective or sec.get("objective"), default_metric(project)),
            "second": objective_spec(second or sec.get("second"), "params") if (second or sec.get("second")) else None,
            "pruning": sec.get("pruning", True) if pruning is None else bool(pruning),
            "pruner": pruner or sec.get("pruner") or "median", "seed": seed, "device": device}
    if spec["second"] and spec["second"]["metric"] not in ("params", "samples_per_s"):
        raise SettingsError(f"--second {short(spec['second']['metric'])}: a second objective is params or "
                            f"samples_per_s")
    lock = sweep_storage.StudyLock(url)
    try:
        storage_obj = sweep_storage.open_storage(url, lock)
        sweep_study.create_study(storage_obj, lock, spec, dim_list)
    finally:
        lock.close()
    return spec


def _merged_dims(project, sec, given):
    dims = {d.path: d for d in section_dims(project, sec)}
    for text in given or ():
        d = sp.parse_dim(text, project)
        dims[d.path] = d
    if not any(d.kind != "fixed" for d in dims.values()):
        raise SettingsError("no dimensions to sweep: mark params as dimensions in the window, or pass "
                            "--dim PATH=SPEC (e.g. --dim compile.optimizer.learning_rate=1e-4:1e-1:log)")
    return list(dims.values())


# -- running it -------------------------------------------------------------------------------------------------
class WorkerProcess:
    """One worker process, its events read by a thread into the sweep's queue, the end of its stderr kept."""

    def __init__(self, spec, index, events):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
        gpu = _gpu_for(index, spec)
        if gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = gpu
        self.index = index
        self.proc = subprocess.Popen([sys.executable, "-m", "core.experiments.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=str(Path(__file__).resolve().parents[2]))
        self.proc.stdin.write(json.dumps(dict(spec, worker=index)) + "\n")
        self.proc.stdin.flush()
        self.trial = None          # the trial number it runs now
        self.reason = None         # why it said it exits
        self.err = deque(maxlen=30)
        threading.Thread(target=self._read_out, args=(events,), daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self, events):
        mark = sweep_study.MARK
        try:
            for line in self.proc.stdout:
                if line.startswith(mark):
                    try:
                        events.put((self, json.loads(line[len(mark):])))
                    except ValueError:
                        pass
        finally:
            events.put((self, {"event": "eof"}))

    def _read_err(self):
        for line in self.proc.stderr:
            if line.strip():
                self.err.append(line.rstrip())

    def tell_stop(self):
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass

    def death(self):
        """Why the process ended abnormally, in words."""
        rc = self.proc.returncode
        how = f"killed by signal {-rc}" if rc is not None and rc < 0 else f"exit code {rc}"
        last = next((ln for ln in reversed(self.err) if ln.strip() and not ln.startswith(" ")), "")
        return f"the worker process died ({how})" + (f": {short(last, 200)}" if last else "")


def _gpu_for(index, spec):
    """With several local GPUs and several workers, worker i sees GPU i mod n only."""
    if spec.get("workers", 1) < 2 or str(spec.get("device") or "auto") not in ("auto", "gpu") \
            or "CUDA_VISIBLE_DEVICES" in os.environ:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    n = sum(1 for ln in out.splitlines() if ln.startswith("GPU "))
    return str(index % n) if n > 1 else None


class Sweep:
    """Runs a prepared sweep to its end; ``on_event(dict)`` sees every trial claimed and ended."""

    MAX_DEATHS = 3         # deaths in a row with no trial ended: give up

    def __init__(self, spec, on_event=None):
        self.spec = spec
        self.on_event = on_event or (lambda e: None)
        self.events = queue.Queue()
        self.workers = []
        self.stopping = False
        self.deaths = 0
        self.error = None
        self.started = None

    def request_stop(self):
        self.stopping = True
        for w in self.workers:
            w.tell_stop()

    def run(self):
        self.started = time.monotonic()
        self.workers = [WorkerProcess(self.spec, i, self.events) for i in range(self.spec["workers"])]
        try:
            while self.workers:
                self._check_timeout()
                try:
                    w, ev = self.events.get(timeout=0.5)
                except queue.Empty:
                    continue
                self._handle(w, ev)
        finally:
            for w in self.workers:
                w.proc.kill()
        return self.summary()

    def _check_timeout(self):
        t = self.spec.get("timeout")
        if t and not self.stopping and time.monotonic() - self.started > t:
            self.on_event({"event": "timeout", "seconds": t})
            self.request_stop()

    def _handle(self, w, ev):
        kind = ev.get("event")
        if kind == "claimed":
            w.trial = ev.get("trial")
        elif kind == "ended":
            w.trial = None
            self.deaths = 0
        elif kind == "exit":
            w.reason = ev.get("reason")
            if w.reason == "error":
                self.error = ev.get("message")
        if kind != "eof":
            self.on_event(ev)
            return
        w.proc.wait()
        self.workers.remove(w)
        if w.reason in ("done", "stopped", "error") or self.stopping:
            return
        self._replace(w)

    def _replace(self, w):
        """A worker that died (or left to free its memory): its trial failed and retried, a new one started."""
        if w.reason != "memory":
            self.deaths += 1
            why = w.death()
            self._fail_trial_of(w, why)
            self.on_event({"event": "worker_died", "worker": w.index, "trial": w.trial, "message": why})
            if self.deaths >= self.MAX_DEATHS:
                self.error = f"{why}; {self.deaths} workers died in a row, the sweep stops"
                self.request_stop()
                return
        self.workers.append(WorkerProcess(self.spec, w.index, self.events))

    def _fail_trial_of(self, w, why):
        if w.trial is None:
            return
        lock = sweep_storage.StudyLock(self.spec["storage"])
        try:
            study = sweep_study.load(sweep_storage.open_storage(self.spec["storage"], lock), self.spec)
            with lock.held(self.spec["study"]):
                sweep_study.reap(study, message=why, only={w.trial})
        finally:
            lock.close()

    def summary(self):
        """{"finished": n, "best": [rows], "error": text or None} from the study."""
        lock = sweep_storage.StudyLock(self.spec["storage"])
        try:
            study = sweep_study.load(sweep_storage.open_storage(self.spec["storage"], lock), self.spec)
            labels = _labels(self.spec)
            done, _ = sweep_study.counts(study)
            return {"finished": done, "best": sweep_study.best_rows(study, labels), "error": self.error,
                    "trials": self.spec["trials"]}
        finally:
            lock.close()


def _labels(spec):
    from ..project import load_project
    try:
        project = load_project(spec["project"], load_weights=False)
    except SettingsError:
        return {}
    except Exception:  # noqa: BLE001 - the file changed meanwhile: show the paths as they are
        return {}
    return sp.labels(project, [d["path"] for d in spec["dimensions"]])


class StudyView:
    """A study's trials as rows, read again on each ``rows()`` (the window polls it while a sweep runs, here or on
    other machines). ``spec``: the dict ``prepare`` returns (its storage, study and dimensions)."""

    def __init__(self, spec):
        self.spec = spec
        self.lock = sweep_storage.StudyLock(spec["storage"])
        self.storage = sweep_storage.open_storage(spec["storage"], self.lock)
        self.labels = _labels(spec)

    def rows(self):
        """(every trial as a row, the directions) — [] before the study exists."""
        import optuna
        try:
            study = optuna.load_study(study_name=self.spec["study"], storage=self.storage)
        except KeyError:
            return [], []
        rows = [sweep_study.trial_row(t, self.labels) for t in study.get_trials(deepcopy=False)]
        return rows, [d.name.lower() for d in study.directions]

    def best(self):
        import optuna
        try:
            study = optuna.load_study(study_name=self.spec["study"], storage=self.storage)
        except KeyError:
            return []
        return sweep_study.best_rows(study, self.labels)

    def close(self):
        self.lock.close()


def best_so_far(rows, direction="minimize"):
    """[(trial number, best value up to it)] over the finished trials, in trial order."""
    out, best = [], None
    pick = min if direction == "minimize" else max
    for r in sorted(rows, key=lambda r: r["trial"]):
        if r.get("status") == "finished" and r.get("value") is not None:
            best = r["value"] if best is None else pick(best, r["value"])
            out.append((r["trial"], best))
    return out


def pareto(rows, directions):
    """The finished trials no other finished trial beats in both objectives (two objectives)."""
    pts = [r for r in rows if r.get("status") == "finished" and len(r.get("values") or ()) == 2]
    sign = [1 if d == "minimize" else -1 for d in directions]

    def beats(a, b):
        va = [s * v for s, v in zip(sign, a["values"])]
        vb = [s * v for s, v in zip(sign, b["values"])]
        return all(x <= y for x, y in zip(va, vb)) and va != vb

    return [r for r in pts if not any(beats(o, r) for o in pts)]
