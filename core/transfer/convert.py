"""A Keras model as graph nodes: one node per layer call (shared layers, call templates, nested models as group
nodes), with its weights; the config helpers that groups use too."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from .. import catalog
from ..errors import ModelFileError
from ..graph import NAME_RE, Node, output_count
from ..keras_compat import call_outputs
from ..layers import MERGES, PORT, RNN_CLASSES, count_weights
from ..node_settings import CALL, CODE, CUSTOM_CODE, OUTPUTS, PRETRAINED, SHARES, TRAINABLE
from .files import classify

# Keras classes that have a catalog entry (Bidirectional's catalog params are not its Keras config: see
# bidirectional_params)
CLASS_TO_TYPE = {s.keras_class: t for t, s in catalog.CATALOG.items() if s.keras_class and t != "Bidirectional"}


@dataclass
class Converted:
    inputs: list = field(default_factory=list)   # Input node ids, in model input order
    outputs: list = field(default_factory=list)  # node id that produces each model output
    output_ports: list = field(default_factory=list)  # which output port of that node, for each model output
    nodes: list = field(default_factory=list)    # every node id added (Input nodes included)
    known: dict = field(default_factory=dict)
    groups: int = 0
    ops: int = 0                                 # keras.ops steps imported as op nodes


def _default(o):
    import numpy as np
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, (set, frozenset)):
        return list(o)
    if hasattr(o, "get_config"):
        import keras
        return keras.saving.serialize_keras_object(o)
    raise TypeError(f"cannot store {type(o).__name__} in a project")


def jsonable(obj):
    """A Keras config as plain JSON data (tuples -> lists, numpy -> lists/numbers)."""
    return json.loads(json.dumps(obj, default=_default))


def port(i):
    return {PORT: i}


def default_call(type_name, n):
    """The call template that core.layers.call_layer uses by default for a node with ``n`` inputs."""
    if type_name == "MultiHeadAttention":
        args = [port(0), port(0)] if n == 1 else [port(0), port(1)]
        return {"args": args, "kwargs": {"key": port(2)} if n == 3 else {}}
    if type_name in ("Attention", "AdditiveAttention"):
        return {"args": [[port(0), port(0)] if n == 1 else [port(i) for i in range(n)]], "kwargs": {}}
    if type_name in MERGES or (type_name == "KerasLayer" and n > 1):
        return {"args": [[port(i) for i in range(n)]], "kwargs": {}}
    if type_name in RNN_CLASSES and n > 1:
        return {"args": [port(0)], "kwargs": {"initial_state": [port(i) for i in range(1, n)]}}
    return {"args": [port(0)], "kwargs": {}}


def _parse_call(inbound, where, op_names=()):
    """(template, refs) of one serialized call: refs are (layer, node_index, tensor_index, shape).

    Masks that Keras passed on by itself (``mask=`` / ``<arg>_mask=`` computed by keras.ops from an Embedding's
    or Masking layer's output) are left out: the rebuilt model passes them on the same way. So is
    ``training=False`` (what a functional model records by default; fit/predict override it anyway)."""
    refs = []

    def implicit_mask(v):
        if v is None:
            return True
        if isinstance(v, (list, tuple)):
            return all(implicit_mask(x) for x in v)
        return (isinstance(v, dict) and v.get("class_name") == "__keras_tensor__"
                and (v.get("config", {}).get("keras_history") or [None])[0] in op_names)

    def walk(v):
        if isinstance(v, dict):
            if v.get("class_name") == "__keras_tensor__":
                c = v.get("config", {})
                h = c.get("keras_history")
                refs.append((h[0], int(h[1]), int(h[2]), c.get("shape")))
                return port(len(refs) - 1)
            if "class_name" in v and "config" in v:
                raise ModelFileError(f"{where} is called with an argument of type {v.get('class_name')}, "
                                     f"which a Layerwise graph cannot hold")
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        return v

    if isinstance(inbound, dict):
        args, kwargs = inbound.get("args", []), inbound.get("kwargs", {})
    else:  # very old list form [[layer, node, tensor, kwargs], ...]
        raise ModelFileError(f"{where}: unsupported (pre-Keras 3) connection format")
    kwargs = {k: v for k, v in dict(kwargs).items()
              if not ((k == "mask" or k.endswith("_mask")) and implicit_mask(v))
              and not (k == "training" and v in (False, None))}
    tpl = {"args": walk(list(args)), "kwargs": walk(kwargs)}
    return tpl, refs


_LOSSLESS: dict = {}


def catalog_params(class_name, cfg):
    """(catalog type, params) when the Keras class has a catalog entry and its config maps losslessly
    (the layer the build makes from the params has exactly this config), else (None, None)."""
    t = CLASS_TO_TYPE.get(class_name)
    if t is None:
        return None, None
    key = class_name + json.dumps(cfg, sort_keys=True)
    hit = _LOSSLESS.get(key)
    if hit is not None:
        return hit[0], copy.deepcopy(hit[1])
    spec = catalog.CATALOG[t]
    params = spec.defaults()
    params.update(copy.deepcopy(cfg))
    squeezed = set()   # an axis Keras writes as [-1] once the layer is built: the catalog's -1 builds the same layer
    for p in spec.params:
        v = params.get(p.name)
        if p.kind == catalog.ParamKind.INT and isinstance(v, list) and len(v) == 1 and isinstance(v[0], int):
            params[p.name] = v[0]
            squeezed.add(p.name)
    ok = all(p.value_error(params[p.name]) is None for p in spec.params if p.name in params)
    if ok:
        from ..layers import make_layer
        try:
            layer = make_layer(Node("probe", t, "probe", params))
            got = jsonable(layer.get_config())
            got.pop("name", None)
            got.pop("trainable", None)
            got.update({k: cfg[k] for k in squeezed if got.get(k) in (params[k], [params[k]])})
            ok = got == cfg
        except Exception:
            ok = False
    result = (t, params) if ok else (None, None)
    if len(_LOSSLESS) > 4096:
        _LOSSLESS.clear()
    _LOSSLESS[key] = result
    return result[0], copy.deepcopy(result[1])


def bidirectional_params(cfg):
    """(\"Bidirectional\", params) for a stored Bidirectional config that the catalog entry rebuilds exactly: the
    wrapped layer's class, units and return_sequences as params, the rest of its config (``layer_config``) and of
    the wrapper's (``wrapper_config``) kept beside them; else (None, None)."""
    inner = cfg.get("layer") if isinstance(cfg.get("layer"), dict) else {}
    icfg = dict(inner.get("config") or {})
    if inner.get("class_name") not in RNN_CLASSES or inner.get("module") not in (None, "keras.layers"):
        return None, None
    params = {"layer": inner["class_name"], "units": icfg.pop("units", 32),
              "return_sequences": icfg.pop("return_sequences", False), "merge_mode": cfg.get("merge_mode", "concat"),
              "layer_config": icfg,
              "wrapper_config": {k: v for k, v in cfg.items() if k not in ("layer", "merge_mode", "name", "trainable")}}
    spec = catalog.CATALOG["Bidirectional"]
    if any(p.value_error(params[p.name]) for p in spec.params):
        return None, None
    from ..layers import make_layer
    try:
        got = jsonable(make_layer(Node("probe", "Bidirectional", "probe", params)).get_config())
    except Exception:
        return None, None
    got.pop("name", None)
    got.pop("trainable", None)
    return ("Bidirectional", params) if _same_wrapped(got, cfg) else (None, None)


def _same_wrapped(got, cfg):
    """Configs equal but for the wrapped layers' names (Keras names them after the wrapper) and build configs."""
    def strip(c):
        c = copy.deepcopy(c)
        for key in ("layer", "backward_layer"):
            if isinstance(c.get(key), dict):
                (c[key].get("config") or {}).pop("name", None)
                c[key].pop("build_config", None)
        return c
    return strip(got) == strip(cfg)


def _batchless(shape):
    if shape is None:
        return None
    return (None,) + tuple(None if d is None else int(d) for d in list(shape)[1:])


def _triples(spec):
    """input_layers / output_layers of a functional config as a list of [layer, node, tensor]."""
    if isinstance(spec, dict):
        spec = list(spec.values())
    if spec and isinstance(spec[0], str):
        return [spec]
    return list(spec or [])


def functional_view(model):
    """A Sequential as the equivalent Functional over the same layers (a Functional is returned as is)."""
    import keras
    if isinstance(model, keras.Sequential):
        try:
            inputs, outputs = model.inputs, model.outputs
        except (AttributeError, ValueError):
            inputs = outputs = None
        if not inputs:
            raise ModelFileError(f"the Sequential model '{model.name}' has no input shape (it was never built); "
                                 f"start it with keras.Input(shape) and save it again")
        return keras.Model(inputs, outputs, name=model.name)
    return model


def convert_model(model, graph, *, trust=False, where="model", settings_for=None, custom_code=None) -> Converted:
    """Add the nodes and edges of ``model`` to ``graph``: its Input nodes, one node per layer call, one op node
    per keras.ops step. Weights go into the nodes. No Output nodes (the caller adds them, or splices the outputs).
    ``custom_code``: the module or file that defines the model's custom classes, recorded on their nodes."""
    c = _Converter(model, graph, trust, where, settings_for)
    c.custom_code = custom_code
    c.read_calls()
    c.add_inputs()
    for e in c.entries:
        c.add_layer(e)
    c.connect_all()
    c.collect_outputs()
    return c.conv


def _entry_name(e):
    return e.get("name") or e["config"].get("name")


class _Converter:
    """One model being added to a graph (the steps of ``convert_model``)."""

    def __init__(self, model, graph, trust, where, settings_for):
        self.graph, self.trust, self.where, self.settings_for = graph, trust, where, settings_for
        self.fmodel = functional_view(model)
        self.cfg = jsonable(self.fmodel.get_config())
        self.live = {layer.name: layer for layer in self.fmodel.layers}
        self.entries = self.cfg.get("layers", [])
        self.by_name = {_entry_name(e): e for e in self.entries}
        self.op_names = {_entry_name(e) for e in self.entries
                         if classify(e["class_name"], e.get("module"), e.get("registered_name")) == "op"}
        self.conv = Converted()
        self.node_of = {}    # (layer name, call index) -> node id
        self.shape_of = {}   # (layer name, call index, output index) -> output shape (batch axis None)
        self.calls = {}      # layer name -> [(template, refs)]
        self.pending = []    # edges to make once every node exists: (source key, output index, node id, port)
        self.used_ops = set()
        self.custom_code = None
        self.out_triples = _triples(self.cfg.get("output_layers"))

    def read_calls(self):
        """Every layer's calls (template and input references), the shape of each output of each call, and
        which keras.ops steps the network uses (not only for the masks Keras computes by itself)."""
        for e in self.entries:
            lname = _entry_name(e)
            self.calls[lname] = []
            for ib in e.get("inbound_nodes", []):
                tpl, refs = _parse_call(ib, f"layer '{lname}'", self.op_names)
                self.calls[lname].append((tpl, refs))
                for src, idx, tix, shape in refs:
                    self.shape_of[(src, idx, tix)] = _batchless(shape)
        for (src, idx, tix), t in zip(self.out_triples, self.fmodel.outputs):
            self.shape_of.setdefault((src, idx, tix), _batchless(t.shape))
        wanted = [src for src, _, _ in self.out_triples if src in self.op_names]
        wanted += [src for name, calls in self.calls.items() if name not in self.op_names
                   for _, refs in calls for src, *_ in refs if src in self.op_names]
        while wanted:
            op = wanted.pop()
            if op not in self.used_ops:
                self.used_ops.add(op)
                wanted += [src for _, refs in self.calls.get(op, []) for src, *_ in refs if src in self.op_names]

    def add_node(self, type_name, params, name, settings=None, weights=None):
        graph = self.graph
        if not NAME_RE.match(name) or graph.by_name(name) is not None:
            name = graph.unique_name(name)
        n = graph.add_node(type_name, params, name=name, settings=settings)
        n.weights = weights
        self.conv.nodes.append(n.id)
        return n

    def add_inputs(self):
        """Input nodes first, in the model's input order (the build orders inputs by node order)."""
        for src, idx, _ in _triples(self.cfg.get("input_layers")):
            c = self.by_name[src]["config"]
            shape = list(c.get("batch_shape") or [None] + list(c.get("shape") or []))[1:]
            n = self.add_node("Input", {"shape": shape, "dtype": c.get("dtype", "float32")}, src)
            self.node_of[(src, 0)] = n.id
            self.conv.inputs.append(n.id)
            self.conv.known[n.id] = ((None,) + tuple(shape), 0, 0)

    def add_layer(self, e):
        """The node(s) of one layer entry: one per call (later calls share the first one's layer)."""
        lname, cls = _entry_name(e), e["class_name"]
        if cls == "InputLayer":
            if (lname, 0) not in self.node_of:
                raise ModelFileError(f"{self.where}: input layer '{lname}' is not among the model's inputs")
            return
        kind = classify(cls, e.get("module"), e.get("registered_name"))
        if kind == "op":
            if lname in self.used_ops:   # else it only computes masks that the rebuilt model computes by itself
                self.add_op(e)
            return
        if kind in ("unsafe", "custom") and not self.trust:
            raise ModelFileError(f"{self.where}: layer '{lname}' ({cls}) is not a built-in Keras layer; "
                                 f"import it only with trust")
        layer_cfg = dict(e.get("config") or {})
        trainable = layer_cfg.pop("trainable", True)
        layer_cfg.pop("name", None)
        layer = self.live.get(lname)
        weights = layer.get_weights() if layer is not None and layer.weights else None
        counts = (count_weights(layer.trainable_weights), count_weights(layer.non_trainable_weights)) if layer is not None else (0, 0)
        t, params, extra = self._node_type(e, kind, layer_cfg, trainable)
        self._add_calls(lname, cls, t, params, layer_cfg, trainable, extra, weights, counts)

    def _node_type(self, e, kind, layer_cfg, trainable):
        """(node type, params, extra settings) for a layer: a group node for a nested model, a catalog type when
        the config maps losslessly, else a KerasLayer node (marked as holding code when it does)."""
        cls = e["class_name"]
        extra = {}
        if kind == "model":
            params = {"class_name": "Sequential" if cls == "Sequential" else "Functional", "config": layer_cfg}
            self.conv.groups += 1
            if trainable is False and all_inner_frozen(layer_cfg):
                params["config"] = set_inner_trainable(layer_cfg, lambda i, c: True)
            return "KerasLayer", params, extra
        t, params = (None, None) if kind != "builtin" else catalog_params(cls, layer_cfg)
        if t is None and kind == "builtin" and cls == "Bidirectional":
            t, params = bidirectional_params(layer_cfg)
        if t is None:
            t, params = "KerasLayer", {"class_name": cls, "config": layer_cfg}
            if kind in ("unsafe", "custom"):
                params["module"] = e.get("module")
                params["registered_name"] = e.get("registered_name")
                extra[CODE] = True   # only says "holds code"; trust is the session's (core.trust)
                if self.custom_code and kind == "custom":
                    extra[CUSTOM_CODE] = str(self.custom_code)   # where its class is defined (loaded with trust)
            elif kind == "builtin" and e.get("module") not in (None, "keras.layers"):
                params["module"] = e.get("module")   # a layer Keras ships outside keras.layers
                params["registered_name"] = e.get("registered_name")
        return t, params, extra

    def add_op(self, e):
        """An op node for each call of a keras.ops step (``x + y``, ``ops.multiply(h, 0.5)``)."""
        from ..ops import function_name
        lname, cls = _entry_name(e), e["class_name"]
        fn = function_name(cls)
        if fn is None:
            raise ModelFileError(f"{self.where}: '{lname}' is a keras.ops operation ({cls}) that Layerwise cannot "
                                 f"hold as an op node (no keras.ops function of that name)")
        cfg = {k: v for k, v in (e.get("config") or {}).items() if k != "name"}
        for i, (tpl, refs) in enumerate(self.calls.get(lname) or []):
            params = {"op": fn, "args": tpl["args"], "kwargs": tpl["kwargs"]}
            if cfg:
                params["config"] = cfg
            n = self.add_node("Op", params, lname if i == 0 else f"{lname}_call{i + 1}")
            self.conv.ops += 1
            self._place(n, lname, i, refs, (0, 0))

    def _add_calls(self, lname, cls, t, params, layer_cfg, trainable, extra, weights, counts):
        owner = None
        for i, (tpl, refs) in enumerate(self.calls.get(lname) or [({"args": [], "kwargs": {}}, [])]):
            n_in = len(refs)
            tt, pp = t, params
            if tt != "KerasLayer":
                lo, hi = catalog.CATALOG[tt].inputs
                if n_in < lo or (hi is not None and n_in > hi):
                    tt, pp = "KerasLayer", {"class_name": cls, "config": layer_cfg}
            settings = dict(extra)
            if trainable is False:
                settings[TRAINABLE] = False
            if tpl != default_call(tt, n_in):
                settings[CALL] = tpl
            if owner is not None:
                settings[SHARES] = owner
            elif weights:
                settings[PRETRAINED] = True  # training starts from these weights (core.training keeps them)
            if self.settings_for:
                settings.update(self.settings_for(lname) or {})
            name = lname if i == 0 else f"{lname}_call{i + 1}"
            n = self.add_node(tt, pp, name, settings, weights if i == 0 else None)
            owner = owner or n.id
            layer = self.live.get(lname)
            count = (call_outputs(layer, i) if layer is not None else None) or 1
            if count > 1 and output_count(n) != count:
                n.settings[OUTPUTS] = count   # one output port per tensor the layer returns
            self._place(n, lname, i, refs, counts if i == 0 else (0, 0))

    def _place(self, n, lname, i, refs, counts):
        """Record a call's node: its output shapes (one per output port) and the edges into it (made later)."""
        self.node_of[(lname, i)] = n.id
        shapes = [self.shape_of.get((lname, i, t)) for t in range(max(output_count(n), 1))]
        self.conv.known[n.id] = (shapes if len(shapes) > 1 else shapes[0], *counts)
        for j, (src, idx, tix, _shape) in enumerate(refs):
            self.pending.append(((src, idx), tix, n.id, j))

    def connect_all(self):
        for key, tix, dst, j in self.pending:
            if key not in self.node_of:
                raise ModelFileError(f"{self.where}: layer '{self.graph.nodes[dst].name}' uses '{key[0]}', which "
                                     f"is not part of the model")
            self.graph.connect(self.node_of[key], dst, j, tix)

    def collect_outputs(self):
        for src, idx, tix in self.out_triples:
            self.conv.outputs.append(self.node_of[(src, idx)])
            self.conv.output_ports.append(int(tix))
        self.conv.known = {k: v for k, v in self.conv.known.items()
                           if v[0] is not None and not (isinstance(v[0], list) and None in v[0])}


def _config_layers(cfg):
    return [e for e in cfg.get("layers", []) if e.get("class_name") != "InputLayer"]


def all_inner_frozen(cfg):
    inner = _config_layers(cfg)
    return bool(inner) and all((e.get("config") or {}).get("trainable", True) is False for e in inner)


def set_inner_trainable(cfg, rule):
    """A copy of a nested model's config with each inner layer's trainable flag set by rule(index, entry)."""
    cfg = copy.deepcopy(cfg)
    i = 0
    for e in cfg.get("layers", []):
        if e.get("class_name") == "InputLayer":
            continue
        e.setdefault("config", {})["trainable"] = bool(rule(i, e))
        i += 1
    return cfg
