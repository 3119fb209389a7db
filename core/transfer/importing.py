"""``import_model``: a model file as a new project (its graph, Output nodes with the file's losses, its
optimizer, laid out), and the compile-settings helpers it uses."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import catalog
from ..node_settings import SHARES
from ..trust import MODEL_CLASSES
from .convert import convert_model
from .files import inspect_model_file, load_keras_model


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


# -- compile settings -------------------------------------------------------------------------------------------
def _loss_name(obj):
    from ..build import LOSS_ALIASES, LOSS_CLASSES
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
    from ..project import Project
    t0 = time.perf_counter()
    mf = inspect_model_file(path)
    model = load_keras_model(path, trust, mf)
    t1 = time.perf_counter()
    project = Project(name=name or _project_name(model.name, mf.path))
    project.description = f"Imported from {mf.path.name} ({type(model).__name__} '{model.name}')."
    graph = project.graph
    conv = convert_model(model, graph, trust=trust, where=mf.path.name)
    if trust:   # the person who asked to trust the file: this session's project runs its code (never saved)
        from ..trust import set_trusted
        set_trusted(graph)
    warnings = _add_outputs(graph, conv, mf.compile)
    opt = _optimizer_from(mf.compile)
    if opt:
        project.compile["optimizer"] = opt
    t2 = time.perf_counter()
    if layout:
        from ..layout import layered_positions, set_positions_quietly
        set_positions_quietly(graph, layered_positions(graph))
    t3 = time.perf_counter()
    return Imported(project, conv.known, warnings, _stats(graph, conv, model),
                    {"load": t1 - t0, "convert": t2 - t1, "layout": t3 - t2, "total": t3 - t0})


def _add_outputs(graph, conv, comp):
    """An Output node per model output, with the file's loss (``comp``: its training config) where Layerwise
    offers it, else a default from the last layer's activation. Returns the warnings."""
    output_names = [graph.nodes[k].name for k in conv.outputs]
    losses = _losses_for(comp, output_names)
    metrics = (comp or {}).get("metrics")
    warnings = []
    for i, k in enumerate(conv.outputs):
        src = graph.nodes[k]
        guess = default_output(src, conv.known.get(k, (None,))[0])
        params = dict(guess)
        if losses[i]:
            params["loss"] = losses[i]
            want_acc = "accuracy" in json.dumps(metrics or []).lower() or "acc" in json.dumps(metrics or [])
            params["metrics"] = ["accuracy"] if want_acc and params["loss"].endswith("crossentropy") else []
        elif comp:
            warnings.append(f"output '{src.name}': the file's loss is not one Layerwise offers; using {guess['loss']}")
        oname = "output" if len(conv.outputs) == 1 else f"{src.name}_out"
        out = graph.add_node("Output", params, name=graph.unique_name(oname))
        graph.connect(k, out.id)
    return warnings


def _stats(graph, conv, model):
    """What the import made: node counts by kind, parameters, shared layers."""
    types = {}
    for n in graph.nodes.values():
        key = n.type if n.type != "KerasLayer" else ("group" if n.params.get("class_name") in MODEL_CLASSES
                                                      else "KerasLayer")
        types[key] = types.get(key, 0) + 1
    return {"layers": len(graph.nodes) - types.get("Input", 0) - types.get("Output", 0),
            "nodes": len(graph.nodes), "catalog": sum(v for k, v in types.items()
                                                      if k not in ("KerasLayer", "group", "Input", "Output")),
            "keras_layer": types.get("KerasLayer", 0), "groups": types.get("group", 0),
            "inputs": types.get("Input", 0), "outputs": types.get("Output", 0),
            "params": int(model.count_params()), "shared": sum(1 for n in graph.nodes.values() if SHARES in n.settings),
            "trainable": sum(c[1] for c in conv.known.values()),
            "non_trainable": sum(c[2] for c in conv.known.values())}


def _project_name(model_name, path):
    s = re.sub(r"[^A-Za-z0-9_.\-]", "_", model_name or "") or path.stem
    return s


def import_to_file(path, out, *, trust=False) -> Imported:
    """Import ``path`` and save it as the project ``out`` (with its weights sidecar)."""
    from ..project import save_project
    imported = import_model(path, trust=trust)
    out = Path(out)
    if out.suffix == "":
        out = out.with_suffix(".layerwise")
    save_project(imported.project, out)
    return imported
