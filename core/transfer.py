"""Import a Keras model file (``.h5`` or ``.keras``) as an editable graph, with its weights.

    imported = import_model("resnet50.h5")          # -> Imported(project, known, warnings, stats, seconds)
    save_project(imported.project, "resnet50.layerwise")

How a model becomes a graph:

* every layer *call* becomes a node; a layer called twice (a shared layer) becomes one node per call, the
  later ones with ``settings["shares"] = <id of the first>`` so the build reuses one Keras layer (one set of
  weights);
* a layer whose Keras class has a catalog entry becomes that catalog type when its config maps losslessly
  (the node's params then hold the *whole* Keras config, initializers and regularizers included, so the build
  reproduces it); every other built-in layer becomes a ``KerasLayer`` node with ``{"class_name", "config"}``;
* a nested model (a ``Functional`` or ``Sequential`` used as a layer, e.g. a pretrained base) becomes one
  *group node*: a ``KerasLayer`` with class_name ``Functional``/``Sequential`` and the nested model's config,
  which ``core.groups`` can expand into its layers and collapse again;
* a layer called in a way the default calling convention does not reproduce (``training=False``,
  ``use_causal_mask=True``, keyword tensors) keeps its call in ``settings["call"]`` (port markers for the
  tensors), so the rebuilt model calls it the same way;
* an ``Output`` node per model output, with the loss of the compiled model when the file has one, else a
  default from the output's activation.

Safety: the file's architecture is read first, without running anything. A ``Lambda`` layer (Python code in
the file) or a class that is not a built-in Keras layer is refused, naming the layer and its class, unless the
caller trusts the file (``trust=True``); the model is then loaded with ``keras.models.load_model(path,
compile=False, safe_mode=not trust)``. Every bad file is a ``ModelFileError`` with a one-line message.
Trust is the session's: the imported project's graph is trusted in memory (``core.trust``), and the saved
project only marks its code nodes (``settings["code"]``); opening it again needs trust again.
"""
from __future__ import annotations

import copy
import json
import os
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog
from .errors import ModelFileError
from .graph import NAME_RE, Node
from .layers import MERGES, MODEL_CLASSES, PORT, UNSAFE_CLASSES
from .node_settings import CALL, CODE, PRETRAINED, SHARES, TRAINABLE

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ATTENTION = ("MultiHeadAttention", "Attention", "AdditiveAttention")
# Keras classes that have a catalog entry (Bidirectional's catalog params are not its Keras config)
CLASS_TO_TYPE = {s.keras_class: t for t, s in catalog.CATALOG.items() if s.keras_class and t != "Bidirectional"}


@dataclass
class Imported:
    project: object                              # core.project.Project
    known: dict = field(default_factory=dict)    # node id -> (shape, trainable, non_trainable): Inference.prime
    warnings: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def prime(self, inference):
        """Give ``inference`` (a core.infer.Inference) the shapes the loaded model already knew."""
        inference.prime(self.project.graph, self.known)
        return inference


@dataclass
class Converted:
    inputs: list = field(default_factory=list)   # Input node ids, in model input order
    outputs: list = field(default_factory=list)  # node id that produces each model output
    nodes: list = field(default_factory=list)    # every node id added (Input nodes included)
    known: dict = field(default_factory=dict)
    groups: int = 0


# -- reading the file --------------------------------------------------------------------------------------------
@dataclass
class ModelFile:
    path: Path
    format: str           # "h5" | "keras"
    config: dict          # the architecture as stored in the file (not yet deserialized)
    compile: dict | None  # training config: loss, metrics, optimizer (None when the model was not compiled)


def inspect_model_file(path) -> ModelFile:
    """Read the architecture stored in a model file, without building anything. ModelFileError on bad files."""
    p = Path(os.path.expanduser(str(path)))
    name = p.name
    if not p.exists():
        raise ModelFileError(f"{p}: no such file")
    if p.is_dir():
        if (p / "saved_model.pb").exists():
            raise ModelFileError(f"{name}: a TensorFlow SavedModel folder cannot be imported; "
                                 f"save the model as .keras or .h5 (model.save('model.keras'))")
        raise ModelFileError(f"{p}: is a folder, not a model file (.h5 or .keras)")
    try:
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise ModelFileError(f"{p}: cannot be read ({e.strerror or e})") from None
    if not head:
        raise ModelFileError(f"{name}: the file is empty")
    if head == HDF5_SIGNATURE:
        return _inspect_h5(p)
    if zipfile.is_zipfile(p):
        return _inspect_zip(p)
    if head[:2] == b"PK":
        raise ModelFileError(f"{name}: not a readable .keras file (the zip archive is corrupt or truncated)")
    raise ModelFileError(f"{name}: not a Keras model file (neither HDF5 .h5 nor a .keras zip; "
                         f"the file may be corrupt or truncated)")


