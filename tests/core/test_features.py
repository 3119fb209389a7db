"""Feature maps of a trained model on demand (core.features): the layer's output for one sample, the traced
function kept per model and node list."""
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from core.build import build_model
from core.datasets import load_dataset
from core.features import feature_maps
from core.infer import Inference
from tests.core.helpers import chain


@pytest.fixture(scope="module")
def tiny_conv():
    keras.utils.set_random_seed(0)
    g, ids = chain(("Input", {"shape": [8, 8, 1]}, "pixels"),
                   ("Conv2D", {"filters": 3, "kernel_size": 3, "activation": "relu"}),
                   ("MaxPooling2D", {"pool_size": 2}), ("Flatten", {}),
                   ("Dense", {"units": 10, "activation": "softmax"}), ("Output", {}, "digit"))
    ds = load_dataset({"source": "builtin", "name": "digits", "seed": 0})
    return g, ids, SimpleNamespace(build=build_model(g), dataset=ds)


def test_feature_maps_have_the_layers_output_shape_and_values(tiny_conv):
    g, ids, result = tiny_conv
    conv, pool, dense = ids[1], ids[2], ids[4]
    feats = feature_maps(result, g, [conv, pool, dense], sample=5)
    shapes = Inference().run(g).nodes
    for k in (conv, pool, dense):
        assert feats[k].shape == (1,) + tuple(shapes[k].shape[1:]) and feats[k].dtype == np.float32
    assert feats[conv].shape == (1, 6, 6, 3) and feats[dense].shape == (1, 10)
    # the activations of validation sample 5, as the model itself computes them
    x = result.dataset.val.x[0][5:6]
    sub = keras.Model(result.build.model.inputs, [result.build.tensors[conv], result.build.tensors[dense]])
    want_conv, want_dense = sub([x])
    np.testing.assert_allclose(feats[conv], np.asarray(want_conv), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(feats[dense], np.asarray(want_dense), rtol=1e-5, atol=1e-6)
    assert abs(float(feats[dense].sum()) - 1.0) < 1e-5                  # softmax
    # a sample index beyond the split falls back to the first sample
    first = feature_maps(result, g, [conv], sample=10 ** 6)
    np.testing.assert_allclose(first[conv], np.asarray(sub([result.dataset.val.x[0][:1]])[0]), rtol=1e-5, atol=1e-6)


def test_traced_function_is_kept_per_model_and_node_list(tiny_conv):
    g, ids, result = tiny_conv
    cache = {}
    feature_maps(result, g, [ids[1]], 0, cache)
    made = cache[(id(result.build.model), (ids[1],))]
    feature_maps(result, g, [ids[1]], 3, cache)
    assert cache == {(id(result.build.model), (ids[1],)): made}          # reused for another sample
    other = SimpleNamespace(build=build_model(g), dataset=result.dataset)
    feature_maps(other, g, [ids[1]], 0, cache)
    assert list(cache) == [(id(other.build.model), (ids[1],))]           # another model: the old one dropped
    assert feature_maps(result, g, ["no-such-node"], 0) is None
