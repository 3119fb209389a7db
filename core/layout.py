"""Automatic layout of a graph: a layered drawing, left to right or top to bottom, Qt-free.

Each node goes into a layer (its *rank*: the longest path from a source; a node without inputs other than an
Input sits just before its first consumer; several Output nodes share the last layer; nodes on a cycle get a
layer each at the end). The nodes of a layer are ordered by the barycentre of their neighbours (a few sweeps
down and up), then placed layer by layer, each layer centred, with the nodes' own sizes and the gaps given.

The one algorithm behind model import and group expansion (``layered_positions``: uniform cells) and the
editor's auto-layout (``layered``: the canvas's card sizes, gaps and grid).
"""
from __future__ import annotations

import math

DX = 220.0   # column spacing (the example projects use 220)
DY = 120.0   # row spacing
SWEEPS = 4   # barycentre sweeps (each one down and one up)


def _restricted_order(graph, ids):
    """Topological order of ``ids`` over the edges between them (Kahn, stable in node order); nodes on a cycle
    are left out. Over every node it is ``graph.topological_order(strict=False)``."""
    keep = set(ids)
    preds = {k: [] for k in ids}
    succs = {k: [] for k in ids}
    for e in graph.edges:
        if e.src in keep and e.dst in keep:
            preds[e.dst].append(e.src)
            succs[e.src].append(e.dst)
    indeg = {k: len(preds[k]) for k in ids}
    ready = [k for k in ids if indeg[k] == 0]
    order, head = [], 0
    while head < len(ready):
        k = ready[head]
        head += 1
        order.append(k)
        for d in succs[k]:
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    return order, preds, succs


def layers(graph, node_ids=None):
    """``(rows, preds, succs)``: the node ids of each layer, in node order, and the edges between the nodes."""
    ids = list(graph.nodes) if node_ids is None else [k for k in node_ids if k in graph.nodes]
    order, preds, succs = _restricted_order(graph, ids)
    placed = set(order)
    rest = [k for k in ids if k not in placed]
    layer = {}
    for k in order:
        layer[k] = max((layer[p] + 1 for p in preds[k] if p in layer), default=0)
    # pull nodes without inputs (other than Input nodes) next to their first consumer
    for k in reversed(order):
        if not preds[k] and succs[k] and graph.nodes[k].type != "Input":
            layer[k] = max(0, min(layer[s] for s in succs[k]) - 1)
    top = max(layer.values(), default=-1)
    # Output nodes sit in the last layer, so outputs line up
    outs = [k for k in order if graph.nodes[k].type == "Output"]
    if len(outs) > 1:
        last = max(layer[k] for k in outs)
        for k in outs:
            layer[k] = last
    for k in rest:
        top += 1
        layer[k] = top
    rows = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for k in ids:
        rows[layer[k]].append(k)
    return rows, preds, succs


def order_layers(rows, preds, succs, sweeps=SWEEPS):
    """Sort each layer (in place) by the mean position of the nodes' neighbours in the layer before it."""
    pos_in_row = {k: i for row in rows for i, k in enumerate(row)}

    def sweep(rows_seq, nbrs):
        for row in rows_seq:
            def bary(k):
                ns = [pos_in_row[p] for p in nbrs[k] if p in pos_in_row]
                return sum(ns) / len(ns) if ns else pos_in_row[k]
            row.sort(key=lambda k: (bary(k), pos_in_row[k]))
            for i, k in enumerate(row):
                pos_in_row[k] = i

    for _ in range(sweeps):
        sweep(rows[1:], preds)
        sweep(list(reversed(rows[:-1])), succs)
    return rows


def place(rows, direction="LR", size_of=lambda k: (DX, DY), gaps=(0.0, 0.0)):
    """Top-left corners ``{node_id: (x, y)}``: one layer after the other (``gaps[0]`` between layers), the nodes
    of a layer side by side (``gaps[1]`` between them), each layer centred on the line through 0. ``size_of(k)``
    is a node's (w, h); ``size_of(None)`` the size an empty layer takes."""
    gap_layer, gap_node = gaps
    across = 1 if direction == "LR" else 0    # the axis along a layer: y left to right, x top to bottom
    out = {}
    depth = 0.0
    for row in rows:
        extents = [size_of(k)[across] for k in row]
        at = -(sum(extents) + gap_node * (len(row) - 1)) / 2
        for k, extent in zip(row, extents):
            out[k] = (depth, at) if direction == "LR" else (at, depth)
            at += extent + gap_node
        depth += max((size_of(k)[1 - across] for k in row), default=size_of(None)[1 - across]) + gap_layer
    return out


def layered(graph, direction="LR", *, node_ids=None, sizes=None, default_size=(DX, DY), gaps=(0.0, 0.0),
            anchor=None, grid=None) -> dict:
    """New positions ``{node_id: (x, y)}`` (top-left corners). ``sizes`` maps node ids to (w, h) when known;
    ``anchor`` is the top-left corner of the drawing (default: the current top-left of the nodes, finite
    positions only); ``grid`` snaps every position to it."""
    rows, preds, succs = layers(graph, node_ids)
    if not rows:
        return {}
    order_layers(rows, preds, succs)
    sizes = sizes or {}
    out = place(rows, direction, lambda k: sizes.get(k, default_size), gaps)
    if anchor is None:
        xs = [float(graph.nodes[k].pos[0]) for k in out]
        ys = [float(graph.nodes[k].pos[1]) for k in out]
        anchor = (min((x for x in xs if math.isfinite(x)), default=0.0),
                  min((y for y in ys if math.isfinite(y)), default=0.0))
    mx = min(p[0] for p in out.values())
    my = min(p[1] for p in out.values())

    def snap(v):
        return round(v / grid) * grid if grid else v
    return {k: (snap(x - mx + anchor[0]), snap(y - my + anchor[1])) for k, (x, y) in out.items()}


def layered_positions(graph, node_ids=None, *, dx=DX, dy=DY, origin=(60.0, 200.0)) -> dict:
    """Positions ``{node_id: (x, y)}`` for ``node_ids`` (default: every node), edges between them only, on a grid
    of ``dx`` × ``dy`` cells: layer ``r`` at ``x = origin[0] + r·dx``, each layer centred on ``y = origin[1]``."""
    rows, preds, succs = layers(graph, node_ids)
    order_layers(rows, preds, succs)
    ox, oy = origin
    corners = place(rows, "LR", lambda k: (dx, dy))
    return {k: (ox + x, oy + y + dy / 2) for k, (x, y) in corners.items()}


def auto_layout(graph, node_ids=None, **kw) -> dict:
    """Move the nodes to a layered layout (emits ``node_moved`` per node). Returns the positions."""
    pos = layered_positions(graph, node_ids, **kw)
    for k, p in pos.items():
        graph.move(k, p)
    return pos


def set_positions_quietly(graph, positions):
    """Set positions without events (a graph nobody is listening to yet, e.g. a fresh import)."""
    for k, (x, y) in positions.items():
        graph.nodes[k].pos = (float(x), float(y))