def _inspect_h5(p):
    import h5py
    try:
        f = h5py.File(p, "r")
    except OSError as e:
        why = str(e).split("(", 1)[-1].rstrip(")") if "(" in str(e) else str(e)
        raise ModelFileError(f"{p.name}: not a readable HDF5 file (corrupt or truncated: {why.strip()})") from None
    with f:
        raw = f.attrs.get("model_config")
        if raw is None:
            if "layer_names" in f.attrs or ("layers" in f and "vars" in f) or "model_weights" in f:
                raise ModelFileError(
                    f"{p.name}: holds only weights, no model architecture; import needs a whole model saved with "
                    f"model.save(...). Use a weights file as the weights of a pretrained base instead")
            raise ModelFileError(f"{p.name}: an HDF5 file, but not a Keras model (it has no model_config)")
        training = f.attrs.get("training_config")
        if "model_weights" not in f:
            raise ModelFileError(f"{p.name}: the file has a model architecture but no weights (model_weights missing)")
    config = _json_attr(raw, p.name, "model_config")
    comp = _json_attr(training, p.name, "training_config") if training is not None else None
    return ModelFile(p, "h5", config, comp)


def _json_attr(raw, name, what):
    if hasattr(raw, "decode"):
        raw = raw.decode("utf-8", "replace")
    try:
        d = json.loads(raw)
    except (TypeError, ValueError):
        raise ModelFileError(f"{name}: the {what} stored in the file is not valid JSON (corrupt file)") from None
    if not isinstance(d, dict):
        raise ModelFileError(f"{name}: the {what} stored in the file is not a Keras model description")
    return d


def _inspect_zip(p):
    try:
        with zipfile.ZipFile(p) as z:
            names = set(z.namelist())
            if "config.json" not in names:
                raise ModelFileError(f"{p.name}: a zip file, but not a Keras model (.keras files hold config.json)")
            raw = z.read("config.json")
            if not any(n.startswith("model.weights") for n in names):
                raise ModelFileError(f"{p.name}: the .keras file has no weights (model.weights.h5 missing)")
    except zipfile.BadZipFile as e:
        raise ModelFileError(f"{p.name}: not a readable .keras file (corrupt zip: {e})") from None
    config = _json_attr(raw, p.name, "config.json")
    return ModelFile(p, "keras", config, config.get("compile_config") or None)


# -- safety: which classes does the file use? ---------------------------------------------------------------------
def scan_layers(config):
    """Every layer entry of a stored architecture, nested models and wrapped layers included:
    a list of (path, class_name, module, registered_name)."""
    out = []

    def layer(entry, prefix):
        if not isinstance(entry, dict):
            return
        cfg = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        name = entry.get("name") or cfg.get("name") or "?"
        path = f"{prefix}{name}"
        out.append((path, str(entry.get("class_name")), entry.get("module"), entry.get("registered_name")))
        if isinstance(cfg.get("layers"), list):
            for e in cfg["layers"]:
                layer(e, path + "/")
        for key in ("layer", "forward_layer", "backward_layer", "cell"):
            if isinstance(cfg.get(key), dict) and "class_name" in cfg[key]:
                layer(cfg[key], path + "/")
        if isinstance(cfg.get("cells"), list):
            for e in cfg["cells"]:
                layer(e, path + "/")

    top = config.get("config") if isinstance(config.get("config"), dict) else {}
    for e in top.get("layers", []) if isinstance(top.get("layers"), list) else []:
        layer(e, "")
    return out


def classify(class_name, module=None, registered_name=None):
    """'builtin' | 'model' | 'unsafe' | 'op' | 'custom' for one stored layer entry."""
    if class_name in MODEL_CLASSES:
        return "model"
    if class_name in UNSAFE_CLASSES:
        return "unsafe"
    if module and (module.startswith("keras.src.ops") or module.startswith("keras.ops")):
        return "op"
    if not module and _is_op_class(class_name):  # legacy .h5 configs name no module
        return "op"
    if module and not (module == "keras" or module.startswith("keras.")):
        return "custom"
    if registered_name and registered_name != class_name:
        return "custom"
    import keras
    cls = getattr(keras.layers, class_name, None)
    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        return "builtin"
    return "custom"


