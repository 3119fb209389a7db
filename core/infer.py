"""Shape inference and validation of a graph, incremental.

``Inference.run(graph, regularization)`` returns every node's output shape and parameter counts, and
every problem at once. A node's result depends only on its type, params, trainable flag and input shapes,
so results are memoised under that key: after an edit only the edited node and the nodes whose inputs
really changed are recomputed (an edit that keeps the output shape stops right there), and repeated
blocks (the same layer on the same input shape, as in a deep residual network) are computed once.

Layers are built symbolically inside a Keras stateless scope, so no variable is ever allocated.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from . import catalog
from .errors import short
from .layers import call_layer, effective_dropout, effective_l2, make_layer, plain_error
from .validate import node_settings_problems, regularization_problems

# sizes beyond these are problems found before any work starts (nothing is allocated during inference)
MAX_SAMPLE_VALUES = 2 ** 31          # values in one sample of a node's output (8 GB as float32)
MAX_PARAMS = 2 * 10 ** 10            # parameters of one node, and of the whole network (80 GB as float32)
from .trust import UntrustedCode, is_trusted


@dataclass
class Problem:
    node_id: str | None
    node_name: str | None
    message: str

    def __str__(self):
        if self.node_id is None:
            return f"graph: {self.message}"
        return f"node '{self.node_name}' ({self.node_id}): {self.message}"


@dataclass
class NodeInfo:
    shape: tuple | None = None          # output shape with the batch axis, e.g. (None, 8, 8, 32)
    trainable: int = 0
    non_trainable: int = 0
    error: str | None = None
    l2: float = 0.0
    dropout_after: float = 0.0
    blocked: bool = False               # an input has a problem, so this node could not be inferred

    @property
    def params(self):
        return self.trainable + self.non_trainable


@dataclass
class Result:
    nodes: dict = field(default_factory=dict)     # node id -> NodeInfo
    problems: list = field(default_factory=list)
    order: list = field(default_factory=list)
    revision: int = -1
    recomputed: int = 0

    @property
    def ok(self):
        return not self.problems

    @property
    def trainable(self):
        return sum(i.trainable for i in self.nodes.values())

    @property
    def non_trainable(self):
        return sum(i.non_trainable for i in self.nodes.values())

    @property
    def total(self):
        return self.trainable + self.non_trainable

    def problems_for(self, node_id):
        return [p for p in self.problems if p.node_id == node_id]


def shape_text(shape):
    """(None, 8, 8, 32) -> '8×8×32'; a list of shapes is joined with ' | '."""
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return " | ".join(shape_text(s) for s in shape)
    dims = shape[1:]
    if not dims:
        return "scalar"
    return "×".join("?" if d is None else str(d) for d in dims)


def _bytes_text(n):
    for unit, size in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} bytes"


def _count_text(n):
    return f"{n:,}" if n < 10 ** 6 else f"{n:.2g}"


def size_problem(shape):
    """A problem when one sample of ``shape`` (with the batch axis) holds more than MAX_SAMPLE_VALUES values."""
    if not isinstance(shape, tuple):
        return None
    total = 1
    for d in shape[1:]:
        if isinstance(d, int) and d > 0:
            total *= d
    if total > MAX_SAMPLE_VALUES:
        return (f"one sample of its output would hold {_count_text(total)} values ({_bytes_text(4 * total)} as "
                f"float32); the limit is {MAX_SAMPLE_VALUES:,} values per sample: make the shape smaller")
    return None


def params_problem(count):
    if count > MAX_PARAMS:
        return (f"{_count_text(count)} parameters would need {_bytes_text(4 * count)} of memory; the limit is "
                f"{MAX_PARAMS:.0e} parameters: use fewer units, filters or a smaller input")
    return None


def _safe(fn, *args):
    """effective_l2 / effective_dropout of a node whose settings may be bad (reported as problems): 0 then."""
    try:
        v = float(fn(*args))
        return v if v == v and abs(v) != float("inf") else 0.0
    except (TypeError, ValueError, AttributeError):
        return 0.0


class Inference:
    """Keeps the per-node cache between runs (the editor keeps one instance per open graph)."""

    MEMO_SIZE = 4096

    def __init__(self):
        from collections import OrderedDict
        self._memo = OrderedDict()   # content key -> (shape, trainable, non_trainable, error)
        self._ready = False

    def run(self, graph, regularization=None) -> Result:
        res = Result(revision=graph.revision)
        nodes = graph.nodes
        in_edges = {k: [] for k in nodes}
        out_count = {k: 0 for k in nodes}
        for e in graph.edges:
            if e.dst in in_edges:
                in_edges[e.dst].append(e)
            if e.src in out_count:
                out_count[e.src] += 1
        for k in in_edges:
            in_edges[k].sort(key=lambda e: e.port)
        feeds_output = {e.src for e in graph.edges if e.dst in nodes and nodes[e.dst].type == "Output"}
        trusted = is_trusted(graph)   # this session's trust in the project's code (core.trust), never the file's

        # -- structure -------------------------------------------------------------------------------------
        if not any(n.type == "Input" for n in nodes.values()):
            res.problems.append(Problem(None, None, "there is no Input node: add one and set its shape"))
        if not any(n.type == "Output" for n in nodes.values()):
            res.problems.append(Problem(None, None, "there is no Output node: connect the last layer to an Output"))
        # settings are checked on every run, never memoised: an edit of a setting is seen at once
        reg_problems = regularization_problems(regularization)
        for m in reg_problems:
            res.problems.append(Problem(None, None, m))
        if reg_problems:
            regularization = {}
        order = graph.topological_order(strict=False)
        res.order = order
        on_cycle = [k for k in nodes if k not in set(order)]
        for k in on_cycle:
            n = nodes[k]
            res.nodes[k] = NodeInfo(error="is on a cycle (its output feeds back into its own input)", blocked=True)
            res.problems.append(Problem(k, n.name, "is on a cycle: its output feeds back into its own input"))
        structural, bad = {}, {}
        for k in order:
            n = nodes[k]
            spec = n.spec
            lo, hi = spec.inputs
            ports = [e.port for e in in_edges[k]]
            msgs = []
            if hi is not None and hi > 0 and (len(ports) < lo):
                missing = [spec.port_name(i) for i in range(max(lo, 1)) if i not in ports]
                msgs.append(f"input port {_names(missing)} is not connected"
                            if lo == 1 else f"needs {lo if lo == hi else f'at least {lo}'} inputs, has {len(ports)} connected")
            elif ports and max(ports) + 1 != len(ports):
                gap = [spec.port_name(i) for i in range(min(max(ports), 10 ** 6)) if i not in ports]
                msgs.append(f"input port {_names(gap)} is not connected (ports are filled in order)")
            if n.type != "Output" and out_count[k] == 0:
                msgs.append("its output goes nowhere: connect it to another layer or to an Output")
            for p in spec.params:
                if p.name in n.params:
                    err = p.value_error(n.params[p.name])
                    if err:
                        msgs.append(f"{p.name} {err}")
            bad_settings = node_settings_problems(n.settings)
            if bad_settings:
                bad[k] = True
                msgs += bad_settings
            structural[k] = msgs

        # -- shapes ----------------------------------------------------------------------------------------
        self._ensure_keras()
        from .keras_compat import stateless_scope
        import keras
        recomputed = 0
        with stateless_scope(initialize_variables=False):
            for k in order:
                n = nodes[k]
                info = NodeInfo(l2=_safe(effective_l2, n, regularization),
                                dropout_after=_safe(effective_dropout, n, regularization, k in feeds_output))
                msgs = structural[k]
                ins = [res.nodes[e.src] for e in in_edges[k] if e.src in res.nodes]
                in_shapes = [i.shape for i in ins]
                if n.type == "Input":
                    shp = n.params.get("shape")
                    if not msgs:
                        info.shape = (None,) + tuple(shp)
                elif any(i.shape is None for i in ins) or any(m for m in msgs if "not connected" in m or "needs" in m):
                    info.blocked = True
                elif bad.get(k) or (msgs and any(m.split(" ")[0] in n.params for m in msgs)):
                    pass  # invalid params or settings: do not ask Keras
                elif n.type == "Output":
                    info.shape = in_shapes[0] if in_shapes else None
                else:
                    key = node_key(n, in_shapes, trusted)
                    hit = self._memo.get(key)
                    if hit is not None:
                        self._memo.move_to_end(key)
                        info.shape, info.trainable, info.non_trainable, err = hit
                    else:
                        recomputed += 1
                        err = None
                        try:
                            layer = make_layer(n, None, trusted)
                            xs = [keras.KerasTensor(s, dtype=_dtype_of(nodes, e.src)) for s, e in zip(in_shapes, in_edges[k])]
                            y = call_layer(n, layer, xs)
                            if isinstance(y, (list, tuple)):
                                y = y[0]
                            info.shape = tuple(y.shape)
                            info.trainable = _count(layer.trainable_weights)
                            info.non_trainable = _count(layer.non_trainable_weights)
                        except UntrustedCode as e:   # code from the file, not trusted: a problem, nothing ran
                            err = str(e)
                            info.shape = None
                        except Exception as e:  # Keras tells us what is wrong; say it in plain words
                            err = plain_error(e, n)
                            if "incompatible shapes" in err or (n.type == "Concatenate" and "shape" in err):
                                parts = [f"{shape_text(s)} from '{nodes[ed.src].name}'" for s, ed in zip(in_shapes, in_edges[k])]
                                how = ("must match on every axis but the join axis" if n.type == "Concatenate"
                                       else "must have the same shape")
                                err = f"inputs {how}; got {' and '.join(parts)}"
                            info.shape = None
                        self._memo[key] = (info.shape, info.trainable, info.non_trainable, err)
                        if len(self._memo) > self.MEMO_SIZE:
                            self._memo.popitem(last=False)
                    if err:
                        msgs = msgs + [err]
                    shares = n.settings.get("shares")
                    if isinstance(shares, str) and shares in nodes:  # a second call of a shared layer: weights counted once
                        info.trainable = info.non_trainable = 0
                    big = params_problem(info.params)
                    if big:
                        msgs = msgs + [big]
                too_big = size_problem(info.shape)
                if too_big:   # nodes after it are not inferred: one problem, not one per node downstream
                    msgs = msgs + [too_big]
                    info.shape = None
                if msgs:
                    info.error = "; ".join(msgs)
                    for m in msgs:
                        res.problems.append(Problem(k, n.name, m))
                res.nodes[k] = info
        res.recomputed = recomputed
        big = params_problem(res.total)
        if big and not any("parameters would need" in p.message for p in res.problems):
            res.problems.append(Problem(None, None, f"in total, {big}"))
        return res

    def prime(self, graph, known):
        """Seed the memo with shapes and weight counts already known, so the next ``run`` need not rebuild
        those layers (model import knows them from the loaded Keras model).
        ``known``: {node_id: (output shape with batch axis, trainable count, non-trainable count)}."""
        ins = {}
        trusted = is_trusted(graph)
        for e in graph.edges:
            ins.setdefault(e.dst, []).append(e)
        for k, (shape, trainable, non_trainable) in known.items():
            n = graph.nodes.get(k)
            if n is None or n.type in ("Input", "Output") or n.settings.get("shares") in graph.nodes:
                continue
            srcs = sorted(ins.get(k, ()), key=lambda e: e.port)
            if any(e.src not in known for e in srcs):
                continue
            self._memo[node_key(n, [tuple(known[e.src][0]) for e in srcs], trusted)] = (
                tuple(shape), int(trainable), int(non_trainable), None)

    def _ensure_keras(self):
        if not self._ready:
            from .tfload import import_keras
            import_keras()
            self._ready = True


def _names(ports, most=5):
    text = ", ".join(repr(m) for m in ports[:most])
    return text + (f" and {len(ports) - most:,} more" if len(ports) > most else "")


def _dtype_of(nodes, src):
    n = nodes.get(src)
    if n is not None and n.type == "Input":
        return n.params.get("dtype", "float32")
    return "float32"


def _count(weights):
    total = 0
    for w in weights:
        c = 1
        for d in w.shape:
            c *= int(d)
        total += c
    return total


def node_key(n, in_shapes, trusted=False):
    """What a node's inferred shape and weight counts depend on (the memo key); ``trusted``: the session's
    trust in the project's code (a node with code is a problem without it)."""
    key = (n.type, _freeze(n.params), n.settings.get("trainable", True), tuple(in_shapes), bool(trusted))
    call = n.settings.get("call")  # imported layers with their own call template
    return key + (_freeze(call),) if call else key


def _freeze(params):
    try:
        return json.dumps(params, sort_keys=True, default=str)
    except (RecursionError, ValueError, TypeError):   # nested too deeply, circular: never the same key twice
        return f"<unfrozen {id(params)}>"


def check(graph, regularization=None) -> Result:
    """Validate ``graph`` and infer every shape (a fresh cache)."""
    return Inference().run(graph, regularization)


def weights_problems(graph, result) -> list:
    """Nodes whose saved weights do not fit their layer (a different number of values than the layer has
    parameters), from an inference result: cheap, nothing is built. One Problem per node."""
    out = []
    for k, n in graph.nodes.items():
        shares = n.settings.get("shares")
        if n.weights is None or (isinstance(shares, str) and shares in graph.nodes):
            continue
        info = result.nodes.get(k)
        if info is None or info.shape is None or info.error:
            continue
        have = sum(int(getattr(w, "size", 1)) for w in n.weights)
        if have != info.params:
            out.append(Problem(k, n.name, f"the saved weights hold {have:,} values, but the layer has "
                                          f"{info.params:,} parameters; they do not fit"))
    return out
