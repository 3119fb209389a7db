"""A model file's training settings (``compile_config`` of a ``.keras`` file, ``training_config`` of an ``.h5``)
as Layerwise settings: each output's loss with its arguments (``from_logits``, ``label_smoothing``), its loss
weight and metrics (Output node params), and the optimizer with its settings (``compile.optimizer``).

Everything the file sets that Layerwise cannot keep is a warning (``Training.warnings``), so the import summary
says what training would do differently; nothing is dropped silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import catalog

# metric names as Keras code writes them -> the catalog's metric
METRIC_NAMES = {
    "accuracy": "accuracy", "acc": "accuracy", "sparse_categorical_accuracy": "accuracy",
    "categorical_accuracy": "accuracy", "binary_accuracy": "accuracy",
    "auc": "auc", "precision": "precision", "recall": "recall",
    "mae": "mae", "mean_absolute_error": "mae", "mse": "mse", "mean_squared_error": "mse",
    "rmse": "rmse", "root_mean_squared_error": "rmse",
    "top_k_categorical_accuracy": "top_5_accuracy", "sparse_top_k_categorical_accuracy": "top_5_accuracy",
}
KEPT_LOSS_ARGS = ("from_logits", "label_smoothing")
# optimizer config keys every Keras optimizer has, and their defaults (anything else set is a warning)
BASE_OPTIMIZER = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                  "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


@dataclass
class OutputTraining:
    loss: str | None = None                        # a catalog loss, None when the file has none Layerwise offers
    args: dict = field(default_factory=dict)       # from_logits, label_smoothing (non-default only)
    weight: float = 1.0
    metrics: list | None = None                    # catalog metrics; None: the file names none


@dataclass
class Training:
    outputs: list = field(default_factory=list)    # one OutputTraining per model output
    optimizer: dict | None = None                  # {"name": ..., "learning_rate": ..., ...}
    warnings: list = field(default_factory=list)
    compiled: bool = False


def snake(name):
    """``SparseCategoricalAccuracy`` -> ``sparse_categorical_accuracy``, ``AUC`` -> ``auc``."""
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(name))
    return re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s).lower()


def _number(v):
    return float(f"{v:.6g}") if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def read_training(comp, output_names) -> Training:
    """The training settings of a stored compile/training config, for outputs named ``output_names``."""
    t = Training(outputs=[OutputTraining() for _ in output_names], compiled=bool(comp))
    if not comp:
        return t
    for o, name, spec in zip(t.outputs, output_names, _per_output(comp.get("loss"), output_names)):
        _read_loss(o, spec, name, t.warnings)
    for o, w in zip(t.outputs, _per_output(comp.get("loss_weights"), output_names, broadcast=False)):
        if isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0:
            o.weight = _number(w)
    metrics = comp.get("metrics")
    if metrics is not None:
        for o, name, ms in zip(t.outputs, output_names, _per_output(metrics, output_names, metrics_list=True)):
            o.metrics = _read_metrics(ms, name, t.warnings)
    if comp.get("weighted_metrics"):
        t.warnings.append("weighted metrics are not kept")
    t.optimizer = _read_optimizer(comp.get("optimizer_config") or comp.get("optimizer"), t.warnings)
    return t


def _per_output(spec, names, broadcast=True, metrics_list=False):
    """One entry of a loss / loss-weights / metrics spec per output: a dict by output name, a list by position
    (a flat list of metrics applies to every output), else the same for every output (``broadcast``)."""
    n = len(names)
    if isinstance(spec, dict) and "class_name" not in spec:
        return [spec.get(k) for k in names]
    if isinstance(spec, (list, tuple)):
        if metrics_list and not any(isinstance(x, (list, tuple, type(None))) for x in spec):
            return [list(spec)] * n
        return list(spec)[:n] + [None] * (n - len(spec))
    return [spec] * n if broadcast else [None] * n


def _read_loss(o, spec, where, warnings):
    from ..build import LOSS_ALIASES, LOSS_ARGS, LOSS_CLASSES
    if spec is None:
        return
    cfg = {}
    if isinstance(spec, dict):
        cls, raw = spec.get("class_name"), spec.get("config")
        cfg = raw if isinstance(raw, dict) else {}
        if cls in (None, "function"):
            name, cfg = (raw if isinstance(raw, str) else None), {}
        else:
            inverse = {v: k for k, v in LOSS_CLASSES.items()}
            name = inverse.get(cls) or snake(cls)
    else:
        name = spec
    name = LOSS_ALIASES.get(name, name) if isinstance(name, str) else None
    if name not in catalog.LOSSES:
        what = spec.get("class_name") if isinstance(spec, dict) else spec
        warnings.append(f"output '{where}': the loss {what!r} is not one Layerwise offers; using a default")
        return
    o.loss = name
    for key in KEPT_LOSS_ARGS:
        v = cfg.get(key)
        if v is None:
            continue
        if key not in LOSS_ARGS.get(name, ()):
            if v not in (False, 0, 0.0):
                warnings.append(f"output '{where}': {key}={v!r} is not kept ({name} takes no {key})")
        elif key == "from_logits" and v is True:
            o.args[key] = True
        elif key == "label_smoothing" and isinstance(v, (int, float)) and 0 < v <= 1:
            o.args[key] = _number(v)
    for key, v in _loss_extras(name, cfg).items():
        warnings.append(f"output '{where}': the loss setting {key}={v!r} is not kept")


def _loss_extras(name, cfg):
    """The loss config's settings that differ from Keras' defaults and that Layerwise does not keep."""
    from ..build import LOSS_CLASSES
    if not cfg:
        return {}
    import keras
    try:
        default = getattr(keras.losses, LOSS_CLASSES[name])().get_config()
    except Exception:
        return {}
    return {k: v for k, v in cfg.items() if k not in KEPT_LOSS_ARGS + ("name",) and k in default
            and v != default[k]}


def _metric_name(m):
    if isinstance(m, str):
        return METRIC_NAMES.get(m), m
    if isinstance(m, dict):
        cls, cfg = m.get("class_name"), m.get("config") if isinstance(m.get("config"), dict) else {}
        if cls in ("SparseTopKCategoricalAccuracy", "TopKCategoricalAccuracy"):
            return ("top_5_accuracy" if cfg.get("k", 5) == 5 else None), f"{cls}(k={cfg.get('k')})"
        if cls == "function":
            return METRIC_NAMES.get(cfg if isinstance(cfg, str) else m.get("config")), str(m.get("config"))
        name = METRIC_NAMES.get(snake(cls))
        if name == "accuracy" and cfg.get("threshold", 0.5) not in (0.5, 0.0):
            return None, f"{cls}(threshold={cfg.get('threshold')})"
        return name, str(cls)
    return None, repr(m)


def _read_metrics(ms, where, warnings):
    if ms is None:
        return []
    out = []
    for m in ms if isinstance(ms, (list, tuple)) else [ms]:
        name, what = _metric_name(m)
        if name is None:
            warnings.append(f"output '{where}': the metric {what} is not kept")
        elif name not in out:
            out.append(name)
    return out


def _read_optimizer(opt, warnings):
    if isinstance(opt, str):
        name, cfg = opt, {}
    elif isinstance(opt, dict):
        name, cfg = str(opt.get("class_name", "")), opt.get("config") if isinstance(opt.get("config"), dict) else {}
    else:
        return None
    key = name.split(">")[-1].lower()
    if key not in catalog.OPTIMIZERS:
        warnings.append(f"the optimizer {name!r} is not one Layerwise offers; using Adam")
        return None
    cls_name, params = catalog.OPTIMIZERS[key]
    out = {"name": key}
    for p in params:
        v = cfg.get(p.name)
        if p.name == "learning_rate" and isinstance(v, dict):
            sched = v.get("class_name")
            v = (v.get("config") or {}).get("initial_learning_rate")
            warnings.append(f"the learning-rate schedule {sched} is not kept; the initial rate {v} is")
        if v is None:
            continue
        v = _number(v)
        if p.value_error(v) is None:
            if p.name == "learning_rate" or v != p.default:   # the defaults are the catalog's (Keras' own)
                out[p.name] = v
        else:
            warnings.append(f"the optimizer setting {p.name}={v!r} is not kept ({p.value_error(v)})")
    out.setdefault("learning_rate", params[0].default)
    for clip in ("clipnorm", "clipvalue"):
        if isinstance(cfg.get(clip), (int, float)) and cfg[clip] > 0:
            out[clip] = _number(cfg[clip])
    kept = {p.name for p in params} | {"name", "clipnorm", "clipvalue"}
    for k, v in cfg.items():
        if k not in kept and v != _optimizer_default(cls_name, k):
            warnings.append(f"the optimizer setting {k}={v!r} is not kept")
    return out


def _optimizer_default(cls_name, key):
    if key in BASE_OPTIMIZER:
        return BASE_OPTIMIZER[key]
    import keras
    try:
        return getattr(keras.optimizers, cls_name)().get_config().get(key)
    except Exception:
        return None


def describe(training: Training, output_names) -> str:
    """One line for the import summary: the optimizer, each output's loss (with its arguments and weight) and
    metrics."""
    if not training.compiled:
        return "training settings: none in the file (losses chosen from the last layers, Adam)"
    opt = training.optimizer or {"name": "adam"}
    extras = [f"{k} {v:g}" for k, v in opt.items() if k != "name" and isinstance(v, float)]
    parts = [f"{catalog.OPTIMIZERS[opt['name']][0]}({', '.join(extras)})"]
    for name, o in zip(output_names, training.outputs):
        args = "".join(f", {k}" if v is True else f", {k} {v:g}" for k, v in o.args.items())
        weight = f" ×{o.weight:g}" if o.weight != 1.0 else ""
        metrics = f" [{', '.join(o.metrics)}]" if o.metrics else ""
        parts.append(f"{name}: {o.loss or 'default loss'}{args}{weight}{metrics}")
    return "training settings: " + "; ".join(parts)
