"""From a graph node to a Keras layer, and how that layer is called on its inputs.

Imports Keras lazily: importing this module is cheap.
"""
from __future__ import annotations

import copy

from . import catalog
from .node_settings import CALL, GLOBAL_DROPOUT, L2, is_frozen
from .trust import MODEL_CLASSES, UNSAFE_CLASSES, check_allowed

ATTENTION = {"MultiHeadAttention", "Attention", "AdditiveAttention"}
MERGES = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Concatenate"}
PORT = "__port__"  # marks an input tensor in a node's call template (settings "call"), e.g. {"__port__": 0}


def keras():
    import keras as _k
    return _k


def config_dicts(cfg):
    """Every dict inside a serialized Keras config (nested dicts and lists), each before what it holds; a dict may
    be edited while the walk goes on, what it then holds is what is visited."""
    stack = [cfg]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            yield v
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def effective_l2(node, regularization):
    """L2 factor on the node's kernel: the node's own override, else the global one (weighted layers only)."""
    own = node.settings.get(L2)
    if own is not None:
        return float(own)
    if not _is_weighted(node):
        return 0.0
    return float((regularization or {}).get("l2", 0.0) or 0.0)


def effective_dropout(node, regularization, feeds_output=False):
    """Rate of the global dropout inserted after this node (Dense/Conv blocks not feeding an Output)."""
    spec = node.spec
    if spec is None or not spec.block or feeds_output:
        return 0.0
    if node.settings.get(GLOBAL_DROPOUT, True) is False:
        return 0.0
    return float((regularization or {}).get("dropout", 0.0) or 0.0)


def _is_weighted(node):
    if node.type == "KerasLayer":
        return node.params.get("class_name") in catalog.WEIGHTED_KERAS
    spec = node.spec
    return bool(spec and spec.weighted)


def layer_kwargs(node):
    """The node's params as keyword arguments for the Keras constructor."""
    spec = node.spec
    out = {}
    for k, v in node.params.items():
        p = spec.param(k) if spec else None
        out[k] = p.to_keras(v) if p else (tuple(v) if isinstance(v, list) and k in _TUPLE_KEYS else copy.deepcopy(v))
    return out


_TUPLE_KEYS = {"kernel_size", "strides", "pool_size", "dilation_rate", "size", "target_shape", "dims", "padding",
               "cropping"}


def layer_class(class_name):
    k = keras()
    if class_name in UNSAFE_CLASSES:
        raise ValueError(f"the Keras layer class {class_name} can run arbitrary code and is not allowed")
    cls = getattr(k.layers, class_name, None)
    if cls is None or not isinstance(cls, type) or not issubclass(cls, k.layers.Layer):
        raise ValueError(f"{class_name!r} is not a built-in Keras layer")
    return cls


RNN_CLASSES = ("LSTM", "GRU", "SimpleRNN")  # what Bidirectional wraps


def is_keras_own_layer(module, class_name):
    """Whether (module, class_name) is a layer Keras ships outside keras.layers (keras.applications' LayerScale)."""
    if not module or module == "keras.layers" or getattr(keras().layers, str(class_name), None) is not None:
        return False
    from .keras_compat import keras_layer_class
    return keras_layer_class(module, class_name) is not None


def _rnn_class(name):
    if name not in RNN_CLASSES:
        raise ValueError(f"layer must be one of {', '.join(RNN_CLASSES)}, got {name!r}")
    return getattr(keras().layers, name)


def make_layer(node, regularization=None, trusted=False):
    """A new Keras layer for ``node`` (not for Input/Output nodes). ``trusted``: whether this session trusts the
    project's code (``core.trust``; never a setting from the file). A node with code raises
    ``core.trust.UntrustedCode`` unless trusted; every other config is deserialized in Keras' safe mode."""
    from .keras_compat import safe_mode_scope
    k = keras()
    t = node.type
    l2 = effective_l2(node, regularization)
    reg = k.regularizers.L2(l2) if l2 > 0 else None
    if t == "KerasLayer":
        code = check_allowed(node, trusted)   # None: nothing in it runs code
        class_name = node.params.get("class_name", "")
        cfg = copy.deepcopy(node.params.get("config", {}))
        cfg["name"] = node.name
        if reg is not None and "kernel_regularizer" in cfg:
            cfg["kernel_regularizer"] = k.regularizers.serialize(reg)
        with safe_mode_scope(code is None):
            if class_name in MODEL_CLASSES:  # a nested model (e.g. a pretrained base kept as one group node)
                layer = (k.Sequential if class_name == "Sequential" else k.Model).from_config(cfg)
            elif code is not None and (class_name in UNSAFE_CLASSES or node.params.get("module")
                                       or node.params.get("registered_name")):
                # trusted in this session: Lambda layers and custom classes, deserialized outside safe mode
                from .custom_code import ensure_for
                ensure_for(node, trusted)   # the module or file that defines the class, recorded at import
                layer = k.saving.deserialize_keras_object(
                    {"class_name": class_name, "config": cfg, "module": node.params.get("module") or "keras.layers",
                     "registered_name": node.params.get("registered_name")}, safe_mode=False)
            elif is_keras_own_layer(node.params.get("module"), class_name):   # Keras' own layer outside keras.layers
                layer = k.saving.deserialize_keras_object(
                    {"class_name": class_name, "config": cfg, "module": node.params["module"],
                     "registered_name": node.params.get("registered_name")}, safe_mode=True)
            else:
                layer = layer_class(class_name).from_config(cfg)
    elif t == "Bidirectional":
        layer = _bidirectional(node, reg)
    else:
        spec = node.spec
        cls = getattr(k.layers, spec.keras_class)
        kw = layer_kwargs(node)
        if reg is not None:
            kw["kernel_regularizer"] = reg
        with safe_mode_scope(check_allowed(node, trusted) is None):
            layer = cls(name=node.name, **kw)
    if is_frozen(node):
        layer.trainable = False
    return layer


