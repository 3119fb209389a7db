"""Project files: versioned JSON (never pickle), migrated on load, saved atomically.

A project is the graph plus the settings that go with it (optimizer, schedule, regularization, dataset,
training). Trained or imported weights live beside the project in ``<file>.weights.h5`` (HDF5 via h5py,
one group per layer name), so the JSON stays small and readable.
"""
from __future__ import annotations

import copy
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog
from .errors import ProjectError
from .graph import Graph, Node, NAME_RE

SCHEMA_VERSION = 1
EXTENSION = ".layerwise"

DEFAULT_COMPILE = {"optimizer": {"name": "adam", "learning_rate": 0.001},
                   "schedule": {"kind": "none"}}
DEFAULT_REGULARIZATION = {"l2": 0.0, "dropout": 0.0}
DEFAULT_TRAINING = {"epochs": 10, "batch_size": 32, "seed": 0, "device": "auto", "mixed_precision": False,
                    "early_stopping": {"enabled": False, "monitor": "val_loss", "patience": 5,
                                       "restore_best_weights": True}}
DEFAULT_DATA = {"source": "builtin", "name": "digits", "validation_split": 0.15, "test_split": 0.15, "seed": 0}


@dataclass
class Project:
    graph: Graph = field(default_factory=Graph)
    name: str = "untitled"
    description: str = ""
    compile: dict = field(default_factory=lambda: copy.deepcopy(DEFAULT_COMPILE))
    regularization: dict = field(default_factory=lambda: copy.deepcopy(DEFAULT_REGULARIZATION))
    data: dict = field(default_factory=lambda: copy.deepcopy(DEFAULT_DATA))
    training: dict = field(default_factory=lambda: copy.deepcopy(DEFAULT_TRAINING))
    path: Path | None = None
    extra: dict = field(default_factory=dict)  # unknown top-level keys are kept, so saving loses nothing

    def to_dict(self):
        d = {"format": "layerwise", "schema_version": SCHEMA_VERSION, "name": self.name,
             "description": self.description, "graph": self.graph.to_dict(),
             "compile": copy.deepcopy(self.compile), "regularization": copy.deepcopy(self.regularization),
             "data": copy.deepcopy(self.data), "training": copy.deepcopy(self.training)}
        for k, v in self.extra.items():
            d.setdefault(k, copy.deepcopy(v))
        return d

    @property
    def weights_path(self):
        return weights_path_for(self.path) if self.path else None

    def has_weights(self):
        return any(n.weights is not None for n in self.graph.nodes.values())

    def resolve(self, p):
        """A path from the project file, relative to the project's folder."""
        p = Path(os.path.expanduser(str(p)))
        if not p.is_absolute() and self.path is not None:
            p = self.path.parent / p
        return p


def weights_path_for(path):
    path = Path(path)
    return path.with_name(path.name + ".weights.h5")


# -- loading ------------------------------------------------------------------------------------------------
def migrate(d: dict) -> dict:
    """Bring an older project dict up to SCHEMA_VERSION. Version 0 (no schema_version) had nodes' params
    under "config"; later versions add steps here."""
    v = d.get("schema_version", 0)
    if v == 0:
        g = d.get("graph")
        if isinstance(g, dict):
            for n in g.get("nodes", []):
                if isinstance(n, dict) and "config" in n and "params" not in n:
                    n["params"] = n.pop("config")
        d["schema_version"] = 1
    return d


