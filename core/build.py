"""Graph -> keras.Model, and the compile settings (losses, metrics, optimizer, schedule) -> Keras objects.

Losses and metrics are passed to Keras as objects, never as short aliases: an ``.h5`` saved with the
alias ``"mse"`` does not load back with plain ``keras.models.load_model``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import catalog
from .errors import BuildError, SettingsError, WeightsError, short
from .infer import Inference, Result
from .layers import call_layer, effective_dropout, make_layer
from .node_settings import SHARES
from .trust import is_trusted


@dataclass
class BuildResult:
    model: object
    layers: dict = field(default_factory=dict)    # node id -> keras layer
    tensors: dict = field(default_factory=dict)   # node id -> symbolic output tensor (its first output)
    outputs_of: dict = field(default_factory=dict)  # node id -> every output tensor, for a node with several
    inputs: list = field(default_factory=list)    # Input node ids, in model input order
    outputs: list = field(default_factory=list)   # Output node ids, in model output order
    info: Result | None = None
    warnings: list = field(default_factory=list)
    revision: int = -1


def _model_name(name):
    import re
    s = re.sub(r"[^A-Za-z0-9_]", "_", name or "model").strip("_") or "model"
    return s if s[0].isalpha() else "m_" + s


def build_model(project_or_graph, regularization=None, *, with_weights=True, name=None, info=None,
                strict_weights=False) -> BuildResult:
    """Build a fresh ``keras.Model`` from the graph. Raises BuildError listing every problem.

    With ``with_weights`` the layers get the weights their nodes carry, after a check of every array's shape
    against the built layer; weights that do not fit raise WeightsError naming the node with ``strict_weights``
    (export: never write a model with silently fresh weights), else the layer keeps fresh weights and
    ``warnings`` says so."""
    import keras
    from .project import Project
    if isinstance(project_or_graph, Project):
        graph = project_or_graph.graph
        regularization = project_or_graph.regularization if regularization is None else regularization
        name = name or project_or_graph.name
    else:
        graph = project_or_graph
    if info is None or info.revision != graph.revision:
        info = Inference().run(graph, regularization)
    if info.problems:
        raise BuildError(info.problems)
    nodes = graph.nodes
    trusted = is_trusted(graph)   # this session's trust in the project's code (core.trust), never the file's
    feeds_output = {e.src for e in graph.edges if nodes[e.dst].type == "Output"}
    res = BuildResult(model=None, info=info, revision=graph.revision)
    made = {}
    for k in info.order:
        n = nodes[k]
        if n.type == "Input":
            t = keras.Input(shape=tuple(n.params["shape"]), dtype=n.params.get("dtype", "float32"), name=n.name)
            res.inputs.append(k)
        elif n.type == "Output":
            t = _inputs(graph, k, res)[0]
            res.outputs.append(k)
        elif n.type == "Op":
            from .ops import call_op
            t = call_op(n, _inputs(graph, k, res))
        else:
            # a layer called more than once (imported shared layer): the node names its owner in "shares"
            owner = nodes.get(n.settings.get(SHARES)) or n
            layer = made.get(owner.id)
            if layer is None:
                layer = made[owner.id] = make_layer(owner, regularization, trusted)
            t = call_layer(n, layer, _inputs(graph, k, res))
            res.layers[k] = layer
            rate = effective_dropout(n, regularization, k in feeds_output)
            if rate > 0:
                drop = keras.layers.Dropout(rate, name=f"{n.name}_dropout")
                res.layers[k + ":dropout"] = drop
                t = drop(t)
        if isinstance(t, (list, tuple)):   # a layer that returns several tensors: one output port each
            res.outputs_of[k] = list(t)
            t = t[0]
        res.tensors[k] = t
    position = {k: i for i, k in enumerate(nodes)}  # model inputs/outputs follow the graph's node order
    res.inputs.sort(key=position.get)
    res.outputs.sort(key=position.get)
    ins = [res.tensors[k] for k in res.inputs]
    outs = [res.tensors[k] for k in res.outputs]
    model = keras.Model(ins if len(ins) > 1 else ins[0], outs if len(outs) > 1 else outs[0],
                        name=_model_name(name or "model"))
    res.model = model
    if with_weights:
        for k, layer in res.layers.items():
            n = nodes.get(k)
            if n is None or n.weights is None:
                continue
            why = weights_mismatch(layer, n.weights)
            if why is None:
                try:
                    set_layer_weights(layer, n.weights)
                except Exception as e:
                    why = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            if why:
                msg = f"node {n.label()}: the saved weights do not fit the layer: {why}"
                if strict_weights:
                    raise WeightsError(msg)
                res.warnings.append(f"{msg}; it starts from fresh weights")
    return res


def _inputs(graph, k, res):
    """The tensors flowing into node ``k``, by input port (each from its source's output port)."""
    out = []
    for e in graph.in_edges(k):
        many = res.outputs_of.get(e.src)
        if many is not None:
            if e.src_port >= len(many):
                raise BuildError([f"node {graph.nodes[k].label()}: its input comes from output {e.src_port + 1} of "
                                  f"{graph.nodes[e.src].label()}, which has {len(many)}"])
            out.append(many[e.src_port])
        else:
            out.append(res.tensors[e.src])
    return out


def weights_mismatch(layer, weights):
    """Why ``weights`` (arrays) cannot be the weights of the built ``layer`` (count or shapes), else None."""
    import numpy as np
    need = [tuple(int(d) for d in w.shape) for w in layer.weights]
    have = [tuple(int(d) for d in np.shape(w)) for w in weights]
    if len(have) != len(need):
        return (f"the file has {len(have)} array(s), the layer has {len(need)}"
                + (f" (shapes {', '.join(str(s) for s in need[:4])}{', …' if len(need) > 4 else ''})" if need else ""))
    for i, (h, w) in enumerate(zip(have, need)):
        if h != w:
            return f"array {i + 1} of {len(need)} has shape {h} in the file, the layer needs shape {w}"
    return None


def set_layer_weights(layer, weights):
    """``layer.set_weights`` plus what adapted preprocessing layers need: a ``Normalization`` layer only uses
    loaded mean/variance after ``finalize_state()`` (Keras calls it when loading a model file, not on set_weights)."""
    layer.set_weights(weights)
    finalize = getattr(layer, "finalize_state", None)
    if callable(finalize):
        finalize()


def collect_weights(graph, build: BuildResult):
    """Copy the model's current weights into the graph's nodes (kept with the project on save)."""
    for k, layer in build.layers.items():
        n = graph.nodes.get(k)
        if n is not None and layer.weights:
            n.weights = [w.numpy() if hasattr(w, "numpy") else w for w in layer.get_weights()]


# -- losses / metrics / optimizer ------------------------------------------------------------------------------
LOSS_CLASSES = {
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "binary_crossentropy": "BinaryCrossentropy",
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "huber": "Huber",
    "log_cosh": "LogCosh",
    "kl_divergence": "KLDivergence",
}
LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "kld": "kl_divergence",
                "logcosh": "log_cosh", "huber_loss": "huber", "kullback_leibler_divergence": "kl_divergence"}


