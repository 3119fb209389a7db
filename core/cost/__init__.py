"""What a network costs, per node and in total, from shape inference alone (nothing is built per edit).

``graph_cost(graph, result, training=..., compile=...)`` takes an inference result (``core.infer``) and gives
every node's MACs per sample, parameters, weight bytes and activation bytes per sample, and the model's totals
at the project's batch size, including the optimizer's state: ``training_bytes`` = weights + optimizer slots +
activations × batch size. ``project_cost(project)`` runs inference first.

MACs follow TensorFlow's profiler: its float-operation count of the model at batch 1, halved; element-wise work
(bias adds, normalisation, pooling windows, softmax) counts too, by the conventions of ``core.cost.rules``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .rules import elems, layer_flops

VARIABLE_BYTES = 4   # weights and optimizer slots are float32 variables (mixed precision keeps them float32)
DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int32": 4, "int64": 8, "uint8": 1}
# optimizer state: slot variables per trainable weight (Adam: first and second moments; SGD: momentum when set)
OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "nadam": 2, "adamax": 2, "adadelta": 2, "ftrl": 2, "adagrad": 1,
                   "lion": 1, "rmsprop": 1, "sgd": 0}


@dataclass
class NodeCost:
    id: str
    name: str
    type: str
    flops: float = 0.0
    params: int = 0
    trainable: int = 0
    weight_bytes: int = 0
    activation_bytes: int = 0
    counted: bool = True       # False: no convention covers this layer class; its MACs count as 0

    @property
    def macs(self):
        return self.flops / 2

    def to_dict(self):
        d = asdict(self)
        d["macs"], d["flops"] = _number(self.macs), _number(self.flops)
        return d


@dataclass
class Totals:
    macs: float = 0.0
    flops: float = 0.0
    params: int = 0
    trainable: int = 0
    weight_bytes: int = 0
    activation_bytes: int = 0          # one sample
    batch_size: int = 1
    optimizer: str = "adam"
    optimizer_slots: int = 2
    optimizer_bytes: int = 0
    training_bytes: int = 0            # weights + optimizer state + activations of one batch

    def to_dict(self):
        d = asdict(self)
        d["macs"], d["flops"] = _number(self.macs), _number(self.flops)
        return d


def _number(x):
    """A count for JSON: an int when whole (an odd number of FLOPs gives half a MAC), else the float."""
    return int(x) if float(x).is_integer() else float(x)


@dataclass
class CostReport:
    nodes: dict = field(default_factory=dict)    # node id -> NodeCost, in build order
    total: Totals = field(default_factory=Totals)
    uncounted: list = field(default_factory=list)   # layer classes without a convention (counted as 0 MACs)

    def share(self, node_id, metric="macs"):
        """The node's fraction of the model's total ``metric`` ("macs", "activation_bytes", "weight_bytes", "params";
        "memory" is weights + activations)."""
        whole = sum(_metric(c, metric) for c in self.nodes.values())
        c = self.nodes.get(node_id)
        return _metric(c, metric) / whole if c is not None and whole > 0 else 0.0

    def top(self, metric="macs", n=5):
        """The ``n`` nodes with the largest ``metric``, largest first (nodes with none left out)."""
        ranked = sorted(self.nodes.values(), key=lambda c: _metric(c, metric), reverse=True)
        return [c for c in ranked[:n] if _metric(c, metric) > 0]

    def to_dict(self):
        return {"nodes": [c.to_dict() for c in self.nodes.values()], "total": self.total.to_dict(),
                "uncounted": list(self.uncounted)}


def _metric(c, metric):
    if metric == "memory":
        return c.weight_bytes + c.activation_bytes
    return c.macs if metric == "macs" else getattr(c, metric)


def optimizer_slots(compile_settings):
    """Slot variables per trainable weight of the project's optimizer (Adam 2, SGD with momentum 1, ...)."""
    opt = _mapping(_mapping(compile_settings).get("optimizer"))   # settings being edited may hold any JSON value
    name = str(opt.get("name", "adam")).lower()
    slots = OPTIMIZER_SLOTS.get(name, 2)
    if name == "sgd" and _positive(opt.get("momentum")):
        slots = 1
    if name == "rmsprop":
        slots += _positive(opt.get("momentum")) + (opt.get("centered") is True)
    if name == "adam" and opt.get("amsgrad") is True:
        slots += 1
    return name, slots


def _mapping(v):
    return v if isinstance(v, dict) else {}


