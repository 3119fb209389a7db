"""core.build: a graph becomes a keras.Model whose shapes are the ones inference showed, with the weights the
nodes carry, the global dropout where the regularization asks for it, and a BuildError when the graph has
problems."""
import numpy as np
import pytest

from core.build import build_model, collect_weights, compile_model
from core.errors import BuildError
from core.infer import Code, check
from core.project import Project, load_project
from tests.conftest import EXAMPLES
from tests.core.helpers import chain

keras = pytest.importorskip("keras")


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.layerwise")))
def test_built_model_has_the_shapes_inference_shows(example):
    p = load_project(EXAMPLES / example, load_weights=False)
    res = check(p.graph, p.regularization)
    assert res.ok, [str(x) for x in res.problems]
    b = build_model(p, info=res)
    model = b.model
    outs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
    assert [tuple(t.shape) for t in outs] == [res.nodes[k].shape for k in b.outputs]
    assert [tuple(t.shape) for t in model.inputs] == [res.nodes[k].shape for k in b.inputs]
    for k, t in b.tensors.items():
        if ":" not in k:
            assert tuple(t.shape) == res.nodes[k].shape, p.graph.nodes[k].name
    assert model.count_params() == res.total


def test_weights_go_in_and_come_back_out():
    g, (i, d, out) = chain(("Input", {"shape": [3]}), ("Dense", {"units": 2}), ("Output", {}))
    w = [np.arange(6, dtype="float32").reshape(3, 2), np.array([1.0, -1.0], "float32")]
    g.nodes[d].weights = w
    b = build_model(g)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(b.model.predict(x, verbose=0), x @ w[0] + w[1])
    g.nodes[d].weights = None
    collect_weights(g, b)
    np.testing.assert_array_equal(g.nodes[d].weights[0], w[0])


def test_global_dropout_follows_a_block_but_not_the_output_layer():
    g, (i, h, top, out) = chain(("Input", {"shape": [4]}), ("Dense", {"units": 8}), ("Dense", {"units": 2}),
                                ("Output", {}))
    p = Project(graph=g)
    p.regularization = {"l2": 0.0, "dropout": 0.25}
    b = build_model(p)
    drops = [layer for layer in b.model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [d.rate for d in drops] == [0.25] and h + ":dropout" in b.layers and top + ":dropout" not in b.layers
    compile_model(b, p)
    assert b.model.optimizer is not None


def test_a_graph_with_problems_is_a_build_error_listing_them():
    g, (i, d, out) = chain(("Input", {"shape": [4]}), ("Conv2D", {}), ("Output", {}))
    with pytest.raises(BuildError) as e:
        build_model(g)
    assert [p.code for p in e.value.problems] == [Code.LAYER]