def _is_op_class(name):
    import importlib
    from keras.src.ops.operation import Operation
    import keras
    if isinstance(getattr(keras.layers, name, None), type):
        return False
    for mod in ("numpy", "nn", "math", "core", "image", "linalg"):
        try:
            cls = getattr(importlib.import_module(f"keras.src.ops.{mod}"), name, None)
        except ImportError:
            continue
        if isinstance(cls, type) and issubclass(cls, Operation):
            return True
    return False


def op_message(where, name, cls):
    return (f"{where}: '{name}' is a keras.ops operation ({cls}) used as a step of the network, not a layer; "
            f"Layerwise graphs hold layers only (wrap it in a layer and save the model again)")


def check_safety(mf: ModelFile, trust=False):
    """Refuse Lambda layers and custom classes unless trusted. (Built-in keras.ops operations are safe to load;
    the conversion refuses those that are more than the masks Keras computes by itself.)"""
    for path, cls, module, reg in scan_layers(mf.config):
        kind = classify(cls, module, reg)
        if trust or kind == "op":
            continue
        if kind == "unsafe":
            raise ModelFileError(f"{mf.path.name}: layer '{path}' is a {cls} layer, which runs Python code stored "
                                 f"in the file; not imported. If you trust the file, import it with --trust")
        if kind == "custom":
            what = reg or (f"{module}.{cls}" if module else cls)
            raise ModelFileError(f"{mf.path.name}: layer '{path}' has the custom class '{what}', which is not a "
                                 f"built-in Keras layer; not imported. If you trust the file and its code is "
                                 f"importable, import it with --trust")


def load_keras_model(path, trust=False, mf: ModelFile | None = None):
    """The checked file loaded with Keras (compile=False, safe mode unless trusted)."""
    mf = mf or inspect_model_file(path)
    check_safety(mf, trust)
    from .tfload import import_keras
    keras = import_keras()
    want = ".h5" if mf.format == "h5" else ".keras"
    src, tmpdir = mf.path, None
    if mf.path.suffix.lower() not in ((".h5", ".hdf5") if mf.format == "h5" else (".keras",)):
        tmpdir = tempfile.mkdtemp(prefix="layerwise-import-")  # Keras picks the format by the extension
        src = Path(tmpdir) / ("model" + want)
        try:
            os.symlink(mf.path.resolve(), src)
        except OSError:
            import shutil
            shutil.copyfile(mf.path, src)
    try:
        model = keras.models.load_model(str(src), compile=False, safe_mode=not trust)
    except Exception as e:  # Keras' own reason, in one line
        from .layers import plain_error
        raise ModelFileError(f"{mf.path.name}: Keras cannot load this model: {plain_error(e)}") from None
    finally:
        if tmpdir:
            import shutil
            shutil.rmtree(tmpdir, ignore_errors=True)
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"{mf.path.name}: holds a {type(model).__name__}, not a Keras model")
    return model


# -- model -> graph -----------------------------------------------------------------------------------------------
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
    ok = all(p.value_error(params[p.name]) is None for p in spec.params if p.name in params)
    if ok:
        from .layers import make_layer
        try:
            layer = make_layer(Node("probe", t, "probe", params))
            got = jsonable(layer.get_config())
            got.pop("name", None)
            got.pop("trainable", None)
            ok = got == cfg
        except Exception:
            ok = False
    result = (t, params) if ok else (None, None)
    if len(_LOSSLESS) > 4096:
        _LOSSLESS.clear()
    _LOSSLESS[key] = result
    return result[0], copy.deepcopy(result[1])


def _several_outputs(layer, index):
    """True when the layer's call ``index`` returned more than one tensor."""
    try:
        return len(layer._inbound_nodes[index].outputs) > 1
    except (AttributeError, IndexError):
        return False


def _count(weights):
    total = 0
    for w in weights:
        c = 1
        for d in w.shape:
            c *= int(d)
        total += c
    return total


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


