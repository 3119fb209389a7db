"""``layerwise export`` to the deployment targets: .onnx (the opset and the parity report printed), .tflite with
--quantize, --format savedmodel, --keras2 (an .h5 tf_keras loads); bad requests are one line, exit 2, nothing
written; a difference beyond the tolerance is exit 1, nothing written."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from core.project import Project, save_project
from tests.cli.test_cli import assert_exit_2, error_lines, invoke
from tests.core.helpers import chain

IRIS = {"source": "builtin", "name": "iris", "validation_split": 0.15, "test_split": 0.3, "seed": 0}


@pytest.fixture
def iris(tmp_path):
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 6, "activation": "relu"}, "hidden"),
                 ("Dense", {"units": 3, "activation": "softmax"}, "species"),
                 ("Output", {"loss": "sparse_categorical_crossentropy"}))
    return save_project(Project(graph=g, name="iris", data=IRIS), tmp_path / "iris.layerwise")


def files_in(folder):
    return sorted(x.name for x in folder.iterdir())


def test_onnx_prints_the_opset_and_the_parity_report(iris, tmp_path):
    r = invoke("export", iris, "--out", tmp_path / "m.onnx")
    assert r.exit_code == 0, r.output
    assert "ONNX opset 17" in r.stdout
    assert f"wrote {tmp_path / 'm.onnx'}" in r.stdout
    assert "parity on 8 test samples of iris:" in r.stdout
    assert "species: largest difference" in r.stdout and "(tolerance 0.0001)" in r.stdout
    assert "batch-1 latency: Keras" in r.stdout and "ms, onnxruntime" in r.stdout


def test_keras2_h5_loads_in_tf_keras_with_the_same_predictions(iris, tmp_path):
    import keras
    import tf_keras
    out = tmp_path / "k2.h5"
    r = invoke("export", iris, "--out", out, "--keras2")
    assert r.exit_code == 0, r.output
    assert "tf_keras" in r.stdout
    r = invoke("export", iris, "--out", tmp_path / "k3.keras")    # fresh weights differ: compare the layout only
    assert r.exit_code == 0, r.output
    m2, m3 = tf_keras.models.load_model(out), keras.models.load_model(tmp_path / "k3.keras")
    assert [type(x).__name__ for x in m2.layers] == [type(x).__name__ for x in m3.layers]
    assert m2.count_params() == m3.count_params()
    x = np.ones((2, 4), "float32")
    assert m2.predict(x, verbose=0).shape == (2, 3)


def test_savedmodel_folder(iris, tmp_path):
    r = invoke("export", iris, "--out", tmp_path / "served", "--format", "savedmodel")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "served" / "saved_model.pb").is_file()
    assert "SavedModel" in r.stdout


def test_quantize_int8_reports_the_test_accuracy(iris, tmp_path):
    r = invoke("export", iris, "--out", tmp_path / "q.tflite", "--quantize", "int8")
    assert r.exit_code == 0, r.output
    assert "test accuracy of species: Keras" in r.stdout and ", TFLite" in r.stdout


def test_bad_requests_are_one_line_exit_2_and_write_nothing(iris, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    assert_exit_2(invoke("export", iris, "--out", out / "m.tflite", "--quantize", "int4"), "int4")
    assert_exit_2(invoke("export", iris, "--out", out / "m.onnx", "--quantize", "int8"), "--quantize int8",
                  ".tflite")
    assert_exit_2(invoke("export", iris, "--out", out / "m.keras", "--keras2"), "Keras 2", ".h5")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert_exit_2(invoke("export", iris, "--out", out / "m.onnx"), 'pip install "layerwise[onnx]"', "onnxruntime")
    assert files_in(out) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_exit_2(iris, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert_exit_2(invoke("export", iris, "--out", ro / "m.onnx"), "read-only")
        assert files_in(ro) == []
    finally:
        ro.chmod(0o755)


def test_int8_without_data_is_exit_2(tmp_path):
    g, _ = chain(("Input", {"shape": [4]}, "x"), ("Dense", {"units": 2}), ("Output", {"loss": "mean_squared_error"}))
    p = save_project(Project(graph=g, name="nodata", data={"source": "csv", "path": "missing.csv"}),
                     tmp_path / "nodata.layerwise")
    assert_exit_2(invoke("export", p, "--out", tmp_path / "q.tflite", "--quantize", "int8"), "int8",
                  "training data")
    assert not (tmp_path / "q.tflite").exists()


def test_a_difference_beyond_the_tolerance_is_exit_1(iris, tmp_path, monkeypatch):
    from core.deploy import tflite
    real = tflite.Runner.__call__
    monkeypatch.setattr(tflite.Runner, "__call__", lambda self, xs: {k: v * 0 for k, v in real(self, xs).items()})
    r = invoke("export", iris, "--out", tmp_path / "m.tflite")
    assert r.exit_code == 1, r.output
    assert "output 'species' differs from Keras by" in error_lines(r)[0]
    assert not (tmp_path / "m.tflite").exists()
