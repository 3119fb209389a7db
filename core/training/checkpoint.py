"""Checkpoints: every run writes ``PROJECT.checkpoint.npz`` beside the project when it starts and after every epoch
— the weights, the optimizer's state, the epochs done and the history — so that a run killed at any moment
(``kill -9``, a crash, a worker lost in multi-worker training) resumes where it stopped, losing at most the epoch
it was in.

Writing costs the fit loop almost nothing: at the end of an epoch the variables are copied to memory (a few ms)
and a background thread writes the file, whole or not at all (a temporary file replaced atomically), so a kill
mid-write leaves the previous checkpoint. The file holds numbers and JSON only (an ``.npz`` read with
``allow_pickle=False``); a checkpoint written for another graph, or whose variables do not fit the model, is
refused with one line naming it.

    make = checkpoint_callback(path, project, cfg, resume=load(path))   # a TrainConfig.extra_callbacks factory

In multi-worker training every worker copies its variables at the same point of the loop (reading them may be a
collective operation, which every worker must take part in), and worker 0 alone writes.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SettingsError

FORMAT = "layerwise-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    epoch: int                              # epochs finished (the next run starts at this epoch index)
    epochs: int                             # the epochs the run that wrote it was asked for
    graph: str                              # fingerprint of the graph it was written for
    history: dict = field(default_factory=dict)    # {metric: [one value per finished epoch]}
    weights: list = field(default_factory=list)    # the model's variables (model.weights order)
    optimizer: list = field(default_factory=list)  # the optimizer's variables
    seed: int = 0


def checkpoint_path_for(project_path) -> Path:
    """``PROJECT.checkpoint.npz`` beside the project file."""
    p = Path(project_path)
    return p.with_name(p.name + ".checkpoint.npz")


def graph_fingerprint(graph) -> str:
    """What a checkpoint must match: the graph's nodes (type, parameters, settings) and edges, not where the
    nodes sit on the canvas."""
    d = graph.to_dict()
    for n in d.get("nodes", []):
        n.pop("pos", None)
    return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


# -- the file ---------------------------------------------------------------------------------------------------
def save(path, ckpt: Checkpoint):
    """Write ``ckpt`` to ``path`` atomically."""
    import numpy as np

    from ..atomic import replacing
    meta = {"format": FORMAT, "version": VERSION, "epoch": ckpt.epoch, "epochs": ckpt.epochs, "graph": ckpt.graph,
            "history": ckpt.history, "seed": ckpt.seed, "weights": len(ckpt.weights),
            "optimizer": len(ckpt.optimizer)}
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    arrays.update({f"w{i}": a for i, a in enumerate(ckpt.weights)})
    arrays.update({f"o{i}": a for i, a in enumerate(ckpt.optimizer)})
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with replacing(path) as tmp:
        tmp.write_bytes(buf.getbuffer())


def load(path) -> Checkpoint:
    """Read a checkpoint; SettingsError naming the file when it is missing, unreadable or not a checkpoint."""
    import numpy as np
    path = Path(path)
    if not path.is_file():
        raise SettingsError(f"{path}: --resume: no checkpoint there (every run writes one when it starts and after each epoch)")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != FORMAT:
                raise ValueError("not a Layerwise checkpoint")
            if int(meta.get("version", 0)) > VERSION:
                raise ValueError(f"written by a newer Layerwise (format {meta['version']})")
            weights = [z[f"w{i}"] for i in range(int(meta["weights"]))]
            opt = [z[f"o{i}"] for i in range(int(meta["optimizer"]))]
    except (OSError, ValueError, KeyError, TypeError, EOFError) as e:
        raise SettingsError(f"{path}: not a readable checkpoint ({e})") from None
    history = {str(k): [float(x) for x in v] for k, v in dict(meta.get("history") or {}).items()}
    return Checkpoint(int(meta["epoch"]), int(meta["epochs"]), str(meta["graph"]), history, weights, opt,
                      int(meta.get("seed", 0)))


def check_fits(ckpt: Checkpoint, graph, path):
    """SettingsError unless ``ckpt`` was written for ``graph``."""
    if ckpt.graph != graph_fingerprint(graph):
        raise SettingsError(f"{path}: this checkpoint was written for a different graph (layers or their settings "
                            f"changed since); train without --resume to start afresh")


# -- in a run ---------------------------------------------------------------------------------------------------
def restore(model, ckpt: Checkpoint, path="checkpoint"):
    """Put the checkpoint's weights and optimizer state into ``model`` (built and compiled)."""
    _assign(model.weights, ckpt.weights, path, "weights")
    opt = model.optimizer
    if not opt.built:
        opt.build(model.trainable_variables)
    _assign(opt.variables, ckpt.optimizer, path, "optimizer state")


