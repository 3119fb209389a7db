"""The training engine and `layerwise train`: real (small) trainings, stop from another thread, NaN loss,
seeds, feature maps and attention scores, bad settings, CLI exit codes."""
import json
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from core.datasets import Dataset, Split
from core.errors import BuildError, DataError, SettingsError, TrainingError
from core.project import Project, load_project, save_project, weights_path_for
from core.training import TrainConfig, TrainState, confusion_matrix, list_devices, run
from tests.conftest import EXAMPLES, ROOT
from tests.core.helpers import chain


class Recorder(TrainState):
    def __init__(self):
        super().__init__()
        self.start, self.batches, self.epochs, self.features, self.errors, self.ended = None, [], [], [], [], None

    def on_start(self, info):
        self.start = info

    def on_batch(self, epoch, step, logs, info):
        self.batches.append((epoch, step, dict(logs), dict(info)))

    def on_epoch(self, epoch, logs):
        self.epochs.append((epoch, dict(logs)))

    def on_features(self, epoch, step, features):
        self.features.append((epoch, step, features))

    def on_error(self, error):
        self.errors.append(error)

    def on_end(self, result):
        self.ended = result


def digits(**training):
    p = load_project(EXAMPLES / "digits_cnn.layerwise", load_weights=False)
    p.training.update(training)
    return p