def project_from_dict(d, path=None) -> Project:
    where = f"{path}: " if path else ""
    if not isinstance(d, dict):
        raise ProjectError(f"{where}not a Layerwise project: expected a JSON object at the top, got {type(d).__name__}")
    v = d.get("schema_version", 0)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ProjectError(f"{where}schema_version must be an integer, got {v!r}")
    if v > SCHEMA_VERSION:
        raise ProjectError(f"{where}this project was saved by a newer Layerwise (schema_version {v}; "
                           f"this version reads up to {SCHEMA_VERSION}). Update Layerwise to open it.")
    if "graph" not in d:
        raise ProjectError(f"{where}not a Layerwise project: there is no \"graph\" key")
    d = migrate(copy.deepcopy(d))
    try:
        graph = parse_graph(d["graph"])
    except ProjectError as e:
        raise ProjectError(f"{where}{e}") from None
    p = Project(graph=graph, path=Path(path) if path else None)
    for key, default in (("compile", DEFAULT_COMPILE), ("regularization", DEFAULT_REGULARIZATION),
                         ("data", DEFAULT_DATA), ("training", DEFAULT_TRAINING)):
        val = d.get(key, {})
        if not isinstance(val, dict):
            raise ProjectError(f"{where}\"{key}\" must be an object, got {type(val).__name__}")
        merged = copy.deepcopy(default)
        _deep_update(merged, val)
        setattr(p, key, merged)
    name = d.get("name", Path(path).stem if path else "untitled")
    if not isinstance(name, str):
        raise ProjectError(f"{where}\"name\" must be text, got {name!r}")
    p.name = name
    p.description = str(d.get("description", ""))
    known = {"format", "schema_version", "name", "description", "graph", "compile", "regularization", "data",
             "training"}
    p.extra = {k: v for k, v in d.items() if k not in known}
    return p


