"""The network graph: layer nodes and edges, Qt-free, with plain-Python events, and its dict form.

A node has one output port, or several where its layer returns several tensors (an LSTM with
``return_state``: see ``output_count``); it has as many input ports as its catalog entry allows. An edge goes
from one output port of a node (``src_port``, 0 for the first or only output) to one input port of another
node. Every change goes through a method of ``Graph``, which emits an event, so views (the canvas, the
inspector) only have to listen.

The dict form (the ``"graph"`` of a project file, the clipboard) is read and written here too:
``Graph.to_dict``, ``Graph.from_dict`` and ``validate_graph_dict``, which refuses a malformed one with a
``ProjectError`` naming the node and the field. ``core.project`` builds on this module, never the reverse.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import copy
import math
import re

from . import catalog
from .errors import GraphError, ProjectError, short
from .events import EventGroup
from .validate import node_settings_problems

MAX_NAME = 100            # characters in a node name
MAX_POS = 1e7             # |x| and |y| of a node's position on the canvas
MAX_ID = 100              # characters of a node id
MAX_NODES = 5000          # nodes in a graph read from a file
MAX_EDGES = 20000         # edges in a graph read from a file
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,%d}$" % (MAX_NAME - 1))
NAME_RULE = f"use letters, digits, '_', '-' or '.', starting with a letter, at most {MAX_NAME} characters"


def name_ok(name):
    return isinstance(name, str) and len(name) <= MAX_NAME and NAME_RE.match(name) is not None


def position_error(pos):
    """Why ``pos`` is not a canvas position (two finite numbers within ±MAX_POS), else None."""
    if not (isinstance(pos, (list, tuple)) and len(pos) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)):
        return f"must be two numbers [x, y], got {short(pos)}"
    if not all(math.isfinite(v) for v in pos):
        return f"must be two finite numbers, got {short(list(pos))}"
    if any(abs(v) > MAX_POS for v in pos):
        return f"must be two numbers between {-MAX_POS:g} and {MAX_POS:g}, got {short(list(pos))}"
    return None


def clamp_position(pos):
    """A canvas position from two numbers: NaN becomes 0, anything beyond ±MAX_POS (inf too) is clamped. Edits
    never fail on a position (a file with such positions is refused when it is read)."""
    try:
        x, y = (float(v) for v in pos)
    except (TypeError, ValueError):
        raise GraphError(f"a position must be two numbers [x, y], got {short(pos)}") from None
    return tuple(0.0 if v != v else max(-MAX_POS, min(MAX_POS, v)) for v in (x, y))


@dataclass
class Node:
    id: str
    type: str
    name: str
    params: dict = field(default_factory=dict)
    pos: tuple = (0.0, 0.0)
    # per-node overrides of the global regularization: {"l2": float|None, "global_dropout": bool}
    # and "trainable": False to freeze the layer.
    settings: dict = field(default_factory=dict)
    weights: list | None = field(default=None, repr=False, compare=False)  # numpy arrays, not in JSON

    @property
    def spec(self):
        return catalog.CATALOG.get(self.type)

    def label(self):
        return f"'{self.name}' ({self.id})"

    def to_dict(self):
        d = {"id": self.id, "type": self.type, "name": self.name, "params": copy.deepcopy(self.params),
             "pos": [round(float(self.pos[0]), 2), round(float(self.pos[1]), 2)]}
        if self.settings:
            d["settings"] = copy.deepcopy(self.settings)
        return d


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    port: int = 0          # the input port of dst
    src_port: int = 0      # the output port of src (0: its first or only output)

    def to_dict(self):
        d = {"src": self.src, "dst": self.dst, "port": self.port}
        if self.src_port:
            d["src_port"] = self.src_port   # files without it (and older files) mean 0
        return d


def output_count(node) -> int:
    """How many output ports ``node`` has: one, or one per tensor its layer returns (an RNN with
    ``return_state``: the output and each state; an imported layer that returned several tensors)."""
    from .node_settings import OUTPUTS
    if node.type == "Output":
        return 0
    own = node.settings.get(OUTPUTS)
    if isinstance(own, int) and not isinstance(own, bool) and own > 1:
        return own
    p = node.params if node.type != "KerasLayer" else (node.params.get("config") or {})
    if not isinstance(p, dict) or p.get("return_state") is not True:
        return 1
    layer = node.type if node.type != "KerasLayer" else node.params.get("class_name")
    if node.type == "Bidirectional":
        layer, twice = p.get("layer", "LSTM"), 2
    else:
        twice = 1
    states = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1}.get(layer)
    return 1 + twice * states if states else 1


class Graph:
    """Nodes and edges, with events:

    node_added(node), node_removed(node), edge_added(edge), edge_removed(edge),
    param_changed(node, key), node_moved(node), node_renamed(node), settings_changed(node),
    changed() — after any change (listeners re-infer shapes).
    """

    def __init__(self):
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self._next_id = 1
        self.revision = 0  # bumps on every change; builds remember which revision they came from
        self.trusted = False  # this session trusts the project's code (core.trust); never saved, never read from a file
        self.events = EventGroup("node_added", "node_removed", "edge_added", "edge_removed", "param_changed",
                                 "node_moved", "node_renamed", "settings_changed", "changed")

    # -- queries -----------------------------------------------------------------------------------------
    def node(self, node_id) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"no node with id {short(node_id)}") from None

    def by_name(self, name):
        for n in self.nodes.values():
            if n.name == name:
                return n
        return None

    def in_edges(self, node_id):
        return sorted((e for e in self.edges if e.dst == node_id), key=lambda e: e.port)

    def out_edges(self, node_id):
        return [e for e in self.edges if e.src == node_id]

    def inputs_of(self, node_id):
        """Source node ids in port order."""
        return [e.src for e in self.in_edges(node_id)]

    def input_nodes(self):
        return [n for n in self.nodes.values() if n.type == "Input"]

    def output_nodes(self):
        return [n for n in self.nodes.values() if n.type == "Output"]

    def port_count(self, node_id):
        """How many input ports the node shows: its minimum, or one more than connected for variadic ones."""
        n = self.node(node_id)
        spec = n.spec
        lo, hi = spec.inputs if spec else (1, 1)
        used = max([e.port + 1 for e in self.in_edges(node_id)], default=0)
        if hi is None:
            return max(lo, used + 1)
        if lo != hi:
            return max(lo, min(hi, used + 1))
        return hi

    def downstream(self, node_id):
        """Ids of every node reachable from ``node_id`` (itself included)."""
        seen, stack = set(), [node_id]
        out = {}
        for e in self.edges:
            out.setdefault(e.src, []).append(e.dst)
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            stack.extend(out.get(k, ()))
        return seen

    def would_cycle(self, src, dst):
        return src == dst or src in self.downstream(dst)

    def find_cycles(self):
        """Node ids that lie on a cycle."""
        order = self.topological_order(strict=False)
        return [k for k in self.nodes if k not in order]

    def topological_order(self, strict=True):
        """Node ids so that each node comes after its inputs. Nodes on a cycle are left out (or raise)."""
        indeg = {k: 0 for k in self.nodes}
        out = {k: [] for k in self.nodes}
        for e in self.edges:
            if e.src in indeg and e.dst in indeg:
                indeg[e.dst] += 1
                out[e.src].append(e.dst)
        ready = [k for k in self.nodes if indeg[k] == 0]
        order = []
        while ready:
            k = ready.pop(0)
            order.append(k)
            for d in out[k]:
                indeg[d] -= 1
                if indeg[d] == 0:
                    ready.append(d)
        if strict and len(order) != len(self.nodes):
            bad = [self.nodes[k].label() for k in self.nodes if k not in order]
            raise GraphError(f"the graph has a cycle through {', '.join(bad)}")
        return order

    # -- edits -------------------------------------------------------------------------------------------
    def new_id(self):
        while f"n{self._next_id}" in self.nodes:
            self._next_id += 1
        nid = f"n{self._next_id}"
        self._next_id += 1
        return nid

    def unique_name(self, base):
        base = re.sub(r"[^A-Za-z0-9_.\-]", "_", str(base)[:MAX_NAME - 8]) or "layer"
        if not NAME_RE.match(base):
            base = "l_" + base
        names = {n.name for n in self.nodes.values()}
        if base not in names:
            return base
        m = re.match(r"^(.*?)(?:_(\d+))?$", base)
        stem = m.group(1)
        i = int(m.group(2) or 1)
        while f"{stem}_{i}" in names:
            i += 1
        return f"{stem}_{i}"

    def add_node(self, type_name, params=None, name=None, pos=(0.0, 0.0), node_id=None, settings=None):
        spec = catalog.CATALOG.get(type_name)
        if spec is None:
            raise GraphError(f"unknown layer type {short(type_name)}")
        full = spec.defaults() if type_name != "KerasLayer" else {}
        if params:
            full.update(copy.deepcopy(params))
        if node_id is None:
            node_id = self.new_id()
        elif node_id in self.nodes:
            raise GraphError(f"a node with id {short(node_id)} already exists")
        pos = clamp_position(pos)
        if name is None:
            base = type_name if type_name != "KerasLayer" else str(full.get("class_name", "layer"))
            name = self.unique_name(_snake(base))
        elif not name_ok(name):
            raise GraphError(f"invalid node name {short(name)}: {NAME_RULE}")
        elif self.by_name(name) is not None:
            raise GraphError(f"a node named {short(name)} already exists")
        node = Node(node_id, type_name, name, full, (float(pos[0]), float(pos[1])), dict(settings or {}))
        self.nodes[node_id] = node
        self._touch()
        self.events.node_added.emit(node)
        self.events.changed.emit()
        return node

    def insert_node(self, node: Node, edges=(), index=None):
        """Put back a node (with its id and weights) and edges, e.g. for undo; ``index`` restores its place
        in the node order (which fixes the order of the model's inputs and outputs)."""
        if node.id in self.nodes:
            raise GraphError(f"a node with id {short(node.id)} already exists")
        if index is None or index >= len(self.nodes):
            self.nodes[node.id] = node
        else:
            items = list(self.nodes.items())
            items.insert(index, (node.id, node))
            self.nodes = dict(items)
        self._touch()
        self.events.node_added.emit(node)
        for e in edges:
            self.connect(e.src, e.dst, e.port, e.src_port)
        self.events.changed.emit()

    def index_of(self, node_id):
        return list(self.nodes).index(node_id)

    def remove_node(self, node_id):
        """Remove a node and its edges; returns (node, removed edges). ``index_of`` before removal gives
        the place to restore with ``insert_node(node, edges, index)``."""
        node = self.node(node_id)
        removed = [e for e in self.edges if e.src == node_id or e.dst == node_id]
        for e in removed:
            self.edges.remove(e)
            self.events.edge_removed.emit(e)
        del self.nodes[node_id]
        self._touch()
        self.events.node_removed.emit(node)
        self.events.changed.emit()
        return node, removed

    def can_connect(self, src, dst, port=None, src_port=0):
        """Return None when the connection is allowed, else the reason in plain words."""
        if src not in self.nodes or dst not in self.nodes:
            return "no such node"
        s, d = self.nodes[src], self.nodes[dst]
        if s.type == "Output":
            return f"{s.label()} is an Output: it has no output port to connect from"
        if not isinstance(src_port, int) or src_port < 0 or src_port >= output_count(s):
            return f"{s.label()} has no output port {short(src_port)}; it has {output_count(s)}"
        spec = d.spec
        lo, hi = spec.inputs if spec else (1, 1)
        if hi == 0:
            return f"{d.label()} is an Input: it takes no inputs"
        if src == dst:
            return f"{d.label()} cannot be connected to itself"
        if self.would_cycle(src, dst):
            return f"connecting {s.label()} to {d.label()} would make a cycle"
        if port is not None:
            if port < 0 or (hi is not None and port >= hi):
                return f"{d.label()} ({d.type}) has no input port {port + 1}; it takes {_count(lo, hi)}"
            if any(e.dst == dst and e.port == port for e in self.edges):
                return f"input port {port + 1} of {d.label()} is already connected"
        elif hi is not None and len(self.in_edges(dst)) >= hi:
            return f"{d.label()} ({d.type}) takes {_count(lo, hi)}, and all are connected"
        return None

    def free_port(self, dst):
        used = {e.port for e in self.in_edges(dst)}
        i = 0
        while i in used:
            i += 1
        return i

    def connect(self, src, dst, port=None, src_port=0):
        if port is None:
            port = self.free_port(dst)
        why = self.can_connect(src, dst, port, src_port)
        if why:
            raise GraphError(why)
        e = Edge(src, dst, int(port), int(src_port))
        self.edges.append(e)
        self._touch()
        self.events.edge_added.emit(e)
        self.events.changed.emit()
        return e

    def disconnect(self, edge: Edge):
        if edge not in self.edges:
            raise GraphError(f"no edge from {edge.src} to {edge.dst} port {edge.port}")
        self.edges.remove(edge)
        self._touch()
        self.events.edge_removed.emit(edge)
        self.events.changed.emit()

    def set_param(self, node_id, key, value):
        node = self.node(node_id)
        spec = node.spec
        p = spec.param(key) if spec else None
        if p is not None:
            err = p.type_error(value)
            if err:
                raise GraphError(f"{node.label()}: {key} {err}")
        old = node.params.get(key)
        node.params[key] = copy.deepcopy(value)
        self._touch()
        self.events.param_changed.emit(node, key)
        self.events.changed.emit()
        return old

    def set_setting(self, node_id, key, value):
        node = self.node(node_id)
        old = node.settings.get(key)
        if value is None:
            node.settings.pop(key, None)
        else:
            node.settings[key] = value
        self._touch()
        self.events.settings_changed.emit(node)
        self.events.changed.emit()
        return old

    def move(self, node_id, pos):
        """Move a node (the position is clamped to the canvas: see ``clamp_position``)."""
        node = self.node(node_id)
        node.pos = clamp_position(pos)
        self.events.node_moved.emit(node)

    def rename(self, node_id, name):
        node = self.node(node_id)
        if name == node.name:
            return name
        if not name_ok(name):
            raise GraphError(f"invalid node name {short(name)}: {NAME_RULE}")
        if self.by_name(name) is not None:
            raise GraphError(f"a node named {short(name)} already exists")
        old, node.name = node.name, name
        self._touch()
        self.events.node_renamed.emit(node)
        self.events.changed.emit()
        return old

    def clear(self):
        for k in list(self.nodes):
            self.remove_node(k)

    def _touch(self):
        self.revision += 1

    # -- (de)serialisation ----------------------------------------------------------------------------------
    def to_dict(self, node_ids=None):
        keep = set(self.nodes) if node_ids is None else set(node_ids)
        return {"nodes": [n.to_dict() for k, n in self.nodes.items() if k in keep],
                "edges": [e.to_dict() for e in self.edges if e.src in keep and e.dst in keep]}

    @classmethod
    def from_dict(cls, d):
        """Build a graph from its dict form (ids, names and weights-free nodes as given, catalog defaults for the
        params it leaves out); raises ProjectError with a one-line message on bad data (see validate_graph_dict)."""
        validate_graph_dict(d)
        graph = cls()
        for nd in d["nodes"]:
            spec = catalog.CATALOG[nd["type"]]
            params = spec.defaults() if nd["type"] != "KerasLayer" else {}
            params.update(copy.deepcopy(nd.get("params", {})))
            node = Node(nd["id"], nd["type"], nd.get("name", nd["id"]), params,
                        tuple(float(v) for v in nd.get("pos", (0, 0))), dict(nd.get("settings", {})))
            graph.nodes[node.id] = node
        seen = set()
        for ed in d.get("edges", []):
            key = (ed["dst"], ed.get("port", 0))
            if key in seen:
                raise ProjectError(f"node {graph.nodes[ed['dst']].label()}: input port {key[1] + 1} has two edges")
            seen.add(key)
            graph.edges.append(Edge(ed["src"], ed["dst"], int(ed.get("port", 0)), int(ed.get("src_port", 0))))
        # ids like n12 continue after the largest one
        nums = [int(k[1:]) for k in graph.nodes if k[:1] == "n" and k[1:].isdigit()]
        graph._next_id = max(nums, default=0) + 1
        return graph

    def paste(self, d, offset=(40.0, 40.0)):
        """Add the nodes and edges of a ``to_dict`` fragment with fresh ids and names. Returns the new ids."""
        validate_graph_dict(d)
        mapping = {}
        for nd in d["nodes"]:
            name = self.unique_name(nd.get("name") or _snake(nd["type"]))
            x, y = nd.get("pos", (0, 0))
            n = self.add_node(nd["type"], nd.get("params"), name=name, pos=(x + offset[0], y + offset[1]),
                              settings=nd.get("settings"))
            mapping[nd["id"]] = n.id
        for ed in d["edges"]:
            if ed["src"] in mapping and ed["dst"] in mapping:
                self.connect(mapping[ed["src"]], mapping[ed["dst"]], ed.get("port", 0), ed.get("src_port", 0))
        return list(mapping.values())


def validate_graph_dict(g):
    """Raise ProjectError when ``g`` is not a well-formed graph dict (shape, types, unknown layers, edges, node
    settings, sizes). Messages name the node and the field and echo at most a few dozen characters of a value."""
    if not isinstance(g, dict):
        raise ProjectError(f"\"graph\" must be an object with \"nodes\" and \"edges\", got {short(g)}")
    nodes, edges = g.get("nodes"), g.get("edges", [])
    if not isinstance(nodes, list):
        raise ProjectError(f"\"graph.nodes\" must be a list, got {short(nodes)}")
    if not isinstance(edges, list):
        raise ProjectError(f"\"graph.edges\" must be a list, got {short(edges)}")
    if len(nodes) > MAX_NODES:
        raise ProjectError(f"\"graph.nodes\": too many nodes ({len(nodes):,}); a project holds at most {MAX_NODES:,}")
    if len(edges) > MAX_EDGES:
        raise ProjectError(f"\"graph.edges\": too many edges ({len(edges):,}); a project holds at most {MAX_EDGES:,}")
    ids, names, types = set(), set(), {}
    for i, nd in enumerate(nodes):
        _validate_node_dict(i, nd, ids, names, types)
    for i, ed in enumerate(edges):
        _validate_edge_dict(i, ed, ids, types)


def _validate_node_dict(i, nd, ids, names, types):
    """Raise ProjectError when graph.nodes[i] is malformed; add its id, name and catalog entry to the others'."""
    if not isinstance(nd, dict):
        raise ProjectError(f"graph.nodes[{i}] must be an object, got {short(nd)}")
    nid, typ, name = nd.get("id"), nd.get("type"), nd.get("name", nd.get("id"))
    if not isinstance(nid, str) or not nid:
        raise ProjectError(f"graph.nodes[{i}] has no \"id\" (text), got {short(nid)}")
    if len(nid) > MAX_ID or not nid.isprintable():
        raise ProjectError(f"graph.nodes[{i}]: the id {short(nid)} must be printable text of at most {MAX_ID} "
                           f"characters")
    if nid in ids:
        raise ProjectError(f"node id {short(nid)} is used twice")
    ids.add(nid)
    if not name_ok(name):
        raise ProjectError(f"node {short(nid)}: invalid name {short(name)}: {NAME_RULE}")
    if name in names:
        raise ProjectError(f"node {short(nid)}: the name {short(name)} is used by two nodes")
    names.add(name)
    label = f"node '{name}' ({nid})"
    if not isinstance(typ, str):
        raise ProjectError(f"{label}: \"type\" must be text, got {short(typ)}")
    spec = catalog.CATALOG.get(typ)
    if spec is None:
        raise ProjectError(f"{label}: unknown layer type {short(typ)}")
    types[nid] = spec
    params = nd.get("params", {})
    if not isinstance(params, dict):
        raise ProjectError(f"{label}: \"params\" must be an object, got {short(params)}")
    for key, val in params.items():
        p = spec.param(key)
        if p is not None:
            err = p.type_error(val)
            if err:
                raise ProjectError(f"{label}: param {short(key)} {err}")
    if typ == "KerasLayer" and not isinstance(params.get("class_name"), str):
        raise ProjectError(f"{label}: a KerasLayer needs \"class_name\" (text)")
    why = position_error(nd.get("pos", [0, 0]))
    if why:
        raise ProjectError(f"{label}: \"pos\" {why}")
    settings = nd.get("settings", {})
    if not isinstance(settings, dict):
        raise ProjectError(f"{label}: \"settings\" must be an object, got {short(settings)}")
    problems = node_settings_problems(settings)
    if problems:
        raise ProjectError(f"{label}: {problems[0]}")


def _validate_edge_dict(i, ed, ids, types):
    """Raise ProjectError when graph.edges[i] is malformed or names a node or port the graph does not have."""
    if not isinstance(ed, dict):
        raise ProjectError(f"graph.edges[{i}] must be an object with src, dst, port, got {short(ed)}")
    src, dst, port = ed.get("src"), ed.get("dst"), ed.get("port", 0)
    text = f"edge {i} ({short(src, 30)} → {short(dst, 30)})"
    for end, val in (("src", src), ("dst", dst)):
        if not isinstance(val, str) or val not in ids:
            raise ProjectError(f"{text}: {end} {short(val)} is not a node in the graph")
    if not isinstance(port, int) or isinstance(port, bool) or port < 0:
        raise ProjectError(f"{text}: port must be a non-negative integer, got {short(port)}")
    src_port = ed.get("src_port", 0)
    if not isinstance(src_port, int) or isinstance(src_port, bool) or not 0 <= src_port < 1000:
        raise ProjectError(f"{text}: \"src_port\" must be an integer from 0 to 999, got {short(src_port)}")
    hi = types[dst].inputs[1]
    if port >= (MAX_EDGES if hi is None else hi):
        takes = "no inputs" if hi == 0 else f"{hi} input(s)" if hi else f"at most {MAX_EDGES:,} inputs"
        raise ProjectError(f"{text}: \"port\" is {short(port)}, but {types[dst].type} takes {takes} "
                           f"(ports count from 0)")


def _count(lo, hi):
    if hi is None:
        return f"{lo} or more inputs"
    if lo == hi:
        return f"{hi} input{'s' if hi != 1 else ''}"
    return f"{lo} to {hi} inputs"


def _snake(name):
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower().replace("2_d", "2d").replace("1_d", "1d").replace("3_d", "3d")
