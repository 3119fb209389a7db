"""Project files: versioned JSON (never pickle), migrated on load, saved atomically.

A project is the graph plus the settings that go with it (optimizer, schedule, regularization, dataset,
training). Trained or imported weights live beside the project in ``<file>.weights.h5`` (HDF5 via h5py,
one group per layer name), so the JSON stays small and readable.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

from . import settings
from .atomic import atomic_write, replacing
from .errors import ProjectError, WeightsError, short
from .events import EventGroup
from .graph import Graph

SCHEMA_VERSION = 1
EXTENSION = ".layerwise"

# limits on what a project file may hold: a file beyond them is refused with a message, before any work
MAX_FILE_BYTES = 50 * 2 ** 20       # a project file (the JSON; weights live in the sidecar)
MAX_DEPTH = 100                     # levels of nested objects/lists (a nested model's config is ~15)
MAX_PROJECT_NAME = 200              # characters of the project's name
MAX_DESCRIPTION = 100_000           # characters of its description
MAX_WEIGHT_VALUES = 2 ** 31         # numbers in a weights sidecar (8 GB as float32)

DEFAULT_COMPILE = settings.DEFAULTS["compile"]
DEFAULT_REGULARIZATION = settings.DEFAULTS["regularization"]
DEFAULT_TRAINING = settings.DEFAULTS["training"]
DEFAULT_DATA = settings.DEFAULTS["data"]

_DEFAULT = object()


def _section(key):
    def get(self):
        return self._settings[key].value

    def put(self, value):
        self._settings[key].replace(value)

    return property(get, put, doc=f"The project's {key} settings (a core.settings.Settings; assigning replaces "
                                  f"its content and tells its listeners)")


def _announced(key):
    def get(self):
        return self.__dict__[key]

    def put(self, value):
        self.__dict__[key] = value
        self.events.settings_changed.emit(key, ())

    return property(get, put)


class Project:
    """The graph plus the settings that go with it.

    ``compile``, ``regularization``, ``data`` and ``training`` are ``core.settings.Settings`` objects: read them
    like dicts, write them with ``project.training.set(("early_stopping", "patience"), 3)`` (or ``s[key] = v``,
    ``update``; assigning a whole section replaces its content in place). ``project.settings(section)`` is the
    section's object even while it holds a value that is not an object. Every write, and a change of ``name`` or
    ``description``, emits ``project.events.settings_changed(section, path)``; each section also has its own
    ``events.changed(section, path)``."""

    compile = _section("compile")
    regularization = _section("regularization")
    data = _section("data")
    training = _section("training")
    name = _announced("name")
    description = _announced("description")

    def __init__(self, graph=None, name="untitled", description="", compile=_DEFAULT, regularization=_DEFAULT,
                 data=_DEFAULT, training=_DEFAULT, path=None, extra=None, weights_error=None):
        self.events = EventGroup("settings_changed")   # settings_changed(section, path)
        self._settings = {}
        given = {"compile": compile, "regularization": regularization, "data": data, "training": training}
        for key in settings.SECTIONS:
            s = settings.Settings(key) if given[key] is _DEFAULT else settings.Settings(key, given[key])
            s.events.changed.connect(self.events.settings_changed.emit)
            self._settings[key] = s
        self.graph = graph if graph is not None else Graph()
        self.__dict__["name"] = name
        self.__dict__["description"] = description
        self.path = path
        self.extra = {} if extra is None else extra   # unknown top-level keys are kept, so saving loses nothing
        # why the weights sidecar was not loaded (garbage, truncated, a folder...); None when it was, or there is none
        self.weights_error = weights_error

    def settings(self, section) -> settings.Settings:
        """The Settings object of a section ("compile", "regularization", "data", "training")."""
        return self._settings[section]

    _COMPARED = ("graph", "name", "description", "compile", "regularization", "data", "training", "path", "extra")

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self._COMPARED)

    __hash__ = None

    def __repr__(self):
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._COMPARED)
        return f"Project({inner})"

    def __deepcopy__(self, memo):
        """An independent copy (graph, settings, weights); listeners stay with the original."""
        c = Project(graph=copy.deepcopy(self.graph, memo), name=self.name, description=self.description,
                    path=self.path, extra=copy.deepcopy(self.extra, memo), weights_error=self.weights_error,
                    **{k: self._settings[k].to_dict() for k in settings.SECTIONS})
        return c

    def to_dict(self):
        d = {"format": "layerwise", "schema_version": SCHEMA_VERSION, "name": self.name,
             "description": self.description, "graph": self.graph.to_dict(),
             **{k: self._settings[k].to_dict() for k in settings.SECTIONS}}
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
        if isinstance(g, dict) and isinstance(g.get("nodes"), list):
            for n in g["nodes"]:
                if isinstance(n, dict) and "config" in n and "params" not in n:
                    n["params"] = n.pop("config")
        d["schema_version"] = 1
    return d


def project_from_dict(d, path=None) -> Project:
    """A Project from its dict form. Raises ProjectError (one line, naming the file and the field or node) for
    anything that is not a well-formed project, settings included; never another exception."""
    where = f"{path}: " if path else ""
    try:
        return _project_from_dict(d, path, where)
    except RecursionError:
        raise ProjectError(f"{where}nested too deeply (more than {MAX_DEPTH} levels of objects and lists)") from None


def _project_from_dict(d, path, where):
    if not isinstance(d, dict):
        raise ProjectError(f"{where}not a Layerwise project: expected a JSON object at the top, got {type(d).__name__}")
    deep = _too_deep(d)
    if deep:
        raise ProjectError(f"{where}{deep}: nested too deeply (more than {MAX_DEPTH} levels of objects and lists)")
    fmt = d.get("format", "layerwise")
    if fmt != "layerwise":
        raise ProjectError(f"{where}\"format\" is {short(fmt)}: not a Layerwise project (a project file says "
                           f"\"format\": \"layerwise\")")
    v = d.get("schema_version", 0)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ProjectError(f"{where}schema_version must be an integer, got {short(v)}")
    if v < 0:
        raise ProjectError(f"{where}schema_version must be 0 or more, got {v}")
    if v > SCHEMA_VERSION:
        raise ProjectError(f"{where}this project was saved by a newer Layerwise (schema_version {v}; "
                           f"this version reads up to {SCHEMA_VERSION}). Update Layerwise to open it.")
    if "graph" not in d:
        raise ProjectError(f"{where}not a Layerwise project: there is no \"graph\" key")
    d = migrate(copy.deepcopy(d))
    try:
        graph = Graph.from_dict(d["graph"])
    except ProjectError as e:
        raise ProjectError(f"{where}{e}") from None
    p = Project(graph=graph, path=Path(path) if path else None)
    for key, default in (("compile", DEFAULT_COMPILE), ("regularization", DEFAULT_REGULARIZATION),
                         ("data", DEFAULT_DATA), ("training", DEFAULT_TRAINING)):
        val = d.get(key, {})
        if not isinstance(val, dict):
            raise ProjectError(f"{where}\"{key}\" must be an object, got {short(val)}")
        merged = copy.deepcopy(default)
        _deep_update(merged, val)
        setattr(p, key, merged)
    name = d.get("name", Path(path).stem if path else "untitled")
    if not isinstance(name, str):
        raise ProjectError(f"{where}\"name\" must be text, got {short(name)}")
    if len(name) > MAX_PROJECT_NAME:
        raise ProjectError(f"{where}\"name\" is {len(name):,} characters long; at most {MAX_PROJECT_NAME} are allowed")
    p.name = name
    desc = d.get("description", "")
    if desc is None:
        desc = ""
    if not isinstance(desc, str):
        raise ProjectError(f"{where}\"description\" must be text, got {short(desc)}")
    if len(desc) > MAX_DESCRIPTION:
        raise ProjectError(f"{where}\"description\" is {len(desc):,} characters long; at most "
                           f"{MAX_DESCRIPTION:,} are allowed")
    p.description = desc
    from .validate import section_problems
    problems = section_problems(p)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s) in the settings)" if len(problems) > 1 else ""
        raise ProjectError(f"{where}{problems[0]}{more}")
    if "sweep" in d:   # the search space and settings of sweeps: kept in extra, checked here
        from .experiments.sweep_section import section_problem
        problem = section_problem(d["sweep"])
        if problem:
            raise ProjectError(f"{where}{problem}")
    known = {"format", "schema_version", "name", "description", "graph", "compile", "regularization", "data",
             "training", "_warnings"}   # (_warnings: messages of this session, never read from a file)
    p.extra = {k: v for k, v in d.items() if k not in known}
    return p


def _too_deep(d):
    """The path of the first value nested more than MAX_DEPTH levels deep in ``d``, else None (no recursion)."""
    stack = [(d, 0, "")]
    while stack:
        obj, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            return where.lstrip(".") or "the file"
        if isinstance(obj, dict):
            stack.extend((v, depth + 1, f"{where}.{str(k)[:40]}" if depth < 6 else where) for k, v in obj.items()
                         if isinstance(v, (dict, list)))
        elif isinstance(obj, list):
            stack.extend((v, depth + 1, f"{where}[{i}]" if depth < 6 else where) for i, v in enumerate(obj)
                         if isinstance(v, (dict, list)))
    return None


def _deep_update(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _deep_update(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)


def load_project(path, load_weights=True) -> Project:
    """Read a project file. Raises ProjectError with a one-line message on any problem with the file.

    A weights sidecar that cannot be read does not stop the project from opening: the project opens with fresh
    weights, ``project.weights_error`` says why (the command line refuses to export or continue from them) and
    ``project.extra["_warnings"]`` holds the message for the window."""
    path = Path(path)
    text = _read_text(path)
    project = _parse(text, path)
    if load_weights:
        wp = weights_path_for(path)
        if wp.exists() or wp.is_symlink():
            try:
                read_weights(project.graph, wp)
            except WeightsError as e:
                project.weights_error = str(e)
                project.extra.setdefault("_warnings", []).append(
                    f"{e}: the weights were not loaded, so the network starts from fresh weights")
    return project


def _read_text(path):
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except OSError as e:
        raise ProjectError(f"{path}: cannot be read ({e.strerror or e})") from None
    if path.is_dir():
        raise ProjectError(f"{path}: is a folder, not a project file")
    if not path.is_file():
        raise ProjectError(f"{path}: not a regular file (a Layerwise project is a JSON file)")
    if st.st_size > MAX_FILE_BYTES:
        raise ProjectError(f"{path}: {_mb(st.st_size)} is too large for a project file (at most "
                           f"{_mb(MAX_FILE_BYTES)}; trained weights go in the .weights.h5 file beside it)")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        raise ProjectError(f"{path}: is a folder, not a project file") from None
    except OSError as e:
        raise ProjectError(f"{path}: cannot be read ({e.strerror or e})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ProjectError(f"{path}: too large for a project file (at most {_mb(MAX_FILE_BYTES)})")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProjectError(f"{path}: not a text file (a Layerwise project is JSON in UTF-8)") from None


def _mb(n):
    return f"{n / 2 ** 20:,.1f} MB" if n < 2 ** 30 else f"{n / 2 ** 30:,.1f} GB"


def _parse(text, path=None):
    where = f"{path}: " if path else ""
    if len(text) > MAX_FILE_BYTES:
        raise ProjectError(f"{where}too large for a project file (at most {_mb(MAX_FILE_BYTES)})")
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProjectError(f"{where}not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise ProjectError(f"{where}not a project: nested too deeply (more than {MAX_DEPTH} levels of objects "
                           f"and lists)") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        what = "a number in it has more than 4,300 digits" if "digits" in str(e) else short(str(e), 120)
        raise ProjectError(f"{where}not valid JSON ({what})") from None
    return project_from_dict(d, path)


def loads_project(text, path=None) -> Project:
    return _parse(text, path)


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
    """Write the nodes' weights to a sidecar file (one group per node name), atomically."""
    import h5py
    import numpy as np
    with replacing(path) as tmp:
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