# which keyword arguments each loss takes (an Output node's from_logits / label_smoothing)
LOSS_ARGS = {
    "categorical_crossentropy": ("from_logits", "label_smoothing"),
    "sparse_categorical_crossentropy": ("from_logits",),
    "binary_crossentropy": ("from_logits", "label_smoothing"),
}
LOSS_ARG_DEFAULTS = {"from_logits": False, "label_smoothing": 0.0}


def loss_kwargs(name, params=None):
    """The loss's keyword arguments from an Output node's params: only those the loss takes and that differ from
    Keras' defaults (``{"from_logits": True}``)."""
    name = LOSS_ALIASES.get(name, name)
    params = params or {}
    out = {}
    for key in LOSS_ARGS.get(name, ()):
        v = params.get(key, LOSS_ARG_DEFAULTS[key])
        if v != LOSS_ARG_DEFAULTS[key]:
            out[key] = bool(v) if key == "from_logits" else float(v)
    return out


def make_loss(name, params=None):
    """The Keras loss object; ``params``: an Output node's params (from_logits, label_smoothing)."""
    import keras
    name = LOSS_ALIASES.get(name, name)
    if name not in LOSS_CLASSES:
        raise SettingsError(f"unknown loss {short(name)}; expected one of {', '.join(LOSS_CLASSES)}")
    return getattr(keras.losses, LOSS_CLASSES[name])(**loss_kwargs(name, params))


def make_metric(name, loss, from_logits=False):
    """The Keras metric for a metric name and the output's loss (None where it means nothing for that loss).
    With ``from_logits`` the binary metrics read logits: accuracy thresholds at 0, AUC takes logits."""
    import keras
    m = keras.metrics
    loss = LOSS_ALIASES.get(loss, loss)
    logits = bool(from_logits) and loss in LOSS_ARGS
    if name == "accuracy":
        if loss == "sparse_categorical_crossentropy":
            return m.SparseCategoricalAccuracy(name="accuracy")
        if loss == "categorical_crossentropy":
            return m.CategoricalAccuracy(name="accuracy")
        if loss == "binary_crossentropy":
            return m.BinaryAccuracy(name="accuracy", threshold=0.0 if logits else 0.5)
        return None  # accuracy means nothing for a regression output
    if name == "top_5_accuracy":
        if loss == "sparse_categorical_crossentropy":
            return m.SparseTopKCategoricalAccuracy(k=5, name="top_5_accuracy")
        if loss == "categorical_crossentropy":
            return m.TopKCategoricalAccuracy(k=5, name="top_5_accuracy")
        return None
    cut = {"thresholds": 0.0} if logits else {}   # a logit of 0 is a probability of 0.5
    table = {"auc": lambda: m.AUC(name="auc", from_logits=logits),
             "precision": lambda: m.Precision(name="precision", **cut), "recall": lambda: m.Recall(name="recall", **cut),
             "mae": lambda: m.MeanAbsoluteError(name="mae"),
             "mse": lambda: m.MeanSquaredError(name="mse"), "rmse": lambda: m.RootMeanSquaredError(name="rmse")}
    if name not in table:
        raise SettingsError(f"unknown metric {short(name)}; expected one of {', '.join(catalog.METRICS)}")
    if name in ("auc", "precision", "recall") and loss not in ("binary_crossentropy",):
        return None  # these Keras metrics need one probability per sample
    if name in ("mae", "mse", "rmse") and loss == "sparse_categorical_crossentropy":
        return None  # class ids against class probabilities: not comparable
    return table[name]()