def _deep_update(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _deep_update(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)


def validate_graph_dict(g):
    """Raise ProjectError when ``g`` is not a well-formed graph dict (shape, types, unknown layers, edges)."""
    if not isinstance(g, dict):
        raise ProjectError(f"\"graph\" must be an object with \"nodes\" and \"edges\", got {type(g).__name__}")
    nodes, edges = g.get("nodes"), g.get("edges", [])
    if not isinstance(nodes, list):
        raise ProjectError("\"graph.nodes\" must be a list")
    if not isinstance(edges, list):
        raise ProjectError("\"graph.edges\" must be a list")
    ids, names = set(), set()
    for i, nd in enumerate(nodes):
        if not isinstance(nd, dict):
            raise ProjectError(f"graph.nodes[{i}] must be an object, got {type(nd).__name__}")
        nid, typ, name = nd.get("id"), nd.get("type"), nd.get("name", nd.get("id"))
        if not isinstance(nid, str) or not nid:
            raise ProjectError(f"graph.nodes[{i}] has no \"id\" (text)")
        if nid in ids:
            raise ProjectError(f"node id {nid!r} is used twice")
        ids.add(nid)
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ProjectError(f"node {nid!r}: invalid name {name!r}")
        if name in names:
            raise ProjectError(f"node {nid!r}: the name {name!r} is used by two nodes")
        names.add(name)
        if not isinstance(typ, str):
            raise ProjectError(f"node '{name}' ({nid}): \"type\" must be text")
        spec = catalog.CATALOG.get(typ)
        if spec is None:
            raise ProjectError(f"node '{name}' ({nid}): unknown layer type {typ!r}")
        params = nd.get("params", {})
        if not isinstance(params, dict):
            raise ProjectError(f"node '{name}' ({nid}): \"params\" must be an object")
        for key, val in params.items():
            p = spec.param(key)
            if p is not None:
                err = p.type_error(val)
                if err:
                    raise ProjectError(f"node '{name}' ({nid}): param {key!r} {err}")
        if typ == "KerasLayer" and not isinstance(params.get("class_name"), str):
            raise ProjectError(f"node '{name}' ({nid}): a KerasLayer needs \"class_name\" (text)")
        pos = nd.get("pos", [0, 0])
        if not (isinstance(pos, (list, tuple)) and len(pos) == 2 and all(isinstance(v, (int, float)) for v in pos)):
            raise ProjectError(f"node '{name}' ({nid}): \"pos\" must be [x, y]")
        settings = nd.get("settings", {})
        if not isinstance(settings, dict):
            raise ProjectError(f"node '{name}' ({nid}): \"settings\" must be an object")
    for i, ed in enumerate(edges):
        if not isinstance(ed, dict):
            raise ProjectError(f"graph.edges[{i}] must be an object with src, dst, port")
        src, dst, port = ed.get("src"), ed.get("dst"), ed.get("port", 0)
        for end, val in (("src", src), ("dst", dst)):
            if val not in ids:
                raise ProjectError(f"edge {i} ({src} → {dst}): {end} {val!r} is not a node in the graph")
        if not isinstance(port, int) or isinstance(port, bool) or port < 0:
            raise ProjectError(f"edge {i} ({src} → {dst}): port must be a non-negative integer, got {port!r}")


def parse_graph(g) -> Graph:
    validate_graph_dict(g)
    graph = Graph()
    for nd in g["nodes"]:
        spec = catalog.CATALOG[nd["type"]]
        params = spec.defaults() if nd["type"] != "KerasLayer" else {}
        params.update(copy.deepcopy(nd.get("params", {})))
        node = Node(nd["id"], nd["type"], nd.get("name", nd["id"]), params, tuple(float(v) for v in nd.get("pos", (0, 0))),
                    dict(nd.get("settings", {})))
        graph.nodes[node.id] = node
    seen = set()
    for ed in g.get("edges", []):
        key = (ed["dst"], ed.get("port", 0))
        if key in seen:
            n = graph.nodes[ed["dst"]]
            raise ProjectError(f"node {n.label()}: input port {key[1] + 1} has two edges")
        seen.add(key)
        graph.edges.append(_edge(ed))
    # ids like n12 continue after the largest one
    nums = [int(k[1:]) for k in graph.nodes if k[:1] == "n" and k[1:].isdigit()]
    graph._next_id = max(nums, default=0) + 1
    return graph


def _edge(ed):
    from .graph import Edge
    return Edge(ed["src"], ed["dst"], int(ed.get("port", 0)))


def load_project(path, load_weights=True) -> Project:
    """Read a project file. Raises ProjectError with a one-line message on any problem with the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ProjectError(f"{path}: is a folder, not a project file") from None
    except UnicodeDecodeError:
        raise ProjectError(f"{path}: not a text file (a Layerwise project is JSON)") from None
    except OSError as e:
        raise ProjectError(f"{path}: cannot be read ({e.strerror})") from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProjectError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    project = project_from_dict(d, path)
    if load_weights:
        wp = weights_path_for(path)
        if wp.exists():
            try:
                read_weights(project.graph, wp)
            except Exception as e:  # a bad sidecar must not stop the project from opening
                project.extra.setdefault("_warnings", []).append(f"{wp.name}: weights not loaded ({e})")
    return project


def loads_project(text, path=None) -> Project:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProjectError(f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    return project_from_dict(d, path)


def atomic_write(path, data: bytes | str):
    """Write to a temporary file in the same folder, then rename over ``path``. The old file stays intact
    when anything fails."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def dumps_project(project: Project) -> str:
    d = project.to_dict()
    d.pop("_warnings", None)
    return json.dumps(d, indent=1, ensure_ascii=False) + "\n"


def save_project(project: Project, path=None, write_weights=True):
    """Save atomically (JSON, then the weights sidecar when there are weights). Sets ``project.path``."""
    path = Path(path or project.path)
    if path is None:
        raise ProjectError("no file name given")
    text = dumps_project(project)
    atomic_write(path, text)
    if write_weights and project.has_weights():
        write_weights_file(project.graph, weights_path_for(path))
    project.path = path
    return path


# -- weights sidecar ----------------------------------------------------------------------------------------
def write_weights_file(graph: Graph, path):
    import h5py
    import numpy as np
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = "layerwise-weights"
            f.attrs["schema_version"] = 1
            for n in graph.nodes.values():
                if n.weights is None:
                    continue
                grp = f.create_group(n.name)
                grp.attrs["type"] = n.type
                for i, w in enumerate(n.weights):
                    grp.create_dataset(f"{i:04d}", data=np.asarray(w))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_weights(graph: Graph, path):
    import h5py
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != "layerwise-weights":
            raise ProjectError(f"{path}: not a Layerwise weights file")
        for n in graph.nodes.values():
            if n.name in f:
                grp = f[n.name]
                n.weights = [grp[k][()] for k in sorted(grp.keys())]
