"""``import_model``: a model file as a new project (its graph in network order, Output nodes with the file's
losses, loss weights and metrics, its optimizer, laid out)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..node_settings import CODE, SHARES
from ..trust import MODEL_CLASSES
from .compile_config import describe, read_training
from .convert import convert_model
from .files import inspect_model_file, load_keras_model


@dataclass
class Imported:
    project: object                              # core.project.Project
    known: dict = field(default_factory=dict)    # node id -> (shape, trainable, non_trainable): Inference.prime
    warnings: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    training: str = ""                           # the training settings imported, in one line

    def prime(self, inference):
        """Give ``inference`` (a core.infer.Inference) the shapes the loaded model already knew."""
        inference.prime(self.project.graph, self.known)
        return inference


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
def import_model(path, *, trust=False, layout=True, name=None, custom_code=None) -> Imported:
    """Import a Keras model file as a new project (not saved). Raises ModelFileError (CustomCodeError for custom
    code that cannot be loaded). ``custom_code``: the Python module or file defining the model's custom classes,
    loaded first (only with ``trust``) and recorded on the nodes that need it."""
    from ..project import Project
    t0 = time.perf_counter()
    mf = inspect_model_file(path)
    if custom_code:
        from ..custom_code import load, resolve
        load(custom_code, trusted=trust)
        custom_code = resolve(custom_code)
    model = load_keras_model(path, trust, mf)
    t1 = time.perf_counter()
    project = Project(name=name or _project_name(model.name, mf.path))
    project.description = f"Imported from {mf.path.name} ({type(model).__name__} '{model.name}')."
    graph = project.graph
    conv = convert_model(model, graph, trust=trust, where=mf.path.name, custom_code=custom_code)
    if trust:   # the person who asked to trust the file: this session's project runs its code (never saved)
        from ..trust import set_trusted
        set_trusted(graph)
    training = read_training(mf.compile, [graph.nodes[k].name for k in conv.outputs])
    _add_outputs(graph, conv, training)
    if training.optimizer:
        project.compile["optimizer"] = training.optimizer
    network_order(graph, conv)
    t2 = time.perf_counter()
    if layout:
        from ..layout import layered_positions, set_positions_quietly
        set_positions_quietly(graph, layered_positions(graph))
    t3 = time.perf_counter()
    imported = Imported(project, conv.known, training.warnings, _stats(graph, conv, model),
                        {"load": t1 - t0, "convert": t2 - t1, "layout": t3 - t2, "total": t3 - t0})
    imported.training = describe(training, [graph.nodes[k].name for k in conv.outputs])
    return imported


def network_order(graph, conv):
    """Nodes in the order data flows through the network: the Input nodes in the model's input order, then every
    layer after the layers that feed it (in the file's order where it leaves a choice), the Output nodes last in
    the model's output order (the build orders a model's inputs and outputs by node order)."""
    first = {k: i for i, k in enumerate(graph.nodes)}
    indeg = {k: 0 for k in graph.nodes}
    out = {k: [] for k in graph.nodes}
    for e in graph.edges:
        indeg[e.dst] += 1
        out[e.src].append(e.dst)
    import heapq
    ready = [(first[k], k) for k in conv.inputs]
    ready += [(first[k], k) for k in graph.nodes if indeg[k] == 0 and k not in conv.inputs
              and graph.nodes[k].type != "Input"]
    heapq.heapify(ready)
    order = []
    while ready:
        _, k = heapq.heappop(ready)
        order.append(k)
        for d in out[k]:
            indeg[d] -= 1
            if indeg[d] == 0:
                heapq.heappush(ready, (first[d], d))
    inputs = [k for k in conv.inputs if k in order]
    outputs = [k for k in order if graph.nodes[k].type == "Output"]
    rest = [k for k in order if k not in set(inputs) | set(outputs)]
    rest += [k for k in graph.nodes if k not in set(order)]   # (a cycle: never from a Keras model)
    graph.nodes = {k: graph.nodes[k] for k in inputs + rest + outputs}


def _add_outputs(graph, conv, training):
    """An Output node per model output, with the file's loss, its arguments, weight and metrics where Layerwise
    offers them, else a default from the last layer's activation."""
    for i, k in enumerate(conv.outputs):
        src = graph.nodes[k]
        t = training.outputs[i]
        params = dict(default_output(src, conv.known.get(k, (None,))[0]))
        if t.loss:
            params["loss"] = t.loss
            params.update(t.args)
            params["metrics"] = t.metrics if t.metrics is not None else []
        elif t.metrics is not None:
            params["metrics"] = t.metrics
        params["loss_weight"] = t.weight
        oname = "output" if len(conv.outputs) == 1 else f"{src.name}_out"
        out = graph.add_node("Output", params, name=graph.unique_name(oname))
        graph.connect(k, out.id, 0, conv.output_ports[i])


def _stats(graph, conv, model):
    """What the import made: node counts by kind, parameters, shared layers."""
    types = {}
    for n in graph.nodes.values():
        key = n.type if n.type != "KerasLayer" else ("group" if n.params.get("class_name") in MODEL_CLASSES
                                                      else "KerasLayer")
        types[key] = types.get(key, 0) + 1
    return {"layers": len(graph.nodes) - types.get("Input", 0) - types.get("Output", 0) - types.get("Op", 0),
            "nodes": len(graph.nodes), "catalog": sum(v for k, v in types.items()
                                                      if k not in ("KerasLayer", "group", "Input", "Output", "Op")),
            "keras_layer": types.get("KerasLayer", 0), "groups": types.get("group", 0), "ops": types.get("Op", 0),
            "inputs": types.get("Input", 0), "outputs": types.get("Output", 0),
            "params": int(model.count_params()), "shared": sum(1 for n in graph.nodes.values() if SHARES in n.settings),
            "custom": sum(1 for n in graph.nodes.values() if n.settings.get(CODE)),
            "trainable": sum(c[1] for c in conv.known.values()),
            "non_trainable": sum(c[2] for c in conv.known.values())}


GENERIC_NAMES = re.compile(r"^(functional|sequential|model)(_\d+)?$")


def _project_name(model_name, path):
    """The project is named after the file (``encoder.keras`` -> ``encoder``); a model name the author chose
    (not Keras' ``functional`` / ``sequential``) is said in the description."""
    s = re.sub(r"[^A-Za-z0-9_.\-]", "_", path.stem or "") or re.sub(r"[^A-Za-z0-9_.\-]", "_", model_name or "")
    return s or "imported"


def import_to_file(path, out, *, trust=False, custom_code=None) -> Imported:
    """Import ``path`` and save it as the project ``out`` (with its weights sidecar)."""
    from ..project import save_project
    imported = import_model(path, trust=trust, custom_code=custom_code)
    out = Path(out)
    if out.suffix == "":
        out = out.with_suffix(".layerwise")
    save_project(imported.project, out)
    return imported
