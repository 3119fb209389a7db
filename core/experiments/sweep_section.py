"""The project file's ``sweep`` section: the search space and the sweep's settings, versioned with the file.

    "sweep": {"version": 1,
              "dimensions": [{"path": "compile.optimizer.learning_rate", "kind": "float", "low": 1e-4,
                              "high": 0.1, "log": true},
                             {"path": "n3.filters", "kind": "choice", "choices": [16, 32, 64]},
                             {"path": "n9", "kind": "optional"}],
              "objective": "val_loss", "second": null, "trials": 20, "workers": 1, "timeout": null,
              "pruning": true, "study": null}

``section_problem(value)`` is what the project loader says about a malformed section (one line naming the
field); ``section_dims`` resolves the dimensions against the graph (a node that no longer exists is named).
"""
from __future__ import annotations

from ..errors import short
from .space import Dimension, SpaceError, resolve

VERSION = 1
KEYS = {"version", "dimensions", "objective", "second", "trials", "workers", "timeout", "pruning", "study",
        "pruner"}


def section_problem(sec):
    """None when ``sec`` is a well-formed sweep section, else one line naming the field."""
    if not isinstance(sec, dict):
        return f'"sweep" must be an object, got {short(sec)}'
    v = sec.get("version", VERSION)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        return f'"sweep.version" must be a whole number from 1, got {short(v)}'
    if v > VERSION:
        return (f'"sweep.version" is {v}: the sweep section was saved by a newer Layerwise (this version reads '
                f'up to {VERSION})')
    unknown = sorted(set(sec) - KEYS)
    if unknown:
        return f'"sweep": unknown key {short(unknown[0])}; expected {", ".join(sorted(KEYS))}'
    dims = sec.get("dimensions", [])
    if not isinstance(dims, list):
        return f'"sweep.dimensions" must be a list, got {short(dims)}'
    for i, d in enumerate(dims):
        try:
            Dimension.from_dict(d, f'"sweep.dimensions[{i}]"')
        except (SpaceError, TypeError) as e:
            return str(e)
    return _numbers_problem(sec)


def _numbers_problem(sec):
    for key, lo in (("trials", 1), ("workers", 1)):
        v = sec.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < lo):
            return f'"sweep.{key}" must be a whole number of at least {lo}, got {short(v)}'
    t = sec.get("timeout")
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0):
        return f'"sweep.timeout" must be a number of seconds above 0 or null, got {short(t)}'
    for key in ("objective", "second", "study"):
        v = sec.get(key)
        if v is not None and not (isinstance(v, str) and 0 < len(v) <= 200):
            return f'"sweep.{key}" must be text (at most 200 characters) or null, got {short(v)}'
    if sec.get("pruner") not in (None, "median", "hyperband"):
        return f'"sweep.pruner" must be "median" or "hyperband", got {short(sec.get("pruner"))}'
    if not isinstance(sec.get("pruning", True), bool):
        return f'"sweep.pruning" must be true or false, got {short(sec.get("pruning"))}'
    return None


def section_of(project) -> dict:
    """The project's sweep section ({} when it has none)."""
    sec = (getattr(project, "extra", None) or {}).get("sweep")
    return dict(sec) if isinstance(sec, dict) else {}


def section_dims(project, sec=None):
    """The section's dimensions, resolved against the project's graph and settings."""
    sec = section_of(project) if sec is None else sec
    out = []
    for i, d in enumerate(sec.get("dimensions", [])):
        dim = Dimension.from_dict(d, f'"sweep.dimensions[{i}]"')
        out.append(resolve(dim, project, f'"sweep.dimensions[{i}]" ({dim.path})'))
    return out


def with_dimension(sec, dim):
    """A copy of the section with ``dim`` added, or replacing the one with its path."""
    out = dict(sec or {})
    out["version"] = VERSION
    dims = [d for d in out.get("dimensions", []) if d.get("path") != dim.path]
    out["dimensions"] = dims + [dim.to_dict()]
    return out


def without_dimension(sec, path):
    out = dict(sec or {})
    out["version"] = VERSION
    out["dimensions"] = [d for d in out.get("dimensions", []) if d.get("path") != path]
    return out
