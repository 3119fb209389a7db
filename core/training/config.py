"""What a run is given and what it gives back: ``TrainConfig`` (the settings), ``TrainState`` (the listener the
engine reports to) and ``TrainResult``."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, fields

from ..errors import SettingsError, TrainingError


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    device: str = "auto"                    # "auto" | "cpu" | "all" (every local GPU) | "gpu" | "gpu:N"
    mixed_precision: bool = False
    seed: int = 0
    early_stopping: dict | None = None      # {"enabled", "monitor", "patience", "restore_best_weights"}
    initial_epoch: int = 0                  # resume/continue: keep current weights (pass `build=`)
    report_interval: float = 0.05           # seconds between batch reports (time-based sampling)
    feature_nodes: list = ()                # node ids whose activations to report
    feature_samples: list = (0,)            # indices into the validation (else train) split
    feature_every: int = 50                 # batches; 0 = at each epoch end only
    tensorboard_dir: str | None = None
    keep_weights: bool = False              # start from the weights the nodes carry (continue / fine-tune)
    backend: str = "tensorflow"             # Keras backend: "tensorflow" | "jax" | "torch" (core.training.backends)
    # Extensions (telemetry, run records, checkpoints): each is called as ``f(keras, build, inputs)`` once the
    # model is built and compiled, and returns a Keras callback (or None); they run before the engine's reporter.
    extra_callbacks: list = ()

    @classmethod
    def from_project(cls, project, **overrides) -> "TrainConfig":
        """Settings from ``project.training``; keyword overrides win (None means "not given")."""
        t = dict(project.training or {})
        kw = {}
        for name in ("epochs", "batch_size", "device", "mixed_precision", "seed", "early_stopping", "backend"):
            if name in t:
                kw[name] = t[name]
        known = {f.name for f in fields(cls)}
        for k, v in overrides.items():
            if k not in known:
                raise SettingsError(f"unknown training setting {k!r}; expected one of {', '.join(sorted(known))}")
            if v is not None:
                kw[k] = v
        cfg = cls(**kw)
        cfg.validate()
        return cfg

    def validate(self):
        """Raise SettingsError naming the setting when a value is out of range."""
        def whole(name, lo):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                if isinstance(v, float) and v.is_integer():
                    setattr(self, name, int(v))
                    v = int(v)
                else:
                    raise SettingsError(f"{name.replace('_', ' ')} must be a whole number, got {v!r}")
            if v < lo:
                raise SettingsError(f"{name.replace('_', ' ')} must be at least {lo}, got {v}")
        whole("epochs", 1)
        whole("batch_size", 1)
        whole("seed", 0)
        whole("initial_epoch", 0)
        whole("feature_every", 0)
        if self.initial_epoch >= self.epochs:
            raise SettingsError(f"initial epoch {self.initial_epoch} must be below epochs ({self.epochs})")
        dev = str(self.device).strip().lower()
        if not re.fullmatch(r"auto|cpu|all|gpu(:\d+)?", dev):
            raise SettingsError(f"device must be auto, cpu, all, gpu or gpu:N, got {self.device!r}")
        self.device = dev
        from .backends import normalize
        self.backend = normalize(self.backend)
        try:
            self.report_interval = float(self.report_interval)
        except (TypeError, ValueError):
            raise SettingsError(f"report interval must be a number of seconds, got {self.report_interval!r}") from None
        if not self.report_interval >= 0:
            raise SettingsError(f"report interval must be 0 or more seconds, got {self.report_interval}")
        es = self.early_stopping
        if es is not None:
            if not isinstance(es, dict):
                raise SettingsError(f"early stopping must be an object, got {es!r}")
            p = es.get("patience", 5)
            if isinstance(p, bool) or not isinstance(p, int) or p < 0:
                raise SettingsError(f"early stopping patience must be a whole number ≥ 0, got {p!r}")
        self.feature_nodes = list(self.feature_nodes or ())
        self.feature_samples = [int(i) for i in (self.feature_samples or (0,))]
        return self


class TrainState:
    """Receives what happens during a run. Subclass and override the ``on_*`` methods; they are called in the
    training thread (the GUI re-emits them as queued Qt signals). ``request_stop`` may be called from any thread."""

    def __init__(self):
        self._stop = threading.Event()

    def request_stop(self):
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def on_start(self, info: dict): ...
    def on_batch(self, epoch: int, step: int, logs: dict, info: dict): ...
    def on_epoch(self, epoch: int, logs: dict): ...
    def on_features(self, epoch: int, step: int, features: dict): ...
    def on_end(self, result: "TrainResult"): ...
    def on_error(self, error: TrainingError): ...


@dataclass
class TrainResult:
    """What a run did. ``build`` holds the trained model; the next run of the same network with the same settings
    reuses (and retrains) that model object, so copy what you need from it before starting another run."""
    history: dict
    epochs_done: int
    stopped: bool
    test_metrics: dict | None
    device: str
    build: object
    dataset: object
    error: TrainingError | None = None
    seconds: float = 0.0                 # wall time of the whole run (data, build, fit, test)
    samples_per_s: float = 0.0           # training throughput (after the first epoch when there are several)
    warnings: list = field(default_factory=list)
    stopped_at: tuple | None = None      # (epoch, step) of the last batch when stopped
    early_stopped: bool = False          # early stopping ended the run before the last epoch
