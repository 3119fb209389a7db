"""The callbacks of a run: the reporter that turns Keras' fit loop into the listener's ``on_batch`` / ``on_epoch``
/ ``on_features`` calls at a time-based cadence, the callback list that hands it raw batch logs (no device sync
per batch), and the callbacks the settings ask for (early stopping, the plateau schedule, TensorBoard)."""
from __future__ import annotations

import math
import time

from ..errors import SettingsError, TrainingError
from ..keras_compat import raw_batch_callback_list


class Abort(Exception):
    """Raised inside a callback to leave ``fit`` at once (stop request, NaN loss)."""


def floats(logs):
    """Keras logs (tensors, nested dicts) -> {name: float}, converting only here (one sync)."""
    out = {}
    for k, v in (logs or {}).items():
        if isinstance(v, dict):
            out.update(floats(v))
            continue
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            try:
                import numpy as np
                out[k] = float(np.asarray(v))
            except Exception:
                pass
    return out


def current_lr(model):
    """The optimizer's learning rate now (NaN when it cannot be read)."""
    try:
        opt = model.optimizer
        return float(opt.learning_rate.numpy() if hasattr(opt.learning_rate, "numpy") else opt.learning_rate)
    except Exception:
        return float("nan")


class Reporter:
    """State of one run: where it is, what it has reported, whether it stopped; reports to the listener at the
    ``report_interval`` cadence (the logs are converted to floats only then)."""

    def __init__(self, model, cfg, state, steps, samples_per_epoch, feature_x, features):
        self.model, self.cfg, self.state = model, cfg, state
        self.steps, self.samples_per_epoch = steps, samples_per_epoch
        self.epoch = cfg.initial_epoch
        self.step = -1
        self.batches = 0
        self.t_fit = self.t_epoch = time.perf_counter()
        self.next_report = 0.0
        self.stopped = False
        self.stopped_at = None
        self.error = None
        self.history = {}
        self.epoch_ends = []
        self.feature_x = feature_x
        self.features = features          # (fn, names, sub) or None
        self.feature_every = cfg.feature_every if features else 0
        self.last_logs = {}
        self.t_ref = None          # time and step of the first report in this epoch (rate reference)
        self.step_ref = 0
        self.per_batch = None      # seconds per batch, measured
        self.epoch_s = None        # duration of the last whole epoch (with validation)

    def _check_finite(self, logs, where):
        bad = [k for k in ("loss", "val_loss") if k in logs and not math.isfinite(logs[k])]
        if bad:
            k = bad[0]
            what = "validation loss" if k == "val_loss" else "loss"
            self.error = TrainingError(
                f"the {what} became {logs[k]} {where}: training diverged or the data holds NaN/inf values. "
                f"Lower the learning rate (now {current_lr(self.model):g}), check the data, or add normalisation",
                kind="nan")
            raise Abort("nan")

    def report_batch(self, step, logs, now):
        logs = floats(logs)
        self.last_logs = logs
        self._check_finite(logs, f"at epoch {self.epoch + 1}, batch {step + 1}")
        if self.t_ref is None or step < self.step_ref:
            # the first report of an epoch: later rates are measured from here (the very first batch of a run
            # also traces the model and would spoil the estimate)
            self.t_ref, self.step_ref = now, step
        if step > self.step_ref:
            self.per_batch = (now - self.t_ref) / (step - self.step_ref)
        done = step + 1
        left_epochs = self.cfg.epochs - self.epoch - 1
        if self.per_batch is not None:
            sps = self.cfg.batch_size / self.per_batch
            epoch_s = self.epoch_s if self.epoch_s is not None else self.per_batch * self.steps
            eta = (self.steps - done) * self.per_batch + left_epochs * epoch_s
        else:
            sps = eta = float("nan")
        info = {"samples_per_s": sps, "eta_s": eta, "lr": current_lr(self.model), "steps": self.steps,
                "epoch_s": now - self.t_epoch}
        self.state.on_batch(self.epoch, step, logs, info)

    def report_features(self, step):
        fn, names, _ = self.features
        outs = fn(self.feature_x)
        feats = {}
        for name, t in zip(names, outs):
            a = t.numpy() if hasattr(t, "numpy") else t
            feats[name] = a.astype("float32", copy=False)
        self.state.on_features(self.epoch, step, feats)

    def end_epoch(self, epoch, logs):
        now = time.perf_counter()
        logs = floats(logs)
        logs["lr"] = current_lr(self.model)
        logs["time_s"] = now - self.t_epoch
        if self.epoch_ends:  # the first epoch of a run includes tracing
            self.epoch_s = logs["time_s"]
        self._check_finite(logs, f"at the end of epoch {epoch + 1}")
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        self.epoch_ends.append(now)
        self.state.on_epoch(epoch, logs)
        if self.features is not None:
            self.report_features(max(self.step, 0))
        if self.state.stop_requested:
            self.stopped = True
            self.stopped_at = (epoch, self.step)
            raise Abort("stop")

    def samples_per_s(self, fit_seconds):
        """Training throughput: over the epochs after the first when there are several (the first one traces)."""
        ends, n = self.epoch_ends, self.samples_per_epoch
        if len(ends) >= 2:
            return n * (len(ends) - 1) / max(ends[-1] - ends[0], 1e-9)
        if self.batches:
            return min(self.batches * self.cfg.batch_size, n * max(len(ends), 1)) / max(fit_seconds, 1e-9)
        return 0.0


