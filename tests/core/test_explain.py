"""Explanations of one prediction: saliency of a linear model is its weights, Grad-CAM on a convolution node,
integrated gradients on a sequence (they add up to the score's change from the zero baseline), the picture, and
the refusals."""
import struct
import zlib

import numpy as np
import pytest

from core.build import build_model
from core.datasets import load_dataset
from core.explain import ExplainError, explain_sample, sample_of
from core.explain_png import png_bytes, render
from core.project import Project, load_project
from tests.conftest import EXAMPLES
from tests.core.helpers import chain


def test_saliency_of_a_linear_model_equals_its_weights():
    g, _ = chain(("Input", {"shape": [5]}, "x"), ("Dense", {"units": 3}, "linear"),
                 ("Output", {"loss": "mean_squared_error"}, "y"))
    p = Project(graph=g, name="linear")
    b = build_model(p)
    kernel = b.model.get_layer("linear").kernel.numpy()
    x = np.random.default_rng(1).normal(size=(1, 5)).astype("float32")
    for c in range(3):
        ex = explain_sample(b, p.graph, [x], class_index=c)
        np.testing.assert_allclose(ex.saliency, kernel[:, c], rtol=1e-5, atol=1e-7)
        assert ex.class_index == c and ex.kind == "vector"


def digits():
    p = load_project(EXAMPLES / "digits_cnn.layerwise", load_weights=False)
    return p, build_model(p), load_dataset(p.data)


def test_grad_cam_on_a_convolution_node_and_the_picture():
    p, b, data = digits()
    xs, label, split = sample_of(data, p.graph, 3)
    assert split == "test" and xs[0].shape == (1, 8, 8, 1)
    ex = explain_sample(b, p.graph, xs, layer="conv2d_2")
    assert ex.kind == "image" and ex.saliency.shape == (8, 8, 1) and ex.cam_layer == "conv2d_2"
    assert ex.cam.shape == (8, 8) and 0 <= ex.cam.min() and ex.cam.max() <= 1
    assert ex.class_index == int(np.argmax(ex.probabilities))
    rgb = render(ex)
    assert rgb.dtype == np.uint8 and rgb.shape[1] > 3 * rgb.shape[0] // 2   # three panels side by side
    data_ = png_bytes(rgb)
    assert data_[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data_[16:24])
    assert (h, w) == rgb.shape[:2]
    raw = zlib.decompress(data_[data_.index(b"IDAT") + 4:data_.index(b"IEND") - 8])
    rows = np.frombuffer(raw, np.uint8).reshape(h, 1 + 3 * w)
    assert (rows[:, 0] == 0).all() and np.array_equal(rows[:, 1:].reshape(h, w, 3), rgb)


def test_refusals_name_what_is_wrong():
    p, b, data = digits()
    with pytest.raises(ExplainError, match=r"sample 270 is out of range: the test split has 270 samples \(0 to 269\)"):
        sample_of(data, p.graph, 270)
    xs, _, _ = sample_of(data, p.graph, 0)
    with pytest.raises(ExplainError, match="node 'flatten' .* has no spatial axes"):
        explain_sample(b, p.graph, xs, layer="flatten")
    with pytest.raises(ExplainError, match="no node named 'nope'"):
        explain_sample(b, p.graph, xs, layer="nope")
    with pytest.raises(ExplainError, match="class 10 is out of range"):
        explain_sample(b, p.graph, xs, class_index=10)


def test_integer_ids_have_no_saliency():
    g, _ = chain(("Input", {"shape": [6], "dtype": "int32"}, "tokens"), ("Embedding", {"input_dim": 10, "output_dim": 4}),
                 ("Flatten", {}), ("Dense", {"units": 2, "activation": "softmax"}),
                 ("Output", {"loss": "sparse_categorical_crossentropy"}, "y"))
    p = Project(graph=g, name="ids")
    with pytest.raises(ExplainError, match="input 'tokens' holds int32 values"):
        explain_sample(build_model(p), p.graph, [np.zeros((1, 6), "int32")])


def test_integrated_gradients_of_a_sequence_add_up_to_the_score_change():
    p = load_project(EXAMPLES / "sequence_lstm.layerwise", load_weights=False)
    b = build_model(p)
    data = load_dataset(p.data)
    xs, _, _ = sample_of(data, p.graph, 1)
    ex = explain_sample(b, p.graph, xs, class_index=1)
    assert ex.kind == "sequence" and ex.attribution.shape == (20,) and ex.method == "integrated gradients"
    at_zero = float(b.model(np.zeros_like(xs[0]), training=False)[0, 1])
    assert ex.attribution.sum() == pytest.approx(ex.score - at_zero, abs=0.02 + 0.05 * abs(ex.score - at_zero))
    gxi = explain_sample(b, p.graph, xs, class_index=1, method="grad_x_input")
    np.testing.assert_allclose(gxi.attribution, (gxi.saliency * xs[0][0]).sum(axis=-1), rtol=1e-5, atol=1e-7)
    assert render(ex).shape[0] > 0
