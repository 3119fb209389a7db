"""The cost of a group node (a nested Keras model kept as one node): the sum of its layers' costs.

The nested model is built once from its config (symbolically, no weights allocated) to read each inner layer's
input and output shapes; the result is memoised under the node's content, so an edit elsewhere costs nothing.
"""
from __future__ import annotations

import json
from collections import OrderedDict

from .rules import layer_flops

_MEMO = OrderedDict()
MEMO_SIZE = 64
MODEL_CLASSES = ("Functional", "Sequential", "Model")


def _shape(t):
    return tuple(t.shape) if hasattr(t, "shape") else None


def _shapes(x):
    if isinstance(x, (list, tuple)):
        return [_shape(t) for t in x]
    return [_shape(x)]


def model_flops(model):
    """(FLOPs per sample, the class names without a convention) of a built Keras model, layer by layer."""
    total, unknown = 0, set()
    for layer in model.layers:
        name = type(layer).__name__
        try:
            ins, outs = _shapes(layer.input), _shapes(layer.output)
        except (AttributeError, ValueError):   # a layer called several times, or never: no single shape
            unknown.add(name)
            continue
        if hasattr(layer, "layers") and name in MODEL_CLASSES:
            f, u = model_flops(layer)
            total, unknown = total + f, unknown | u
            continue
        f, known = layer_flops(name, layer.get_config(), ins, outs[0] if outs else None)
        total += f
        if not known:
            unknown.add(name)
    return total, unknown


def group_flops(node, in_shapes, trusted=False):
    """(FLOPs per sample, unknown class names) of a group node on its input shapes, memoised."""
    try:
        key = json.dumps([node.params, [list(s) if s else None for s in in_shapes]], sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        key = None
    if key is not None and key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    from ..keras_compat import stateless_scope
    from ..layers import make_layer
    try:
        with stateless_scope(initialize_variables=False):
            model = make_layer(node, trusted=trusted)
            out = model_flops(model)
    except Exception:   # a nested model that cannot be built here is a problem shape inference reports
        out = (0, {node.params.get("class_name", "Functional")})
    if key is not None:
        _MEMO[key] = out
        if len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
    return out
