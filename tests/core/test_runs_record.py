"""Recording real (tiny) trainings as runs (core.experiments.record): the snapshot, the epochs written as they end
and sampled batches, how each kind of end is recorded (finished, early-stopped, stopped, NaN, an error mid-run,
an exception before training), and a database that cannot be written not stopping the training."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import DataError
from core.experiments.record import RunRecorder, final_metrics, snapshot, status_of
from core.experiments.runs import RunStore, runs_path
from core.project import Project, save_project
from core.training import TrainConfig, TrainState, run
from tests.core.helpers import chain


def iris(tmp_path, lr=0.01, optimizer="adam", epochs=3, **training):
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Normalization", {}),
                 ("Dense", {"units": 16, "activation": "relu"}), ("Dense", {"units": 3, "activation": "softmax"}),
                 ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.compile["optimizer"] = {"name": optimizer, "learning_rate": lr}
    p.training.update(epochs=epochs, batch_size=16, device="cpu", **training)
    path = tmp_path / "iris.layerwise"
    save_project(p, path)
    return p, path


def train(p, path, state=None, lazy=False, **overrides):
    cfg = TrainConfig.from_project(p, **overrides)
    rec = RunRecorder(path, p, cfg, lazy=lazy)
    cfg.extra_callbacks = [rec.callback]
    result = run(p, config=cfg, state=state)
    rec.finish(result)
    return rec, result, RunStore(runs_path(path))


def test_a_finished_run_keeps_snapshot_curves_and_metrics(tmp_path):
    p, path = iris(tmp_path)
    rec, result, store = train(p, path, epochs=4)
    r = store.get(rec.run_id)
    assert r["status"] == "finished" and r["message"] is None
    assert r["graph"] == p.graph.to_dict()
    assert r["settings"]["compile"]["optimizer"]["learning_rate"] == 0.01
    assert r["settings"]["training"]["epochs"] == 4                 # what the run used, not only the file's 3
    assert r["settings"]["data"]["name"] == "iris" and "regularization" in r["settings"]
    assert {"python", "keras", "tensorflow", "numpy"} <= set(r["versions"])
    assert set(r["metrics"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert r["metrics"]["val_loss"] == pytest.approx(result.history["val_loss"][-1])
    assert r["test_metrics"]["accuracy"] == pytest.approx(result.test_metrics["accuracy"])
    assert [e["epoch"] for e in r["curves"]["epochs"]] == [0, 1, 2, 3]
    assert [e["loss"] for e in r["curves"]["epochs"]] == pytest.approx(result.history["loss"])
    assert r["seconds"] == pytest.approx(result.seconds) and r["samples_per_s"] > 0 and r["device"] == "CPU"


def test_batches_are_sampled_by_time(tmp_path):
    p, path = iris(tmp_path)
    cfg = TrainConfig.from_project(p, epochs=3)
    rec = RunRecorder(path, p, cfg)
    rec.batch_interval = 0.0          # every batch after the first of an epoch
    cfg.extra_callbacks = [rec.callback]
    rec.finish(run(p, config=cfg))
    batches = RunStore(runs_path(path)).curves(rec.run_id)["batches"]
    steps = -(-96 // 16)   # 150 samples, 20% validation, 20% test: 90 train -> 6 batches
    assert len(batches) >= 3 * (steps - 2)
    assert all(set(logs) >= {"loss", "accuracy"} and logs["loss"] > 0 for _, _, logs in batches)


def test_nan_and_early_stopping_and_stop_are_recorded_as_such(tmp_path):
    p, path = iris(tmp_path, lr=1e12, optimizer="sgd")
    rec, result, store = train(p, path, epochs=20)
    r = store.get(rec.run_id)
    assert r["status"] == "nan" and "became" in r["message"] and "Lower the learning rate" in r["message"]

    p, path = iris(tmp_path, lr=0.05, early_stopping={"enabled": True, "monitor": "val_loss", "patience": 0})
    rec, result, store = train(p, path, epochs=300)
    r = store.get(rec.run_id)
    assert result.early_stopped and r["status"] == "early-stopped"
    assert len(r["curves"]["epochs"]) == result.epochs_done < 300

    class StopAfterTwo(TrainState):
        def on_epoch(self, epoch, logs):
            if epoch == 1:
                self.request_stop()

    p, path = iris(tmp_path)
    rec, result, store = train(p, path, state=StopAfterTwo(), epochs=50)
    r = store.get(rec.run_id)
    assert r["status"] == "stopped" and len(r["curves"]["epochs"]) == 2 and r["metrics"]["loss"] > 0


def test_a_crash_mid_run_keeps_the_curves_so_far(tmp_path):
    p, path = iris(tmp_path)
    cfg = TrainConfig.from_project(p, epochs=10)
    rec = RunRecorder(path, p, cfg)

    def crash(keras, build, inputs):
        class Crash(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 2:
                    raise RuntimeError("the disk caught fire")
        return Crash()

    cfg.extra_callbacks = [rec.callback, crash]
    result = run(p, config=cfg)
    rec.finish(result)
    r = RunStore(runs_path(path)).get(rec.run_id)
    assert r["status"] == "error" and "the disk caught fire" in r["message"]
    assert [e["epoch"] for e in r["curves"]["epochs"]] == [0, 1, 2]
    assert r["metrics"]["loss"] == pytest.approx(r["curves"]["epochs"][2]["loss"])


def test_an_exception_before_training(tmp_path):
    p, path = iris(tmp_path)
    cfg = TrainConfig.from_project(p)
    rec = RunRecorder(path, p, cfg)
    rec.fail(DataError("dataset 'iris' has no training samples"))
    r = RunStore(runs_path(path)).get(rec.run_id)
    assert (r["status"], r["message"]) == ("error", "dataset 'iris' has no training samples")
    # lazy (the command line): nothing is written for a run that never started training
    other = tmp_path / "other.layerwise"
    lazy = RunRecorder(other, p, cfg, lazy=True)
    lazy.fail(DataError("no"))
    assert lazy.run_id is None and not runs_path(other).exists()


def test_a_database_that_cannot_be_written_does_not_stop_training(tmp_path):
    p, path = iris(tmp_path)
    cfg = TrainConfig.from_project(p, epochs=2)
    rec = RunRecorder(path, p, cfg)
    rec.store.close()                 # every later write fails with RunsError
    cfg.extra_callbacks = [rec.callback]
    result = run(p, config=cfg)
    assert result.error is None and result.epochs_done == 2
    assert "closed" in rec.broken


def test_helpers():
    assert final_metrics({"loss": [2.0, 1.0], "lr": [0.1, 0.1], "time_s": [1, 1], "val_loss": [np.float32(3)]}) == \
        {"loss": 1.0, "val_loss": 3.0}
    assert final_metrics({}, [{"loss": 1.0, "epoch": 0}]) == {"loss": 1.0}

    class R:
        error = stopped = early_stopped = None
    assert status_of(R()) == ("finished", None)
    p, _ = chain(("Input", {"shape": [4]}), ("Output", {}))
    s = snapshot(Project(graph=p))
    assert set(s["settings"]) == {"compile", "regularization", "data", "training"} and "graph" in s
