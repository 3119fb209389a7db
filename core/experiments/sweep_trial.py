"""One trial of a sweep inside a worker: the project with the trial's values, trained and recorded as a run, its
epoch-end objective fed to Optuna's pruner. Returns (TrialState, values, message)."""
from __future__ import annotations

import math
import threading

from ..errors import LayerwiseError
from . import space as sp


def run_one(worker, trial, params):
    from optuna.trial import TrialState
    from ..training import TrainConfig, run
    from .record import RunRecorder
    spec = worker.spec
    try:
        project = sp.apply(worker.project, params, worker.dims)
        cfg = TrainConfig.from_project(project, epochs=spec.get("epochs"), device=spec.get("device"),
                                       report_interval=1.0)
    except (LayerwiseError, ValueError, TypeError) as e:
        return TrialState.FAIL, None, f"the trial's values do not fit the project: {e}"
    rec = RunRecorder(spec["project"], project, cfg, sweep=sweep_info(spec), trial=trial.number)
    trial.set_user_attr("run_id", rec.run_id)
    trial.set_user_attr("runs_db", str(rec.store.path))
    pruning = Pruning(trial, spec["objective"]["metric"], cfg.epochs)
    cfg.extra_callbacks = [*cfg.extra_callbacks, rec.callback, pruning.callback]
    stop = threading.Event()
    heartbeat(worker.storage, trial, stop)
    try:
        result = run(project, data=worker_data(worker, project), config=cfg)
    except (LayerwiseError, ValueError) as e:
        rec.fail(e, status="failed")
        return TrialState.FAIL, None, str(e)
    finally:
        stop.set()
    return _outcome(spec, rec, pruning, result)


def _outcome(spec, rec, pruning, result):
    from optuna.trial import TrialState
    if result.error is not None:
        rec.finish(result)
        return TrialState.FAIL, None, str(result.error)
    if pruning.pruned:
        rec.fail(f"pruned after epoch {pruning.epoch + 1}: {pruning.metric} {pruning.last:.4g} is worse than the "
                 f"median of earlier trials", status="pruned")
        return TrialState.PRUNED, None, f"pruned after epoch {pruning.epoch + 1}"
    values = []
    for obj in [spec["objective"]] + ([spec["second"]] if spec.get("second") else []):
        v = objective_value(obj["metric"], result)
        if not finite(v):
            rec.finish(result)
            logged = ", ".join(sorted(result.history)) or "nothing"
            why = (f"{obj['metric']} is {v}" if v is not None else
                   f"the run logged no {obj['metric']} (it logged {logged})")
            return TrialState.FAIL, None, why
        values.append(float(v))
    rec.finish(result)
    return TrialState.COMPLETE, values, None


def objective_value(metric, result):
    """The last epoch's value of a logged metric, or the trained model's parameter count / samples per second."""
    if metric == "params":
        return float(result.build.model.count_params()) if result.build is not None else None
    if metric == "samples_per_s":
        return result.samples_per_s
    vals = (result.history or {}).get(metric)
    return float(vals[-1]) if vals else None


def sweep_info(spec):
    """What a trial's run records of its sweep (the study name first)."""
    from .sweep_storage import shown
    return {"study": spec["study"], "storage": shown(spec["storage"]), "objective": spec["objective"]["metric"]}


def worker_data(worker, project):
    """The dataset, loaded once per worker (a sweep does not change the data settings)."""
    if worker.data is None:
        from ..training.splits import load_data
        worker.data = load_data(project)
    return worker.data


class Pruning:
    """Reports the objective at each epoch end; stops the fit when Optuna's pruner says the trial is bad."""

    def __init__(self, trial, metric, epochs):
        self.trial, self.metric, self.epochs = trial, metric, epochs
        self.pruned = False
        self.epoch = -1
        self.last = float("nan")

    def callback(self, keras, build, inputs):
        pruning = self

        class Prune(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                pruning.end_of_epoch(self.model, epoch, logs or {})

        return Prune()

    def end_of_epoch(self, model, epoch, logs):
        v = logs.get(self.metric)
        try:
            v = float(v)
        except (TypeError, ValueError):
            return
        if not finite(v) or len(self.trial.study.directions) > 1:
            return
        self.trial.report(v, epoch)
        if epoch + 1 < self.epochs and self.trial.should_prune():   # (after the last epoch the trial is done)
            self.pruned, self.epoch, self.last = True, epoch, v
            model.stop_training = True


def finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def heartbeat(storage, trial, stop):
    """Record the trial's heartbeat while it runs (remote storages: a silent trial is failed and retried)."""
    interval = storage.get_heartbeat_interval() if hasattr(storage, "get_heartbeat_interval") else None
    if not interval:
        return None

    def beat():
        while not stop.wait(interval):
            try:
                storage.record_heartbeat(trial._trial_id)
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next interval
                pass

    storage.record_heartbeat(trial._trial_id)
    t = threading.Thread(target=beat, daemon=True, name="sweep-heartbeat")
    t.start()
    return t
