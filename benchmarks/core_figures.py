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
        g.set_param(target.id, "kernel_size", [5, 5] if i % 2 == 0 else [3, 3])
        t = time.perf_counter()
        res = inf.run(g)
        times.append((time.perf_counter() - t) * 1000)
        recomputed.append(res.recomputed)
    return statistics.median(times), "ms", f"edited {target.name} mid-graph; {statistics.median(recomputed):.0f} node(s) recomputed"


FIGURES = {"check_200_nodes": check_200_nodes, "reinfer_one_edit": reinfer_one_edit}
