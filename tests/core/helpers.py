"""Small graph builders for core tests."""
from core.graph import Graph


def chain(*specs, graph=None):
    """chain(("Input", {"shape": [4]}), ("Dense", {"units": 2}), ("Output", {})) -> (graph, [ids])."""
    g = graph or Graph()
    ids, prev = [], None
    for spec in specs:
        t, params = spec[0], (spec[1] if len(spec) > 1 else {})
        name = spec[2] if len(spec) > 2 else None
        n = g.add_node(t, params, name=name, pos=(len(ids) * 200.0, 0.0))
        if prev is not None:
            g.connect(prev, n.id)
        ids.append(n.id)
        prev = n.id
    return g, ids
