"""The child process of a run on another Keras backend: ``KERAS_BACKEND=jax python -m core.training.backend_worker
JOB.json`` runs the same engine (``core.training.run``) and streams what happens as JSON lines on its standard
output, one event a line, to the parent (``core.training.worker_client``), which replays them on its
``TrainState``.

The job (a JSON file the parent writes) names the project's text, its original path (relative data paths), the
weights it starts from, whether the session trusts its code, the settings (``TrainConfig`` fields), where to write
the trained weights and, optionally, the model export (``.keras`` / ``.h5`` written by this backend). Reading
``stop`` on standard input (or its end: the parent is gone) asks the run to stop at the end of the batch.

Events: ``start`` (info), ``batch`` (epoch, step, logs, info), ``epoch`` (epoch, logs), ``features`` (epoch,
step, {name: array as base64 float32 with its shape}), ``error`` (message, kind), ``fail`` (bad input found
before training: the exception's class and message), ``exported`` (path), ``end`` (the result, without the model).
Files and numbers only cross: nothing is pickled.
"""
from __future__ import annotations

import base64
import json
import os
import sys
import threading

from .config import TrainState

EVENT_PREFIX = "@lw "      # lines of the event stream start with it (anything else on stdout is ignored)
RESULT_FIELDS = ("history", "epochs_done", "stopped", "test_metrics", "device", "seconds", "samples_per_s",
                 "warnings", "stopped_at", "early_stopped")


# -- the protocol (both sides) ------------------------------------------------------------------------------------
def encode_array(a) -> dict:
    import numpy as np
    a = np.ascontiguousarray(np.asarray(a, dtype="float32"))
    return {"shape": list(a.shape), "data": base64.b64encode(a.tobytes()).decode("ascii")}


def decode_array(d):
    import numpy as np
    shape = tuple(int(n) for n in d["shape"])
    return np.frombuffer(base64.b64decode(d["data"]), dtype="float32").reshape(shape).copy()


def event_line(event, **fields) -> str:
    return EVENT_PREFIX + json.dumps({"event": event, **fields}, default=_plain) + "\n"


def parse_event(line):
    """The event a line carries (a dict), or None for any other line."""
    if not line.startswith(EVENT_PREFIX):
        return None
    try:
        ev = json.loads(line[len(EVENT_PREFIX):])
    except ValueError:
        return None
    return ev if isinstance(ev, dict) and isinstance(ev.get("event"), str) else None


def _plain(v):
    """What json cannot write by itself: numpy numbers and arrays, tuples nested in objects."""
    import numpy as np
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


# -- the child ------------------------------------------------------------------------------------------------------
class StreamState(TrainState):
    """A TrainState that writes every call as an event line on ``out`` (thread-safe)."""

    def __init__(self, out):
        super().__init__()
        self.out = out
        self.lock = threading.Lock()

    def send(self, event, **fields):
        line = event_line(event, **fields)
        with self.lock:
            self.out.write(line)
            self.out.flush()

    def on_start(self, info):
        self.send("start", info=info)

    def on_batch(self, epoch, step, logs, info):
        self.send("batch", epoch=epoch, step=step, logs=logs, info=info)

    def on_epoch(self, epoch, logs):
        self.send("epoch", epoch=epoch, logs=logs)

    def on_features(self, epoch, step, features):
        self.send("features", epoch=epoch, step=step, features={k: encode_array(v) for k, v in features.items()})

    def on_error(self, error):
        self.send("error", message=str(error), kind=getattr(error, "kind", "error"))


def _watch_stdin(state):
    """``stop`` on standard input, or its end (the parent is gone), asks the run to stop."""
    for line in sys.stdin:
        if line.strip() == "stop":
            state.request_stop()
    state.request_stop()


def _load_project(job):
    from pathlib import Path

    from ..project import loads_project, read_weights
    from ..trust import set_trusted
    text = Path(job["project"]).read_text(encoding="utf-8")
    project = loads_project(text, Path(job["path"]) if job.get("path") else None)
    if job.get("weights"):
        read_weights(project.graph, job["weights"])
    if job.get("trusted"):
        set_trusted(project)
    return project


def _train(job, state):
    from ..tfload import import_keras
    from .config import TrainConfig
    from .engine import run
    keras = import_keras()
    if keras.backend.backend() != job["backend"]:
        raise RuntimeError(f"this worker runs Keras on {keras.backend.backend()}, not {job['backend']}")
    project = _load_project(job)
    cfg = TrainConfig(**job["config"]).validate()
    for ext in job.get("extensions") or ():
        if ext.get("kind") == "checkpoint":
            from .checkpoint import callback_from_job
            cfg.extra_callbacks = [*(cfg.extra_callbacks or ()), callback_from_job(ext, project, cfg)]
    result = run(project, config=cfg, state=state)
    if result.error is None:
        from ..project import write_weights_file
        write_weights_file(project.graph, job["result_weights"])
        if job.get("out"):
            from ..export import export
            state.send("exported", path=str(export(project, job["out"], build=result.build)))
    state.send("end", result={k: getattr(result, k) for k in RESULT_FIELDS})


def main(argv=None):
    """Run the job file ``argv[0]``; exit 0 (trained, or a training error reported as an event), 2 (bad input)."""
    import signal
    argv = sys.argv[1:] if argv is None else argv
    events = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)                     # anything else printed goes to stderr, never into the event stream
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent forwards Ctrl+C as "stop"
    state = StreamState(events)
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    threading.Thread(target=_watch_stdin, args=(state,), daemon=True).start()
    from ..errors import LayerwiseError
    try:
        _train(job, state)
    except LayerwiseError as e:
        state.send("fail", type=type(e).__name__, message=str(e))
        return 2
    except Exception as e:  # noqa: BLE001 - one line for the parent, never a traceback in the stream
        state.send("fail", type="TrainingError", message=f"{type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)   # (no interpreter teardown: the backend's threads can hang it)
