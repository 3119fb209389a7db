"""The training engine: Qt-free, usable from any thread, reporting through a plain-Python listener.

    result = run(project, config=TrainConfig.from_project(project, epochs=5), state=MyState())

``run`` loads the project's dataset (or takes one), checks that it fits the graph, builds a fresh model,
adapts ``Normalization`` layers on the training split, compiles, trains, evaluates on the test split and
copies the trained weights into the graph's nodes (so ``save_project`` keeps them).

Reporting costs almost nothing: Keras' own fit loop converts every batch's logs to Python floats (one device
sync per batch); the engine hands Keras a callback list that skips that and converts the logs only at the
report cadence (``report_interval`` seconds, time based), so live plots get ~20 updates a second whatever the
batch time. Feature maps come from a sub-model built once (``keras.Model(model.inputs, [layer outputs])``)
and called through a traced ``tf.function`` every ``feature_every`` batches, never through ``predict()``.

Errors inside training (NaN/inf loss, out of memory, a dataset error mid-epoch) never escape ``run``: they end
the run with ``TrainResult.error`` (a ``TrainingError`` with ``kind`` "nan" | "oom" | "data" | "error") and
``state.on_error``. Bad input found before training starts raises ``DataError`` / ``SettingsError`` /
``BuildError``.
"""
from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field, fields

from .errors import DataError, SettingsError, TrainingError

# one training at a time per process: Keras' global state (seed, dtype policy, name counters) is shared
_RUN_LOCK = threading.RLock()


# -- settings ----------------------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    device: str = "auto"                    # "auto" | "cpu" | "gpu" | "gpu:N"
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

    @classmethod
    def from_project(cls, project, **overrides) -> "TrainConfig":
        """Settings from ``project.training``; keyword overrides win (None means "not given")."""
        t = dict(project.training or {})
        kw = {}
        for name in ("epochs", "batch_size", "device", "mixed_precision", "seed", "early_stopping"):
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
        if not re.fullmatch(r"auto|cpu|gpu(:\d+)?", dev):
            raise SettingsError(f"device must be auto, cpu, gpu or gpu:N, got {self.device!r}")
        self.device = dev
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


# -- listener ----------------------------------------------------------------------------------------------------
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


# -- devices -----------------------------------------------------------------------------------------------------
def list_devices() -> list[dict]:
    """The devices TensorFlow sees: [{"name", "kind": "cpu"|"gpu", "usable", "reason", "tf_name"}]."""
    from .tfload import import_keras
    import_keras()
    import tensorflow as tf
    out = []
    for i, d in enumerate(tf.config.list_physical_devices("CPU")):
        out.append({"name": "CPU" if i == 0 else f"CPU {i}", "kind": "cpu", "usable": True, "reason": "",
                    "tf_name": f"/CPU:{i}"})
    for i, d in enumerate(tf.config.list_physical_devices("GPU")):
        try:
            label = tf.config.experimental.get_device_details(d).get("device_name") or d.name
        except Exception:
            label = d.name
        out.append({"name": f"GPU {i}: {label}", "kind": "gpu", "usable": True, "reason": "", "tf_name": f"/GPU:{i}"})
    return out


def _devices_text(devs):
    return ", ".join(d["name"] for d in devs) or "none"


def pick_device(request: str):
    """(tf device string, display name, kind) for "auto" | "cpu" | "gpu" | "gpu:N"; SettingsError when absent."""
    devs = list_devices()
    gpus = [d for d in devs if d["kind"] == "gpu"]
    cpu = next((d for d in devs if d["kind"] == "cpu"), {"name": "CPU", "tf_name": "/CPU:0"})
    request = (request or "auto").lower()
    if request == "cpu" or (request == "auto" and not gpus):
        return cpu["tf_name"], cpu["name"], "cpu"
    if request == "auto":
        return gpus[0]["tf_name"], gpus[0]["name"], "gpu"
    idx = int(request.split(":")[1]) if ":" in request else 0
    if not gpus:
        raise SettingsError(f"device {request}: TensorFlow sees no GPU on this machine; devices it sees: "
                            f"{_devices_text(devs)}. Use --device cpu or auto")
    if idx >= len(gpus):
        raise SettingsError(f"device {request}: there is no GPU {idx}; devices TensorFlow sees: {_devices_text(devs)}")
    return gpus[idx]["tf_name"], gpus[idx]["name"], "gpu"