def convert_model(model, graph, *, trust=False, where="model", settings_for=None) -> Converted:
    """Add the nodes and edges of ``model`` to ``graph``: its Input nodes, one node per layer call.
    Weights go into the nodes. No Output nodes (the caller adds them, or splices the outputs)."""
    import keras
    fmodel = functional_view(model)
    cfg = jsonable(fmodel.get_config())
    live = {layer.name: layer for layer in fmodel.layers}
    entries = cfg.get("layers", [])
    by_name = {e.get("name") or e["config"].get("name"): e for e in entries}
    conv = Converted()
    node_of = {}    # (layer name, call index) -> node id
    shape_of = {}   # (layer name, call index) -> output shape (batch axis None)
    calls = {}      # layer name -> [(template, refs)]
    op_names = {e.get("name") or e["config"].get("name") for e in entries
                if classify(e["class_name"], e.get("module"), e.get("registered_name")) == "op"}
    for e in entries:
        lname = e.get("name") or e["config"].get("name")
        calls[lname] = []
        for ib in e.get("inbound_nodes", []):
            tpl, refs = _parse_call(ib, f"layer '{lname}'", op_names)
            if lname not in op_names:
                for src, *_ in refs:
                    if src in op_names:
                        raise ModelFileError(op_message(where, src, by_name[src]["class_name"]))
            calls[lname].append((tpl, refs))
            for src, idx, tix, shape in refs:
                if tix != 0 or (src in live and _several_outputs(live[src], idx)):
                    cls = by_name.get(src, {}).get("class_name", "?")
                    raise ModelFileError(f"{where}: layer '{src}' ({cls}) returns several tensors; a Layerwise node "
                                         f"has one output")
                shape_of[(src, idx)] = _batchless(shape)
    out_triples = _triples(cfg.get("output_layers"))
    for (src, idx, tix), t in zip(out_triples, fmodel.outputs):
        if tix != 0 or (src in live and _several_outputs(live[src], idx)):
            raise ModelFileError(f"{where}: layer '{src}' returns several tensors; a Layerwise node has one output")
        shape_of.setdefault((src, idx), _batchless(t.shape))

    def add(type_name, params, name, settings=None, weights=None):
        if not NAME_RE.match(name) or graph.by_name(name) is not None:
            name = graph.unique_name(name)
        n = graph.add_node(type_name, params, name=name, settings=settings)
        n.weights = weights
        conv.nodes.append(n.id)
        return n

    # Input nodes first, in the model's input order (the build orders inputs by node order)
    for src, idx, _ in _triples(cfg.get("input_layers")):
        e = by_name[src]
        c = e["config"]
        shape = list(c.get("batch_shape") or [None] + list(c.get("shape") or []))[1:]
        n = add("Input", {"shape": shape, "dtype": c.get("dtype", "float32")}, src)
        node_of[(src, 0)] = n.id
        conv.inputs.append(n.id)
        conv.known[n.id] = ((None,) + tuple(shape), 0, 0)
    for e in entries:
        lname = e.get("name") or e["config"].get("name")
        cls = e["class_name"]
        if cls == "InputLayer":
            if (lname, 0) not in node_of:
                raise ModelFileError(f"{where}: input layer '{lname}' is not among the model's inputs")
            continue
        kind = classify(cls, e.get("module"), e.get("registered_name"))
        if kind == "op":
            continue  # only computes masks that the rebuilt model computes again by itself
        if kind in ("unsafe", "custom") and not trust:
            raise ModelFileError(f"{where}: layer '{lname}' ({cls}) is not a built-in Keras layer; "
                                 f"import it only with trust")
        layer_cfg = dict(e.get("config") or {})
        trainable = layer_cfg.pop("trainable", True)
        layer_cfg.pop("name", None)
        layer = live.get(lname)
        weights = None
        if layer is not None and layer.weights:
            weights = layer.get_weights()
        counts = (_count(layer.trainable_weights), _count(layer.non_trainable_weights)) if layer is not None else (0, 0)
        extra_settings = {}
        if kind == "model":
            t, params = "KerasLayer", {"class_name": "Sequential" if cls == "Sequential" else "Functional",
                                       "config": layer_cfg}
            conv.groups += 1
            if trainable is False and _all_inner_frozen(layer_cfg):
                params["config"] = _set_inner_trainable(layer_cfg, lambda i, c: True)
        else:
            t, params = (None, None) if kind != "builtin" else catalog_params(cls, layer_cfg)
            if t is None:
                t, params = "KerasLayer", {"class_name": cls, "config": layer_cfg}
                if kind in ("unsafe", "custom"):
                    params["module"] = e.get("module")
                    params["registered_name"] = e.get("registered_name")
                    extra_settings[CODE] = True   # only says "holds code"; trust is the session's (core.trust)
        owner = None
        for i, (tpl, refs) in enumerate(calls.get(lname) or [({"args": [], "kwargs": {}}, [])]):
            n_in = len(refs)
            tt, pp = t, params
            if tt != "KerasLayer":
                lo, hi = catalog.CATALOG[tt].inputs
                if n_in < lo or (hi is not None and n_in > hi):
                    tt, pp = "KerasLayer", {"class_name": cls, "config": layer_cfg}
            settings = dict(extra_settings)
            if trainable is False:
                settings[TRAINABLE] = False
            if tpl != default_call(tt, n_in):
                settings[CALL] = tpl
            if owner is not None:
                settings[SHARES] = owner
            elif weights:
                settings[PRETRAINED] = True  # training starts from these weights (core.training keeps them)
            if settings_for:
                settings.update(settings_for(lname) or {})
            name = lname if i == 0 else f"{lname}_call{i + 1}"
            n = add(tt, pp, name, settings, weights if i == 0 else None)
            owner = owner or n.id
            node_of[(lname, i)] = n.id
            conv.known[n.id] = (shape_of.get((lname, i)), *(counts if i == 0 else (0, 0)))
            for j, (src, idx, _tix, _shape) in enumerate(refs):
                if (src, idx) not in node_of:
                    raise ModelFileError(f"{where}: layer '{lname}' uses '{src}' before it is defined")
                graph.connect(node_of[(src, idx)], n.id, j)
    for src, idx, _ in out_triples:
        if src in op_names:
            raise ModelFileError(op_message(where, src, by_name[src]["class_name"]))
        conv.outputs.append(node_of[(src, idx)])
    conv.known = {k: v for k, v in conv.known.items() if v[0] is not None}
    del keras
    return conv


