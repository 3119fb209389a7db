"""Group nodes and the transfer-learning edits: expand / collapse, cut, freeze, trainable from layer N, fine-tune.

A *group node* is a nested Keras model kept as one node: a ``KerasLayer`` whose class_name is ``Functional``
(or ``Sequential``) and whose params hold the nested model's config; its weights are the nested model's
weights (``model.get_weights()`` order). It builds into a real nested model, exactly like the file it came from.

* ``expand_group`` replaces the group node by its layers (each tagged ``settings["group"] = <group name>``;
  the last one also keeps ``settings["group_meta"]``: the group's own settings and input names), so they can
  be edited one by one; ``collapse_group`` builds those layers back into one nested model node.
* ``cut_group`` keeps the base up to a chosen layer (drops the classifier top); ``cut_after`` does the same
  on an expanded / imported graph (removes everything downstream of a node).
* ``freeze`` / ``set_trainable_from`` / ``fine_tune``: freeze all, make trainable from layer N on, or unfreeze
  the top N layers and lower the learning rate for a second training phase. A frozen layer is built with
  ``trainable = False``; Keras 3 then runs BatchNormalization in inference mode (moving statistics), even
  while the rest of the model trains.

Everything here edits the graph through its methods, so views and undo see ordinary events.
"""
from __future__ import annotations

import copy

from .errors import GraphError
from .layers import MODEL_CLASSES
from .trust import is_trusted

GROUP_KEYS = ("group", "group_meta")


def is_group(node) -> bool:
    return node.type == "KerasLayer" and node.params.get("class_name") in MODEL_CLASSES


def _group_node(graph, node_id):
    n = graph.node(node_id)
    if not is_group(n):
        raise GraphError(f"node {n.label()} is not a group node (a nested model)")
    return n


def group_model(node, with_weights=True, trusted=False):
    """The group node's nested model as a Keras model (with the node's weights). ``trusted``: this session trusts
    the project's code (``core.trust``); a nested model with Lambda layers or custom classes needs it."""
    from .layers import make_layer
    from .tfload import import_keras
    from .trust import UntrustedCode
    import_keras()
    try:
        model = make_layer(node, trusted=trusted)
    except UntrustedCode as e:
        raise GraphError(f"node {node.label()}: {e}") from None
    if with_weights and node.weights is not None:
        try:
            model.set_weights(node.weights)
        except ValueError as e:
            raise GraphError(f"node {node.label()}: its weights do not fit its layers ({e})") from None
    return model


def inner_layers(node) -> list:
    """The group's layers from its config (InputLayers left out): dicts index, name, class_name, trainable."""
    out = []
    frozen_all = node.settings.get("trainable") is False
    for e in node.params.get("config", {}).get("layers", []):
        if e.get("class_name") == "InputLayer":
            continue
        c = e.get("config") or {}
        out.append({"index": len(out), "name": e.get("name") or c.get("name"), "class_name": e.get("class_name"),
                    "trainable": (not frozen_all) and c.get("trainable", True) is not False})
    return out


def add_model_node(graph, model, *, name=None, pos=(0.0, 0.0), source=None, trainable=True):
    """Add a Keras model as one group node (e.g. a pretrained base); connect ``source`` (a node id) to it."""
    import keras
    from .transfer import all_inner_frozen, jsonable, set_inner_trainable
    if len(model.outputs) != 1:
        raise GraphError(f"the model '{model.name}' has {len(model.outputs)} outputs; a group node has one")
    cfg = jsonable(model.get_config())
    cfg.pop("name", None)
    was_trainable = cfg.pop("trainable", True)
    settings = {"pretrained": True}
    if was_trainable is False or not trainable:
        settings["trainable"] = False
        if all_inner_frozen(cfg) or not trainable:
            cfg = set_inner_trainable(cfg, lambda i, e: True)
    cls = "Sequential" if isinstance(model, keras.Sequential) else "Functional"
    base = name or model.name
    name = base if graph.by_name(base) is None else graph.unique_name(base)
    n = graph.add_node("KerasLayer", {"class_name": cls, "config": cfg}, name=name, pos=pos, settings=settings)
    n.weights = model.get_weights() or None
    if source is not None:
        graph.connect(source, n.id, 0)
    return n