# -- helpers -----------------------------------------------------------------------------------------------------
def _floats(logs):
    """Keras logs (tensors, nested dicts) -> {name: float}, converting only here (one sync)."""
    out = {}
    for k, v in (logs or {}).items():
        if isinstance(v, dict):
            out.update(_floats(v))
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


def _current_lr(model):
    try:
        opt = model.optimizer
        return float(opt.learning_rate.numpy() if hasattr(opt.learning_rate, "numpy") else opt.learning_rate)
    except Exception:
        return float("nan")


def _one(v):
    return v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v


def _take(arrays, idx):
    return [a[idx] for a in arrays]


def _steps(n, batch_size):
    return max(1, math.ceil(n / batch_size))


_TF_NOISE = ("Graph execution error", "Detected at node", "<stack traces unavailable>", "[[", "File \"",
             "Stack trace", "Node:", "Op:", "(most recent call last)")


def _plain(exc):
    """One informative line of an exception (TensorFlow's op errors carry their message after a stack header)."""
    text = getattr(exc, "message", None) or str(exc)
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(_TF_NOISE)]
    line = (useful or lines or [type(exc).__name__])[0]
    line = re.sub(r"\s*\[\[.*$", "", line)
    return line[:300]


class _Abort(Exception):
    """Raised inside a callback to leave ``fit`` at once (stop request, NaN loss)."""


# -- the callback list that does not sync every batch -------------------------------------------------------------
def _callback_list(keras, callbacks, model, epochs, steps, engine_cb):
    from keras.src.utils import is_default
    from keras.src.utils.python_utils import pythonify_logs

    class FastCallbackList(keras.callbacks.CallbackList):
        """Like Keras' list, but batch-end logs go to the engine's reporter as raw tensors (it converts them at its
        own cadence); only callbacks that really implement batch hooks (TensorBoard) get converted logs."""

        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self._train_batch = [c for c in self.callbacks if c is not engine_cb
                                 and not is_default(c.on_train_batch_end)]
            self._test_batch = [c for c in self.callbacks if not is_default(c.on_test_batch_end)]

        def on_train_batch_end(self, batch, logs=None):
            engine_cb.on_train_batch_end(batch, logs)
            if self._train_batch:
                py = pythonify_logs(logs)
                for c in self._train_batch:
                    c.on_train_batch_end(batch, logs=py)

        def on_test_batch_end(self, batch, logs=None):
            if self._test_batch:
                py = pythonify_logs(logs)
                for c in self._test_batch:
                    c.on_test_batch_end(batch, logs=py)

    return FastCallbackList(callbacks, add_history=True, add_progbar=False, model=model, verbose=0,
                            epochs=epochs, steps=steps)


def _features_fn(keras, build, graph, node_ids):
    """A traced function x -> {node_id: activations, node_id + ':scores': attention scores}."""
    import tensorflow as tf
    feat = [k for k in node_ids if k in build.tensors]
    att = [k for k in feat if graph.nodes[k].type == "MultiHeadAttention" and k in build.layers]
    att_inputs = {k: graph.inputs_of(k) for k in att}
    outs = [build.tensors[k] for k in feat]
    for k in att:
        outs += [build.tensors[s] for s in att_inputs[k]]
    if not outs:
        return None
    sub = keras.Model(build.model.inputs, outs, name="layerwise_features")
    n_feat = len(feat)

    def call(xs):
        res = sub(xs, training=False)
        res = list(res) if isinstance(res, (list, tuple)) else [res]
        i = n_feat
        scores = []
        for k in att:
            srcs = res[i:i + len(att_inputs[k])]
            i += len(srcs)
            q = srcs[0]
            v = srcs[1] if len(srcs) > 1 else srcs[0]
            key = srcs[2] if len(srcs) > 2 else None
            _, s = build.layers[k](q, v, key=key, return_attention_scores=True, training=False)
            scores.append(s)
        return res[:n_feat] + scores

    fn = tf.function(call, reduce_retracing=True)
    names = feat + [f"{k}:scores" for k in att]
    return fn, names, sub