def _assign(variables, arrays, path, what):
    shapes = [tuple(v.shape) for v in variables]
    if len(shapes) != len(arrays) or any(s != tuple(a.shape) for s, a in zip(shapes, arrays)):
        raise SettingsError(f"{path}: the checkpoint's {what} ({len(arrays)} arrays) do not fit this model "
                            f"({len(shapes)}); train without --resume to start afresh")
    for v, a in zip(variables, arrays):
        v.assign(a)


def snapshot(model):
    """(weights, optimizer variables) copied to memory now."""
    import numpy as np
    opt = model.optimizer
    opt_vars = opt.variables if opt is not None and opt.built else []
    return [np.array(v.numpy()) for v in model.weights], [np.array(v.numpy()) for v in opt_vars]


class Writer:
    """Writes the latest submitted checkpoint in a background thread (one at a time; a newer one submitted while a
    write runs is written next, older unwritten ones are dropped). The thread is not a daemon: the process writes
    the last checkpoint before it exits."""

    def __init__(self, path):
        self.path = Path(path)
        self.lock = threading.Lock()
        self.pending = None
        self.thread = None
        self.error = None
        self.written = 0

    def submit(self, ckpt):
        with self.lock:
            self.pending = ckpt
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._drain, name="layerwise-checkpoint", daemon=False)
                self.thread.start()

    def _drain(self):
        while True:
            with self.lock:
                ckpt, self.pending = self.pending, None
                if ckpt is None:
                    return
            try:
                save(self.path, ckpt)
                self.written += 1
            except OSError as e:
                self.error = f"{self.path}: cannot write the checkpoint ({e.strerror or e})"

    def flush(self):
        """Wait until the latest submitted checkpoint is written."""
        t = self.thread
        if t is not None:
            t.join()


def checkpoint_callback(path, project, cfg, resume: Checkpoint | None = None, write=True, writer=None):
    """A ``TrainConfig.extra_callbacks`` factory: restores ``resume`` into the model once it is built (weights,
    optimizer state) and returns the callback that checkpoints the run (``write=False``: copies, writes nothing —
    a multi-worker run's other workers)."""
    fingerprint = graph_fingerprint(project.graph)
    writer = writer if writer is not None else Writer(path)

    def make(keras, build, inputs):
        model = build.model
        if resume is not None:
            restore(model, resume, path)
        base = {k: list(v) for k, v in (resume.history if resume else {}).items()}
        return _callback_class(keras)(model, writer if write else None, fingerprint, cfg, base, resume is None)
    make.writer = writer
    # what a worker process on another Keras backend (core.training.backend_worker) needs to make the same callback
    make.job = {"kind": "checkpoint", "path": str(path), "resume": resume is not None, "write": bool(write)}
    return make


def callback_from_job(job, project, cfg):
    """``checkpoint_callback`` again from ``make.job``, in the worker process (the checkpoint to resume from is
    read again from its file; the caller checked it fits)."""
    path = Path(job["path"])
    return checkpoint_callback(path, project, cfg, resume=load(path) if job.get("resume") else None,
                               write=job.get("write", True))


def _callback_class(keras):
    class CheckpointCallback(keras.callbacks.Callback):
        """Copies the variables at the start and after every epoch; the writer writes them."""

        def __init__(self, model, writer, fingerprint, cfg, history, at_start):
            super().__init__()
            self.m, self.writer, self.fp, self.cfg, self.hist, self.at_start = (model, writer, fingerprint, cfg,
                                                                                history, at_start)

        def _keep(self, epoch):
            weights, opt = snapshot(self.m)   # every worker: reading may be collective
            if self.writer is not None:
                self.writer.submit(Checkpoint(epoch, self.cfg.epochs, self.fp, {k: list(v) for k, v in
                                                                              self.hist.items()},
                                              weights, opt, self.cfg.seed))

        def on_train_begin(self, logs=None):
            if self.at_start:
                self._keep(self.cfg.initial_epoch)

        def on_epoch_end(self, epoch, logs=None):
            from .callbacks import current_lr, floats
            logs = floats(logs)
            if not all(math.isfinite(v) for v in logs.values()):
                return   # a diverged epoch is not kept (the engine reports it)
            logs.setdefault("lr", current_lr(self.m))
            for k, v in logs.items():
                self.hist.setdefault(k, []).append(v)
            self._keep(epoch + 1)

        def on_train_end(self, logs=None):
            if self.writer is not None:
                self.writer.flush()
    return CheckpointCallback
