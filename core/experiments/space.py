"""A sweep's search space: dimensions over node params, project settings and optional nodes.

A dimension's ``path`` is ``NODE_ID.PARAM`` (a node's param), ``NODE_ID`` with kind "optional" (the node is kept
or left out, its single input rewired to its consumers), or a settings path such as
``compile.optimizer.learning_rate``, ``training.batch_size`` or ``regularization.dropout``. Its kind is "int" /
"float" (``low``..``high``, ``log``), "choice" (``choices``) or "fixed" (``value``).

``parse_dim("conv2d.filters", "16:64:log", project)`` reads the command line's ``--dim PATH=SPEC`` (a node given
by name or id); ``apply(project, params)`` gives a copy of the project with one trial's values. Everything here
is plain data (JSON in the project file's ``sweep`` section); Optuna is only touched by ``suggest``.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass, field

from ..errors import SettingsError, short

KINDS = ("int", "float", "choice", "fixed", "optional")
SETTINGS_SECTIONS = ("compile", "regularization", "training")
OPTIONAL = "optional"


class SpaceError(SettingsError):
    """A dimension that cannot be swept (the message names it)."""


@dataclass(frozen=True)
class Dimension:
    path: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple = field(default=())
    value: object = None

    def to_dict(self):
        d = {k: v for k, v in asdict(self).items() if v not in (None, (), False) or k in ("path", "kind")}
        if self.kind == "fixed":
            d["value"] = self.value
        if "choices" in d:
            d["choices"] = list(self.choices)
        return d

    @classmethod
    def from_dict(cls, d, where="sweep.dimensions"):
        if not isinstance(d, dict):
            raise SpaceError(f"{where}: expected an object, got {short(d)}")
        unknown = set(d) - {"path", "kind", "low", "high", "log", "choices", "value"}
        if unknown:
            raise SpaceError(f"{where}: unknown key {short(sorted(unknown)[0])}")
        kw = dict(d)
        if "choices" in kw:
            if not isinstance(kw["choices"], list):
                raise SpaceError(f"{where}.choices: expected a list, got {short(kw['choices'])}")
            kw["choices"] = tuple(kw["choices"])
        dim = cls(**kw)
        check_dimension(dim, where)
        return dim

    @property
    def is_node(self):
        return self.path.split(".", 1)[0] not in SETTINGS_SECTIONS


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_dimension(dim, where=None):
    """Raise SpaceError naming the dimension when its range or choices cannot be sampled."""
    at = where or dim.path
    if not isinstance(dim.path, str) or not dim.path or len(dim.path) > 300:
        raise SpaceError(f"{at}: a dimension needs a path such as compile.optimizer.learning_rate or NODE.PARAM")
    if dim.kind not in KINDS:
        raise SpaceError(f"{at}: kind must be one of {', '.join(KINDS)}, got {short(dim.kind)}")
    if dim.kind in ("int", "float"):
        if not (_num(dim.low) and _num(dim.high)):
            raise SpaceError(f"{at}: low and high must be finite numbers, got {short(dim.low)} and {short(dim.high)}")
        if dim.kind == "int" and not (float(dim.low).is_integer() and float(dim.high).is_integer()):
            raise SpaceError(f"{at}: an integer range needs whole numbers, got {dim.low}:{dim.high}")
        if dim.low >= dim.high:
            raise SpaceError(f"{at}: low must be below high, got {dim.low}:{dim.high}")
        if dim.log and dim.low <= 0:
            raise SpaceError(f"{at}: a log range must be above 0, got {dim.low}:{dim.high}:log")
    elif dim.log:
        raise SpaceError(f"{at}: only a number range can be log")
    if dim.kind == "choice":
        if not dim.choices:
            raise SpaceError(f"{at}: the list of choices is empty")
        bad = [c for c in dim.choices if not (c is None or isinstance(c, (bool, str)) or _num(c))]
        if bad:
            raise SpaceError(f"{at}: a choice must be a number, text, true/false or null, got {short(bad[0])}")
        if len({json.dumps(c) for c in dim.choices}) != len(dim.choices):
            raise SpaceError(f"{at}: the choices repeat a value")
    if dim.kind == "fixed" and not (dim.value is None or isinstance(dim.value, (bool, str, list)) or _num(dim.value)):
        raise SpaceError(f"{at}: a fixed value must be a number, text, true/false, null or a list")
    return dim


# -- the command line's --dim PATH=SPEC -------------------------------------------------------------------------
def _scalar(text):
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none"):
        return None
    for conv in (int, float):
        try:
            v = conv(t)
            return v if conv is int or math.isfinite(v) else t
        except ValueError:
            pass
    return t


def parse_spec(path, spec):
    """A Dimension from PATH and SPEC (``LOW:HIGH``, ``LOW:HIGH:log``, ``a,b,c``, ``optional`` or one value)."""
    at = f"--dim {path}"
    s = str(spec).strip()
    if s.lower() == OPTIONAL:
        return check_dimension(Dimension(path, "optional"), at)
    if ":" in s:
        parts = s.split(":")
        log = len(parts) == 3 and parts[2].strip().lower() == "log"
        if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
            raise SpaceError(f"{at}: a range is LOW:HIGH or LOW:HIGH:log, got {short(s)}")
        low, high = _scalar(parts[0]), _scalar(parts[1])
        if not (_num(low) and _num(high)):
            raise SpaceError(f"{at}: low and high must be numbers, got {short(s)}")
        kind = "int" if isinstance(low, int) and isinstance(high, int) else "float"
        return check_dimension(Dimension(path, kind, low, high, log), at)
    if "," in s:
        choices = tuple(_scalar(c) for c in s.split(",") if c.strip())
        return check_dimension(Dimension(path, "choice", choices=choices), at)
    if not s:
        raise SpaceError(f"{at}: the list of choices is empty")
    return check_dimension(Dimension(path, "fixed", value=_scalar(s)), at)


def parse_dim(text, project):
    """``PATH=SPEC`` from the command line, its node resolved (name or id) and its values checked."""
    if "=" not in str(text):
        raise SpaceError(f"--dim {short(text)}: expected PATH=SPEC, e.g. compile.optimizer.learning_rate=1e-4:1e-1:log")
    path, spec = str(text).split("=", 1)
    dim = parse_spec(path.strip(), spec)
    return resolve(dim, project, f"--dim {path.strip()}")


# -- against a project ------------------------------------------------------------------------------------------
def _node(project, ref, at):
    g = project.graph
    node = g.nodes.get(ref) or g.by_name(ref)
    if node is None:
        raise SpaceError(f"{at}: no node named {short(ref)} (and no node with that id); a path is NODE.PARAM or a "
                         f"settings path such as compile.optimizer.learning_rate")
    return node


def resolve(dim, project, at=None):
    """The dimension with its node given by id, after checking that the path exists and its values are allowed."""
    at = at or f"sweep dimension {dim.path}"
    head, _, rest = dim.path.partition(".")
    if head == "data":
        raise SpaceError(f"{at}: the data settings cannot be swept (every trial must see the same splits)")
    if head in SETTINGS_SECTIONS:
        if dim.kind == "optional" or not rest:
            raise SpaceError(f"{at}: a settings path names a value, e.g. {head}.…")
        now = project.settings(head).get_path(tuple(rest.split(".")), None)
        if dim.kind == "int" and isinstance(now, float):   # a float setting given whole numbers: a float range
            dim = Dimension(dim.path, "float", float(dim.low), float(dim.high), dim.log)
        _check_values(dim, lambda v: _settings_problem(project, head, tuple(rest.split(".")), v), at)
        return dim
    node = _node(project, head, at)
    if dim.kind == "optional":
        if rest:
            raise SpaceError(f"{at}: 'optional' applies to a node: write --dim {head}=optional")
        _check_optional(project.graph, node, at)
        return Dimension(node.id, "optional")
    if not rest:
        raise SpaceError(f"{at}: name the param, e.g. {node.name}.units, or write {node.name}=optional")
    p = node.spec.param(rest) if node.spec else None
    if p is None:
        names = ", ".join(q.name for q in node.spec.params) if node.spec else "none"
        raise SpaceError(f"{at}: node {node.label()} ({node.type}) has no param {short(rest)}; its params: {names}")
    if dim.kind == "int" and str(p.kind) in ("float", "optfloat"):
        dim = Dimension(dim.path, "float", float(dim.low), float(dim.high), dim.log)
    _check_values(dim, lambda v: p.value_error(v), at)
    return Dimension(f"{node.id}.{rest}", dim.kind, dim.low, dim.high, dim.log, dim.choices, dim.value)


def _check_values(dim, problem, at):
    values = {"int": (dim.low, dim.high), "float": (dim.low, dim.high), "choice": dim.choices,
              "fixed": (dim.value,)}.get(dim.kind, ())
    for v in values:
        why = problem(v)
        if why:
            raise SpaceError(f"{at}: {short(v)} is not allowed: {why}")


def _settings_problem(project, section, path, value):
    s = copy.deepcopy(project.settings(section).to_dict())
    cur = s
    for k in path[:-1]:
        if not isinstance(cur.get(k), dict):
            return f"there is no setting {section}.{'.'.join(path)}"
        cur = cur[k]
    cur[path[-1]] = value
    from ..validate import compile_problems, regularization_problems, training_problems
    check = {"compile": compile_problems, "regularization": regularization_problems,
             "training": training_problems}[section]
    problems = check(s)
    return problems[0] if problems else None


def _check_optional(graph, node, at):
    if node.type in ("Input", "Output"):
        raise SpaceError(f"{at}: node {node.label()} is an {node.type}: it cannot be left out")
    if len(graph.in_edges(node.id)) != 1:
        raise SpaceError(f"{at}: node {node.label()} has {len(graph.in_edges(node.id))} inputs; only a node with "
                         f"one input can be left out (its input is wired to its consumers)")


# -- a trial's values --------------------------------------------------------------------------------------------
def suggest(trial, dims):
    """One trial's values, {path: value}, asked from an Optuna trial."""
    out = {}
    for d in dims:
        if d.kind == "int":
            out[d.path] = trial.suggest_int(d.path, int(d.low), int(d.high), log=d.log)
        elif d.kind == "float":
            out[d.path] = trial.suggest_float(d.path, float(d.low), float(d.high), log=d.log)
        elif d.kind == "choice":
            out[d.path] = trial.suggest_categorical(d.path, list(d.choices))
        elif d.kind == "optional":
            out[d.path] = trial.suggest_categorical(d.path, [True, False])
        else:
            out[d.path] = d.value
    return out


