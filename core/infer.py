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
from enum import Enum

from .layers import call_layer, count_weights, effective_dropout, effective_l2, make_layer, plain_error
from .node_settings import CALL, OUTPUTS, SHARES, TRAINABLE
from .trust import UntrustedCode, is_trusted
from .validate import node_settings_problems, regularization_problems

# sizes beyond these are problems found before any work starts (nothing is allocated during inference)
MAX_SAMPLE_VALUES = 2 ** 31          # values in one sample of a node's output (8 GB as float32)
MAX_PARAMS = 2 * 10 ** 10            # parameters of one node, and of the whole network (80 GB as float32)


class Code(str, Enum):
    """What kind of problem a ``Problem`` is. Code decides by the code, never by the message's words."""
    NO_INPUT = "no_input"                # the graph has no Input node
    NO_OUTPUT = "no_output"              # the graph has no Output node
    REGULARIZATION = "regularization"    # the project's regularization settings are out of range
    CYCLE = "cycle"                      # the node is on a cycle
    UNCONNECTED = "unconnected"          # an input port is not connected: the node cannot be inferred
    DANGLING = "dangling"                # the node's output goes nowhere
    PARAM = "param"                      # a param value is invalid (Keras is not asked)
    SETTING = "setting"                  # a node setting is invalid (Keras is not asked)
    SHAPE = "shape"                      # the input shapes do not fit together (a merge)
    LAYER = "layer"                      # Keras refused the layer on its inputs (its reason, in plain words)
    UNTRUSTED = "untrusted"              # the node holds code this session does not trust
    TOO_LARGE = "too_large"              # one sample of the node's output would be too large
    TOO_MANY_PARAMS = "too_many_params"  # too many parameters, in a node or in total
    WEIGHTS = "weights"                  # the node's saved weights do not fit its layer
    PORT = "port"                        # an edge leaves from an output port its source does not have


@dataclass
class Problem:
    node_id: str | None
    node_name: str | None
    message: str
    code: Code | None = None

    def __str__(self):
        if self.node_id is None:
            return f"graph: {self.message}"
        return f"node '{self.node_name}' ({self.node_id}): {self.message}"


