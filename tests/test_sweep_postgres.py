"""Two ``layerwise sweep`` processes on one study in a real PostgreSQL server on loopback: together they finish N
trials, none twice, each recorded once as a run; one of them killed with kill -9 leaves the other finishing.

The test starts its own server (initdb / pg_ctl from Debian's ``postgresql`` package, as the ``postgres`` user when
run as root) in a temporary folder, on a free port of 127.0.0.1, and stops it at the end."""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.experiments.runs import RunStore, runs_path
from core.project import Project, save_project
from tests.conftest import ROOT
from tests.core.helpers import chain

pytest.importorskip("psycopg", reason="the cluster extra (psycopg) is not installed: pip install -e '.[test]'")
pytest.importorskip("optuna")


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in p.split("/")[4].split(".")
                                                                          if x.isdigit()])
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def as_server_user(args, **kw):
    if os.geteuid() == 0:
        import shlex
        return subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(map(str, args))], **kw)
    return subprocess.run([str(a) for a in args], **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    bin_dir = pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server here (Debian: apt-get install postgresql); the two-process study needs one")
    if os.geteuid() == 0:
        try:
            import pwd
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="lw-pg-"))   # (pytest's own folders are closed to the postgres user)
    os.chmod(base, 0o777)
    data, port = base / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    kw = {"capture_output": True, "text": True, "timeout": 120}
    r = as_server_user([bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres"], **kw)
    assert r.returncode == 0, r.stderr
    r = as_server_user([bin_dir / "pg_ctl", "-D", data, "-l", base / "log", "-w", "-o",
                        f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"], **kw)
    assert r.returncode == 0, (r.stderr, (base / "log").read_text() if (base / "log").exists() else "")
    try:
        r = as_server_user([bin_dir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "lw"], **kw)
        assert r.returncode == 0, r.stderr
        yield f"postgresql://postgres@127.0.0.1:{port}/lw"
    finally:
        as_server_user([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], **kw)
        shutil.rmtree(base, ignore_errors=True)


def iris(tmp_path):
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 8, "activation": "relu"}, "hidden"),
                 ("Dense", {"units": 3, "activation": "softmax"}, "head"), ("Output", {}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.training.update({"epochs": 1, "batch_size": 32, "device": "cpu"})
    return save_project(p, tmp_path / "iris.layerwise")


def finished_runs(path):
    if not runs_path(path).exists():
        return []
    store = RunStore(runs_path(path))
    try:
        return [r for r in store.list() if r["status"] == "finished"]
    finally:
        store.close()


def test_two_processes_share_one_study_and_one_killed_leaves_the_other_finishing(postgres, tmp_path):
    path = iris(tmp_path)
    args = [sys.executable, "-m", "cli", "sweep", str(path), "--trials", "4", "--epochs", "2", "--study", "shared",
            "--storage", postgres, "--no-pruning", "--dim", "compile.optimizer.learning_rate=1e-3:1e-1:log",
            "--dim", "hidden.units=4:32"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
                              start_new_session=True) for _ in range(2)]
    deadline = time.monotonic() + 150
    while not finished_runs(path) and time.monotonic() < deadline and procs[0].poll() is None:
        time.sleep(0.5)
    os.killpg(procs[0].pid, signal.SIGKILL)           # the process and its worker, mid-sweep
    out, err = procs[1].communicate(timeout=200)
    procs[0].communicate(timeout=30)
    assert procs[1].returncode == 0, err[-2000:]
    done = finished_runs(path)
    numbers = [r["trial"] for r in done]
    assert len(done) == 4 and len(set(numbers)) == 4, numbers
    store = RunStore(runs_path(path))
    every = [r["trial"] for r in store.list()]
    store.close()
    assert len(every) == len(set(every)), every             # every trial recorded once
    import optuna
    study = optuna.load_study(study_name="shared", storage=postgres)
    states = [t.state.name for t in study.trials]
    assert states.count("COMPLETE") == 4 and "RUNNING" not in states, states
    assert out.strip().splitlines()[-1].startswith("best: trial ")
