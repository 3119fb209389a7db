"""`layerwise train` past one process: two workers on loopback train one model (they share their gradients:
different seeds, the same weights at the end), a worker whose peers never come up times out, kill -9 then
--resume continues the curves, and the bad requests (malformed address, port in use, checkpoint of another graph)
say one line and exit 2 with the project untouched."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

from click.testing import CliRunner

from cli.main import cli
from core.project import save_project
from tests.conftest import ROOT
from tests.core.test_training import iris_mlp

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
EPOCH = re.compile(r"^epoch (\d+)/\d+  loss ([0-9.]+)", re.M)


def _project(folder, name="iris", **training):
    folder.mkdir(parents=True, exist_ok=True)
    p, ids = iris_mlp()
    p.training.update(training)
    path = folder / f"{name}.layerwise"
    save_project(p, path)
    return path, ids


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _layerwise(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "cli", *map(str, args)], cwd=ROOT, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def test_two_workers_on_loopback_train_one_model(tmp_path):
    w0, _ = _project(tmp_path / "a")
    w1, _ = _project(tmp_path / "b")
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))
    # different seeds: only a model trained together (initial weights broadcast, gradients all-reduced) ends
    # with the same weights on both workers
    r1 = _layerwise("train", w1, "--epochs", 2, "--workers", workers, "--rank", 1, "--seed", 1)
    r0 = _layerwise("train", w0, "--epochs", 2, "--workers", workers, "--rank", 0, "--seed", 0)
    out0, out1 = r0.communicate(timeout=240)[0], r1.communicate(timeout=60)[0]
    assert r0.returncode == 0 and r1.returncode == 0, (out0[-800:], out1[-800:])
    for out in (out0, out1):
        assert "MultiWorkerMirroredStrategy, 2 replicas in sync, 8 samples per replica per batch" in out
    assert EPOCH.findall(out0) == EPOCH.findall(out1) and len(EPOCH.findall(out0)) == 2   # one loss curve
    digests = [re.search(r"final weights digest (\w+)", o).group(1) for o in (out0, out1)]
    assert digests[0] == digests[1]
    acc = float(re.search(r"^test: .*accuracy ([0-9.]+)", out0, re.M).group(1))
    assert acc >= 0.7
    # worker 0 writes the result (weights, run record); worker 1 writes nothing beside its project
    assert (w0.parent / "iris.layerwise.weights.h5").exists()
    assert sorted(f.name for f in w1.parent.iterdir()) == ["iris.layerwise"]


def test_a_worker_whose_peers_never_come_up_times_out(tmp_path):
    w0, _ = _project(tmp_path)
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))
    t0 = time.monotonic()
    r = _layerwise("train", w0, "--epochs", 1, "--workers", workers, "--rank", 0, "--worker-timeout", 5)
    out = r.communicate(timeout=90)[0]
    assert r.returncode == 2, out[-500:]
    assert f"error: the other worker(s) ({workers.split(',')[1]}) never came up: no answer within 5 s" in out
    assert "Traceback" not in out and time.monotonic() - t0 < 60
    assert sorted(f.name for f in tmp_path.iterdir()) == ["iris.layerwise"]


def test_kill_9_then_resume_continues_the_curves(tmp_path):
    proj, _ = _project(tmp_path, epochs=9, batch_size=4)
    r = _layerwise("train", proj, "--no-record", start_new_session=True)
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = r.stdout.readline()
        lines.append(line)
        if line.startswith("epoch 3/") or not line:
            break
    os.killpg(r.pid, signal.SIGKILL)
    rest = r.communicate()[0]
    before = EPOCH.findall("".join(lines) + rest)
    assert len(before) >= 3
    again = invoke("train", proj, "--no-record", "--resume")   # (in this process: TensorFlow is loaded)
    out = again.output
    assert again.exit_code == 0, out[-800:]
    after = EPOCH.findall(out)
    assert f"resuming from {proj}.checkpoint.npz" in out
    assert int(after[0][0]) >= len(before) and after[-1][0] == "9"        # at most the epoch in progress lost
    assert float(after[0][1]) < float(before[0][1]) * 0.8                   # trained weights, not fresh ones


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="layerwise")


def test_bad_requests_say_one_line_and_leave_the_project_untouched(tmp_path):
    proj, ids = _project(tmp_path)
    before = proj.read_bytes()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        cases = [(("--workers", "nonsense", "--rank", 0), "error: --workers: 'nonsense' is not HOST:PORT"),
                 (("--workers", f"127.0.0.1:{port},127.0.0.1:1", "--rank", 0),
                  f"error: --workers: port {port} on 127.0.0.1 (worker 0) is in use by another program"),
                 (("--workers", "127.0.0.1:1,127.0.0.1:2", "--rank", 2), "error: --rank: 2 is not one of the 2"),
                 (("--rank", 1), "error: --rank: only with --workers"),
                 (("--resume",), "--resume: no checkpoint there"),
                 (("--device", "gpu:7"), "error: --device: device gpu:7:")]
        for args, words in cases:
            r = invoke("train", proj, "--epochs", 1, *args)
            assert r.exit_code == 2 and words in r.output, (args, r.output)
            assert r.output.count("\n") == 1 and "Traceback" not in r.output
    finally:
        s.close()
    from core.project import load_project
    from core.training import checkpoint as ck
    # a checkpoint of this graph after 1 epoch (what `train --epochs 1` leaves when it is killed at its end)
    ck.save(ck.checkpoint_path_for(proj), ck.Checkpoint(1, 1, ck.graph_fingerprint(load_project(proj).graph)))
    before = proj.read_bytes()
    text = before.decode().replace('"units": 16', '"units": 12')
    proj.write_text(text)
    r = invoke("train", proj, "--epochs", 3, "--resume")
    assert r.exit_code == 2 and "checkpoint.npz: this checkpoint was written for a different graph" in r.output
    assert proj.read_text() == text
    proj.write_bytes(before)
    r = invoke("train", proj, "--epochs", 1, "--resume")
    assert r.exit_code == 2 and "has 1 of 1 epochs done already; ask for more with --epochs" in r.output