# -- expand / collapse ---------------------------------------------------------------------------------------------
def expand_group(graph, node_id) -> list:
    """Replace a group node by its layers. Returns the new node ids."""
    from .graph import Graph
    from .layout import layered_positions, DX
    from .transfer import convert_model
    n = _group_node(graph, node_id)
    if n.settings.get("shares") or any(m.settings.get("shares") == node_id for m in graph.nodes.values()):
        raise GraphError(f"node {n.label()} is one nested model used more than once (shared weights); "
                         f"it cannot be expanded")
    trusted = is_trusted(graph)
    model = group_model(n, trusted=trusted)
    tmp = Graph()
    conv = convert_model(model, tmp, trust=trusted, where=f"group '{n.name}'")
    in_edges = graph.in_edges(node_id)
    out_edges = graph.out_edges(node_id)
    if len(conv.inputs) != len(in_edges):
        raise GraphError(f"node {n.label()}: the nested model takes {len(conv.inputs)} input(s), "
                         f"{len(in_edges)} connected")
    outer_src = {inp: (in_edges[i].src, in_edges[i].src_port) for i, inp in enumerate(conv.inputs)}
    out_member = conv.outputs[0]
    meta = {"name": n.name, "class_name": n.params.get("class_name"),
            "settings": {k: copy.deepcopy(v) for k, v in n.settings.items() if k not in GROUP_KEYS},
            "inputs": [{"name": tmp.nodes[i].name, "dtype": tmp.nodes[i].params.get("dtype", "float32"),
                        "slots": [[tmp.nodes[e.dst].name, e.port] for e in tmp.edges if e.src == i]}
                       for i in conv.inputs]}
    frozen = n.settings.get("trainable") is False
    members = [k for k in tmp.nodes if k not in conv.inputs]
    rel = layered_positions(tmp, members, origin=(0.0, 0.0))
    width = max((p[0] for p in rel.values()), default=0.0)
    ox, oy = n.pos
    # make room: everything downstream of the group moves right by the expanded width
    for k in graph.downstream(node_id) - {node_id}:
        x, y = graph.nodes[k].pos
        graph.move(k, (x + width, y))
    graph.remove_node(node_id)
    new_id = {}
    for k in members:
        m = tmp.nodes[k]
        settings = dict(m.settings)
        if frozen:
            settings["trainable"] = False
        settings["group"] = meta["name"]
        if k == out_member:
            settings["group_meta"] = meta
        if "shares" in settings:
            settings["shares"] = new_id.get(settings["shares"], settings["shares"])
        name = m.name if graph.by_name(m.name) is None else graph.unique_name(m.name)
        x, y = rel[k]
        node = graph.add_node(m.type, m.params, name=name, pos=(ox + x, oy + y), settings=settings)
        node.weights = m.weights
        new_id[k] = node.id
    for e in tmp.edges:
        src, src_port = outer_src.get(e.src) or (new_id[e.src], e.src_port)
        graph.connect(src, new_id[e.dst], e.port, src_port)
    for e in out_edges:
        graph.connect(new_id[out_member], e.dst, e.port)
    del DX
    return [new_id[k] for k in members]


def group_names(graph) -> list:
    """Names of the expanded groups in the graph."""
    seen = []
    for n in graph.nodes.values():
        g = n.settings.get("group")
        if g and g not in seen:
            seen.append(g)
    return seen


def group_members(graph, group_name) -> list:
    return [k for k, n in graph.nodes.items() if n.settings.get("group") == group_name]


def collapse_group(graph, group_name, info=None):
    """Build the layers tagged ``group_name`` back into one group node. ``info``: a current infer Result
    (for the shapes entering the group; computed when not given). Returns the new node."""
    from .infer import check
    members = group_members(graph, group_name)
    if not members:
        raise GraphError(f"there is no expanded group named {group_name!r}")
    mset = set(members)
    meta = next((graph.nodes[k].settings["group_meta"] for k in members if "group_meta" in graph.nodes[k].settings),
                {"name": group_name, "class_name": "Functional", "settings": {}, "inputs": []})
    b_in = [e for e in graph.edges if e.dst in mset and e.src not in mset]
    b_out = [e for e in graph.edges if e.src in mset and e.dst not in mset]
    out_member, out_port = _group_output(graph, group_name, members, b_out)
    inputs = _group_inputs(graph, group_name, members, meta, b_in)
    if info is None or any(src not in info.nodes for src, _, _ in inputs):
        info = check(graph)
    sub, input_ids = _group_subgraph(graph, group_name, members, inputs, out_member, out_port, info)
    model, cls = _group_keras_model(sub, input_ids, out_member, meta, group_name)
    return _replace_members(graph, group_name, members, meta, model, cls, inputs, b_out)


