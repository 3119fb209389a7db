"""Generated sequence tasks: seeded, sized, labels that follow their rule, several inputs and outputs."""
import numpy as np
import pytest

from core.datasets import DataError, arrays_for_model, check_fit
from core import datasets as D
from tests.core.helpers import chain
from tests.core.datasets.helpers import all_of, gen


def test_generated_are_seeded_and_sized():
    for name in D.GENERATED_TASKS:
        a, b, c = gen(name, seed=1), gen(name, seed=1), gen(name, seed=2)
        assert a.train.n + a.val.n + a.test.n == 600, name
        assert np.array_equal(a.train.x[0], b.train.x[0]), name
        assert not np.array_equal(a.train.x[0], c.train.x[0]), name
        assert len(a.input_shapes) == len(a.train.x) and len(a.output_names) == len(a.train.y) == len(a.tasks)
        for s in (a.train, a.val, a.test):
            assert all(len(arr) == s.n for arr in s.x + s.y)
        assert a.description


def test_match_last_labels_point_at_the_repeated_token():
    ds = gen("match_last", seq_len=7, vocab=12)
    assert ds.input_shapes == [(7, 12 + 7)] and ds.num_classes == [6]
    x, y = all_of(ds), all_of(ds, which="y")
    tok = x[..., :12].argmax(-1)
    assert np.array_equal(x[..., 12:].argmax(-1)[0], np.arange(7))                    # position channels
    assert all(len(set(r[:-1])) == 6 for r in tok)                                      # earlier tokens differ
    assert np.array_equal(tok[np.arange(len(y)), y], tok[:, -1])                        # label = matching position
    with pytest.raises(DataError, match="'vocab' is 4; it must be between 6"):
        gen("match_last", seq_len=7, vocab=4)


def test_recall_marked_sum_parity_count_labels():
    ds = gen("recall")
    x, y = all_of(ds), all_of(ds, which="y")
    assert x.dtype == np.int32 and ds.input_shapes == [(8, 2)] and ds.num_classes == [16]
    for r, lab in zip(x[:50], y[:50]):
        hit = [v for k, v in r[:-1] if k == r[-1, 0]]
        assert hit == [lab + 1] and r[-1, 1] == 0
    ds = gen("marked_sum", seq_len=12)
    x, y = all_of(ds), all_of(ds, which="y")
    assert ds.input_shapes == [(12, 2)] and (x[..., 1].sum(1) == 2).all()
    assert np.array_equal(((x[..., 0] * x[..., 1]).sum(1) > 1).astype(int), y) and 0.3 < y.mean() < 0.7
    ds = gen("parity", seq_len=9)
    assert np.array_equal(all_of(ds).sum((1, 2)) % 2, all_of(ds, which="y")) and ds.input_shapes == [(9, 1)]
    ds = gen("count_ones", seq_len=5)
    assert np.array_equal(all_of(ds).sum((1, 2)), all_of(ds, which="y")) and ds.num_classes == [6]


def test_multi_input_and_multi_output_tasks():
    ds = gen("two_inputs")
    assert ds.input_names == ["sequence", "features"] and ds.input_shapes == [(10, 1), (4,)]
    s, f, y = all_of(ds, 0), all_of(ds, 1), all_of(ds, which="y")
    assert np.array_equal(2 * (s.sum((1, 2)) > 0) + (f[:, 0] + f[:, 1] - f[:, 2] - f[:, 3] > 0), y)
    ds = gen("two_heads")
    assert ds.output_names == ["kind", "size"] and ds.tasks == ["multiclass", "regression"]
    assert ds.num_classes == [3, None] and ds.class_names[1] is None and ds.output_shapes == [(), ()]
    assert ds.train.y[1].dtype == np.float32


def test_arrays_for_model_maps_by_name_else_position():
    ds = gen("two_inputs")
    g, ids = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 4}), ("Output", {}, "label"))
    n = g.add_node("Input", {"shape": [10, 1]}, name="sequence")
    fl = g.add_node("Flatten", {})
    g.connect(n.id, fl.id)
    cat = g.add_node("Concatenate", {})
    g.disconnect(next(e for e in g.edges if e.dst == ids[2]))
    g.connect(ids[1], cat.id, 0)
    g.connect(fl.id, cat.id, 1)
    d = g.add_node("Dense", {"units": 4, "activation": "softmax"})
    g.connect(cat.id, d.id)
    g.connect(d.id, ids[2])
    assert check_fit(ds, g) == []
    x, y = arrays_for_model(ds, ds.train, g)
    order = [k for k in g.topological_order() if g.nodes[k].type == "Input"]
    want = {"features": ds.train.x[1], "sequence": ds.train.x[0]}
    assert [a.shape for a in x] == [want[g.nodes[k].name].shape for k in order]
    assert all(np.array_equal(a, want[g.nodes[k].name]) for a, k in zip(x, order))
    # renamed inputs: matched by position
    g.rename(n.id, "s2")
    assert check_fit(ds, g)     # position order gives features (4,) to the sequence Input or vice versa