def _positive(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


def compute_bytes(training_settings):
    """Bytes per activation value: float16 under mixed precision, else float32."""
    return 2 if _mapping(training_settings).get("mixed_precision") is True else 4


def graph_cost(graph, result, training=None, compile=None, trusted=False) -> CostReport:
    """Every node's cost from an inference ``result`` of ``graph``, and the totals (see the module doc)."""
    training = _mapping(training)
    act_bytes = compute_bytes(training)
    rep = CostReport()
    unknown = set()
    in_edges = {}
    for e in graph.edges:
        in_edges.setdefault(e.dst, []).append(e)
    for k in result.order:
        n, info = graph.nodes.get(k), result.nodes.get(k)
        if n is None or info is None:
            continue
        edges = sorted(in_edges.get(k, ()), key=lambda e: e.port)
        ins = [_src_shape(result, e) for e in edges]
        c = node_cost(n, info, ins, act_bytes, trusted, unknown)
        rep.nodes[k] = c
    rep.uncounted = sorted(unknown)
    rep.total = _totals(rep, training, compile)
    return rep


def _src_shape(result, edge):
    """The shape an edge carries: its source's output (the one of its output port, for a node with several)."""
    info = result.nodes.get(edge.src)
    if info is None:
        return None
    port = getattr(edge, "src_port", 0) or 0
    if hasattr(info, "output_shape"):
        return info.output_shape(port)
    return info.shape if port == 0 else None


def _out_shapes(info):
    """Every output's shape (a node with several outputs has them all in ``info.outputs``)."""
    outs = getattr(info, "outputs", None)
    if outs is None:
        outs = [info.shape]
    return [s for s in outs if isinstance(s, tuple)]


def node_cost(n, info, in_shapes, act_bytes=4, trusted=False, unknown=None):
    """One node's NodeCost from its inference info and input shapes."""
    outs = _out_shapes(info)
    c = NodeCost(n.id, n.name, _class_name(n), params=info.params, trainable=info.trainable,
                 weight_bytes=info.params * VARIABLE_BYTES)
    if n.type != "Output":
        c.activation_bytes = sum(elems(s) for s in outs) * _value_bytes(n, act_bytes)
    if not outs or any(s is None for s in in_shapes):
        return c
    c.flops, c.counted = _flops(n, in_shapes, outs[0], trusted, unknown)
    return c


def _value_bytes(n, act_bytes):
    if n.type == "Input":   # the input as given (int ids stay int)
        return DTYPE_BYTES.get(str(n.params.get("dtype", "float32")), 4)
    return act_bytes


def _class_name(n):
    return n.params.get("class_name", "KerasLayer") if n.type == "KerasLayer" else n.type


def _flops(n, in_shapes, out, trusted, unknown):
    """(FLOPs per sample, counted) of a node: its layer's rule, a group's inner layers, an op's values."""
    if n.type == "KerasLayer":
        cls = n.params.get("class_name", "")
        from .nested import MODEL_CLASSES, group_flops
        if cls in MODEL_CLASSES:
            f, inner_unknown = group_flops(n, in_shapes, trusted)
            if unknown is not None:
                unknown |= inner_unknown
            return f, not inner_unknown
        f, known = layer_flops(cls, n.params.get("config") or {}, in_shapes, out)
    else:
        spec = n.spec
        cls = spec.keras_class if spec is not None and spec.keras_class else n.type
        f, known = layer_flops(cls, n.params, in_shapes, out)
        if not known and (spec is None or not spec.weighted):
            return elems(out), True   # an operation node (keras.ops): element-wise work, 1 per output value
    if not known and unknown is not None:
        unknown.add(cls)
    return f, known


def _totals(rep, training, compile_settings):
    t = Totals()
    for c in rep.nodes.values():
        t.flops += c.flops
        t.params += c.params
        t.trainable += c.trainable
        t.weight_bytes += c.weight_bytes
        t.activation_bytes += c.activation_bytes
    t.macs = t.flops / 2
    b = training.get("batch_size", 32)
    t.batch_size = int(b) if isinstance(b, (int, float)) and not isinstance(b, bool) and 1 <= b <= 10 ** 9 else 32
    t.optimizer, t.optimizer_slots = optimizer_slots(compile_settings)
    t.optimizer_bytes = t.optimizer_slots * t.trainable * VARIABLE_BYTES
    t.training_bytes = t.weight_bytes + t.optimizer_bytes + t.activation_bytes * t.batch_size
    return t


def project_cost(project, result=None) -> CostReport:
    """The cost of a project's network (shape inference first when no ``result`` is given)."""
    from ..infer import check
    from ..trust import is_trusted
    if result is None:
        result = check(project.graph, project.regularization)
    return graph_cost(project.graph, result, project.training, project.compile, is_trusted(project.graph))


def count_text(n):
    """12 -> '12', 12_345 -> '12.3 k', 4.1e9 -> '4.1 G' (MACs, parameters)."""
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f}"


def bytes_text(n):
    """4096 -> '4.1 KB' (decimal units, as disk sizes)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"
