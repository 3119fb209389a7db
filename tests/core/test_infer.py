"""core.infer: shapes and weight counts on every node, nodes blocked behind a problem, and problems that say
what they are by a code (what the editor and the build decide on), not by their words."""
from core.graph import Graph
from core.infer import Code, Inference, check
from tests.core.helpers import chain


def codes(res):
    return [(p.node_id, p.code) for p in res.problems]


def test_shapes_and_weight_counts_on_every_node():
    g, (i, conv, flat, dense, out) = chain(
        ("Input", {"shape": [8, 8, 1]}), ("Conv2D", {"filters": 4, "kernel_size": 3}), ("Flatten", {}),
        ("Dense", {"units": 3, "activation": "softmax"}), ("Output", {"loss": "sparse_categorical_crossentropy"}))
    res = check(g)
    assert res.ok and res.order == [i, conv, flat, dense, out]
    assert res.nodes[i].shape == (None, 8, 8, 1)
    assert res.nodes[conv].shape == (None, 6, 6, 4) and res.nodes[conv].trainable == 3 * 3 * 1 * 4 + 4
    assert res.nodes[flat].shape == (None, 144) and res.nodes[flat].params == 0
    assert res.nodes[dense].shape == (None, 3) and res.nodes[dense].trainable == 144 * 3 + 3
    assert res.nodes[out].shape == (None, 3)
    assert res.total == res.trainable == 40 + 435


def test_a_node_behind_a_problem_is_blocked_without_a_problem_of_its_own():
    g, (d1, d2, out) = chain(("Dense", {"units": 8}), ("Dense", {"units": 2}), ("Output", {}))   # d1: no input
    res = check(g)
    assert codes(res) == [(None, Code.NO_INPUT), (d1, Code.UNCONNECTED)], [str(p) for p in res.problems]
    assert res.nodes[d1].blocked and res.nodes[d1].shape is None
    assert res.nodes[d2].blocked and res.nodes[d2].error is None       # blocked, but not a problem itself
    assert res.nodes[out].blocked and res.problems_for(d2) == res.problems_for(out) == []

    g, (i, d1, d2, out) = chain(("Input", {"shape": [4]}), ("Dense", {"units": 0}), ("Dense", {"units": 2}),
                                ("Output", {}))
    res = check(g)
    assert codes(res) == [(d1, Code.PARAM)] and res.problems[0].message.startswith("units ")
    assert not res.nodes[d1].blocked and res.nodes[d1].shape is None    # its own problem: Keras is not asked
    assert res.nodes[d2].blocked and res.nodes[out].blocked and res.nodes[i].shape == (None, 4)


def test_problems_carry_codes():
    g = Graph()
    res = check(g)
    assert [p.code for p in res.problems] == [Code.NO_INPUT, Code.NO_OUTPUT]

    g, (i, c64) = chain(("Input", {"shape": [8, 8, 3]}), ("Conv2D", {"filters": 64, "padding": "same"}))
    c32 = g.add_node("Conv2D", {"filters": 32, "padding": "same"})
    add = g.add_node("Add")
    out = g.add_node("Output", {"loss": "mean_squared_error"})
    g.connect(i, c32.id), g.connect(c64, add.id), g.connect(c32.id, add.id), g.connect(add.id, out.id)
    assert codes(check(g)) == [(add.id, Code.SHAPE)]

    g, (i, d, out) = chain(("Input", {"shape": [4]}), ("Conv2D", {}), ("Output", {}))
    assert codes(check(g)) == [(d, Code.LAYER)]


def test_the_memo_recomputes_only_what_changed_and_keeps_codes():
    g, (i, d, out) = chain(("Input", {"shape": [4]}), ("Conv2D", {}), ("Output", {}))
    inf = Inference()
    first = inf.run(g)
    again = inf.run(g)
    assert first.recomputed == 1 and again.recomputed == 0
    assert codes(again) == codes(first) == [(d, Code.LAYER)]
