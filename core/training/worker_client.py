"""A run on another Keras backend, seen from the process that asks for it: ``run_on_backend`` starts
``core.training.backend_worker`` with ``KERAS_BACKEND`` set, replays its events on the caller's ``TrainState``
(progress, curves, feature maps), forwards a stop request, and gives the trained weights to the project's nodes.

    result = run_on_backend(project, cfg, state, "jax")     # like core.training.run, in a child process

Bad input the child finds before training (``DataError``, ``SettingsError``, ``BuildError``) is raised here with
its message, as ``run`` raises it; training errors end the run with ``TrainResult.error``. ``result.build`` is
None unless ``rebuild`` (then a TensorFlow model carrying the trained weights, for evaluation in the window).
"""
from __future__ import annotations

import collections
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .. import errors
from ..errors import SettingsError, TrainingError
from . import backends
from .backend_worker import RESULT_FIELDS, decode_array, parse_event
from .config import TrainResult

STOP_POLL_S = 0.05


def run_on_backend(project, cfg, state, backend, out=None, rebuild=False, data=None) -> TrainResult:
    """Train ``project`` with ``cfg`` on Keras backend ``backend`` in a child process (see the module doc).
    ``out``: also export the trained model there (written by that backend); ``data``: the dataset the result
    names when ``rebuild`` (the child loads its own)."""
    backend = backends.check(backend)
    cfg.validate()
    if cfg.device == "all":
        raise SettingsError(f"device all: training on every GPU at once uses TensorFlow's MirroredStrategy; on "
                            f"{backends.INFO[backend].label} choose auto, cpu, gpu or gpu:N")
    with tempfile.TemporaryDirectory(prefix="layerwise-worker-") as tmp:
        job = _write_job(Path(tmp), project, cfg, backend, out)
        proc = _start(job, backend)
        replay = _Replay(state, backend, listeners=[ext.events for ext in cfg.extra_callbacks or ()
                                                    if getattr(ext, "events", None) is not None])
        stopper = threading.Thread(target=_forward_stop, args=(state, proc), daemon=True)
        stopper.start()
        try:
            for line in proc.stdout:
                replay.event(parse_event(line))
            proc.wait()
        except BaseException:   # (a second Ctrl+C: the child goes with us)
            proc.kill()
            proc.wait()
            raise
        finally:
            replay.done = True
        return _result(project, cfg, replay, proc, Path(tmp) / "trained.weights.h5", rebuild, data)


def _write_job(tmp, project, cfg, backend, out):
    from ..project import dumps_project, write_weights_file
    from ..trust import is_trusted
    (tmp / "project.json").write_text(dumps_project(project), encoding="utf-8")
    weights = None
    if project.has_weights():
        weights = tmp / "start.weights.h5"
        write_weights_file(project.graph, weights)
    config = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name != "extra_callbacks"}
    # extensions the worker can make again itself (the checkpoint), described in JSON
    extensions = [ext.job for ext in cfg.extra_callbacks or () if getattr(ext, "job", None) is not None]
    job = {"backend": backend, "project": str(tmp / "project.json"), "extensions": extensions,
           "path": str(project.path) if getattr(project, "path", None) else None,
           "weights": str(weights) if weights else None, "trusted": is_trusted(project), "config": config,
           "result_weights": str(tmp / "trained.weights.h5"), "out": str(Path(out).resolve()) if out else None}
    path = tmp / "job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    return path


