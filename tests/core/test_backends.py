"""Keras' other backends: the digits example trains on JAX in a worker process (KERAS_BACKEND=jax) to the accuracy
band of TensorFlow, streaming its progress and feature maps back; the .keras it writes reloads in TensorFlow with
the predictions JAX makes; stop reaches the worker; a backend that is unknown or not installed is one clear line
(naming the extra to install); PyTorch where it is installed."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from core.errors import SettingsError
from core.project import load_project
from core.training import TrainConfig, TrainState, backends, run
from core.training.worker_client import run_on_backend, run_with_backend
from core.validate import training_problems
from tests.conftest import EXAMPLES, ROOT

DIGITS = EXAMPLES / "digits_cnn.layerwise"
EPOCHS = 4
HAS_JAX = importlib.util.find_spec("jax") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None
NO_TORCH = "PyTorch is not installed here (the [torch] extra: PyPI's Linux wheel carries CUDA and is gigabytes)"

PREDICT = """
import os, sys, numpy as np
os.environ["KERAS_BACKEND"] = sys.argv[1]
import keras
m = keras.models.load_model(sys.argv[2])
x = np.random.default_rng(0).uniform(0, 16, size=(32,) + tuple(m.inputs[0].shape[1:])).astype("float32")
np.save(sys.argv[3], np.asarray(m.predict(x, verbose=0)))
"""


def sample_inputs(model):
    """The inputs PREDICT uses."""
    shape = (32,) + tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(0).uniform(0, 16, size=shape).astype("float32")


class Recorder(TrainState):
    def __init__(self, stop_at_batch=None):
        super().__init__()
        self.info, self.epochs, self.batches, self.features, self.ended = None, [], 0, [], None
        self.stop_at_batch = stop_at_batch

    def on_start(self, info):
        self.info = info

    def on_batch(self, epoch, step, logs, info):
        self.batches += 1
        if self.stop_at_batch is not None and self.batches >= self.stop_at_batch:
            self.request_stop()

    def on_epoch(self, epoch, logs):
        self.epochs.append((epoch, logs))

    def on_features(self, epoch, step, features):
        self.features.append(features)

    def on_end(self, result):
        self.ended = result


def predictions(tmp_path, backend, model_file):
    out = tmp_path / f"pred_{backend}.npy"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    subprocess.run([sys.executable, "-c", PREDICT, backend, str(model_file), str(out)], check=True, env=env,
                   cwd=ROOT, capture_output=True, timeout=120)
    return np.load(out)


def train_on(backend, tmp_path, out):
    project = load_project(DIGITS)
    cfg = TrainConfig.from_project(project, epochs=EPOCHS, feature_nodes=[next(iter(project.graph.nodes))],
                                   feature_every=0)
    state = Recorder()
    result = run_on_backend(project, cfg, state, backend, out=out)
    return project, result, state


@pytest.mark.skipif(not HAS_JAX, reason="JAX is not installed (the test extra installs its CPU build)")
def test_digits_trains_on_jax_in_a_worker_to_the_band_and_its_keras_file_reloads_in_tensorflow(tmp_path):
    out = tmp_path / "digits_jax.keras"
    project, result, state = train_on("jax", tmp_path, out)
    assert result.error is None, result.error
    assert result.device == "CPU (JAX)" and state.info["device"] == "CPU (JAX)"
    assert [e for e, _ in state.epochs] == list(range(EPOCHS)) and state.batches >= EPOCHS
    assert state.ended is result and result.epochs_done == EPOCHS
    # feature maps crossed the pipe as arrays, one per epoch end
    assert len(state.features) == EPOCHS
    feats = next(iter(state.features[0].values()))
    assert feats.dtype == np.float32 and feats.shape[0] == 1
    # the trained weights came back into the nodes
    assert project.has_weights()
    # the same accuracy band as TensorFlow, same settings, in this process
    ref_project = load_project(DIGITS)
    ref = run(ref_project, config=TrainConfig.from_project(ref_project, epochs=EPOCHS))
    acc_jax, acc_tf = result.test_metrics["accuracy"], ref.test_metrics["accuracy"]
    assert acc_jax >= 0.85 and acc_jax >= acc_tf - 0.05, (acc_jax, acc_tf)
    # the .keras written by JAX: TensorFlow predicts what JAX predicts
    assert result.exported == str(out.resolve()) and out.stat().st_size > 0
    import keras   # (this process runs TensorFlow)
    assert keras.backend.backend() == "tensorflow"
    p_jax = predictions(tmp_path, "jax", out)
    model = keras.models.load_model(out)
    p_tf = np.asarray(model.predict(sample_inputs(model), verbose=0))
    assert p_jax.shape == (32, 10)
    assert np.abs(p_jax - p_tf).max() <= 1e-5


@pytest.mark.skipif(not HAS_JAX, reason="JAX is not installed (the test extra installs its CPU build)")
def test_a_stop_request_reaches_the_worker_and_the_run_keeps_what_it_trained():
    project = load_project(DIGITS)
    cfg = TrainConfig.from_project(project, epochs=50, report_interval=0)
    state = Recorder(stop_at_batch=3)
    result = run_on_backend(project, cfg, state, "jax")
    assert result.error is None and result.stopped and result.epochs_done < 50
    assert result.stopped_at is not None and result.stopped_at[0] == 0


@pytest.mark.skipif(not HAS_JAX, reason="JAX is not installed (the test extra installs its CPU build)")
def test_a_jax_run_is_recorded_in_the_runs_database_like_a_tensorflow_one(tmp_path):
    import shutil
    from core.experiments.record import RunRecorder
    from core.experiments.runs import RunStore, runs_path
    path = tmp_path / "digits.layerwise"
    shutil.copyfile(DIGITS, path)
    project = load_project(path)
    cfg = TrainConfig.from_project(project, epochs=2, backend="jax")
    rec = RunRecorder(path, project, cfg, lazy=True)
    cfg.extra_callbacks = [rec.callback]
    result = run_with_backend(project, cfg, TrainState())
    rec.finish(result)
    assert result.error is None and not any("extension" in w for w in result.warnings), result.warnings
    store = RunStore(runs_path(path))
    runs = store.list()
    assert len(runs) == 1 and runs[0]["status"] == "finished" and runs[0]["device"] == "CPU (JAX)"
    assert runs[0]["settings"]["training"]["backend"] == "jax" and "jax" in runs[0]["versions"]
    assert runs[0]["metrics"]["accuracy"] == pytest.approx(result.history["accuracy"][-1])
    epochs = store.curves(runs[0]["id"])["epochs"]
    assert [e["epoch"] for e in epochs] == [0, 1] and all("val_loss" in e for e in epochs)
    store.close()


@pytest.mark.skipif(not HAS_JAX, reason="JAX is not installed (the test extra installs its CPU build)")
def test_a_jax_run_writes_its_checkpoint_and_resumes_from_it(tmp_path):
    import shutil
    from core.training.checkpoint import checkpoint_callback, checkpoint_path_for, load
    path = tmp_path / "digits.layerwise"
    shutil.copyfile(DIGITS, path)
    ck = checkpoint_path_for(path)
    project = load_project(path)
    cfg = TrainConfig.from_project(project, epochs=2, backend="jax")
    cfg.extra_callbacks = [checkpoint_callback(ck, project, cfg)]
    result = run_with_backend(project, cfg, TrainState())
    assert result.error is None and not any("extension" in w for w in result.warnings), result.warnings
    saved = load(ck)      # written by the JAX worker: weights, optimizer state, epochs, history
    assert saved.epoch == 2 and len(saved.history["loss"]) == 2 and saved.weights and saved.optimizer
    # a new session resumes on JAX: it starts at epoch 3 from the checkpoint, not afresh
    again = load_project(path)
    cfg = TrainConfig.from_project(again, epochs=3, backend="jax")
    cfg.initial_epoch = saved.epoch
    cfg.extra_callbacks = [checkpoint_callback(ck, again, cfg, resume=saved)]
    state = Recorder()
    r2 = run_with_backend(again, cfg, state)
    assert r2.error is None and [e for e, _ in state.epochs] == [2]
    assert state.epochs[0][1]["loss"] < 0.8 * saved.history["loss"][0], (state.epochs, saved.history)
    assert load(ck).epoch == 3 and len(load(ck).history["loss"]) == 3


@pytest.mark.skipif(not HAS_TORCH, reason=NO_TORCH)
def test_digits_trains_on_torch_in_a_worker(tmp_path):
    project, result, state = train_on("torch", tmp_path, None)
    assert result.error is None, result.error
    assert result.test_metrics["accuracy"] >= 0.85 and len(state.epochs) == EPOCHS


def test_a_bad_input_in_the_worker_is_raised_here_with_its_message(tmp_path):
    if not HAS_JAX:
        pytest.skip("JAX is not installed (the test extra installs its CPU build)")
    project = load_project(DIGITS)
    cfg = TrainConfig.from_project(project, epochs=1, feature_nodes=["no_such_node"])
    with pytest.raises(SettingsError, match="no node 'no_such_node'"):
        run_on_backend(project, cfg, Recorder(), "jax")


# -- choosing a backend -------------------------------------------------------------------------------------------
def test_backend_names_and_the_installed_list():
    assert backends.normalize("TensorFlow") == "tensorflow" and backends.normalize("pytorch") == "torch"
    with pytest.raises(SettingsError, match="backend 'theano': not a Keras backend; expected tensorflow, jax or torch"):
        backends.normalize("theano")
    listed = {b["name"]: b for b in backends.installed()}
    assert listed["tensorflow"]["installed"] and listed["tensorflow"]["version"]
    assert listed["jax"]["installed"] == HAS_JAX and listed["torch"]["installed"] == HAS_TORCH
    assert listed["jax"]["extra"] == "jax" and listed["torch"]["extra"] == "torch"


def test_a_missing_backend_names_the_extra_to_install(monkeypatch):
    monkeypatch.setattr(backends, "version_of", lambda name: None if name == "jax" else "1.0")
    with pytest.raises(SettingsError) as e:
        backends.check("jax")
    assert str(e.value) == ('backend jax: JAX is not installed: install the [jax] extra (pip install '
                            '"layerwise[jax]", or pip install jax)')


def test_the_project_setting_is_checked_and_read():
    assert training_problems({"backend": "jax"}) == []
    assert training_problems({"backend": "theano"}) == ['"training.backend" must be tensorflow, jax or torch, '
                                                        "got 'theano'"]
    assert training_problems({"backend": 3}) == ['"training.backend" must be tensorflow, jax or torch, got 3']
    project = load_project(DIGITS)
    project.training = {**project.training, "backend": "JAX"}
    assert TrainConfig.from_project(project).backend == "jax"
    assert TrainConfig.from_project(project, backend="tensorflow").backend == "tensorflow"


@pytest.mark.skipif(not HAS_JAX, reason="JAX is not installed (the test extra installs its CPU build)")
def test_every_gpu_at_once_is_tensorflow_s_and_said_so():
    project = load_project(DIGITS)
    with pytest.raises(SettingsError, match="device all: training on every GPU at once uses TensorFlow's "
                                            "MirroredStrategy; on JAX choose auto, cpu, gpu or gpu:N"):
        run_on_backend(project, TrainConfig(device="all", backend="jax"), TrainState(), "jax")


def test_this_process_backend_runs_in_process(monkeypatch):
    calls = []
    import core.training.engine as engine
    monkeypatch.setattr(engine, "run", lambda project, **kw: calls.append(kw) or "ran here")
    assert run_with_backend(object(), TrainConfig(backend="tensorflow"), TrainState()) == "ran here"
    assert not backends.needs_worker("tensorflow") and backends.needs_worker("jax")


@pytest.mark.parametrize("name, words", [
    ("theano", ["--backend", "'theano'", "tensorflow, jax or torch"]),
    ("jax", ["--backend", "JAX is not installed", "[jax]"]),
])
def test_train_with_a_bad_backend_is_one_line_and_exit_2(monkeypatch, tmp_path, name, words):
    monkeypatch.setattr(backends, "version_of", lambda n: None if n != "tensorflow" else "2")
    r = CliRunner().invoke(cli, ["train", str(DIGITS), "--epochs", "1", "--no-save", "--backend", name],
                           prog_name="layerwise")
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert r.exit_code == 2 and len(errors) == 1, r.output
    assert all(w in errors[0] for w in words), errors[0]
    assert "Traceback" not in r.output
