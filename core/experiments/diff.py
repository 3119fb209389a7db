"""What differs between two runs: their settings (one entry per dotted setting path) and their graphs (nodes added,
removed or changed, matched by node id). Plain data in, plain data out; nothing here reads the database."""
from __future__ import annotations

import json

from ..errors import short

MISSING = "(not set)"
# node fields that are layout, not structure: moving a card is not a change of the network
LAYOUT_KEYS = ("pos",)


def flatten(value, prefix=""):
    """{"compile": {"optimizer": {"learning_rate": 0.1}}} -> {"compile.optimizer.learning_rate": 0.1}. Lists and
    scalars are leaves; an empty object is a leaf too (so that "{}" against a value is still seen)."""
    out = {}
    stack = [(prefix, value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, dict) and v:
            stack.extend((f"{path}.{k}" if path else str(k), x) for k, x in reversed(v.items()))
        elif path:
            out[path] = v
    return out


def _same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (a == b and type(a) is type(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def settings_diff(a: dict, b: dict):
    """[(path, value in a, value in b)] for every setting path whose values differ (``MISSING`` where one side has
    no such setting), sorted by path. Equal settings give nothing."""
    fa, fb = flatten(a or {}), flatten(b or {})
    out = []
    for path in sorted(set(fa) | set(fb)):
        va, vb = fa.get(path, MISSING), fb.get(path, MISSING)
        if not _same(va, vb):
            out.append((path, va, vb))
    return out


def _key(v):
    """A value as something hashable that is equal exactly when ``_same`` says so."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return (type(v).__name__, v)
    if isinstance(v, (int, float)):
        return ("number", v)
    return ("json", json.dumps(v, sort_keys=True))


def differing_paths(settings_list, flats=None):
    """The setting paths whose values are not the same in every one of ``settings_list`` (sorted); ``flats``: their
    ``flatten``ed forms when the caller has them already."""
    flats = flats if flats is not None else [flatten(s or {}) for s in settings_list]
    if len(flats) < 2:
        return []
    seen = {}
    for f in flats:
        for p, v in f.items():
            seen.setdefault(p, set()).add(_key(v))
    n = len(flats)
    return sorted(p for p, keys in seen.items()
                  if len(keys) > 1 or sum(1 for f in flats if p in f) < n)


def _nodes(graph):
    return {str(n.get("id")): n for n in (graph or {}).get("nodes", []) if isinstance(n, dict)}


def _inputs(graph):
    ins = {}
    for e in (graph or {}).get("edges", []):
        if isinstance(e, dict):
            ins.setdefault(str(e.get("dst")), []).append((int(e.get("port", 0) or 0), str(e.get("src"))))
    return {k: sorted(v) for k, v in ins.items()}


def _node_changes(na, nb, ins_a, ins_b):
    """What changed in one node: 'units 64 -> 128', 'type Dense -> Conv2D', 'inputs a -> b'."""
    changes = []
    if na.get("type") != nb.get("type"):
        changes.append(f"type {na.get('type')} -> {nb.get('type')}")
    if na.get("name") != nb.get("name"):
        changes.append(f"name {na.get('name')} -> {nb.get('name')}")
    for path, va, vb in settings_diff(na.get("params") or {}, nb.get("params") or {}):
        changes.append(f"{path} {short(va)} -> {short(vb)}")
    for path, va, vb in settings_diff(na.get("settings") or {}, nb.get("settings") or {}):
        changes.append(f"settings.{path} {short(va)} -> {short(vb)}")
    if ins_a != ins_b:
        changes.append("inputs " + (", ".join(s for _, s in ins_a) or "none") + " -> "
                       + (", ".join(s for _, s in ins_b) or "none"))
    return changes


def graph_diff(a: dict, b: dict) -> dict:
    """{"added": [node ids in b only], "removed": [in a only], "changed": {node id: [what changed]}} of graph b
    against graph a (project-file graph dicts; nodes matched by id; positions ignored)."""
    na, nb = _nodes(a), _nodes(b)
    ins_a, ins_b = _inputs(a), _inputs(b)
    changed = {}
    for nid in na.keys() & nb.keys():
        c = _node_changes(na[nid], nb[nid], ins_a.get(nid, []), ins_b.get(nid, []))
        if c:
            changed[nid] = c
    return {"added": sorted(nb.keys() - na.keys()), "removed": sorted(na.keys() - nb.keys()),
            "changed": dict(sorted(changed.items()))}


def _label(node):
    return f"{node.get('name') or node.get('id')} ({node.get('type')})"


def diff_lines(settings_a, settings_b, graph_a, graph_b):
    """One line per differing setting path, then one per node added, removed or changed (of b against a)."""
    lines = [f"{path}: {short(va)} -> {short(vb)}" for path, va, vb in settings_diff(settings_a, settings_b)]
    g = graph_diff(graph_a, graph_b)
    na, nb = _nodes(graph_a), _nodes(graph_b)
    lines += [f"node {_label(nb[i])} added" for i in g["added"]]
    lines += [f"node {_label(na[i])} removed" for i in g["removed"]]
    lines += [f"node {_label(nb[i])} changed: {'; '.join(c)}" for i, c in g["changed"].items()]
    return lines
