"""Operation nodes: a ``keras.ops`` function used as a step between tensors (``x + y`` is ``keras.ops.add``,
``keras.ops.multiply(h, 0.5)``, ``keras.ops.mean(x, axis=1)``), as written in much Keras 3 code.

An ``Op`` node's params:

* ``op``: the name of the ``keras.ops`` function (``"add"``, ``"multiply"``, ``"expand_dims"``...);
* ``args`` / ``kwargs`` (optional): how it is called, with ``{"__port__": i}`` markers for the input tensors and
  constants as plain JSON values (``[{"__port__": 0}, 0.5]``); without them the inputs are passed in port order;
* ``config`` (optional): the operation's own settings as Keras stores them (``{"axis": -1}``), passed as keyword
  arguments.

Only plain functions of ``keras.ops`` are allowed (never one that takes a Python function, like ``map`` or
``cond``): an op node runs no code from a file. The build, shape inference and the ``.py`` export call the same
function, so an imported model's operations come back as the same expressions.
"""
from __future__ import annotations

import re

from .layers import PORT, fill_call

OP = "Op"
# keras.ops functions that take a Python function or control flow: never an op node
EXCLUDED = {"map", "scan", "associative_scan", "cond", "switch", "fori_loop", "while_loop", "vectorized_map",
            "custom_gradient", "convert_to_numpy", "is_tensor", "dtype", "rnn", "shape"}
_TABLE: dict | None = None


def _table():
    """{lower-cased CamelCase class name: function name} of every usable keras.ops function."""
    global _TABLE
    if _TABLE is None:
        import keras
        table = {}
        for name in dir(keras.ops):
            if name.startswith("_") or name in EXCLUDED or not callable(getattr(keras.ops, name)):
                continue
            table["".join(part.capitalize() for part in name.split("_")).lower()] = name
            table[name.replace("_", "").lower()] = name
        _TABLE = table
    return _TABLE


def function_name(class_name):
    """The keras.ops function whose operation class is ``class_name`` (``ExpandDims`` -> ``expand_dims``), or None."""
    if not isinstance(class_name, str):
        return None
    return _table().get(class_name.lower())


def is_known(op):
    return isinstance(op, str) and op in set(_table().values())


def op_problem(node):
    """Why the op node's params cannot be called (a message), else None. Checked before Keras is asked."""
    p = node.params
    op = p.get("op")
    if not is_known(op):
        return f"op {op!r} is not a keras.ops function that an op node can call"
    # (absent or null: the inputs in port order, no keyword arguments)
    if not isinstance(p.get("args") or [], list) or not isinstance(p.get("kwargs") or {}, dict):
        return "args must be a list and kwargs an object"
    if not isinstance(p.get("config") or {}, dict):
        return "config must be an object"
    return None


def call_args(node, n_inputs):
    """(args, kwargs) templates of the node's call (the ports in order when it has none)."""
    p = node.params
    args = p.get("args")
    if args is None:
        args = [{PORT: i} for i in range(n_inputs)]
    kwargs = dict(p.get("config") or {})
    kwargs.pop("name", None)
    kwargs.update(p.get("kwargs") or {})
    return args, kwargs


def call_op(node, inputs):
    """The op node applied to its input tensors (symbolic or not)."""
    import keras
    why = op_problem(node)
    if why:
        raise ValueError(why)
    args, kwargs = call_args(node, len(inputs))
    fn = getattr(keras.ops, node.params["op"])
    return fn(*fill_call(args, inputs), **fill_call(kwargs, inputs))


def ports_used(node):
    """The input ports the node's call names (all of them, in order, when it names none)."""
    found = []

    def walk(v):
        if isinstance(v, dict):
            if set(v) == {PORT}:
                found.append(v[PORT])
            else:
                for x in v.values():
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(node.params.get("args"))
    walk(node.params.get("kwargs"))
    return found


def snake(class_name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(class_name)).lower()