def _group_output(graph, group_name, members, b_out):
    """(the one member that feeds the rest of the graph, which of its outputs); else the member that keeps the
    group's meta, else the member nothing inside the group reads (its first output)."""
    mset = set(members)
    outs = list(dict.fromkeys((e.src, e.src_port) for e in b_out))
    if not outs:
        outs = [(k, 0) for k in members if "group_meta" in graph.nodes[k].settings] or \
               [(k, 0) for k in members if not any(e.src == k and e.dst in mset for e in graph.edges)]
    if len(outs) != 1:
        names = ", ".join(f"'{graph.nodes[k].name}'" + (f" (output {port + 1})" if port else "") for k, port in outs)
        raise GraphError(f"group '{group_name}' feeds the rest of the graph from {len(outs)} outputs ({names}); "
                         f"a group node has one output")
    return outs[0]


def _group_inputs(graph, group_name, members, meta, b_in):
    """The group's inputs as (outer source, edges into the group, recorded input spec or None): the recorded
    ones first (same order as before expanding), then any new connections."""
    inputs, used = [], set()
    for spec in meta.get("inputs", []):
        edges = [e for e in b_in if [graph.nodes[e.dst].name, e.port] in spec.get("slots", []) and e not in used]
        if edges:
            inputs.append((edges[0].src, edges, spec))
            used.update(edges)
    for e in b_in:
        if e in used:
            continue
        # one group input per outer output (a node and which of its outputs)
        same = [x for x in inputs if x[0] == e.src and x[1][0].src_port == e.src_port and x[2] is None]
        if same:
            same[0][1].append(e)
        else:
            inputs.append((e.src, [e], None))
        used.add(e)
    if not inputs:
        raise GraphError(f"group '{group_name}' has no input connected")
    return inputs


def _group_subgraph(graph, group_name, members, inputs, out_member, out_port, info):
    """A graph of the members alone, with an Input per group input (of the shape entering it) and an Output."""
    from .graph import Graph
    mset = set(members)
    by_name = {graph.nodes[k].name: k for k in members}
    sub = Graph()
    sub.trusted = is_trusted(graph)   # the members build with the session's trust in this project
    input_ids = []
    for i, (src, edges, spec) in enumerate(inputs):
        shape = info.nodes[src].output_shape(edges[0].src_port) if src in info.nodes else None
        if shape is None:
            raise GraphError(f"group '{group_name}': the shape entering from '{graph.nodes[src].name}' is unknown "
                             f"(fix the problems before it first)")
        iname = (spec or {}).get("name") or f"{group_name}_input_{i + 1}"
        if iname in by_name:
            iname = f"{iname}_in"
        inp = sub.add_node("Input", {"shape": list(shape[1:]), "dtype": (spec or {}).get("dtype", "float32")},
                           name=iname)
        input_ids.append(inp.id)
    for k in members:
        n = graph.nodes[k]
        settings = {key: v for key, v in n.settings.items() if key not in GROUP_KEYS}
        node = sub.add_node(n.type, n.params, name=n.name, node_id=k, settings=settings)
        node.weights = n.weights
    for e in graph.edges:
        if e.src in mset and e.dst in mset:
            sub.connect(e.src, e.dst, e.port, e.src_port)
    for i, (src, edges, spec) in enumerate(inputs):
        for e in edges:
            sub.connect(input_ids[i], e.dst, e.port)
    out = sub.add_node("Output", {"loss": "mean_squared_error", "metrics": []}, name=f"{group_name}_output_")
    sub.connect(out_member, out.id, 0, out_port)
    return sub, input_ids


def _group_keras_model(sub, input_ids, out_member, meta, group_name):
    """(the members built as one Keras model, its class name): a Sequential again when the group was one and
    the members still form a plain chain, else a Functional."""
    from .build import build_model
    build = build_model(sub, {}, name=meta.get("name") or group_name)
    if build.warnings:
        raise GraphError(f"group '{group_name}': " + "; ".join(build.warnings))
    model = build.model
    if meta.get("class_name") == "Sequential" and len(input_ids) == 1 and _is_chain(sub, input_ids[0], out_member):
        import keras
        chain = _chain(sub, input_ids[0])
        inp = sub.nodes[input_ids[0]]
        model = keras.Sequential([keras.Input(tuple(inp.params["shape"]), dtype=inp.params["dtype"], name=inp.name)]
                                 + [build.layers[k] for k in chain], name=model.name)
        return model, "Sequential"
    return model, "Functional"


