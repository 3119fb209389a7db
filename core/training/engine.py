"""``run``: one training, as a short sequence of named steps — choose the device, prepare the data, build and
compile, fit, evaluate on the test split, finish (the result, the listener's last calls). See ``core.training``."""
from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import DataError, SettingsError
from ..keras_compat import set_random_seed
from .cache import MODELS, RUN_LOCK
from .callbacks import Abort, Reporter, callback_list, close_tensorboard, engine_callback, settings_callbacks, \
    tensorboard_dir
from .config import TrainConfig, TrainResult, TrainState
from . import distribute
from . import neutral
from .devices import pick_device
from .evaluate import evaluate_split
from .failures import training_error
from .features import feature_batch
from .model import adapt_normalization, build_fresh
from .splits import count, load_data, one, split_arrays, steps_for


@dataclass
class Device:
    tf_name: str           # "/GPU:0"
    name: str              # what the person sees: "GPU 0: ..."
    kind: str              # "cpu" | "gpu"
    mixed: bool            # mixed precision (only on a GPU)
    strategy: object = None   # a tf.distribute strategy (see distribute.place); None for one device
    replicas: int = 1


@dataclass
class RunData:
    dataset: object
    train: object          # (x, y) arrays or a tf.data dataset
    val: object            # the same, or None
    test: object
    n_train: int


def run(project, data=None, config: TrainConfig | None = None, state: TrainState | None = None,
        build=None) -> TrainResult:
    """Train the project's network. See the ``core.training`` docstring."""
    from ..tfload import import_keras
    keras = import_keras()
    tf = neutral.tensorflow()   # None under JAX / PyTorch (a backend worker's process)
    t_start = time.perf_counter()
    state = state if state is not None else TrainState()
    cfg = config if config is not None else TrainConfig.from_project(project)
    cfg.validate()
    warnings = []
    if cfg.tensorboard_dir:
        tensorboard_dir(project, cfg)   # checks that TensorBoard is installed, before anything starts

    with RUN_LOCK:
        device = distribute.place(cfg, warnings) or _choose_device(cfg, warnings)   # a strategy, else one device
        inputs = _prepare_data(project, data)   # before building: a dataset that does not fit is reported first
        policy_before = keras.mixed_precision.global_policy().name
        placed = distribute.enter(keras, device)   # the strategy's scope (nothing for one device)
        try:
            with neutral.device_scope(keras, tf, device.tf_name):
                steps = _steps_per_epoch(inputs, cfg.batch_size)
                build = _build_and_compile(keras, project, cfg, build, inputs.train, device, steps, warnings)
                engine, error, samples_per_s = _fit(keras, tf, project, cfg, state, build, inputs, device, steps,
                                                    warnings)
                test_metrics, error = _evaluate_test(tf, build, inputs.test, cfg, error)
                if error is None:
                    from ..build import collect_weights
                    collect_weights(project.graph, build)   # the trained weights go into the nodes
        finally:
            placed.close()
            if keras.mixed_precision.global_policy().name != policy_before:
                keras.mixed_precision.set_global_policy(policy_before)
        return _finish(state, cfg, engine, error, test_metrics, samples_per_s, device, build, inputs.dataset,
                       warnings, t_start)


# -- the steps ---------------------------------------------------------------------------------------------------
def _choose_device(cfg, warnings) -> Device:
    pick = pick_device if neutral.tensorflow() is not None else neutral.pick_backend_device
    tf_name, name, kind = pick(cfg.device)
    mixed = bool(cfg.mixed_precision)
    if mixed and kind != "gpu":
        warnings.append("mixed precision needs a GPU; training on the CPU in float32")
        mixed = False
    return Device(tf_name, name, kind, mixed)


def _prepare_data(project, data) -> RunData:
    """The dataset (given, else the project's), checked against the graph, split as the model takes it."""
    graph = project.graph
    dataset = data if data is not None else load_data(project)
    from ..datasets import check_fit
    problems = check_fit(dataset, graph)
    if problems:
        raise DataError("; ".join(problems))
    train = split_arrays(dataset, dataset.train, graph)
    if train is None:
        raise DataError(f"dataset {dataset.name!r} has no training samples")
    val = split_arrays(dataset, dataset.val, graph)
    test = split_arrays(dataset, dataset.test, graph)
    n_train = count(dataset.train, train)
    if isinstance(train, tuple) and n_train == 0:
        raise DataError(f"dataset {dataset.name!r} has no training samples")
    return RunData(dataset, train, val, test, n_train)


def _steps_per_epoch(inputs, batch_size):
    """Batches per epoch (None when a streamed split does not know its length)."""
    if isinstance(inputs.train, tuple):
        return steps_for(inputs.n_train, batch_size)
    return neutral.steps_of(inputs.train)