@dataclass
class NodeInfo:
    shape: tuple | None = None          # output shape with the batch axis, e.g. (None, 8, 8, 32); the first output's
    outputs: list | None = None         # only for a node with several outputs: every output's shape, by port
    trainable: int = 0
    non_trainable: int = 0
    error: str | None = None
    l2: float = 0.0
    dropout_after: float = 0.0
    blocked: bool = False               # an input has a problem, so this node could not be inferred

    @property
    def params(self):
        return self.trainable + self.non_trainable

    def output_shape(self, port=0):
        """The shape of output ``port`` (None when the node has no such output or it is unknown)."""
        if self.outputs is not None:
            return self.outputs[port] if 0 <= port < len(self.outputs) else None
        return self.shape if port == 0 else None

    @property
    def output_count(self):
        return len(self.outputs) if self.outputs is not None else 1


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
    """(None, 8, 8, 32) -> '8×8×32'; (None, None, 64) -> 'T×64' (T time steps, any number); a list of shapes (the
    outputs of one node) is joined with ' | '."""
    if shape is None:
        return "?"
    if isinstance(shape, list):   # the outputs of a node with several: '16 (×3)' when they are alike
        texts = [shape_text(s) for s in shape]
        return f"{texts[0]} (×{len(texts)})" if len(texts) > 1 and len(set(texts)) == 1 else " | ".join(texts)
    from .catalog import dims_text
    return dims_text(shape[1:])


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
        self._memo = OrderedDict()   # content key -> (shape, trainable, non_trainable, (code, message) or None)
        self._ready = False

    def run(self, graph, regularization=None) -> Result:
        """Every node's shape and weight counts, and every problem: the graph's, then each node's in build order."""
        res = Result(revision=graph.revision)
        wiring = _Wiring(graph)
        trusted = is_trusted(graph)   # this session's trust in the project's code (core.trust), never the file's
        regularization = _graph_problems(graph, regularization, res)
        res.order = graph.topological_order(strict=False)
        _cycle_problems(graph, res)
        # settings are checked on every run, never memoised: an edit of a setting is seen at once
        self._ensure_keras()
        structural = {k: _structure_problems(graph.nodes[k], wiring) for k in res.order}
        from .keras_compat import stateless_scope
        recomputed = 0
        with stateless_scope(initialize_variables=False):
            for k in res.order:
                info, found, computed = self._infer_node(graph, k, wiring, structural[k], res, regularization, trusted)
                recomputed += computed
                if found:
                    info.error = "; ".join(text for _, text in found)
                    res.problems += [Problem(k, graph.nodes[k].name, text, code) for code, text in found]
                res.nodes[k] = info
        res.recomputed = recomputed
        big = params_problem(res.total)
        if big and not any(p.code == Code.TOO_MANY_PARAMS for p in res.problems):
            res.problems.append(Problem(None, None, f"in total, {big}", Code.TOO_MANY_PARAMS))
        return res

    def _infer_node(self, graph, k, wiring, found, res, regularization, trusted):
        """(NodeInfo, its problems as (code, message), whether Keras was asked) for node ``k``, whose inputs are
        inferred already. Keras is not asked when an input is missing or unknown, or a param or setting is bad."""
        n = graph.nodes[k]
        edges = wiring.in_edges[k]
        info = NodeInfo(l2=_safe(effective_l2, n, regularization),
                        dropout_after=_safe(effective_dropout, n, regularization, k in wiring.feeds_output))
        in_shapes = [res.nodes[e.src].output_shape(e.src_port) for e in edges if e.src in res.nodes]
        codes = {code for code, _ in found}
        computed = False
        missing = _missing_ports(graph, edges, res)
        if missing:
            found = found + [(Code.PORT, missing)]
            info.blocked = True
        elif n.type == "Input":
            if not found:
                info.shape = (None,) + tuple(n.params.get("shape"))
        elif any(s is None for s in in_shapes) or Code.UNCONNECTED in codes:
            info.blocked = True
        elif codes & {Code.PARAM, Code.SETTING}:
            pass  # invalid params or settings: do not ask Keras
        elif n.type == "Output":
            info.shape = in_shapes[0] if in_shapes else None
        else:
            computed, err = self._layer_result(graph, n, edges, in_shapes, trusted, info)
            if err:
                found = found + [err]
            shares = n.settings.get(SHARES)
            if isinstance(shares, str) and shares in graph.nodes:  # a second call of a shared layer: weights counted once
                info.trainable = info.non_trainable = 0
            big = params_problem(info.params)
            if big:
                found = found + [(Code.TOO_MANY_PARAMS, big)]
        too_big = size_problem(info.shape)
        if too_big:   # nodes after it are not inferred: one problem, not one per node downstream
            found = found + [(Code.TOO_LARGE, too_big)]
            info.shape = None
        return info, found, computed

    def _layer_result(self, graph, n, edges, in_shapes, trusted, info):
        """The layer's output shape and weight counts into ``info``, from the memo or from Keras (a layer built
        on symbolic inputs). Returns (whether Keras was asked, (code, message) or None)."""
        key = node_key(n, in_shapes, trusted)
        hit = self._memo.get(key)
        if hit is not None:
            self._memo.move_to_end(key)
            shapes, info.trainable, info.non_trainable, err = hit
            _set_shapes(info, shapes)
            return False, err
        err = None
        shapes = None
        try:
            shapes, info.trainable, info.non_trainable = _keras_shape(graph.nodes, n, edges, in_shapes, trusted)
            _set_shapes(info, shapes)
        except UntrustedCode as e:   # code from the file, not trusted: a problem, nothing ran
            err = (Code.UNTRUSTED, str(e))
            info.shape = None
        except Exception as e:  # Keras tells us what is wrong; say it in plain words
            err = _keras_problem(graph.nodes, n, edges, in_shapes, e)
            info.shape = None
        self._memo[key] = (shapes, info.trainable, info.non_trainable, err)
        if len(self._memo) > self.MEMO_SIZE:
            self._memo.popitem(last=False)
        return True, err

    def prime(self, graph, known):
        """Seed the memo with shapes and weight counts already known, so the next ``run`` need not rebuild
        those layers (model import knows them from the loaded Keras model).
        ``known``: {node_id: (output shape with batch axis, trainable count, non-trainable count)}; the shape is a
        list of shapes for a node with several outputs."""
        ins = {}
        trusted = is_trusted(graph)
        for e in graph.edges:
            ins.setdefault(e.dst, []).append(e)

        def shape_at(src, port):
            s = known[src][0]
            if isinstance(s, list):
                return tuple(s[port]) if port < len(s) else None
            return tuple(s) if port == 0 else None
        for k, (shape, trainable, non_trainable) in known.items():
            n = graph.nodes.get(k)
            if n is None or n.type in ("Input", "Output") or n.settings.get(SHARES) in graph.nodes:
                continue
            srcs = sorted(ins.get(k, ()), key=lambda e: e.port)
            if any(e.src not in known for e in srcs):
                continue
            shapes = [tuple(s) for s in shape] if isinstance(shape, list) else [tuple(shape)]
            in_shapes = [shape_at(e.src, e.src_port) for e in srcs]
            if any(s is None for s in in_shapes):
                continue
            self._memo[node_key(n, in_shapes, trusted)] = (shapes, int(trainable), int(non_trainable), None)

    def _ensure_keras(self):
        if not self._ready:
            from .tfload import import_keras
            import_keras()
            self._ready = True