def make_optimizer(compile_settings, steps_per_epoch=None):
    import keras
    opt = dict(compile_settings.get("optimizer") or {})
    name = str(opt.pop("name", "adam")).lower()
    if name not in catalog.OPTIMIZERS:
        raise SettingsError(f"unknown optimizer {short(name)}; expected one of {', '.join(catalog.OPTIMIZERS)}")
    cls_name, params = catalog.OPTIMIZERS[name]
    kwargs = {}
    allowed = {p.name: p for p in params}
    for k, v in opt.items():
        if k in ("clipnorm", "clipvalue"):
            if v is not None:
                kwargs[k] = float(v)
            continue
        p = allowed.get(k)
        if p is None:
            raise SettingsError(f"optimizer {name}: unknown setting {short(k)}; expected {', '.join(allowed)}")
        err = p.value_error(v)
        if err:
            raise SettingsError(f"optimizer {name}: {k} {err}")
        kwargs[k] = float(v) if p.kind == catalog.ParamKind.FLOAT else v   # Keras refuses an int learning rate (1 from JSON)
    lr = float(kwargs.get("learning_rate", allowed["learning_rate"].default))
    sched = dict(compile_settings.get("schedule") or {"kind": "none"})
    kind = sched.pop("kind", "none")
    if kind not in catalog.SCHEDULES:
        raise SettingsError(f"unknown learning-rate schedule {short(kind)}; expected one of {', '.join(catalog.SCHEDULES)}")
    sparams = {p.name: p for p in catalog.SCHEDULES[kind]}
    for k, v in sched.items():
        p = sparams.get(k)
        if p is None:
            raise SettingsError(f"schedule {kind}: unknown setting {short(k)}; expected {', '.join(sparams) or 'none'}")
        err = p.value_error(v)
        if err:
            raise SettingsError(f"schedule {kind}: {k} {err}")
    sv = {p.name: sched.get(p.name, p.default) for p in catalog.SCHEDULES[kind]}
    if kind == "step":
        kwargs["learning_rate"] = keras.optimizers.schedules.ExponentialDecay(
            lr, decay_steps=int(sv["decay_steps"]), decay_rate=float(sv["decay_rate"]), staircase=True)
    elif kind == "cosine":
        kwargs["learning_rate"] = keras.optimizers.schedules.CosineDecay(
            lr, decay_steps=int(sv["decay_steps"]), alpha=float(sv["alpha"]))
    return getattr(keras.optimizers, cls_name)(**kwargs)


def plateau_callback(compile_settings):
    """The ReduceLROnPlateau callback when the schedule is 'plateau', else None."""
    sched = dict(compile_settings.get("schedule") or {})
    if sched.get("kind") != "plateau":
        return None
    import keras
    sv = {p.name: sched.get(p.name, p.default) for p in catalog.SCHEDULES["plateau"]}
    return keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=float(sv["factor"]),
                                             patience=int(sv["patience"]), min_lr=float(sv["min_lr"]))


def compile_model(build: BuildResult, project, steps_per_epoch=None):
    """Compile the built model with the project's losses (one per Output), metrics and optimizer."""
    graph = project.graph
    losses, weights, metrics = [], [], []
    for k in build.outputs:
        p = graph.nodes[k].params
        loss = p.get("loss", "mean_squared_error")
        losses.append(make_loss(loss, p))
        weights.append(float(p.get("loss_weight", 1.0)))
        ms = [make_metric(m, loss, p.get("from_logits", False)) for m in p.get("metrics", [])]
        metrics.append([m for m in ms if m is not None])
    single = len(losses) == 1
    build.model.compile(optimizer=make_optimizer(project.compile, steps_per_epoch),
                        loss=losses[0] if single else losses,
                        loss_weights=None if single or all(w == 1.0 for w in weights) else weights,
                        metrics=metrics[0] if single else metrics)
    return build.model