def read_weights(graph: Graph, path):
    """Give the graph's nodes the arrays of a weights sidecar (one group per node name). Raises WeightsError,
    naming the file, when it is not a readable Layerwise weights file; then no node's weights change."""
    path = Path(path)
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder, not a weights file")
    try:
        size = path.stat().st_size
    except OSError as e:
        raise WeightsError(f"{path}: the weights file cannot be read ({e.strerror or e})") from None
    if size == 0:
        raise WeightsError(f"{path}: the weights file is empty")
    try:
        found = _read_arrays(graph, path)
    except WeightsError:
        raise
    except Exception as e:  # h5py says OSError for garbage and truncation, others for odd content
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise WeightsError(f"{path}: not a readable weights file: damaged, truncated or not HDF5 "
                           f"({short(msg, 100)})") from None
    for k, arrays in found.items():
        graph.nodes[k].weights = arrays


def _read_arrays(graph, path):
    import h5py
    found, total = {}, 0
    with h5py.File(path, "r") as f:
        fmt = f.attrs.get("format")
        if isinstance(fmt, bytes):
            fmt = fmt.decode("utf-8", "replace")
        if fmt != "layerwise-weights":
            raise WeightsError(f"{path}: not a Layerwise weights file (it has no \"format\": "
                               f"\"layerwise-weights\" mark)")
        for n in graph.nodes.values():
            if n.name not in f:
                continue
            grp = f[n.name]
            if not isinstance(grp, h5py.Group):
                raise WeightsError(f"{path}: the entry of node {n.label()} is not a group of arrays")
            arrays = []
            for key in sorted(grp.keys()):
                ds = grp[key]
                if not isinstance(ds, h5py.Dataset) or ds.dtype.kind not in "fiub":
                    raise WeightsError(f"{path}: node {n.label()}: {short(key)} is not an array of numbers")
                total += int(ds.size)
                if total > MAX_WEIGHT_VALUES:
                    raise WeightsError(f"{path}: holds more than {MAX_WEIGHT_VALUES:,} numbers; too large to load")
                arrays.append(ds[()])
            found[n.id] = arrays
    return found
