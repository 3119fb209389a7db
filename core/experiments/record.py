"""Recording one training as a run of the project's runs database.

    rec = RunRecorder(project_path, project, config)        # the run exists now, status "running"
    config.extra_callbacks = [*config.extra_callbacks, rec.callback]
    result = run(project, config=config)
    rec.finish(result)                                      # or rec.fail(exc) when run() raised

The callback writes each epoch's values the moment the epoch ends, and sampled batches (one every
``batch_interval`` seconds, written with the next epoch or every ``flush_s`` seconds), so a run that crashes keeps
its curves up to there. Sampling reads the model's running metrics at the start of a batch, only at the sample
times: it adds no device sync to the other batches.
"""
from __future__ import annotations

import sys
import time

from ..errors import RunsError
from .runs import SUFFIX, RunStore, plain, runs_path

PACKAGES = ("layerwise", "keras", "tensorflow", "jax", "torch", "numpy", "h5py")
# the training settings a run actually used (TrainConfig fields, which may be overridden on the command line)
CONFIG_FIELDS = ("epochs", "batch_size", "device", "mixed_precision", "seed", "early_stopping", "initial_epoch",
                 "keep_weights", "backend")


def versions() -> dict:
    """{package: version} of what trains (Python included); missing packages are left out."""
    from importlib.metadata import PackageNotFoundError, version
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def snapshot(project, config=None) -> dict:
    """What a run is: the graph and every setting (compile, regularization, data, training — the training section
    with the values ``config`` really uses), the package versions and the project's name."""
    d = project.to_dict()
    training = dict(d.get("training") or {})
    if config is not None:
        for name in CONFIG_FIELDS:
            training[name] = plain(getattr(config, name, None))
    settings = {k: d.get(k) for k in ("compile", "regularization", "data")}
    settings["training"] = training
    return {"graph": d["graph"], "settings": plain(settings), "versions": versions(), "project": d.get("name")}


def final_metrics(history, epochs=None) -> dict:
    """The last epoch's values by Keras' names (``loss``, ``val_loss``, ``accuracy``...), without the engine's own
    ``lr`` / ``time_s`` bookkeeping."""
    out = {}
    for k, v in (history or {}).items():
        if isinstance(v, (list, tuple)) and v:
            out[k] = v[-1]
    done = max((len(v) for v in (history or {}).values() if isinstance(v, (list, tuple))), default=0)
    if epochs and len(epochs) > done:     # the run broke off after an epoch the engine did not count
        out = {}
    if not out and epochs:
        out = dict(epochs[-1])
        out.pop("epoch", None)
    for k in ("lr", "time_s"):
        out.pop(k, None)
    return plain(out)


def status_of(result) -> tuple:
    """(status, message) of a TrainResult."""
    err = getattr(result, "error", None)
    if err is not None:
        return ("nan" if getattr(err, "kind", "") == "nan" else "error"), str(err)
    if getattr(result, "stopped", False):
        return "stopped", None
    if getattr(result, "early_stopped", False):
        return "early-stopped", None
    return "finished", None