def _build_and_compile(keras, project, cfg, build, train, device, steps, warnings):
    """A new run: seeded fresh model (Normalization adapted), compiled or the cached compiled model reset to it.
    Continuing (``build`` given): that model, compiled if it is not yet."""
    if build is not None:
        if getattr(build.model, "optimizer", None) is None:
            from ..build import compile_model
            compile_model(build, project, steps)
        return build
    if device.strategy is None:   # (distribute.enter cleared it: a clear inside a strategy's scope drops it)
        keras.backend.clear_session(free_memory=False)
    set_random_seed(cfg.seed)
    if device.mixed:
        keras.mixed_precision.set_global_policy("mixed_float16")
    fresh = build_fresh(project, cfg.keep_weights)
    warnings += fresh.warnings
    adapt_normalization(keras, fresh, project.graph, train, cfg.batch_size)
    if device.strategy is not None:
        return distribute.compile_fresh(fresh, project, steps)
    return MODELS.take(keras, project, fresh, (device.tf_name, device.mixed), steps)


def _feature_maps(keras, tf, build, graph, dataset, cfg):
    """(samples as tensors, traced feature function) for the feature nodes, or (None, None); traced now, not in
    the middle of the first epoch."""
    if not cfg.feature_nodes:
        return None, None
    missing = [k for k in cfg.feature_nodes if k not in graph.nodes]
    if missing:
        raise SettingsError(f"feature maps: no node {missing[0]!r} in the graph")
    feature_x = feature_batch(dataset, graph, cfg)
    if feature_x is None:
        return None, None
    feats = MODELS.features_fn(keras, build, graph, cfg.feature_nodes)
    feature_x = neutral.tensors(feature_x)
    if feats is not None:
        feats[0](feature_x)
    return feature_x, feats


def _start_info(cfg, device, steps, inputs, warnings):
    return {"device": device.name, "device_kind": device.kind, "epochs": cfg.epochs,
            "initial_epoch": cfg.initial_epoch, "steps_per_epoch": steps, "samples": inputs.n_train,
            "batch_size": cfg.batch_size, "mixed_precision": device.mixed, "warnings": list(warnings),
            "seed": cfg.seed, "replicas": device.replicas, "validation_samples": count(inputs.dataset.val, inputs.val),
            "test_samples": count(inputs.dataset.test, inputs.test)}


def _fit(keras, tf, project, cfg, state, build, inputs, device, steps, warnings):
    """Train; returns (the reporter, the TrainingError that ended fit or None, samples per second)."""
    model = build.model
    callbacks = settings_callbacks(keras, project, cfg, inputs.val is not None, warnings)
    for make in cfg.extra_callbacks or ():
        cb = make(keras, build, inputs)
        if cb is not None:
            callbacks.append(cb)
    feature_x, feats = _feature_maps(keras, tf, build, project.graph, inputs.dataset, cfg)
    engine = Reporter(model, cfg, state, steps or 1, inputs.n_train, feature_x, feats)
    engine_cb = engine_callback(keras, engine)
    cbl = callback_list(callbacks + [engine_cb], model, cfg.epochs, steps, engine_cb)
    state.on_start(_start_info(cfg, device, steps, inputs, warnings))
    error = None
    t0 = time.perf_counter()
    try:
        if isinstance(inputs.train, tuple):
            x, y = inputs.train
            val = inputs.val
            vd = (one(val[0]), one(val[1])) if isinstance(val, tuple) else val
            model.fit(one(x), one(y), batch_size=cfg.batch_size, epochs=cfg.epochs, initial_epoch=cfg.initial_epoch,
                      validation_data=vd, callbacks=cbl, verbose=0, shuffle=True)
        else:
            model.fit(inputs.train, epochs=cfg.epochs, initial_epoch=cfg.initial_epoch, validation_data=inputs.val,
                      callbacks=cbl, verbose=0, shuffle=False)   # streamed data comes shuffled
    except Abort:
        error = engine.error
        close_tensorboard(keras, callbacks)
    except KeyboardInterrupt:
        engine.stopped = True
        engine.stopped_at = (engine.epoch, engine.step)
    except Exception as exc:  # noqa: BLE001 - every failure inside training is reported, typed
        error = training_error(exc, tf)
    return engine, error, engine.samples_per_s(time.perf_counter() - t0)


def _evaluate_test(tf, build, test, cfg, error):
    """(test metrics, error): the test split evaluated when fit ended well."""
    if error is not None or test is None:
        return None, error
    try:
        return evaluate_split(build, test, cfg.batch_size), None
    except Exception as exc:  # noqa: BLE001
        return None, training_error(exc, tf)


def _finish(state, cfg, engine, error, test_metrics, samples_per_s, device, build, dataset, warnings, t_start):
    """The result; the listener's on_error (when training failed) and on_end."""
    result = TrainResult(history=engine.history, epochs_done=len(engine.epoch_ends), stopped=engine.stopped,
                         test_metrics=test_metrics, device=device.name, build=build, dataset=dataset,
                         error=error, seconds=time.perf_counter() - t_start, samples_per_s=samples_per_s,
                         warnings=warnings, stopped_at=engine.stopped_at,
                         early_stopped=(error is None and not engine.stopped
                                        and len(engine.epoch_ends) < cfg.epochs - cfg.initial_epoch))
    # drop the traced feature function (it holds graphs); the sub-model goes with it
    engine.features = None
    if error is not None:
        state.on_error(error)
    state.on_end(result)
    return result