def iris_mlp(lr=0.01, optimizer="adam"):
    g, ids = chain(("Input", {"shape": [4]}, "features"), ("Normalization", {}),
                   ("Dense", {"units": 16, "activation": "relu"}),
                   ("Dense", {"units": 3, "activation": "softmax"}),
                   ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.compile["optimizer"] = {"name": optimizer, "learning_rate": lr}
    p.training.update(epochs=3, batch_size=16)
    return p, ids


def array_dataset(x, y, k, name="arrays"):
    n = len(x)
    tr, va = slice(0, n * 3 // 4), slice(n * 3 // 4, n)
    split = lambda s: Split(x=[x[s]], y=[y[s]], n=len(x[s]))  # noqa: E731
    return Dataset(name=name, train=split(tr), val=split(va), test=None, input_shapes=[x.shape[1:]],
                   output_shapes=[()], input_names=["x"], output_names=["y"], tasks=["multiclass"],
                   class_names=[[str(i) for i in range(k)]], num_classes=[k], input_dtypes=["float32"])


# -- real training ---------------------------------------------------------------------------------------------
def test_digits_reaches_accuracy_and_weights_go_into_the_graph():
    p = digits()
    rec = Recorder()
    res = run(p, config=TrainConfig.from_project(p, epochs=6), state=rec)
    assert res.error is None and not res.stopped
    assert res.epochs_done == 6 and len(res.history["loss"]) == 6
    assert res.test_metrics["accuracy"] >= 0.9, res.test_metrics
    assert res.history["val_accuracy"][-1] >= 0.9
    assert rec.start["device"] == "CPU" or rec.start["device"].startswith("GPU")
    assert rec.start["steps_per_epoch"] == -(-rec.start["samples"] // 64)
    assert rec.ended is res and not rec.errors
    assert rec.batches, "batch reports"
    epoch, step, logs, info = rec.batches[-1]
    assert {"loss", "accuracy"} <= set(logs) and {"samples_per_s", "eta_s", "lr"} <= set(info)
    assert [e for e, _ in rec.epochs] == list(range(6))
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "lr", "time_s"} <= set(rec.epochs[0][1])
    assert res.samples_per_s > 0
    # trained weights were copied into the graph: a model rebuilt from the graph predicts the same
    from core.build import build_model
    x = res.dataset.test.x[0][:20]
    again = build_model(p).model
    np.testing.assert_allclose(again.predict(x, verbose=0), res.build.model.predict(x, verbose=0), atol=1e-5)


def test_report_cadence_is_time_based():
    p = digits()
    rec = Recorder()
    run(p, config=TrainConfig.from_project(p, epochs=2, report_interval=3600), state=rec)
    # one report per epoch (its first batch), however many batches there are
    assert [(e, s) for e, s, _, _ in rec.batches] == [(0, 0), (1, 0)]
    rec = Recorder()
    run(p, config=TrainConfig.from_project(p, epochs=1, report_interval=0), state=rec)
    assert len(rec.batches) == rec.start["steps_per_epoch"]


def test_same_seed_same_result_and_another_seed_differs():
    p, _ = iris_mlp()
    a = run(p, config=TrainConfig.from_project(p, seed=3))
    c = run(p, config=TrainConfig.from_project(p, seed=4))
    b = run(p, config=TrainConfig.from_project(p, seed=3))
    assert c.build is a.build          # same network and settings: the compiled model is reused, not retraced
    assert a.history["loss"] == b.history["loss"]
    assert a.history["val_loss"] == b.history["val_loss"]
    assert a.history["loss"] != c.history["loss"]


def test_a_changed_network_is_built_anew():
    p, ids = iris_mlp()
    a = run(p, config=TrainConfig.from_project(p, epochs=1))
    p.graph.set_param(ids[2], "units", 8)
    b = run(p, config=TrainConfig.from_project(p, epochs=1))
    assert b.build is not a.build
    assert b.build.layers[ids[2]].units == 8 and b.error is None
    p.compile.set(("optimizer", "learning_rate"), 0.02)
    c = run(p, config=TrainConfig.from_project(p, epochs=1))
    # a new plain learning rate is a new value of the optimizer's variable: the traced model is kept (a sweep over
    # the learning rate does not retrace, so its memory stays flat)
    assert c.build is b.build
    assert abs(float(c.build.model.optimizer.learning_rate.numpy()) - 0.02) < 1e-9
    p.compile.set(("optimizer", "name"), "sgd")
    d = run(p, config=TrainConfig.from_project(p, epochs=1))
    assert d.build is not c.build and type(d.build.model.optimizer).__name__ == "SGD"
    assert abs(float(d.build.model.optimizer.learning_rate.numpy()) - 0.02) < 1e-9


def test_normalization_is_adapted_on_the_training_split():
    p, ids = iris_mlp()
    res = run(p, config=TrainConfig.from_project(p, epochs=1))
    layer = res.build.layers[ids[1]]
    train_x = res.dataset.train.x[0]
    np.testing.assert_allclose(np.asarray(layer.mean).ravel(), train_x.mean(0), rtol=1e-4)
    np.testing.assert_allclose(np.asarray(layer.variance).ravel(), train_x.var(0), rtol=1e-3)
    # the adapted statistics travel with the graph's weights
    assert p.graph.nodes[ids[1]].weights is not None


# -- stop, errors ----------------------------------------------------------------------------------------------
def test_stop_from_another_thread_keeps_the_weights():
    p = digits()
    before = {k: n.weights for k, n in p.graph.nodes.items()}
    assert all(w is None for w in before.values())
    rec = Recorder()
    box = {}
    cfg = TrainConfig.from_project(p, epochs=200, report_interval=0)
    worker = threading.Thread(target=lambda: box.setdefault("res", run(p, config=cfg, state=rec)))
    worker.start()
    while worker.is_alive() and len(rec.batches) < 5:
        worker.join(0.01)
    rec.request_stop()  # from this (another) thread
    worker.join(120)
    res = box["res"]
    assert res.stopped and res.error is None
    assert res.epochs_done < 200 and res.stopped_at is not None
    conv = p.graph.by_name("conv2d")
    assert conv.weights is not None
    np.testing.assert_array_equal(conv.weights[0], res.build.layers[conv.id].get_weights()[0])


def test_nan_loss_is_a_training_error_and_weights_are_untouched():
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    x[5, 2] = np.inf
    y = (np.arange(64) % 2).astype("int32")
    g, ids = chain(("Input", {"shape": [4]}, "x"), ("Dense", {"units": 2, "activation": "softmax"}),
                   ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "y"))
    p = Project(graph=g, name="nan")
    rec = Recorder()
    res = run(p, data=array_dataset(x, y, 2), config=TrainConfig(epochs=3, batch_size=64), state=rec)
    assert isinstance(res.error, TrainingError) and res.error.kind == "nan"
    assert "loss became nan" in str(res.error)
    assert rec.errors == [res.error] and rec.ended is res
    assert g.nodes[ids[1]].weights is None


def test_huge_learning_rate_diverges_to_nan():
    p, ids = iris_mlp(lr=1e12, optimizer="sgd")
    res = run(p, config=TrainConfig.from_project(p, epochs=20, report_interval=0))
    assert res.error is not None and res.error.kind == "nan", res.history
    assert "Lower the learning rate" in str(res.error)


def test_out_of_memory_and_data_errors_are_typed():
    import tensorflow as tf
    from core.training import training_error as _training_error
    assert _training_error(tf.errors.ResourceExhaustedError(None, None, "OOM when allocating"), tf).kind == "oom"
    assert _training_error(DataError("bad"), tf).kind == "data"
    assert _training_error(tf.errors.InvalidArgumentError(None, None, "bad image"), tf).kind == "data"
    assert _training_error(RuntimeError("x"), tf).kind == "error"


def test_bad_settings_are_named():
    p = digits()
    with pytest.raises(SettingsError, match="epochs must be at least 1, got 0"):
        TrainConfig.from_project(p, epochs=0)
    with pytest.raises(SettingsError, match="batch size must be at least 1, got 0"):
        TrainConfig.from_project(p, batch_size=0)
    with pytest.raises(SettingsError, match="batch size must be a whole number"):
        TrainConfig.from_project(p, batch_size="32")
    with pytest.raises(SettingsError, match="device must be auto, cpu, all, gpu or gpu:N, got 'tpu'"):
        TrainConfig.from_project(p, device="tpu")
    p.training["epochs"] = -1
    with pytest.raises(SettingsError, match="epochs must be at least 1, got -1"):
        TrainConfig.from_project(p)


def test_gpu_request_without_gpu_lists_the_devices():
    if any(d["kind"] == "gpu" for d in list_devices()):
        pytest.skip("this machine has a GPU")
    p = digits()
    with pytest.raises(SettingsError, match=r"no GPU.*devices it sees: CPU"):
        run(p, config=TrainConfig.from_project(p, epochs=1, device="gpu"))


def test_dataset_that_does_not_fit_fails_before_training():
    p = digits()
    p.data["form"] = "flat"
    with pytest.raises(DataError, match=r"dataset gives \(64,\) per sample, Input 'pixels' expects \(8, 8, 1\)"):
        run(p, config=TrainConfig.from_project(p, epochs=1))
    assert all(n.weights is None for n in p.graph.nodes.values())


def test_graph_problems_raise_build_error():
    p = digits()
    p.graph.add_node("Dense", {"units": 3})  # unconnected
    with pytest.raises(BuildError, match="input port 'in1' is not connected"):
        run(p, config=TrainConfig.from_project(p, epochs=1))


def test_mixed_precision_on_cpu_is_ignored_with_a_warning():
    if any(d["kind"] == "gpu" for d in list_devices()):
        pytest.skip("this machine has a GPU")
    p, _ = iris_mlp()
    res = run(p, config=TrainConfig.from_project(p, epochs=1, mixed_precision=True))
    assert res.error is None
    assert any("mixed precision needs a GPU" in w for w in res.warnings)
    import keras
    assert keras.mixed_precision.global_policy().name == "float32"


# -- feature maps, attention scores ------------------------------------------------------------------------------
def test_feature_maps_of_a_conv_layer():
    p = digits()
    conv = p.graph.by_name("conv2d").id
    rec = Recorder()
    res = run(p, config=TrainConfig.from_project(p, epochs=1, feature_nodes=[conv], feature_samples=[0, 3, 5],
                                                 feature_every=5), state=rec)
    assert res.error is None
    steps = rec.start["steps_per_epoch"]
    # every 5 batches, plus once at the end of the epoch
    assert len(rec.features) == steps // 5 + 1
    epoch, step, feats = rec.features[0]
    assert (epoch, step) == (0, 4)
    assert feats[conv].shape == (3, 8, 8, 32) and feats[conv].dtype == np.float32
    # activations of the validation samples 0, 3, 5 with the weights of that moment: the last report equals a
    # direct call with the final weights
    import keras
    sub = keras.Model(res.build.model.inputs, res.build.tensors[conv])
    x = res.dataset.val.x[0][[0, 3, 5]]
    np.testing.assert_allclose(rec.features[-1][2][conv], sub([x], training=False), atol=1e-5)


def test_attention_scores_are_reported():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6, 4)).astype("float32")
    y = (x[:, -1, 0] > 0).astype("int32")
    g, ids = chain(("Input", {"shape": [6, 4]}, "x"), ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4}),
                   ("GlobalAveragePooling1D", {}), ("Dense", {"units": 2, "activation": "softmax"}),
                   ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "y"))
    p = Project(graph=g, name="att")
    rec = Recorder()
    res = run(p, data=array_dataset(x, y, 2), config=TrainConfig(epochs=1, batch_size=16, feature_nodes=[ids[1]],
                                                                   feature_samples=[0, 1], feature_every=0),
              state=rec)
    assert res.error is None
    assert len(rec.features) == 1          # feature_every=0: at the end of each epoch only
    feats = rec.features[0][2]
    assert feats[ids[1]].shape == (2, 6, 4)
    scores = feats[f"{ids[1]}:scores"]
    assert scores.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)   # softmax over the keys