def _start(job, backend):
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # its own session: Ctrl+C reaches the parent only, which forwards it as "stop"
    proc = subprocess.Popen([sys.executable, "-m", "core.training.backend_worker", str(job)], cwd=root, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8", errors="replace", bufsize=1, start_new_session=True)
    proc.stderr_tail = collections.deque(maxlen=30)
    threading.Thread(target=_drain, args=(proc.stderr, proc.stderr_tail), daemon=True).start()
    return proc


def _drain(stream, tail):
    for line in stream:
        if line.strip():
            tail.append(line.rstrip())


def _forward_stop(state, proc):
    """Send "stop" once the caller asks the run to stop (any thread may ask)."""
    while proc.poll() is None:
        if state.stop_requested:
            try:
                proc.stdin.write("stop\n")
                proc.stdin.flush()
            except (OSError, ValueError):
                pass
            return
        threading.Event().wait(STOP_POLL_S)


class _Replay:
    """Replays the child's events on the caller's TrainState; remembers the end, the failure, the export."""

    def __init__(self, state, backend, listeners=()):
        self.state, self.backend = state, backend
        self.listeners = list(listeners)   # extensions that work from the events alone (a run's record)
        self.end = self.fail = self.error = self.exported = None
        self.done = False

    def event(self, ev):
        if ev is None:
            return
        kind, s = ev["event"], self.state
        for target in (*self.listeners, s):
            _progress(target, kind, ev)
        if kind == "features":
            s.on_features(ev["epoch"], ev["step"], {k: decode_array(v) for k, v in ev["features"].items()})
        elif kind == "error":
            self.error = TrainingError(ev["message"], kind=ev.get("kind", "error"))
        elif kind == "exported":
            self.exported = ev["path"]
        elif kind == "end":
            self.end = ev["result"]
        elif kind == "fail":
            self.fail = ev


def _progress(target, kind, ev):
    """A start, batch or epoch event, told to ``target`` (the caller's TrainState or a listener)."""
    if kind == "start":
        target.on_start(ev["info"])
    elif kind == "batch":
        target.on_batch(ev["epoch"], ev["step"], ev["logs"], ev["info"])
    elif kind == "epoch":
        target.on_epoch(ev["epoch"], ev["logs"])


def _result(project, cfg, replay, proc, weights, rebuild, data):
    if replay.fail is not None:
        cls = getattr(errors, replay.fail.get("type", ""), None)
        if not (isinstance(cls, type) and issubclass(cls, errors.LayerwiseError)) or cls is TrainingError:
            cls = None
        if cls is not None:
            raise cls(replay.fail["message"])
        replay.error = TrainingError(f"training on {backends.INFO[replay.backend].label} failed: "
                                     f"{replay.fail['message']}")
    if replay.end is None and replay.error is None:
        last = proc.stderr_tail[-1] if proc.stderr_tail else "no message"
        replay.error = TrainingError(f"the {backends.INFO[replay.backend].label} training process ended "
                                     f"unexpectedly (exit code {proc.returncode}): {last}")
    got = replay.end or {}
    kw = {k: got.get(k) for k in RESULT_FIELDS}
    kw.update(history=kw["history"] or {}, epochs_done=kw["epochs_done"] or 0, stopped=bool(kw["stopped"]),
              device=kw["device"] or "?", seconds=kw["seconds"] or 0.0, samples_per_s=kw["samples_per_s"] or 0.0,
              warnings=list(kw["warnings"] or []), early_stopped=bool(kw["early_stopped"]),
              stopped_at=tuple(kw["stopped_at"]) if kw["stopped_at"] else None)
    skipped = [ext for ext in cfg.extra_callbacks or ()
               if getattr(ext, "events", None) is None and getattr(ext, "job", None) is None]
    if skipped:   # (the run's record works from the events, the worker makes the checkpoint itself)
        kw["warnings"].append(f"{len(skipped)} training extension(s) (gradient probes) did not run on "
                              f"{backends.INFO[replay.backend].label}: they need the TensorFlow backend")
    result = TrainResult(build=None, dataset=None, error=replay.error, **kw)
    result.exported = replay.exported
    if replay.error is None and weights.exists():
        from ..project import read_weights
        read_weights(project.graph, weights)   # the trained weights go into the nodes, as run() does
        if rebuild:
            _rebuild(project, result, data)
    if replay.error is not None:
        replay.state.on_error(replay.error)
    replay.state.on_end(result)
    return result


def _rebuild(project, result, data):
    """A TensorFlow model with the trained weights, and the dataset, for what the window shows after a run."""
    from ..build import build_model, compile_model
    from .splits import load_data
    result.build = build_model(project, with_weights=True)
    compile_model(result.build, project)
    result.dataset = data if data is not None else load_data(project)


def run_with_backend(project, cfg, state, rebuild=False, **kw) -> TrainResult:
    """``core.training.run`` on the backend ``cfg.backend`` asks for: in this process when it is this process's
    backend (``kw``: run's data and build), else in a child process (``run_on_backend``: the child loads the data
    itself; a ``build`` to continue means starting from the nodes' weights, the optimizer starting afresh)."""
    if not backends.needs_worker(cfg.backend):
        from .engine import run
        return run(project, config=cfg, state=state, **kw)
    if kw.get("build") is not None:
        cfg.keep_weights = True   # continuing: the child starts from the weights the nodes carry (the last run's)
    return run_on_backend(project, cfg, state, cfg.backend, rebuild=rebuild, data=kw.get("data"))