def engine_callback(keras, engine):
    """The callback that drives ``engine`` (a Reporter) from Keras' fit loop."""
    class EngineCallback(keras.callbacks.Callback):
        """Called with raw (tensor) batch logs by the fast callback list; converts them only to report."""

        def on_train_begin(self, logs=None):
            engine.t_fit = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            engine.epoch = epoch
            engine.t_epoch = time.perf_counter()
            engine.next_report = engine.t_epoch  # the first batch of each epoch is reported
            engine.t_ref = None

        def on_epoch_end(self, epoch, logs=None):
            engine.end_epoch(epoch, logs)

        def on_train_batch_end(self, step, logs=None):
            e = engine
            e.step = step
            e.batches += 1
            if e.state.stop_requested:
                e.stopped = True
                e.stopped_at = (e.epoch, step)
                raise Abort("stop")
            now = time.perf_counter()
            if now >= e.next_report:
                e.next_report = now + e.cfg.report_interval
                e.report_batch(step, logs, now)
            if e.feature_every and e.batches % e.feature_every == 0:
                e.report_features(step)

    return EngineCallback()


def callback_list(callbacks, model, epochs, steps, engine_cb):
    """Keras' callback list for ``fit``, except that ``engine_cb`` gets the raw (tensor) batch logs."""
    return raw_batch_callback_list(callbacks, engine_cb, add_history=True, add_progbar=False, model=model, verbose=0,
                                   epochs=epochs, steps=steps)


def tensorboard_dir(project, cfg):
    """The TensorBoard folder (relative paths are relative to the project's folder)."""
    import importlib.util
    if importlib.util.find_spec("tensorboard") is None:
        raise SettingsError("TensorBoard logging needs the tensorboard package, which is not installed "
                            "(pip install tensorboard), or leave the TensorBoard folder empty")
    path = cfg.tensorboard_dir
    if getattr(project, "path", None) is not None and hasattr(project, "resolve"):
        path = project.resolve(path)
    return path


def settings_callbacks(keras, project, cfg, has_validation, warnings):
    """Early stopping, the plateau schedule and TensorBoard, as the settings ask. Without a validation split they
    watch the training loss (``warnings`` says so for early stopping)."""
    callbacks = []
    es = cfg.early_stopping or {}
    if es.get("enabled"):
        mon = es.get("monitor", "val_loss")
        if mon.startswith("val_") and not has_validation:
            warnings.append(f"early stopping watches {mon} but there is no validation split; "
                            f"it watches {mon[4:]} instead")
            mon = mon[4:]
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=mon, patience=int(es.get("patience", 5)),
            restore_best_weights=bool(es.get("restore_best_weights", True))))
    from ..build import plateau_callback
    plateau = plateau_callback(project.compile)
    if plateau is not None:
        if not has_validation:
            plateau.monitor = "loss"
        callbacks.append(plateau)
    if cfg.tensorboard_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(tensorboard_dir(project, cfg)),
                                                     update_freq="epoch", write_graph=False))
    return callbacks


def close_tensorboard(keras, callbacks):
    """End the TensorBoard callbacks of a run that ``fit`` left early (closes their writers)."""
    for cb in callbacks:
        if isinstance(cb, keras.callbacks.TensorBoard):
            try:
                cb.on_train_end({})
            except Exception:
                pass