class _Wiring:
    """Who feeds whom: each node's input edges (by port), how many edges leave it, and the nodes feeding an Output."""

    def __init__(self, graph):
        nodes = graph.nodes
        self.in_edges = {k: [] for k in nodes}
        self.out_count = {k: 0 for k in nodes}
        for e in graph.edges:
            if e.dst in self.in_edges:
                self.in_edges[e.dst].append(e)
            if e.src in self.out_count:
                self.out_count[e.src] += 1
        for k in self.in_edges:
            self.in_edges[k].sort(key=lambda e: e.port)
        self.feeds_output = {e.src for e in graph.edges if e.dst in nodes and nodes[e.dst].type == "Output"}


def _graph_problems(graph, regularization, res):
    """Problems of the graph as a whole (no Input, no Output, bad regularization) into ``res``; returns the
    regularization to use (none when it is bad)."""
    nodes = graph.nodes
    if not any(n.type == "Input" for n in nodes.values()):
        res.problems.append(Problem(None, None, "there is no Input node: add one and set its shape", Code.NO_INPUT))
    if not any(n.type == "Output" for n in nodes.values()):
        res.problems.append(Problem(None, None, "there is no Output node: connect the last layer to an Output",
                                    Code.NO_OUTPUT))
    reg_problems = regularization_problems(regularization)
    for m in reg_problems:
        res.problems.append(Problem(None, None, m, Code.REGULARIZATION))
    return {} if reg_problems else regularization


def _cycle_problems(graph, res):
    """Nodes left out of the topological order are on a cycle: blocked, one problem each."""
    in_order = set(res.order)
    for k, n in graph.nodes.items():
        if k not in in_order:
            res.nodes[k] = NodeInfo(error="is on a cycle (its output feeds back into its own input)", blocked=True)
            res.problems.append(Problem(k, n.name, "is on a cycle: its output feeds back into its own input", Code.CYCLE))


def _structure_problems(n, wiring):
    """(code, message) for what is wrong with a node before any shape: its ports, where its output goes, its
    params and its settings."""
    spec = n.spec
    lo, hi = spec.inputs
    ports = [e.port for e in wiring.in_edges[n.id]]
    found = []
    if hi is not None and hi > 0 and (len(ports) < lo):
        missing = [spec.port_name(i) for i in range(max(lo, 1)) if i not in ports]
        found.append((Code.UNCONNECTED, f"input port {_names(missing)} is not connected" if lo == 1 else
                      f"needs {lo if lo == hi else f'at least {lo}'} inputs, has {len(ports)} connected"))
    elif ports and max(ports) + 1 != len(ports):
        gap = [spec.port_name(i) for i in range(min(max(ports), 10 ** 6)) if i not in ports]
        found.append((Code.UNCONNECTED, f"input port {_names(gap)} is not connected (ports are filled in order)"))
    if n.type != "Output" and wiring.out_count[n.id] == 0:
        found.append((Code.DANGLING, "its output goes nowhere: connect it to another layer or to an Output"))
    for p in spec.params:
        if p.name in n.params:
            err = p.value_error(n.params[p.name])
            if err:
                found.append((Code.PARAM, f"{p.name} {err}"))
    if n.type == "Op":
        from .ops import op_problem
        why = op_problem(n)
        if why:
            found.append((Code.PARAM, why))
    found += [(Code.SETTING, m) for m in node_settings_problems(n.settings)]
    return found


