"""A Keras 2 (``tf_keras``) ``.h5``: the Keras 3 functional config rewritten as Keras 2 reads it (``InputLayer``'s
``batch_shape`` -> ``batch_input_shape``, dtype policies -> their names, ``inbound_nodes`` as
``[[layer, node, tensor, kwargs], ...]``, settings Keras 2 does not know dropped when unset), the model rebuilt by
``tf_keras`` itself, every layer's weights copied over, and saved by ``tf_keras``. A layer Keras 2 has no class or
setting for is refused with the reason."""
from __future__ import annotations

import inspect

from .errors import UnsupportedLayer, require

BASE_KWARGS = {"name", "trainable", "dtype", "dynamic", "input_shape", "batch_input_shape", "batch_size",
               "input_dim", "activity_regularizer", "autocast"}
UNSET = (None, False, "auto", {}, [])
OBJECT_MODULES = {"keras.initializers": "initializers", "keras.regularizers": "regularizers",
                  "keras.constraints": "constraints"}


def convert(model):
    """The same network as a ``tf_keras`` model with the same weights."""
    require("keras2")
    import tf_keras
    cfg = model.get_config()
    if "layers" not in cfg or "input_layers" not in cfg:
        raise UnsupportedLayer(f"model '{model.name}' ({type(model).__name__}): only functional models convert")
    layers = [_layer(entry, tf_keras) for entry in cfg["layers"]]
    twin = tf_keras.Model.from_config({"name": cfg["name"], "layers": layers, "input_layers": cfg["input_layers"],
                                       "output_layers": cfg["output_layers"]})
    for layer in model.layers:
        _copy_weights(layer, twin.get_layer(layer.name))
    return twin


def _layer(entry, tf_keras):
    name, cls = entry.get("name") or entry["config"].get("name"), entry["class_name"]
    where = f"node '{name}' ({cls})"
    k2 = getattr(tf_keras.layers, cls, None)
    if k2 is None or entry.get("module") not in (None, "keras.layers"):
        why = "a nested model" if cls in ("Functional", "Sequential", "Model") else "a layer Keras 2 has no class for"
        raise UnsupportedLayer(f"{where}: Keras 2 cannot express it ({why})")
    conf = dict(entry["config"])
    if cls == "InputLayer":
        conf["batch_input_shape"] = conf.pop("batch_shape", None)
        conf.pop("optional", None)
    conf = {k: _value(v, tf_keras, where) for k, v in conf.items()}
    conf = _known(conf, k2, where)
    if cls == "MultiHeadAttention":     # Keras 2 builds it from the shapes in its config
        shapes = (entry.get("build_config") or {}).get("shapes_dict") or {}
        conf.update({k: shapes.get(k) for k in ("query_shape", "key_shape", "value_shape")})
    return {"class_name": cls, "config": conf, "name": name,
            "inbound_nodes": [_node(n, k2, where) for n in entry.get("inbound_nodes", [])]}


def _known(conf, cls, where, base=BASE_KWARGS):
    """``conf`` without the settings ``cls`` does not take; a refused layer when one of them is set."""
    allowed, open_ended = set(base or ()), False
    for klass in cls.__mro__:           # a class passing **kwargs on: its bases' settings count too
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        allowed |= set(params)
        open_ended = any(p.kind is p.VAR_KEYWORD for p in params.values())
        if not open_ended or klass.__name__ == "Layer":
            break
    if open_ended and base is None:
        return conf
    out = {}
    for k, v in conf.items():
        if k in allowed:
            out[k] = v
        elif v not in UNSET:
            raise UnsupportedLayer(f"{where}: Keras 2 cannot express it (it has no setting {k!r}, here {v!r})")
    return out


def _value(v, tf_keras, where):
    """A Keras 3 config value as Keras 2 reads it: dtype policies as names, serialized objects without module."""
    if isinstance(v, dict) and "class_name" in v and "config" in v:
        if v["class_name"] in ("DTypePolicy", "FloatDTypePolicy"):
            return v["config"]["name"]
        group = OBJECT_MODULES.get(v.get("module"))
        conf = {k: _value(x, tf_keras, where) for k, x in (v["config"] or {}).items()}
        if group:
            cls = getattr(getattr(tf_keras, group), v["class_name"], None)
            if cls is None:
                raise UnsupportedLayer(f"{where}: Keras 2 has no {group[:-1]} {v['class_name']}")
            conf = _known(conf, cls, where, base=None)
        return {"class_name": v["class_name"], "config": conf}
    if isinstance(v, (list, tuple)):
        return [_value(x, tf_keras, where) for x in v]
    return v


def _ref(t):
    return list(t["config"]["keras_history"])


def _is_tensor(t):
    return isinstance(t, dict) and t.get("class_name") == "__keras_tensor__"


def _node(node, cls, where):
    """One Keras 3 inbound node ({"args", "kwargs"}) as Keras 2's list of [layer, node, tensor, kwargs]."""
    args, kwargs = list(node.get("args", [])), dict(node.get("kwargs", {}))
    if not args:
        raise UnsupportedLayer(f"{where}: Keras 2 cannot express a call without positional inputs")
    first, rest = args[0], args[1:]
    if isinstance(first, (list, tuple)):      # a merge: one list of tensors
        if rest or not all(_is_tensor(t) for t in first):
            raise UnsupportedLayer(f"{where}: Keras 2 cannot express this call's arguments")
        return [_ref(t) + [{}] for t in first]
    names = [p for p in inspect.signature(cls.call).parameters if p != "self"][1:]
    extra = dict(zip(names, rest))
    extra.update(kwargs)
    extra = {k: (_ref(v) if _is_tensor(v) else v) for k, v in extra.items()}
    return [_ref(first) + [extra]]


def _copy_weights(src, dst):
    ws, have = src.get_weights(), dst.get_weights()
    if [w.shape for w in ws] != [w.shape for w in have]:
        raise UnsupportedLayer(f"node '{src.name}' ({type(src).__name__}): its weights {[w.shape for w in ws]} do "
                               f"not map onto Keras 2's {[w.shape for w in have]}")
    if ws:
        dst.set_weights(ws)


def write(model, path):
    """Convert and save as a Keras 2 ``.h5`` at ``path``."""
    convert(model).save(str(path), save_format="h5")


class Runner:
    """The .h5 reloaded by ``tf_keras.models.load_model``: ``runner(xs)`` -> {output name: array}."""

    def __init__(self, path, model):
        import tf_keras
        self.model = tf_keras.models.load_model(str(path), compile=False)
        self.names = list(model.output_names)

    def __call__(self, xs):
        out = self.model(list(xs) if len(xs) > 1 else xs[0], training=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        return {n: o.numpy() for n, o in zip(self.names, out)}
