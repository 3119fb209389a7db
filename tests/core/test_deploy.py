"""Exports to deployment targets (core.deploy), run in the real runtimes: onnxruntime, the TFLite interpreter and a
reloaded SavedModel predict what Keras predicts; quantized exports report the test metric; a failed check, a missing
extra or int8 without data leave nothing at the output path."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from core.build import build_model
from core.deploy import DeployError, ParityError, UnsupportedLayer, export_target
from core.project import Project
from tests.core.helpers import chain

IRIS = {"source": "builtin", "name": "iris", "validation_split": 0.15, "test_split": 0.3, "seed": 0}


def project(*specs, data=None, name="tiny"):
    g, ids = chain(*specs)
    p = Project(graph=g, name=name) if data is None else Project(graph=g, name=name, data=data)
    return p, ids


def mlp(data=IRIS):
    return project(("Input", {"shape": [4]}, "features"), ("Normalization", {}, "norm"),
                   ("Dense", {"units": 8, "activation": "relu"}, "hidden"),
                   ("Dense", {"units": 3, "activation": "softmax"}, "species"),
                   ("Output", {"loss": "sparse_categorical_crossentropy"}), data=data)


def adapted(p, ids, seed=0):
    """A build whose Normalization has real statistics (mean 5, spread 2), so the constants matter."""
    b = build_model(p, with_weights=False)
    b.layers[ids[1]].adapt(np.random.default_rng(seed).normal(5, 2, (64, 4)).astype("float32"))
    return b


def listing(folder):
    return sorted(x.name for x in folder.iterdir())


def test_onnx_keeps_the_normalization_constants_inside_and_matches_keras(tmp_path):
    import onnxruntime as ort
    p, ids = mlp()
    b = adapted(p, ids)
    lines = []
    rep = export_target(p, b, tmp_path / "m.onnx", "onnx", log=lines.append)
    assert lines == ["ONNX opset 17"]
    s = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in s.get_inputs()] == ["features"]     # no extra inputs for the mean and variance
    assert [o.name for o in s.get_outputs()] == ["species"]
    x = np.random.default_rng(1).normal(5, 2, (16, 4)).astype("float32")
    got = s.run(None, {"features": x})[0]
    np.testing.assert_allclose(got, b.model.predict(x, verbose=0), atol=1e-5)
    assert rep.max_diff <= 1e-4 and "test samples of iris" in rep.source
    assert rep.keras_ms > 0 and rep.target_ms > 0
    assert listing(tmp_path) == ["m.onnx"]


def test_tflite_unrolls_an_lstm_into_builtin_ops(tmp_path):
    import tensorflow as tf
    p, _ = project(("Input", {"shape": [6, 3]}, "signal"), ("LSTM", {"units": 5}, "lstm"),
                   ("Dense", {"units": 1}, "value"), ("Output", {"loss": "mean_squared_error"}),
                   data={"source": "none"})
    b = build_model(p, with_weights=False)
    rep = export_target(p, b, tmp_path / "m.tflite", "tflite")
    assert "random inputs" in rep.source and rep.max_diff <= 1e-4
    it = tf.lite.Interpreter(model_path=str(tmp_path / "m.tflite"))
    x = np.random.default_rng(2).uniform(-1, 1, (3, 6, 3)).astype("float32")
    got = it.get_signature_runner()(signal=x)["value"]
    np.testing.assert_allclose(got, b.model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("mode", ["dynamic", "int8"])
def test_quantized_tflite_reports_the_test_accuracy_next_to_the_float_one(tmp_path, mode):
    p, ids = mlp()
    b = adapted(p, ids)
    rep = export_target(p, b, tmp_path / "q.tflite", "tflite", quantize=mode)
    (out, metric, keras_acc, tflite_acc), = rep.metrics
    assert (out, metric) == ("species", "accuracy")
    assert abs(keras_acc - tflite_acc) <= 0.1
    assert rep.tolerance >= 0.05 and rep.max_diff <= rep.tolerance
    assert any("test accuracy of species" in ln for ln in rep.lines())


def test_int8_without_data_is_refused_and_writes_nothing(tmp_path):
    p, ids = mlp(data={"source": "csv", "path": str(tmp_path / "missing.csv")})
    with pytest.raises(DeployError, match="int8 calibrates on the project's training data"):
        export_target(p, adapted(p, ids), tmp_path / "q.tflite", "tflite", quantize="int8")
    assert listing(tmp_path) == []


def test_savedmodel_serves_named_inputs_and_outputs_and_replaces_an_old_export(tmp_path):
    import tensorflow as tf
    p, ids = mlp()
    out = tmp_path / "served"
    export_target(p, adapted(p, ids, seed=0), out, "savedmodel")
    b2 = adapted(p, ids, seed=1)
    export_target(p, b2, out, "savedmodel")                     # a second export replaces the first
    f = tf.saved_model.load(str(out)).signatures["serving_default"]
    assert sorted(f.structured_input_signature[1]) == ["features"]
    x = np.random.default_rng(3).normal(5, 2, (5, 4)).astype("float32")
    got = f(features=tf.constant(x))["species"].numpy()
    np.testing.assert_allclose(got, b2.model.predict(x, verbose=0), atol=1e-5)
    assert listing(tmp_path) == ["served"]


def test_a_difference_beyond_the_tolerance_fails_and_leaves_nothing(tmp_path, monkeypatch):
    from core.deploy import onnx
    real = onnx.Runner.__call__
    monkeypatch.setattr(onnx.Runner, "__call__", lambda self, xs: {k: v + 1e-3 for k, v in real(self, xs).items()})
    p, ids = mlp()
    with pytest.raises(ParityError, match=r"output 'species' differs from Keras by 1\.00e-03 .*tolerance 0\.0001"):
        export_target(p, adapted(p, ids), tmp_path / "m.onnx", "onnx")
    assert listing(tmp_path) == []


def test_a_missing_extra_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)           # import tf2onnx now raises ImportError
    p, ids = mlp()
    with pytest.raises(DeployError, match=r'needs tf2onnx, which is not installed: pip install "layerwise\[onnx\]"'):
        export_target(p, adapted(p, ids), tmp_path / "m.onnx", "onnx")
    assert listing(tmp_path) == []


def test_an_rnn_without_a_fixed_length_is_named_before_anything_is_written(tmp_path):
    import keras
    from core.deploy.graph import unrolled
    x = keras.Input((None, 3), name="signal")
    m = keras.Model(x, keras.layers.GRU(4, name="encoder")(x))
    with pytest.raises(UnsupportedLayer, match=r"node 'encoder' \(GRU\): TFLite needs it unrolled"):
        unrolled(m)


def test_an_op_tflite_has_no_builtin_for_is_named_with_its_layer():
    import keras
    import tensorflow as tf
    from core.deploy import tflite
    x = keras.Input((3, 3), name="x")
    y = keras.layers.Lambda(lambda t: tf.linalg.det(t), name="determinant")(x)
    m = keras.Model(x, keras.layers.Dense(2, name="out")(keras.layers.Reshape((1,))(y)))
    with pytest.raises(UnsupportedLayer, match=r"node 'determinant' \(Lambda\): TFLite cannot express it: the "
                                               r"TensorFlow op MatrixDeterminant has no TFLite equivalent"):
        tflite.convert(m)