def _replace_members(graph, group_name, members, meta, model, cls, inputs, b_out):
    """Remove the members and put the group node (the model's config and weights) in their place, wired like them."""
    from .transfer import all_inner_frozen, jsonable, set_inner_trainable
    cfg = jsonable(model.get_config())
    cfg.pop("name", None)
    cfg.pop("trainable", None)
    weights = model.get_weights() or None
    settings = copy.deepcopy(meta.get("settings") or {})
    settings.pop("trainable", None)
    if all(graph.nodes[k].settings.get("trainable") is False for k in members):
        settings["trainable"] = False
        if all_inner_frozen(cfg):
            cfg = set_inner_trainable(cfg, lambda i, e: True)
    xs = [graph.nodes[k].pos for k in members]
    pos = (min(p[0] for p in xs), sum(p[1] for p in xs) / len(xs))
    consumers = [(e.dst, e.port) for e in b_out]
    for k in members:
        graph.remove_node(k)
    name = meta.get("name") or group_name
    name = name if graph.by_name(name) is None else graph.unique_name(name)
    node = graph.add_node("KerasLayer", {"class_name": cls, "config": cfg}, name=name, pos=pos, settings=settings)
    node.weights = weights
    for i, (src, edges, _) in enumerate(inputs):
        graph.connect(src, node.id, i, edges[0].src_port)
    for dst, p in consumers:
        graph.connect(node.id, dst, p)
    return node


def _chain(g, start):
    order, k = [], start
    while True:
        nxt = [e.dst for e in g.edges if e.src == k and g.nodes[e.dst].type != "Output"]
        if len(nxt) != 1:
            return order
        k = nxt[0]
        order.append(k)


def _is_chain(g, start, end):
    chain = _chain(g, start)
    inner = [k for k, n in g.nodes.items() if n.type not in ("Input", "Output")]
    return bool(chain) and chain[-1] == end and len(chain) == len(inner) and \
        all(len(g.in_edges(k)) == 1 and not g.nodes[k].settings.get("call") for k in chain)


# -- cut ------------------------------------------------------------------------------------------------------------
def _resolve_layer(rows, layer, what):
    if isinstance(layer, int) and not isinstance(layer, bool):
        if not 0 <= layer < len(rows):
            raise GraphError(f"{what} has {len(rows)} layers (0 to {len(rows) - 1}); got layer {layer}")
        return rows[layer]
    for r in rows:
        if r["name"] == layer:
            return r
    raise GraphError(f"{what} has no layer named {layer!r}")


def cut_group(graph, node_id, layer):
    """Keep the group's layers up to ``layer`` (a name or an index of ``inner_layers``); drop the rest."""
    import keras
    from .transfer import jsonable
    n = _group_node(graph, node_id)
    row = _resolve_layer(inner_layers(n), layer, f"group {n.label()}")
    model = group_model(n, trusted=is_trusted(graph))
    target = model.get_layer(row["name"])
    try:
        out = target.output
    except (AttributeError, ValueError):
        raise GraphError(f"layer '{row['name']}' is used more than once inside {n.label()}; cut at another layer") from None
    cut = keras.Model(model.inputs, out, name=model.name)
    cfg = jsonable(cut.get_config())
    cfg.pop("name", None)
    cfg.pop("trainable", None)
    n.weights = cut.get_weights() or None
    graph.set_param(node_id, "class_name", "Functional")
    graph.set_param(node_id, "config", cfg)
    return row


def cut_after(graph, node_id, *, add_output=True, output_params=None):
    """Make ``node_id`` the top: remove every node downstream of it, then the branches that fed only those.
    With ``add_output``, connect it to a new Output. Returns the removed nodes' names."""
    node = graph.node(node_id)
    if node.type == "Output":
        raise GraphError(f"node {node.label()} is an Output; cut at a layer")
    gone = graph.downstream(node_id) - {node_id}
    removed = []
    feeders = set()
    for k in [k for k in graph.nodes if k in gone]:
        feeders.update(graph.inputs_of(k))
        removed.append(graph.nodes[k].name)
        graph.remove_node(k)
    # dead branches: nodes (not Inputs) whose output now goes nowhere
    stack = [k for k in feeders if k in graph.nodes and k != node_id]
    while stack:
        k = stack.pop()
        if k not in graph.nodes or k == node_id or graph.out_edges(k):
            continue
        n = graph.nodes[k]
        if n.type in ("Input", "Output"):
            continue
        srcs = graph.inputs_of(k)
        removed.append(n.name)
        graph.remove_node(k)
        stack.extend(srcs)
    if add_output:
        from .transfer import default_output
        params = output_params or default_output(node, None)
        x, y = node.pos
        out = graph.add_node("Output", params, name=graph.unique_name("output"), pos=(x + 220.0, y))
        graph.connect(node_id, out.id)
    return removed


