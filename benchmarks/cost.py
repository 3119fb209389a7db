"""Cost figures: shapes and costs re-inferred after one param edit in a 200-node graph."""
from __future__ import annotations

import statistics
import time

from graphs import residual_cnn


def cost_update_200(repeats=9):
    """Change one param of one node mid-graph, then re-infer shapes (warm cache) and recompute every node's cost:
    what the window does after an edit. The note gives shapes alone and costs alone, from the same runs."""
    from core.tfload import import_keras
    import_keras()
    from core.cost import graph_cost
    from core.infer import Inference
    g = residual_cnn(200)
    inf = Inference()
    graph_cost(g, inf.run(g))
    convs = [n for n in g.nodes.values() if n.type == "Conv2D"]
    target = convs[len(convs) // 2]
    both, shapes, costs = [], [], []
    for i in range(repeats):
        k = 4 + i  # a kernel size not seen before, so the node really is recomputed
        g.set_param(target.id, "kernel_size", [k, k])
        t0 = time.perf_counter()
        res = inf.run(g)
        t1 = time.perf_counter()
        rep = graph_cost(g, res)
        t2 = time.perf_counter()
        assert res.ok and rep.total.macs > 0
        both.append((t2 - t0) * 1000)
        shapes.append((t1 - t0) * 1000)
        costs.append((t2 - t1) * 1000)
    return (statistics.median(both), "ms",
            f"{len(g.nodes)} nodes, {rep.total.macs / 1e6:.0f} M MACs; shapes {statistics.median(shapes):.1f} ms + "
            f"costs {statistics.median(costs):.1f} ms, median of {repeats}")


FIGURES = {"cost_update_200": cost_update_200}
