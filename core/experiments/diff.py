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
    if isinstance(value, dict) and value:
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value} if prefix else {}


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


def differing_paths(settings_list):
    """The setting paths whose values are not the same in every one of ``settings_list`` (sorted)."""
    flats = [flatten(s or {}) for s in settings_list]
    if len(flats) < 2:
        return []
    paths = set().union(*flats)
    return sorted(p for p in paths
                  if any(not _same(f.get(p, MISSING), flats[0].get(p, MISSING)) for f in flats[1:]))


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
