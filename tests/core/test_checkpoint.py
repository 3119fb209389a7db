"""Checkpoints (core.training.checkpoint): written at the start and after every epoch, restored exactly (weights,
optimizer state, history), refused when they belong to another graph or are not checkpoints; the addresses and
TF_CONFIG of multi-worker training (core.training.multiworker, core.training.distribute)."""
import json
import socket

import numpy as np
import pytest

from core.errors import SettingsError
from core.training import TrainConfig, run
from core.training import checkpoint as ck
from core.training.distribute import read_tf_config, tf_config_of
from core.training.multiworker import check_own_address, check_rank, parse_workers
from tests.core.test_training import iris_mlp


def _train(p, path, epochs, resume=None):
    cfg = TrainConfig.from_project(p, epochs=epochs)
    if resume is not None:
        cfg.initial_epoch = resume.epoch
    make = ck.checkpoint_callback(path, p, cfg, resume=resume)
    cfg.extra_callbacks = [make]
    res = run(p, config=cfg)
    assert res.error is None, res.error
    make.writer.flush()
    return res


def test_every_epoch_is_checkpointed_and_a_resumed_run_continues_exactly(tmp_path):
    p, _ = iris_mlp()
    path = tmp_path / "iris.layerwise.checkpoint.npz"
    straight = _train(p, tmp_path / "straight.npz", 4)          # 4 epochs in one go
    first = _train(p, path, 2)                                   # 2 epochs, then a "new process" resumes
    c = ck.load(path)
    assert c.epoch == 2 and c.epochs == 2 and len(c.history["loss"]) == 2
    assert c.history["loss"] == pytest.approx(first.history["loss"])
    its = int(first.build.model.optimizer.iterations.numpy())
    assert its > 0 and any(a.shape == () and int(a) == its for a in c.optimizer)
    resumed = _train(p, path, 4, resume=c)
    c4 = ck.load(path)
    assert c4.epoch == 4 and len(c4.history["loss"]) == 4               # the curve continues
    assert c4.history["loss"][:2] == pytest.approx(c.history["loss"])
    # weights and optimizer state restored: the resumed epochs 3-4 train like epochs 3-4 of the straight run
    # (the shuffling order differs: the resumed run's data pipeline starts again, so close, not equal)
    assert resumed.history["loss"][0] < c.history["loss"][-1] * 1.2
    assert resumed.test_metrics["accuracy"] >= straight.test_metrics["accuracy"] - 0.1


def test_a_checkpoint_of_another_graph_is_refused(tmp_path):
    p, ids = iris_mlp()
    path = tmp_path / "c.npz"
    _train(p, path, 1)
    p.graph.nodes[ids[2]].params["units"] = 8
    with pytest.raises(SettingsError, match="c.npz: this checkpoint was written for a different graph"):
        ck.check_fits(ck.load(path), p.graph, path)
    p.graph.nodes[ids[2]].params["units"] = 16
    p.graph.nodes[ids[2]].pos = (999.0, 5.0)   # moving a card changes nothing
    ck.check_fits(ck.load(path), p.graph, path)


def test_files_that_are_not_checkpoints_are_refused(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SettingsError, match="x.npz: not a readable checkpoint"):
        ck.load(bad)
    np.savez(bad, meta=np.frombuffer(json.dumps({"format": "other"}).encode(), dtype=np.uint8))
    with pytest.raises(SettingsError, match="not a Layerwise checkpoint"):
        ck.load(bad)
    np.savez(bad, meta=np.array([{"a": 1}], dtype=object))   # a pickled object is never unpickled
    with pytest.raises(SettingsError, match="not a readable checkpoint"):
        ck.load(bad)
    with pytest.raises(SettingsError, match="--resume: no checkpoint there"):
        ck.load(tmp_path / "missing.npz")


def test_a_write_is_atomic_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "p.layerwise.checkpoint.npz"
    c = ck.Checkpoint(1, 3, "g", {"loss": [0.5]}, [np.ones((2, 2), "float32")], [np.int64(3)])
    w = ck.Writer(path)
    w.submit(c)
    w.flush()
    assert w.written == 1 and [f.name for f in tmp_path.iterdir()] == [path.name]
    back = ck.load(path)
    assert back.epoch == 1 and back.history == {"loss": [0.5]} and np.array_equal(back.weights[0], np.ones((2, 2)))


@pytest.mark.parametrize("text, words", [
    ("nonsense", "'nonsense' is not HOST:PORT"),
    ("127.0.0.1:5000", "needs two or more"),
    ("127.0.0.1:5000,127.0.0.1:70000", "port 70000 is not between 1 and 65535"),
    ("127.0.0.1:5000,127.0.0.1:5000", "is given twice"),
    ("127.0.0.1:5000,,127.0.0.1:5001", "'' is not HOST:PORT"),
    ("http://a:1,b:2", "'http://a:1' is not HOST:PORT"),
])
def test_malformed_worker_addresses(text, words):
    with pytest.raises(SettingsError, match=words):
        parse_workers(text)


def test_worker_addresses_ranks_and_tf_config():
    w = parse_workers(" 10.0.0.5:12345, gpu-box:12346,[::1]:7 ")
    assert w == ["10.0.0.5:12345", "gpu-box:12346", "[::1]:7"]
    with pytest.raises(SettingsError, match="--rank: 3 is not one of the 3 workers"):
        check_rank(3, w)
    with pytest.raises(SettingsError, match="--rank: say which of the 3 workers"):
        check_rank(None, w)
    assert read_tf_config(json.dumps(tf_config_of(w, 1))) == (w, 1)
    assert read_tf_config("") is None
    with pytest.raises(SettingsError, match="TF_CONFIG: expected JSON"):
        read_tf_config("{not json")
    with pytest.raises(SettingsError, match="task index 5 is not one of the 3"):
        read_tf_config(json.dumps(tf_config_of(w, 5)))
    with pytest.raises(SettingsError, match="task type 'ps' is not supported"):
        read_tf_config(json.dumps({"cluster": {"worker": w}, "task": {"type": "ps", "index": 0}}))


def test_a_port_in_use_and_an_address_of_another_machine():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        with pytest.raises(SettingsError, match=f"port {port} on 127.0.0.1 \\(worker 0\\) is in use"):
            check_own_address(f"127.0.0.1:{port}", 0)
    finally:
        s.close()
    check_own_address(f"127.0.0.1:{port}", 0)   # free again
    with pytest.raises(SettingsError, match="192.0.2.1:5000 is not an address of this machine"):
        check_own_address("192.0.2.1:5000", 1)