# -- freeze / trainable from layer N / fine-tune --------------------------------------------------------------------
def layer_nodes(graph, target=None) -> list:
    """Node ids of a target in build order: a list of ids, an expanded group's name, or None (every layer)."""
    order = graph.topological_order(strict=False)
    if target is None:
        keep = {k for k, n in graph.nodes.items() if n.type not in ("Input", "Output")}
    elif isinstance(target, str) and target not in graph.nodes:
        keep = set(group_members(graph, target))
        if not keep:
            raise GraphError(f"no node or expanded group named {target!r}")
    elif isinstance(target, str):
        keep = {target}
    else:
        keep = set(target)
    return [k for k in order if k in keep and graph.nodes[k].type not in ("Input", "Output")]


def rows(graph, target=None) -> list:
    """The layers a freeze/fine-tune applies to: dicts index, name, class_name, trainable (plus node id)."""
    if isinstance(target, str) and target in graph.nodes and is_group(graph.nodes[target]):
        return inner_layers(graph.nodes[target])
    out = []
    for i, k in enumerate(layer_nodes(graph, target)):
        n = graph.nodes[k]
        cls = n.params.get("class_name") if n.type == "KerasLayer" else n.type
        out.append({"index": i, "name": n.name, "class_name": cls, "trainable": n.settings.get("trainable") is not False,
                    "node": k})
    return out


def set_trainable_from(graph, target, first, *, keep_batchnorm_frozen=False):
    """Freeze the layers before ``first`` (an index or a layer name) and make the rest trainable.
    ``first`` = 0 unfreezes everything; ``first`` = number of layers freezes everything."""
    rs = rows(graph, target)
    if isinstance(first, str):
        first = _resolve_layer(rs, first, "the selection")["index"]
    first = max(0, min(int(first), len(rs)))

    def trainable(i, cls):
        return i >= first and not (keep_batchnorm_frozen and cls == "BatchNormalization")

    if isinstance(target, str) and target in graph.nodes and is_group(graph.nodes[target]):
        from .transfer import set_inner_trainable
        n = graph.nodes[target]
        cfg = set_inner_trainable(n.params.get("config", {}), lambda i, e: trainable(i, e.get("class_name")))
        graph.set_setting(target, "trainable", None)
        graph.set_param(target, "config", cfg)
        graph.set_setting(target, "trainable_from", first)
        return first
    for r in rs:
        on = trainable(r["index"], r["class_name"])
        if (graph.nodes[r["node"]].settings.get("trainable") is not False) != on:
            graph.set_setting(r["node"], "trainable", None if on else False)
    return first


def freeze(graph, target=None, frozen=True):
    """Freeze (or unfreeze) a whole group node, an expanded group, a list of nodes or the whole graph."""
    if isinstance(target, str) and target in graph.nodes and is_group(graph.nodes[target]):
        from .transfer import set_inner_trainable
        n = graph.nodes[target]
        cfg = set_inner_trainable(n.params.get("config", {}), lambda i, e: True)
        if cfg != n.params.get("config"):
            graph.set_param(target, "config", cfg)
        graph.set_setting(target, "trainable_from", None)
        graph.set_setting(target, "trainable", False if frozen else None)
        return
    n_layers = len(rows(graph, target))
    set_trainable_from(graph, target, n_layers if frozen else 0)


def fine_tune(project, target, top_n, *, lr_factor=0.1, learning_rate=None, keep_batchnorm_frozen=True):
    """Second phase: unfreeze the top ``top_n`` layers of ``target`` (BatchNormalization layers stay frozen
    by default, so their statistics are kept) and lower the learning rate. Training then continues from the
    weights the nodes carry (``TrainConfig(keep_weights=True)``). Returns what changed."""
    graph = project.graph
    rs = rows(graph, target)
    top_n = max(0, min(int(top_n), len(rs)))
    first = set_trainable_from(graph, target, len(rs) - top_n, keep_batchnorm_frozen=keep_batchnorm_frozen)
    comp = project.settings("compile")
    opt = comp.setdefault("optimizer", {"name": "adam"})
    from . import catalog
    default_lr = catalog.OPTIMIZERS.get(str(opt.get("name", "adam")).lower(), catalog.OPTIMIZERS["adam"])[1][0].default
    old = float(opt.get("learning_rate", default_lr))
    new = float(learning_rate) if learning_rate is not None else old * float(lr_factor)
    comp.set(("optimizer", "learning_rate"), float(f"{new:.6g}"))   # tells the settings' listeners
    return {"trainable_from": first, "unfrozen": [r["name"] for r in rs[first:]],
            "learning_rate": (old, comp["optimizer"]["learning_rate"])}