def _config_layers(cfg):
    return [e for e in cfg.get("layers", []) if e.get("class_name") != "InputLayer"]


def _all_inner_frozen(cfg):
    inner = _config_layers(cfg)
    return bool(inner) and all((e.get("config") or {}).get("trainable", True) is False for e in inner)


def _set_inner_trainable(cfg, rule):
    """A copy of a nested model's config with each inner layer's trainable flag set by rule(index, entry)."""
    cfg = copy.deepcopy(cfg)
    i = 0
    for e in cfg.get("layers", []):
        if e.get("class_name") == "InputLayer":
            continue
        e.setdefault("config", {})["trainable"] = bool(rule(i, e))
        i += 1
    return cfg


# -- compile settings -------------------------------------------------------------------------------------------
def _loss_name(obj):
    from .build import LOSS_ALIASES, LOSS_CLASSES
    if isinstance(obj, dict):
        cls = obj.get("class_name")
        if cls == "function" or cls is None:
            return _loss_name(obj.get("config"))
        inverse = {v: k for k, v in LOSS_CLASSES.items()}
        return inverse.get(cls) or _loss_name(re.sub(r"(?<!^)(?=[A-Z])", "_", str(cls)).lower())
    if isinstance(obj, str):
        name = LOSS_ALIASES.get(obj, obj)
        return name if name in catalog.LOSSES else None
    return None


def _losses_for(comp, output_names):
    """One loss name (or None) per model output, from the stored training config."""
    loss = (comp or {}).get("loss")
    if isinstance(loss, list):
        return [_loss_name(x) for x in loss] + [None] * (len(output_names) - len(loss))
    if isinstance(loss, dict) and "class_name" not in loss:
        return [_loss_name(loss.get(n)) for n in output_names]
    return [_loss_name(loss)] * len(output_names)


def _optimizer_from(comp):
    if not comp:
        return None
    opt = comp.get("optimizer_config") or comp.get("optimizer")
    if isinstance(opt, str):
        name, cfg = opt, {}
    elif isinstance(opt, dict):
        name, cfg = str(opt.get("class_name", "")), opt.get("config") or {}
    else:
        return None
    name = name.split(">")[-1].lower()
    if name not in catalog.OPTIMIZERS:
        return None
    out = {"name": name}
    lr = cfg.get("learning_rate")
    if isinstance(lr, dict):
        lr = (lr.get("config") or {}).get("initial_learning_rate")
    if isinstance(lr, (int, float)) and lr > 0:
        out["learning_rate"] = float(f"{lr:.6g}")
    else:
        out["learning_rate"] = catalog.OPTIMIZERS[name][1][0].default
    return out


