"""The gradient view's data: per-layer statistics of the backward pass (``probe``), problems in words
(``diagnose``) and the training callback that measures at a time-based cadence (``callback``).

    cfg.extra_callbacks = [telemetry_callback(project, sink=records.append)]

Importing it imports neither Keras nor TensorFlow."""
from .callback import DEFAULT_INTERVAL, record_json, telemetry_callback
from .diagnose import Problem, diagnose
from .probe import STATS, Probe, TelemetryError, probe_batch, probe_for

__all__ = ["DEFAULT_INTERVAL", "Probe", "Problem", "STATS", "TelemetryError", "diagnose", "probe_batch",
           "probe_for", "record_json", "telemetry_callback"]