def _bidirectional(node, reg):
    """A Bidirectional node's layer: its wrapped RNN from ``layer``/``units``/``return_sequences``; for an imported
    one, with the rest of the wrapped layer's Keras config (``layer_config``) and the wrapper's
    (``wrapper_config``: a backward layer, state flags)."""
    k = keras()
    p = node.params
    cls = _rnn_class(p.get("layer", "LSTM"))
    merge = p.get("merge_mode", "concat")
    if p.get("layer_config") is None:
        extra = {"kernel_regularizer": reg} if reg is not None else {}
        inner = cls(int(p.get("units", 32)), return_sequences=bool(p.get("return_sequences", False)), **extra)
        return k.layers.Bidirectional(inner, merge_mode=merge, name=node.name)
    from .keras_compat import safe_mode_scope
    inner_cfg = copy.deepcopy(p["layer_config"])
    inner_cfg.update(units=int(p.get("units", 32)), return_sequences=bool(p.get("return_sequences", False)))
    if reg is not None:
        inner_cfg["kernel_regularizer"] = k.regularizers.serialize(reg)
    wrapper = copy.deepcopy(p.get("wrapper_config") or {})
    wrapper.update(layer={"module": "keras.layers", "class_name": cls.__name__, "config": inner_cfg,
                          "registered_name": None}, merge_mode=merge, name=node.name)
    with safe_mode_scope(True):
        return k.layers.Bidirectional.from_config(wrapper)


def call_layer(node, layer, inputs):
    """Call ``layer`` on the node's input tensors, following the layer type's calling convention."""
    t = node.type
    template = node.settings.get(CALL)
    if template:  # imported layers called in another way: {"args": [...], "kwargs": {...}} with port markers
        args = fill_call(template.get("args", []), inputs)
        kwargs = fill_call(template.get("kwargs", {}), inputs)
        return layer(*args, **kwargs)
    if t == "MultiHeadAttention":
        if len(inputs) == 1:
            return layer(inputs[0], inputs[0])
        if len(inputs) == 2:
            return layer(inputs[0], inputs[1])
        return layer(inputs[0], inputs[1], key=inputs[2])
    if t in ("Attention", "AdditiveAttention"):
        return layer(inputs * 2 if len(inputs) == 1 else list(inputs))
    if t in MERGES:
        return layer(list(inputs))
    if t in RNN_CLASSES and len(inputs) > 1:   # the other ports seed the state (an encoder's final state)
        return layer(inputs[0], initial_state=list(inputs[1:]))
    if t == "KerasLayer" and len(inputs) > 1:
        return layer(list(inputs))
    return layer(inputs[0])


def fill_call(template, inputs):
    """A call template with its port markers replaced by the input tensors."""
    if isinstance(template, dict):
        if set(template) == {PORT}:
            return inputs[template[PORT]]
        return {key: fill_call(v, inputs) for key, v in template.items()}
    if isinstance(template, (list, tuple)):
        return [fill_call(v, inputs) for v in template]
    return template


def plain_error(exc, node=None):
    """A Keras exception as one line of plain words."""
    import re
    msg = str(exc).strip()
    m = re.search(r"expected (min_|max_)?ndim=(\d+), found ndim=(\d+)\.?(?: Full shape received: (\([^)]*\)))?", msg)
    if m:
        which, exp, got, shape = m.groups()
        want = {"min_": "at least ", "max_": "at most "}.get(which, "")
        exp_i, got_i = int(exp), int(got)
        return (f"expects an input with {want}{exp_i - 1} axes per sample ({want}{exp_i}-D with the batch), "
                f"got {got_i - 1}" + (f" (input shape {shape})" if shape else "") + _rank_hint(node, exp_i, got_i))
    m = re.search(r"expected axis -?\d+ of input shape to have value (\d+),? but received input with shape (\([^)]*\))", msg)
    if m:
        return f"expects {m.group(1)} values on the last axis, got input of shape {m.group(2)}"
    # drop Keras' call-context boilerplate, keep the first informative line
    lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
    skip = ("Exception encountered when calling", "Arguments received by", "•", "Call arguments received")
    lines = [ln for ln in lines if not ln.startswith(skip)]
    text = lines[0] if lines else type(exc).__name__
    if len(lines) > 1 and text.endswith(":"):
        text = text + " " + lines[1]
    text = re.sub(r"^(ValueError|TypeError): ", "", text)
    return text[:400]


def _rank_hint(node, exp, got):
    if node is None:
        return ""
    if got > exp and node.type in ("Dense",):
        return ""
    if got > exp:
        return "; add a Flatten or a global pooling layer before it"
    if got < exp and node.type.endswith("2D"):
        return "; add a Reshape to (height, width, channels) before it"
    if got < exp and node.type.endswith("1D") or node.type in ("LSTM", "GRU", "SimpleRNN", "Bidirectional"):
        return "; it needs a sequence (time steps, features): add a Reshape or RepeatVector before it"
    return ""


def count_weights(weights):
    """How many numbers the weight variables (or arrays) hold."""
    total = 0
    for w in weights:
        c = 1
        for d in w.shape:
            c *= int(d)
        total += c
    return total
