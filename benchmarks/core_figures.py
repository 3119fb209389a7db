"""Core figures: checking a 200-node graph, and re-inferring after one edit."""
from __future__ import annotations

import statistics
import time

from graphs import residual_cnn


def _keras():
    from core.tfload import import_keras
    return import_keras()


def check_200_nodes(repeats=5):
    _keras()
    from core.infer import check
    g = residual_cnn(200)
    check(g)  # warm-up: first Keras calls compile internal caches
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        res = check(g)
        times.append(time.perf_counter() - t)
    assert res.ok, res.problems[:3]
    return statistics.median(times), "s", f"{len(g.nodes)} nodes, {res.total:,} params, median of {repeats}"


def reinfer_one_edit(repeats=9):
    """Change one param of one node in the middle of the graph, re-infer shapes and errors (warm cache)."""
    _keras()
    from core.infer import Inference
    g = residual_cnn(200)
    inf = Inference()
    inf.run(g)
    convs = [n for n in g.nodes.values() if n.type == "Conv2D"]
    target = convs[len(convs) // 2]
    times, recomputed = [], []
    for i in range(repeats):
        k = 4 + i  # a kernel size not seen before, so the node really is recomputed
        g.set_param(target.id, "kernel_size", [k, k])
        t = time.perf_counter()
        res = inf.run(g)
        times.append((time.perf_counter() - t) * 1000)
        recomputed.append(res.recomputed)
    return statistics.median(times), "ms", f"edited {target.name} mid-graph; {statistics.median(recomputed):.0f} node(s) recomputed"


def check_200_distinct_nodes(repeats=3):
    """Worst case: 200 nodes that are all different (no repeated block to reuse)."""
    _keras()
    from core.graph import Graph
    from core.infer import check
    g = Graph()
    prev = g.add_node("Input", {"shape": [64]}).id
    for i in range(198):
        n = g.add_node("Dense", {"units": 8 + i, "activation": "relu"})
        g.connect(prev, n.id)
        prev = n.id
    g.connect(prev, g.add_node("Output", {"loss": "mean_squared_error"}).id)
    check(g)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        res = check(g)
        times.append(time.perf_counter() - t)
    assert res.ok and res.recomputed == 198
    return statistics.median(times), "s", "200 nodes, every layer distinct, median of 3"


FIGURES = {"check_200_nodes": check_200_nodes, "check_200_distinct_nodes": check_200_distinct_nodes,
           "reinfer_one_edit": reinfer_one_edit}