def _activation_of(node):
    if node.type == "Softmax":
        return "softmax"
    p = node.params if node.type != "KerasLayer" else node.params.get("config", {})
    act = p.get("activation")
    return act if isinstance(act, str) else None


def default_output(node, shape):
    """A sensible loss and metrics for an output whose last layer is ``node``."""
    act = _activation_of(node)
    if act == "softmax":
        return {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    if act == "sigmoid":
        return {"loss": "binary_crossentropy", "metrics": ["accuracy"]}
    return {"loss": "mean_squared_error", "metrics": ["mae"]}


# -- import --------------------------------------------------------------------------------------------------------
def import_model(path, *, trust=False, layout=True, name=None) -> Imported:
    """Import a Keras model file as a new project (not saved). Raises ModelFileError."""
    from .project import Project
    t0 = time.perf_counter()
    mf = inspect_model_file(path)
    model = load_keras_model(path, trust, mf)
    t1 = time.perf_counter()
    project = Project(name=name or _project_name(model.name, mf.path))
    project.description = f"Imported from {mf.path.name} ({type(model).__name__} '{model.name}')."
    graph = project.graph
    conv = convert_model(model, graph, trust=trust, where=mf.path.name)
    if trust:   # the person who asked to trust the file: this session's project runs its code (never saved)
        from .trust import set_trusted
        set_trusted(graph)
    output_names = [graph.nodes[k].name for k in conv.outputs]
    losses = _losses_for(mf.compile, output_names)
    metrics = (mf.compile or {}).get("metrics")
    warnings = []
    for i, k in enumerate(conv.outputs):
        src = graph.nodes[k]
        guess = default_output(src, conv.known.get(k, (None,))[0])
        params = dict(guess)
        if losses[i]:
            params["loss"] = losses[i]
            want_acc = "accuracy" in json.dumps(metrics or []).lower() or "acc" in json.dumps(metrics or [])
            params["metrics"] = ["accuracy"] if want_acc and params["loss"].endswith("crossentropy") else []
        elif mf.compile:
            warnings.append(f"output '{src.name}': the file's loss is not one Layerwise offers; using {guess['loss']}")
        oname = "output" if len(conv.outputs) == 1 else f"{src.name}_out"
        out = graph.add_node("Output", params, name=graph.unique_name(oname))
        graph.connect(k, out.id)
    opt = _optimizer_from(mf.compile)
    if opt:
        project.compile["optimizer"] = opt
    t2 = time.perf_counter()
    if layout:
        from .layout import layered_positions, set_positions_quietly
        set_positions_quietly(graph, layered_positions(graph))
    t3 = time.perf_counter()
    types = {}
    for n in graph.nodes.values():
        key = n.type if n.type != "KerasLayer" else ("group" if n.params.get("class_name") in MODEL_CLASSES
                                                      else "KerasLayer")
        types[key] = types.get(key, 0) + 1
    stats = {"layers": len(graph.nodes) - types.get("Input", 0) - types.get("Output", 0),
             "nodes": len(graph.nodes), "catalog": sum(v for k, v in types.items()
                                                       if k not in ("KerasLayer", "group", "Input", "Output")),
             "keras_layer": types.get("KerasLayer", 0), "groups": types.get("group", 0),
             "inputs": types.get("Input", 0), "outputs": types.get("Output", 0),
             "params": int(model.count_params()), "shared": sum(1 for n in graph.nodes.values() if SHARES in n.settings),
             "trainable": sum(c[1] for c in conv.known.values()),
             "non_trainable": sum(c[2] for c in conv.known.values())}
    return Imported(project, conv.known, warnings, stats,
                    {"load": t1 - t0, "convert": t2 - t1, "layout": t3 - t2, "total": t3 - t0})


def _project_name(model_name, path):
    s = re.sub(r"[^A-Za-z0-9_.\-]", "_", model_name or "") or path.stem
    return s


def import_to_file(path, out, *, trust=False) -> Imported:
    """Import ``path`` and save it as the project ``out`` (with its weights sidecar)."""
    from .project import save_project
    imported = import_model(path, trust=trust)
    out = Path(out)
    if out.suffix == "":
        out = out.with_suffix(".layerwise")
    save_project(imported.project, out)
    return imported