def test_tensorboard_logs_are_written(tmp_path):
    import importlib.util
    p, _ = iris_mlp()
    cfg = TrainConfig.from_project(p, epochs=2, tensorboard_dir=str(tmp_path / "tb"))
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(SettingsError, match="TensorBoard logging needs the tensorboard package"):
            run(p, config=cfg)
        return
    res = run(p, config=cfg)
    assert res.error is None
    assert any(f.name.startswith("events.") for f in (tmp_path / "tb").rglob("*"))


def test_confusion_matrix():
    m = confusion_matrix([0, 1, 2, 2], np.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0, 0.1, 0.9], [0.6, 0.3, 0.1]]), 3)
    assert m.tolist() == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]


# -- the command ------------------------------------------------------------------------------------------------
def cli(*args):
    from click.testing import CliRunner
    from cli.main import cli as group
    return CliRunner().invoke(group, ["train", *map(str, args)])


def test_cli_trains_saves_weights_beside_the_project_and_exports(tmp_path):
    src = tmp_path / "iris.layerwise"
    p, _ = iris_mlp()
    save_project(p, src)
    before = src.read_bytes()
    r = cli(src, "--epochs", 2, "--out", tmp_path / "iris.h5")
    assert r.exit_code == 0, r.output
    assert "device: CPU" in r.output or "device: GPU" in r.output
    assert "epoch 2/2" in r.output and "val_loss" in r.output
    assert "test: loss" in r.output
    assert src.read_bytes() == before             # the project file itself is unchanged
    assert weights_path_for(src).exists() and (tmp_path / "iris.h5").exists()
    q = load_project(src)
    assert all(n.weights is not None for n in q.graph.nodes.values() if n.type in ("Dense", "Normalization"))
    import keras
    m = keras.models.load_model(tmp_path / "iris.h5")
    from core.build import build_model
    x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype="float32")
    np.testing.assert_allclose(m.predict(x, verbose=0), build_model(q).model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("args, code, text", [
    (("--epochs", 0), 2, "error: --epochs: epochs must be at least 1, got 0"),
    (("--batch-size", 0), 2, "error: --batch-size: batch size must be at least 1, got 0"),
    (("--device", "tpu"), 2, "device must be auto, cpu, all, gpu or gpu:N"),
    (("--out", "model.onnx"), 2, "unknown export format '.onnx'"),
])
def test_cli_bad_settings_exit_2(tmp_path, args, code, text):
    src = tmp_path / "iris.layerwise"
    save_project(iris_mlp()[0], src)
    r = cli(src, *args)
    assert r.exit_code == code, r.output
    assert text in r.output
    assert "Traceback" not in r.output
    assert not weights_path_for(src).exists()


def test_cli_graph_problem_exits_1_with_the_problems(tmp_path):
    p, _ = iris_mlp()
    p.graph.add_node("Dense", {"units": 3}, name="stray")
    src = tmp_path / "bad.layerwise"
    save_project(p, src)
    r = cli(src, "--epochs", 1)
    assert r.exit_code == 1, r.output
    assert "node 'stray'" in r.output and "is not connected" in r.output


def test_cli_data_error_exits_2(tmp_path):
    p = digits()
    p.data["form"] = "flat"
    src = tmp_path / "flat.layerwise"
    save_project(p, src)
    r = cli(src, "--epochs", 1)
    assert r.exit_code == 2, r.output
    assert "dataset gives (64,) per sample, Input 'pixels' expects (8, 8, 1)" in r.output
    p.data = {"source": "builtin", "name": "no_such_set"}
    save_project(p, src)
    r = cli(src, "--epochs", 1)
    assert r.exit_code == 2 and "no_such_set" in r.output, r.output


def test_cli_nan_loss_exits_1(tmp_path):
    # plain SGD at the largest learning rate a project allows (10) on a regression head diverges within an epoch,
    # whatever the seed and the split
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 16, "activation": "relu"}),
                 ("Dense", {"units": 1}), ("Output", {"loss": "mean_squared_error", "metrics": []}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.compile["optimizer"] = {"name": "sgd", "learning_rate": 10.0}
    src = tmp_path / "nan.layerwise"
    save_project(p, src)
    r = cli(src, "--epochs", 20)
    assert r.exit_code == 1, r.output
    out = r.output.lower()
    assert ("loss became nan" in out or "loss became inf" in out) and "saved weights are unchanged" in r.output
    assert not weights_path_for(src).exists()


def test_cli_gpu_without_gpu_exits_2():
    if any(d["kind"] == "gpu" for d in list_devices()):
        pytest.skip("this machine has a GPU")
    r = cli(EXAMPLES / "digits_cnn.layerwise", "--epochs", 1, "--device", "gpu", "--no-save")
    assert r.exit_code == 2, r.output
    assert "TensorFlow sees no GPU" in r.output and "CPU" in r.output


def test_ctrl_c_stops_at_the_end_of_a_batch_and_keeps_the_weights(tmp_path):
    src = tmp_path / "digits.layerwise"
    src.write_bytes((EXAMPLES / "digits_cnn.layerwise").read_bytes())
    env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "train", str(src), "--epochs", "500"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("epoch 2/500"):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "stopped at epoch" in err and "the weights trained so far are kept" in err
    assert "saved trained weights" in out
    assert "Traceback" not in err
    q = load_project(src)
    assert q.graph.by_name("conv2d").weights is not None
    assert json.loads(src.read_text())["name"] == "digits_cnn"


def test_streamed_dataset_trains_adapts_and_reports_features():
    import tensorflow as tf
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(200, 4)) * 5 + 3).astype("float32")
    y = (x[:, 0] > 3).astype("int32")

    def stream(a, b):
        return Split(x=None, y=None, tf_dataset=tf.data.Dataset.from_tensor_slices((a, b)).batch(16), n=len(a))
    ds = Dataset(name="stream", train=stream(x[:150], y[:150]), val=stream(x[150:], y[150:]), test=stream(x[150:], y[150:]),
                 input_shapes=[(4,)], output_shapes=[()], input_names=["x"], output_names=["y"], tasks=["binary"],
                 class_names=[["no", "yes"]], num_classes=[2], input_dtypes=["float32"])
    g, ids = chain(("Input", {"shape": [4]}, "x"), ("Normalization", {}), ("Dense", {"units": 8, "activation": "relu"}),
                   ("Dense", {"units": 2, "activation": "softmax"}),
                   ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "y"))
    rec = Recorder()
    res = run(Project(graph=g, name="stream"), data=ds,
              config=TrainConfig(epochs=2, batch_size=16, feature_nodes=[ids[2]], feature_samples=[0, 2]), state=rec)
    assert res.error is None and res.epochs_done == 2
    assert rec.start["steps_per_epoch"] == 10
    np.testing.assert_allclose(np.asarray(res.build.layers[ids[1]].mean).ravel(), x[:150].mean(0), rtol=1e-4)
    assert rec.features[0][2][ids[2]].shape == (2, 8)
    assert "accuracy" in res.test_metrics


