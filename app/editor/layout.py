"""Layered auto-layout (left to right or top to bottom) for imported or messy graphs.

Layers by longest path from the inputs, order inside a layer by the barycentre of the neighbours (a few
sweeps down and up), then even spacing on a grid. Pure Python over the core graph: no Qt.
"""
from __future__ import annotations

from ..safe import coord
from .style import GRID, NODE_H, NODE_W

GAP_LR = (64.0, 36.0)    # between layers, between nodes of one layer
GAP_TB = (56.0, 40.0)


def _snap(v):
    return round(v / GRID) * GRID


def layers(graph):
    order = graph.topological_order(strict=False)
    rest = [k for k in graph.nodes if k not in set(order)]
    layer = {}
    preds = {k: [] for k in graph.nodes}
    succs = {k: [] for k in graph.nodes}
    for e in graph.edges:
        if e.src in preds and e.dst in preds:
            preds[e.dst].append(e.src)
            succs[e.src].append(e.dst)
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
    n = max(layer.values(), default=-1) + 1
    rows = [[] for _ in range(n)]
    for k in graph.nodes:
        rows[layer[k]].append(k)
    return rows, preds, succs


def compute(graph, direction="LR", sizes=None, anchor=None):
    """New positions {node_id: (x, y)}. ``sizes`` maps node ids to (w, h) when known; ``anchor`` is the
    top-left corner to keep (default: the current top-left of the graph)."""
    if not graph.nodes:
        return {}
    rows, preds, succs = layers(graph)
    pos_in_row = {}
    for row in rows:
        for i, k in enumerate(row):
            pos_in_row[k] = i

    def sweep(rows_seq, nbrs):
        for row in rows_seq:
            def bary(k):
                ns = [pos_in_row[p] for p in nbrs[k] if p in pos_in_row]
                return sum(ns) / len(ns) if ns else pos_in_row[k]
            row.sort(key=lambda k: (bary(k), pos_in_row[k]))
            for i, k in enumerate(row):
                pos_in_row[k] = i

    for _ in range(4):
        sweep(rows[1:], preds)
        sweep(list(reversed(rows[:-1])), succs)
    sizes = sizes or {}
    w_of = lambda k: sizes.get(k, (NODE_W, NODE_H))[0]  # noqa: E731
    h_of = lambda k: sizes.get(k, (NODE_W, NODE_H))[1]  # noqa: E731
    out = {}
    if direction == "TB":
        gap_layer, gap_node = GAP_TB
        y = 0.0
        for row in rows:
            widths = [w_of(k) for k in row]
            total = sum(widths) + gap_node * (len(row) - 1)
            x = -total / 2
            for k, w in zip(row, widths):
                out[k] = (x, y)
                x += w + gap_node
            y += max((h_of(k) for k in row), default=NODE_H) + gap_layer
    else:
        gap_layer, gap_node = GAP_LR
        x = 0.0
        for row in rows:
            heights = [h_of(k) for k in row]
            total = sum(heights) + gap_node * (len(row) - 1)
            y = -total / 2
            for k, h in zip(row, heights):
                out[k] = (x, y)
                y += h + gap_node
            x += max((w_of(k) for k in row), default=NODE_W) + gap_layer
    if anchor is None:
        # NaN, infinite or huge positions (a broken file) do not drag the layout off the canvas
        nan = float("nan")
        xs = [x for x in (coord(n.pos[0], nan) for n in graph.nodes.values()) if x == x]
        ys = [y for y in (coord(n.pos[1], nan) for n in graph.nodes.values()) if y == y]
        anchor = (min(xs, default=0.0), min(ys, default=0.0))
    anchor = (coord(anchor[0]), coord(anchor[1]))
    mx = min(p[0] for p in out.values())
    my = min(p[1] for p in out.values())
    return {k: (_snap(x - mx + anchor[0]), _snap(y - my + anchor[1])) for k, (x, y) in out.items()}