def _make_engine_callback(keras, engine):
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
                raise _Abort("stop")
            now = time.perf_counter()
            if now >= e.next_report:
                e.next_report = now + e.cfg.report_interval
                e.report_batch(step, logs, now)
            if e.feature_every and e.batches % e.feature_every == 0:
                e.report_features(step)

    return EngineCallback()


class _Engine:
    """State of one run (kept out of ``run`` to keep it readable)."""

    def __init__(self, keras, model, cfg, state, steps, samples_per_epoch, feature_x, features):
        self.keras, self.model, self.cfg, self.state = keras, model, cfg, state
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
                f"Lower the learning rate (now {_current_lr(self.model):g}), check the data, or add normalisation",
                kind="nan")
            raise _Abort("nan")

    def report_batch(self, step, logs, now):
        logs = _floats(logs)
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
        info = {"samples_per_s": sps, "eta_s": eta, "lr": _current_lr(self.model), "steps": self.steps,
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
        logs = _floats(logs)
        logs["lr"] = _current_lr(self.model)
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
            raise _Abort("stop")


# -- data --------------------------------------------------------------------------------------------------------
def _load_data(project):
    from .data import load_dataset
    base = project.path.parent if getattr(project, "path", None) else None
    return load_dataset(project.data, base)


def _split_arrays(dataset, split, graph):
    """(x, y) arrays ordered like the model's inputs/outputs, or a tf.data dataset for streamed splits."""
    from .data import arrays_for_model
    if split is None:
        return None
    if getattr(split, "tf_dataset", None) is not None:
        return arrays_for_model(dataset, split, graph)[0]
    if split.x is None:
        return None
    return arrays_for_model(dataset, split, graph)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _n(split, arrays):
    if split is None:
        return 0
    if getattr(split, "n", 0):
        return split.n
    if isinstance(arrays, tuple):
        return len(_as_list(arrays[0])[0])
    return 0


def _feature_batch(dataset, graph, cfg):
    """The samples whose activations are reported: validation split, else training split."""
    import numpy as np
    for split in (dataset.val, dataset.train):
        if split is None:
            continue
        if getattr(split, "tf_dataset", None) is not None:
            for xb, _ in split.tf_dataset.take(1):
                xs = list(xb) if isinstance(xb, (list, tuple)) else [xb]
                xs = [np.asarray(a) for a in xs]
                n = len(xs[0])
                idx = [i for i in cfg.feature_samples if 0 <= i < n] or [0]
                return _take(xs, idx)
            continue
        if split.x is None:
            continue
        x, _ = _split_arrays(dataset, split, graph)
        x = _as_list(x)
        n = len(x[0])
        if n == 0:
            continue
        idx = [i for i in cfg.feature_samples if 0 <= i < n] or [0]
        return _take([np.asarray(a) for a in x], idx)
    return None


def _adapt_normalization(keras, build, graph, train, batch_size):
    """Adapt every Normalization layer on the training split (what flows into it), before compiling."""
    import numpy as np
    norm = [k for k, layer in build.layers.items() if isinstance(layer, keras.layers.Normalization)]
    if not norm:
        return []
    done = []
    for k in norm:
        layer = build.layers[k]
        src = graph.inputs_of(k)
        if not src:
            continue
        t = build.tensors[src[0]]
        if isinstance(train, tuple):
            x = _as_list(train[0])
            if src[0] in build.inputs:
                data = np.asarray(x[build.inputs.index(src[0])], dtype="float32")
            else:
                sub = keras.Model(build.model.inputs, t)
                data = sub.predict(_one(x), batch_size=max(batch_size, 256), verbose=0)
        else:  # tf.data: (x, y) batches
            sub = keras.Model(build.model.inputs, t)
            data = train.map(lambda xb, yb: sub(xb, training=False))
        try:
            layer.adapt(data)
        except Exception as e:
            raise DataError(f"node {graph.nodes[k].label()}: Normalization cannot be adapted on the training "
                            f"data ({_plain(e)})") from None
        if isinstance(data, np.ndarray) and not np.all(np.isfinite(np.asarray(layer.mean))):
            raise DataError(f"node {graph.nodes[k].label()}: the training data holds NaN or infinite values, "
                            f"so Normalization cannot learn its mean and variance")
        done.append(k)
    return done


def _build_fresh(project, keep_weights):
    """Build with fresh weights; frozen nodes (and every node with keep_weights) keep the weights they carry."""
    from .build import build_model, set_layer_weights
    build = build_model(project, with_weights=False)
    for k, layer in build.layers.items():
        n = project.graph.nodes.get(k)
        if n is None or n.weights is None:
            continue
        if not (keep_weights or n.settings.get("trainable") is False or n.settings.get("pretrained")):
            continue  # (imported / pretrained-base nodes always start from the weights they carry)
        try:
            set_layer_weights(layer, n.weights)
        except Exception as e:
            build.warnings.append(f"node {n.label()}: saved weights do not fit the layer any more ({_plain(e)}); "
                                  f"it starts from fresh weights")
    return build


class _ModelCache:
    """The last compiled model, reused when the same network trains again with the same settings.

    TensorFlow never frees what it traces for a model (the train/test functions' graphs hold each other through
    C++ references; plain ``model.fit`` on a fresh model grows RSS by ~8 MB per training here), so rebuilding and
    retracing on every run — what the GUI does on each Train click — grows memory run after run. When the graph,
    compile settings, regularization, device and precision are unchanged, the engine keeps the compiled model and
    gives it the fresh model's initial variables (weights and dropout seed states, seeded like a new model) and the
    optimizer's initial state, so a reused run starts exactly where a new one would, without retracing.
    """

    def __init__(self):
        self.key = None
        self.build = None
        self.opt_state = None
        self.features = {}

    @staticmethod
    def _key(project, fresh, extra):
        import hashlib
        import json
        g = project.graph.to_dict()
        for n in g.get("nodes", []):
            n.pop("pos", None)
        h = hashlib.sha1()
        h.update(json.dumps({"graph": g, "compile": project.compile, "reg": project.regularization,
                             "extra": list(extra)}, sort_keys=True, default=str).encode())
        # layers that turn their variables into constants when traced (adapted Normalization): their values count
        for layer in fresh.layers.values():
            if callable(getattr(layer, "finalize_state", None)):
                for w in layer.get_weights():
                    h.update(memoryview(w.tobytes()))
        return h.hexdigest()

    def take(self, keras, project, fresh, extra, steps):
        key = self._key(project, fresh, extra)
        if key == self.key and self.build is not None:
            model = self.build.model
            src = fresh.model.variables
            dst = model.variables
            if len(src) == len(dst) and all(tuple(a.shape) == tuple(b.shape) for a, b in zip(src, dst)):
                for a, b in zip(dst, src):
                    a.assign(b)
                for v, value in zip(model.optimizer.variables, self.opt_state):
                    v.assign(value)
                model.stop_training = False
                self.build.warnings = list(fresh.warnings)
                return self.build
        from .build import compile_model
        self.key, self.build, self.opt_state, self.features = None, None, None, {}
        compile_model(fresh, project, steps)
        opt = fresh.model.optimizer
        if not opt.built:
            opt.build(fresh.model.trainable_variables)
        self.key, self.build = key, fresh
        self.opt_state = [v.numpy() for v in opt.variables]
        return fresh

    def features_fn(self, keras, build, graph, node_ids):
        if build is not self.build:
            return _features_fn(keras, build, graph, node_ids)
        k = tuple(node_ids)
        if k not in self.features:
            self.features[k] = _features_fn(keras, build, graph, node_ids)
        return self.features[k]

    def clear(self):
        self.__init__()


_MODELS = _ModelCache()


def release_models():
    """Forget the compiled model kept for the next run (e.g. when a project is closed)."""
    with _RUN_LOCK:
        _MODELS.clear()


def _tensorboard_dir(project, cfg):
    """The TensorBoard folder (relative paths are relative to the project's folder)."""
    import importlib.util
    if importlib.util.find_spec("tensorboard") is None:
        raise SettingsError("TensorBoard logging needs the tensorboard package, which is not installed "
                            "(pip install tensorboard), or leave the TensorBoard folder empty")
    path = cfg.tensorboard_dir
    if getattr(project, "path", None) is not None and hasattr(project, "resolve"):
        path = project.resolve(path)
    return path


def _training_error(exc, tf):
    if isinstance(exc, TrainingError):
        return exc
    if isinstance(exc, tf.errors.ResourceExhaustedError):
        return TrainingError("out of memory while training: use a smaller batch size or a smaller network "
                             f"({_plain(exc)})", kind="oom")
    if isinstance(exc, MemoryError):
        return TrainingError("out of memory while training: use a smaller batch size or a smaller network",
                             kind="oom")
    if isinstance(exc, (DataError, tf.errors.InvalidArgumentError, tf.errors.DataLossError,
                        tf.errors.NotFoundError, tf.errors.FailedPreconditionError, StopIteration)):
        return TrainingError(f"a data error stopped training: {_plain(exc)}", kind="data")
    return TrainingError(f"training failed: {type(exc).__name__}: {_plain(exc)}", kind="error")


# -- the run -----------------------------------------------------------------------------------------------------
def run(project, data=None, config: TrainConfig | None = None, state: TrainState | None = None, build=None) -> TrainResult:
    """Train the project's network. See the module docstring."""
    from .tfload import import_keras
    keras = import_keras()
    import tensorflow as tf
    t_start = time.perf_counter()
    state = state if state is not None else TrainState()
    cfg = config if config is not None else TrainConfig.from_project(project)
    cfg.validate()
    graph = project.graph
    warnings = []

    if cfg.tensorboard_dir:
        _tensorboard_dir(project, cfg)   # checks that TensorBoard is installed, before anything starts

    with _RUN_LOCK:
        tf_device, device_name, kind = pick_device(cfg.device)
        mixed = bool(cfg.mixed_precision)
        if mixed and kind != "gpu":
            warnings.append("mixed precision needs a GPU; training on the CPU in float32")
            mixed = False

        # data (before building: a dataset that does not fit is reported first)
        dataset = data if data is not None else _load_data(project)
        from .data import check_fit
        problems = check_fit(dataset, graph)
        if problems:
            raise DataError("; ".join(problems))
        train = _split_arrays(dataset, dataset.train, graph)
        if train is None:
            raise DataError(f"dataset {dataset.name!r} has no training samples")
        val = _split_arrays(dataset, dataset.val, graph)
        test = _split_arrays(dataset, dataset.test, graph)
        n_train = _n(dataset.train, train)
        if isinstance(train, tuple) and n_train == 0:
            raise DataError(f"dataset {dataset.name!r} has no training samples")

        policy_before = keras.mixed_precision.global_policy().name
        continuing = build is not None
        try:
            with tf.device(tf_device):
                if isinstance(train, tuple):
                    steps = _steps(n_train, cfg.batch_size)
                else:
                    card = int(train.cardinality().numpy())
                    steps = card if card > 0 else None
                if not continuing:
                    keras.backend.clear_session(free_memory=False)
                    keras.utils.set_random_seed(cfg.seed)
                    if mixed:
                        keras.mixed_precision.set_global_policy("mixed_float16")
                    fresh = _build_fresh(project, cfg.keep_weights)
                    warnings += fresh.warnings
                    _adapt_normalization(keras, fresh, graph, train, cfg.batch_size)
                    build = _MODELS.take(keras, project, fresh, (tf_device, mixed), steps)
                    del fresh
                elif getattr(build.model, "optimizer", None) is None:
                    from .build import compile_model
                    compile_model(build, project, steps)
                model = build.model

                callbacks = []
                monitor_ok = val is not None
                es = cfg.early_stopping or {}
                if es.get("enabled"):
                    mon = es.get("monitor", "val_loss")
                    if mon.startswith("val_") and not monitor_ok:
                        warnings.append(f"early stopping watches {mon} but there is no validation split; "
                                        f"it watches {mon[4:]} instead")
                        mon = mon[4:]
                    callbacks.append(keras.callbacks.EarlyStopping(
                        monitor=mon, patience=int(es.get("patience", 5)),
                        restore_best_weights=bool(es.get("restore_best_weights", True))))
                from .build import plateau_callback
                plateau = plateau_callback(project.compile)
                if plateau is not None:
                    if not monitor_ok:
                        plateau.monitor = "loss"
                    callbacks.append(plateau)
                if cfg.tensorboard_dir:
                    callbacks.append(keras.callbacks.TensorBoard(log_dir=str(_tensorboard_dir(project, cfg)),
                                                                 update_freq="epoch", write_graph=False))

                feats = None
                feature_x = None
                if cfg.feature_nodes:
                    missing = [k for k in cfg.feature_nodes if k not in graph.nodes]
                    if missing:
                        raise SettingsError(f"feature maps: no node {missing[0]!r} in the graph")
                    feature_x = _feature_batch(dataset, graph, cfg)
                    if feature_x is not None:
                        feats = _MODELS.features_fn(keras, build, graph, cfg.feature_nodes)
                        feature_x = [tf.constant(a) for a in feature_x]
                        if feats is not None:
                            feats[0](feature_x)   # trace now, not in the middle of the first epoch

                engine = _Engine(keras, model, cfg, state, steps or 1, n_train, feature_x, feats)
                engine_cb = _make_engine_callback(keras, engine)
                cbl = _callback_list(keras, callbacks + [engine_cb], model, cfg.epochs, steps, engine_cb)

                info = {"device": device_name, "device_kind": kind, "epochs": cfg.epochs,
                        "initial_epoch": cfg.initial_epoch, "steps_per_epoch": steps, "samples": n_train,
                        "batch_size": cfg.batch_size, "mixed_precision": mixed, "warnings": list(warnings),
                        "seed": cfg.seed, "validation_samples": _n(dataset.val, val),
                        "test_samples": _n(dataset.test, test)}
                state.on_start(info)

                fit_error = None
                t_fit0 = time.perf_counter()
                try:
                    if isinstance(train, tuple):
                        x, y = train
                        vd = (_one(val[0]), _one(val[1])) if isinstance(val, tuple) else val
                        model.fit(_one(x), _one(y), batch_size=cfg.batch_size, epochs=cfg.epochs,
                                  initial_epoch=cfg.initial_epoch, validation_data=vd, callbacks=cbl, verbose=0,
                                  shuffle=True)
                    else:
                        model.fit(train, epochs=cfg.epochs, initial_epoch=cfg.initial_epoch, validation_data=val,
                                  callbacks=cbl, verbose=0, shuffle=False)   # streamed data comes shuffled
                except _Abort:
                    fit_error = engine.error
                    for cb in callbacks:  # close TensorBoard writers etc.
                        if isinstance(cb, keras.callbacks.TensorBoard):
                            try:
                                cb.on_train_end({})
                            except Exception:
                                pass
                except KeyboardInterrupt:
                    engine.stopped = True
                    engine.stopped_at = (engine.epoch, engine.step)
                except Exception as exc:  # noqa: BLE001 - every failure inside training is reported, typed
                    fit_error = _training_error(exc, tf)
                t_fit1 = time.perf_counter()

                ends = engine.epoch_ends
                if len(ends) >= 2:
                    sps = n_train * (len(ends) - 1) / max(ends[-1] - ends[0], 1e-9)
                elif engine.batches:
                    sps = min(engine.batches * cfg.batch_size, n_train * max(len(ends), 1)) / max(t_fit1 - t_fit0, 1e-9)
                else:
                    sps = 0.0

                test_metrics = None
                if fit_error is None and test is not None:
                    try:
                        test_metrics = evaluate_split(build, test, cfg.batch_size)
                    except Exception as exc:  # noqa: BLE001
                        fit_error = _training_error(exc, tf)
                if fit_error is None:
                    from .build import collect_weights
                    collect_weights(graph, build)
        finally:
            if keras.mixed_precision.global_policy().name != policy_before:
                keras.mixed_precision.set_global_policy(policy_before)

        result = TrainResult(history=engine.history, epochs_done=len(engine.epoch_ends), stopped=engine.stopped,
                             test_metrics=test_metrics, device=device_name, build=build, dataset=dataset,
                             error=fit_error, seconds=time.perf_counter() - t_start, samples_per_s=sps,
                             warnings=warnings, stopped_at=engine.stopped_at,
                             early_stopped=(fit_error is None and not engine.stopped
                                            and len(engine.epoch_ends) < cfg.epochs - cfg.initial_epoch))
        # drop the traced feature function (it holds graphs); the sub-model goes with it
        engine.features = None
        if fit_error is not None:
            state.on_error(fit_error)
        state.on_end(result)
        return result


# -- evaluation helpers ------------------------------------------------------------------------------------------
def evaluate_split(build, split_arrays, batch_size=256) -> dict:
    """Loss and metrics of the compiled model on (x, y) arrays or a tf.data dataset."""
    model = build.model
    if isinstance(split_arrays, tuple):
        x, y = split_arrays
        logs = model.evaluate(_one(x), _one(y), batch_size=max(int(batch_size), 1), verbose=0, return_dict=True)
    else:
        logs = model.evaluate(split_arrays, verbose=0, return_dict=True)
    return _floats(logs)


def predict(build, x, batch_size=256):
    """Model outputs for ``x`` (one array or a list, one per input) as numpy (a list when several outputs)."""
    import numpy as np
    model = build.model if hasattr(build, "model") else build
    out = model.predict(_one(list(x)) if isinstance(x, (list, tuple)) else x, batch_size=batch_size, verbose=0)
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    return np.asarray(out)


def confusion_matrix(y_true, y_pred, n):
    """n×n counts (rows: true class, columns: predicted). ``y_pred`` may be class ids or probabilities."""
    import numpy as np
    from sklearn.metrics import confusion_matrix as _cm
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.ndim > 1 and y_pred.shape[-1] > 1:
        y_pred = y_pred.argmax(-1)
    elif y_pred.ndim > 1 or y_pred.dtype.kind == "f":
        y_pred = (y_pred.reshape(len(y_pred), -1)[:, 0] > 0.5).astype(int)
    if y_true.ndim > 1 and y_true.shape[-1] > 1:
        y_true = y_true.argmax(-1)
    return _cm(y_true.reshape(-1).astype(int), y_pred.reshape(-1).astype(int), labels=list(range(int(n))))


__all__ = ["TrainConfig", "TrainState", "TrainResult", "run", "list_devices", "pick_device", "predict", "release_models",
           "evaluate_split", "confusion_matrix"]