def apply(project, params, dims=None):
    """A copy of ``project`` with the trial's values set (an optional node left out when its value is False)."""
    p = copy.deepcopy(project)
    apply_in_place(p, params, dims)
    return p


def apply_in_place(p, params, dims=None):
    """Set a trial's values on ``p`` itself, through its graph's and settings' events ("Apply best")."""
    kinds = {d.path: d.kind for d in dims or ()}
    drop = []
    for path, value in params.items():
        head, _, rest = path.partition(".")
        if head in SETTINGS_SECTIONS:
            p.settings(head).set(tuple(rest.split(".")), value)
        elif kinds.get(path) == "optional" or not rest:
            if value is False:
                drop.append(head)
        else:
            p.graph.set_param(head, rest, value)
    for node_id in drop:
        if node_id in p.graph.nodes:
            leave_out(p.graph, node_id)
    return p


def leave_out(graph, node_id):
    """Remove a node with one input, wiring that input to each of its consumers (same ports)."""
    src = graph.in_edges(node_id)[0]
    outs = list(graph.out_edges(node_id))
    graph.remove_node(node_id)
    for e in outs:
        graph.connect(src.src, e.dst, e.port, src.src_port)


def labels(project, dims_or_paths):
    """{path: what a person reads}: a node's id replaced by its name (``conv2d.filters``)."""
    out = {}
    for d in dims_or_paths:
        path = getattr(d, "path", d)
        head, dot, rest = path.partition(".")
        node = project.graph.nodes.get(head) if head not in SETTINGS_SECTIONS else None
        out[path] = f"{node.name}{dot}{rest}" if node is not None else path
    return out


def fingerprint(dims):
    """The search space as canonical JSON: a study keeps it and refuses another one."""
    return json.dumps(sorted((d.to_dict() for d in dims), key=lambda d: d["path"]), sort_keys=True)
