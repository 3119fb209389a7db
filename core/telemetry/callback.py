"""The probe in a training run: a factory for ``TrainConfig.extra_callbacks`` whose Keras callback probes at a
time-based cadence (never per batch): at the start of a batch it copies the weights, at the start of the next
one (or at the epoch's end) it measures, diagnoses and hands the record to ``sink``."""
from __future__ import annotations

import json
import math
import time

from .diagnose import diagnose
from .probe import TelemetryError, probe_for

DEFAULT_INTERVAL = 0.5   # seconds between probes (at most two a second)
SHARE = 0.02             # ... and further apart when a probe costs more than this share of the time


def telemetry_callback(project, sink, interval=DEFAULT_INTERVAL, histograms=False, warn=None, share=SHARE):
    """``f(keras, build, inputs)`` for ``TrainConfig.extra_callbacks``. ``sink(record)`` gets one dict per probe:
    ``epoch``, ``step``, ``time_s``, ``lr``, ``loss``, ``layers`` ({node name: figures}), ``problems`` (Problem
    objects) and, with ``histograms``, ``hist``. A model the probe cannot measure: ``warn(message)`` and no
    callback; the run goes on unaffected. Probes are ``interval`` seconds apart, or further when one costs more
    than ``share`` of the time between them (0: no such limit)."""
    def make(keras, build, inputs):
        try:
            probe = probe_for(build, project.graph, inputs.train, histograms)
        except TelemetryError as e:
            if warn is not None:
                warn(f"gradient view off: {e}")
            return None
        return _callback_class(keras)(probe, sink, float(interval), warn, float(share or 0.0))
    return make


def _callback_class(keras):
    class TelemetryCallback(keras.callbacks.Callback):
        """Only batch *begin* hooks: the engine's callback list then never converts batch logs for it."""

        def __init__(self, probe, sink, interval, warn, share):
            super().__init__()
            self.probe, self.sink, self.interval, self.warn, self.share = probe, sink, interval, warn, share
            self.epoch, self.pending, self.next_at, self.t0 = 0, None, 0.0, time.perf_counter()
            self.off = False
            self.cost = self.snap_cost = 0.0   # seconds a probe takes (copy + measure)
            self.costs = []

        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()
            self.next_at = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            if self.off:
                return
            if self.pending is not None:
                self._measure()
            now = time.perf_counter()
            if now >= self.next_at:
                self.next_at = now + max(self.interval, self.cost / self.share if self.share else 0.0)
                self.probe.snapshot()
                self.snap_cost = time.perf_counter() - now
                self.pending = (self.epoch, batch, now)

        def on_epoch_end(self, epoch, logs=None):
            if self.pending is not None and not self.off:
                self._measure()

        def _measure(self):
            epoch, step, _t = self.pending
            self.pending = None
            t0 = time.perf_counter()
            try:
                rec = self.probe.measure()
            except Exception as e:  # noqa: BLE001 - the view never stops a run
                self.off = True
                if self.warn is not None:
                    self.warn(f"gradient view stopped: {type(e).__name__}: {e}")
                return
            rec = {"epoch": epoch, "step": step, "time_s": round(time.perf_counter() - self.t0, 3),
                   "lr": _lr(self.model), **rec}
            rec["problems"] = diagnose(rec)
            self.sink(rec)
            self.costs = (self.costs + [time.perf_counter() - t0 + self.snap_cost])[-3:]
            self.cost = min(self.costs)   # one slow probe (the machine busy) does not space them all out

    return TelemetryCallback


def _lr(model):
    try:
        v = float(model.optimizer.learning_rate.numpy())
        return v if math.isfinite(v) else None
    except Exception:
        return None


def record_json(rec):
    """One probe record as one line of JSON (no histograms; non-finite numbers are null)."""
    out = {k: v for k, v in rec.items() if k not in ("hist", "problems")}
    out["problems"] = [p.as_dict() for p in rec.get("problems", [])]
    return json.dumps(out, allow_nan=False, default=_plain)


def _plain(v):
    try:
        f = float(v)
        return f if math.isfinite(f) else None
    except (TypeError, ValueError):
        return str(v)