def test_early_stopping_ends_the_run(tmp_path):
    p, _ = iris_mlp(lr=0.05)
    p.training["early_stopping"] = {"enabled": True, "monitor": "val_loss", "patience": 0, "restore_best_weights": True}
    src = tmp_path / "es.layerwise"
    save_project(p, src)
    r = cli(src, "--epochs", 300, "--no-save")
    assert r.exit_code == 0, r.output
    assert "val_loss did not improve for 1 epoch(s) (the best epoch's weights restored)" in r.output
    assert "epoch 300/300" not in r.output


def test_data_error_mid_epoch_is_a_training_error():
    import tensorflow as tf
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    x[40, 1] = np.nan
    y = (np.arange(64) % 2).astype("int32")
    bad = tf.data.Dataset.from_tensor_slices((x, y)).map(
        lambda a, b: (tf.debugging.check_numerics(a, "a sample holds NaN"), b)).batch(8)
    split = Split(x=None, y=None, tf_dataset=bad, n=64)
    ds = Dataset(name="bad", train=split, val=None, test=None, input_shapes=[(4,)], output_shapes=[()],
                 input_names=["x"], output_names=["y"], tasks=["binary"], class_names=[["a", "b"]], num_classes=[2])
    g, _ = chain(("Input", {"shape": [4]}, "x"), ("Dense", {"units": 2, "activation": "softmax"}),
                 ("Output", {"loss": "sparse_categorical_crossentropy"}, "y"))
    rec = Recorder()
    res = run(Project(graph=g, name="bad"), data=ds, config=TrainConfig(epochs=2, batch_size=8, report_interval=0),
              state=rec)
    assert res.error is not None and res.error.kind == "data", res.error
    assert "a data error stopped training" in str(res.error) and "a sample holds NaN" in str(res.error)
    assert 0 < len(rec.batches) < 8 and rec.errors == [res.error]


def test_plateau_schedule_lowers_the_learning_rate():
    p, _ = iris_mlp(lr=1e-7)
    p.compile["schedule"] = {"kind": "plateau", "factor": 0.5, "patience": 1, "min_lr": 0.0}
    res = run(p, config=TrainConfig.from_project(p, epochs=5))
    lrs = res.history["lr"]
    assert lrs[0] == pytest.approx(1e-7) and lrs[-1] < lrs[0] / 1.9, lrs