def _keras_shape(nodes, n, edges, in_shapes, trusted):
    """([shape of each output], trainable count, non-trainable count) of the node's layer (or operation) called on
    symbolic inputs."""
    import keras
    xs = [keras.KerasTensor(s, dtype=_dtype_of(nodes, e.src, e.src_port)) for s, e in zip(in_shapes, edges)]
    if n.type == "Op":
        from .ops import call_op
        y = call_op(n, xs)
        tr = ntr = 0
    else:
        layer = make_layer(n, None, trusted)
        y = call_layer(n, layer, xs)
        tr, ntr = count_weights(layer.trainable_weights), count_weights(layer.non_trainable_weights)
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    return [tuple(t.shape) for t in ys], tr, ntr


def _set_shapes(info, shapes):
    """The shapes of the node's outputs into ``info`` (``outputs`` only when there are several)."""
    if not shapes:
        info.shape, info.outputs = None, None
        return
    info.shape = shapes[0]
    info.outputs = list(shapes) if len(shapes) > 1 else None


def _missing_ports(graph, edges, res):
    """A message when an edge into the node leaves from an output port its source does not have, else None."""
    for e in edges:
        src = res.nodes.get(e.src)
        if e.src_port and src is not None and src.shape is not None and e.src_port >= src.output_count:
            s = graph.nodes[e.src]
            return (f"its input {e.port + 1} comes from output {e.src_port + 1} of {s.label()}, which has "
                    f"{src.output_count} output(s)")
    return None


# what Keras says when inputs of a merge do not fit together (its own words, passed on by plain_error)
_KERAS_SHAPE_MISMATCH = "incompatible shapes"


def _keras_problem(nodes, n, edges, in_shapes, exc):
    """(code, message) for an exception Keras raised on the node: inputs that do not fit together name both
    shapes (Code.SHAPE); anything else is Keras' reason in plain words (Code.LAYER)."""
    err = plain_error(exc, n)
    if _KERAS_SHAPE_MISMATCH in err or (n.type == "Concatenate" and "shape" in err):
        parts = [f"{shape_text(s)} from '{nodes[ed.src].name}'" for s, ed in zip(in_shapes, edges)]
        how = "must match on every axis but the join axis" if n.type == "Concatenate" else "must have the same shape"
        return Code.SHAPE, f"inputs {how}; got {' and '.join(parts)}"
    return Code.LAYER, err


def _names(ports, most=5):
    text = ", ".join(repr(m) for m in ports[:most])
    return text + (f" and {len(ports) - most:,} more" if len(ports) > most else "")


def _dtype_of(nodes, src, port=0):
    """The dtype of a node's output as far as inference needs it (an Input's own, else float32)."""
    n = nodes.get(src)
    if n is not None and n.type == "Input":
        return n.params.get("dtype", "float32")
    return "float32"


def node_key(n, in_shapes, trusted=False):
    """What a node's inferred shape and weight counts depend on (the memo key); ``trusted``: the session's
    trust in the project's code (a node with code is a problem without it)."""
    key = (n.type, _freeze(n.params), n.settings.get(TRAINABLE, True), tuple(in_shapes), bool(trusted),
           n.settings.get(OUTPUTS))
    call = n.settings.get(CALL)  # imported layers with their own call template
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
        shares = n.settings.get(SHARES)
        if n.weights is None or (isinstance(shares, str) and shares in graph.nodes):
            continue
        info = result.nodes.get(k)
        if info is None or info.shape is None or info.error:
            continue
        have = sum(int(getattr(w, "size", 1)) for w in n.weights)
        if have != info.params:
            out.append(Problem(k, n.name, f"the saved weights hold {have:,} values, but the layer has "
                                          f"{info.params:,} parameters; they do not fit", Code.WEIGHTS))
    return out
