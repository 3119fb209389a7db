"""Automatic layout of a graph: a simple layered drawing, left to right, Qt-free.

Each node goes into a column (its *rank*: the longest path from a source), and the nodes of a column are
ordered by the mean row of their inputs (one barycentre sweep), so a residual network draws as a main
line with its shortcut branches beside it. Used by model import and by the editor's auto-layout.
"""
from __future__ import annotations

DX = 220.0   # column spacing (the example projects use 220)
DY = 120.0   # row spacing


def layered_positions(graph, node_ids=None, *, dx=DX, dy=DY, origin=(60.0, 200.0)) -> dict:
    """Positions ``{node_id: (x, y)}`` for ``node_ids`` (default: every node), edges between them only."""
    ids = list(graph.nodes) if node_ids is None else [k for k in node_ids if k in graph.nodes]
    keep = set(ids)
    index = {k: i for i, k in enumerate(ids)}
    preds = {k: [] for k in ids}
    succs = {k: [] for k in ids}
    for e in graph.edges:
        if e.src in keep and e.dst in keep:
            preds[e.dst].append(e.src)
            succs[e.src].append(e.dst)
    # topological order restricted to the nodes (Kahn, stable in node order); nodes on cycles go last
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
    placed = set(order)
    order += [k for k in ids if k not in placed]
    rank = {}
    for k in order:
        rank[k] = max((rank[p] + 1 for p in preds[k] if p in rank), default=0)
    columns = {}
    for k in order:
        columns.setdefault(rank[k], []).append(k)
    row = {}
    for r in sorted(columns):
        col = columns[r]
        if r > 0:
            def bary(k):
                ps = [row[p] for p in preds[k] if p in row]
                return (sum(ps) / len(ps)) if ps else 0.0
            col.sort(key=lambda k: (bary(k), index[k]))
        n = len(col)
        for i, k in enumerate(col):
            row[k] = i - (n - 1) / 2.0
        # keep a lone node on the row of its input so straight chains stay straight
        if n == 1 and r > 0:
            ps = [row[p] for p in preds[col[0]] if p in row]
            if ps:
                row[col[0]] = round(sum(ps) / len(ps) * 2) / 2.0
    ox, oy = origin
    return {k: (ox + rank[k] * dx, oy + row[k] * dy) for k in ids}


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