class RunRecorder:
    """One run of ``project`` (saved at ``project_path``) with ``config`` (a TrainConfig). Opening the database
    raises ``RunsError`` (a damaged or newer file), before anything trains.

    ``lazy``: the run (and a database that does not exist yet) is created only when training starts (the
    callback is made), so that bad input refused before that leaves nothing on disk; ``fail()`` before then
    records nothing. Otherwise the run exists from the start, status "running"."""

    batch_interval = 0.5     # seconds between sampled batches
    flush_s = 5.0            # sampled batches are written at least this often

    def __init__(self, project_path, project, config, *, sweep=None, trial=None, name=None, store=None, lazy=False):
        path = runs_path(project_path) if store is None else store.path
        self.path = path
        self.store = store if store is not None or (lazy and not path.exists()) else RunStore(path)
        self._start = dict(snapshot=snapshot(project, config), name=name, sweep=sweep, trial=trial,
                           seed=getattr(config, "seed", 0), device=getattr(config, "device", None))
        self.run_id = None
        self.own_store = store is None     # ours to close when the run has ended
        self.project = project
        self.lazy = lazy
        if not lazy:
            self.begin()
        self.epochs = []
        self.pending = []
        self.done = False
        self.broken = None       # why recording stopped mid-run (the database could not be written); training goes on

    # -- during the run ------------------------------------------------------------------------------------
    def epoch_end(self, epoch, logs):
        logs = plain({k: _float(v) for k, v in (logs or {}).items()})
        self.epochs.append(logs)
        self.flush()
        self._safely(self.store.log_epoch, self.run_id, epoch, logs)

    def batch_sample(self, epoch, step, logs):
        self.pending.append((epoch, step, plain({k: _float(v) for k, v in (logs or {}).items()})))

    def flush(self):
        rows, self.pending = self.pending, []
        self._safely(self.store.log_batches, self.run_id, rows)

    def _safely(self, write, *args):
        """A write during training: a database that cannot be written stops the recording, not the training."""
        if self.broken is None:
            try:
                write(*args)
            except RunsError as e:
                self.broken = str(e)

    def begin(self):
        """Create the run now (once); returns its id."""
        if self.run_id is None:
            if self.store is None:
                self.store = RunStore(self.path)
            self.run_id = self.store.start(self._start.pop("snapshot"), **self._start)
        return self.run_id

    @property
    def callback(self):
        """A factory for ``TrainConfig.extra_callbacks``: the Keras callback that records this run. Its ``events``
        record it from the training's events instead where the Keras callbacks run in another process (the JAX
        and PyTorch backends)."""
        def make(keras, build, inputs):
            if not self.start_recording():
                return None
            return _make_callback(keras, self)
        make.events = _RecordFromEvents(self)
        return make

    def start_recording(self) -> bool:
        """Create the run as training starts; False (and ``broken`` says why) when the database cannot be written:
        the training goes on, unrecorded."""
        try:
            self.begin()
        except RunsError as e:
            self.broken = str(e)
            return False
        return True

    # -- the end ---------------------------------------------------------------------------------------------
    def finish(self, result, *, weights_path=None, keep_weights=False):
        """Record how ``result`` (a TrainResult) ended and its final and test metrics. Returns the status.
        ``keep_weights``: a run that ended without an error also keeps its trained weights (``graph``'s, in
        ``<project>.runs/run-ID.weights.h5``)."""
        status, message = status_of(result)
        if keep_weights and result.error is None and self.run_id is not None and weights_path is None:
            weights_path = self.save_weights()
        self._end(status, message, metrics=final_metrics(result.history, self.epochs),
                  test_metrics=plain(result.test_metrics) if result.test_metrics else None,
                  seconds=result.seconds, samples_per_s=result.samples_per_s, device=result.device,
                  weights_path=weights_path)
        return status

    def save_weights(self):
        """Write the project's (trained) weights beside the runs file; returns the path to record, relative to the
        project's folder."""
        from ..project import write_weights_file
        folder = self.path.with_name(self.path.name[:-len(SUFFIX)] + ".runs")
        folder.mkdir(exist_ok=True)
        target = folder / f"run-{self.run_id}.weights.h5"
        write_weights_file(self.project.graph, target)
        return f"{folder.name}/{target.name}"

    def fail(self, exc, status="error"):
        """The run ended with an exception before it trained (bad data, a graph that does not build...)."""
        self._end(status, str(exc) or type(exc).__name__, metrics=final_metrics(None, self.epochs))

    def _end(self, status, message, **kw):
        if self.done or (self.run_id is None and self.lazy):
            self.done = True
            return        # a lazy run that never started training is not recorded
        self.begin()
        self.done = True
        try:
            self.flush()
        finally:
            try:
                self.store.finish(self.run_id, status, message=message, **kw)
            finally:
                if self.own_store:
                    self.store.close()


def _float(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        try:
            import numpy as np
            return float(np.asarray(v))
        except Exception:
            return None


class _RecordFromEvents:
    """A run recorded from a training's events (``TrainState``'s on_start / on_batch / on_epoch): each epoch as
    it ends, a batch every ``batch_interval`` seconds."""

    def __init__(self, rec):
        self.rec, self.next = rec, 0.0

    def on_start(self, info):
        self.rec.start_recording()

    def on_batch(self, epoch, step, logs, info):
        now = time.perf_counter()
        if self.rec.run_id is None or now < self.next:
            return
        self.next = now + self.rec.batch_interval
        self.rec.batch_sample(epoch, step, _flat(logs))

    def on_epoch(self, epoch, logs):
        if self.rec.run_id is not None:
            self.rec.epoch_end(epoch, _flat(logs))


def _in_lockstep():
    """True in a multi-worker run: reading the metrics mid-epoch is a collective operation that every worker must
    join at the same batch, which a time-sampled reading is not (its batch samples are left out there)."""
    from ..training.distribute import cluster
    return cluster() is not None


def _make_callback(keras, rec):
    lockstep = _in_lockstep()

    class RecordRun(keras.callbacks.Callback):
        """Writes each epoch as it ends and a time-sampled batch now and then (see the module docstring)."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.t_epoch = self.next = time.perf_counter()
            self.next += rec.batch_interval
            self.t_flush = self.t_epoch

        def on_train_batch_begin(self, step, logs=None):
            now = time.perf_counter()
            if step == 0 or now < self.next or lockstep:
                return
            self.next = now + rec.batch_interval
            try:
                values = self.model.get_metrics_result()   # the running values after the previous batch
            except Exception:
                return
            rec.batch_sample(self.epoch, step - 1, _flat(values))
            if now - self.t_flush >= rec.flush_s:
                self.t_flush = now
                rec.flush()

        def on_epoch_end(self, epoch, logs=None):
            values = _flat(logs)
            values["time_s"] = time.perf_counter() - self.t_epoch
            rec.epoch_end(epoch, values)

    return RecordRun()


def _flat(logs):
    out = {}
    for k, v in (logs or {}).items():
        if isinstance(v, dict):
            out.update(_flat(v))
        else:
            out[k] = v
    return out
