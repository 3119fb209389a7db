"""``layerwise sweep``: trials in worker processes, one JSON line per trial and the best, every trial a run, a
study continued across starts, a failing trial recorded with its message, and bad input as one line (exit 2)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli.main import cli
from core.experiments.runs import RunStore, runs_path
from core.project import Project, save_project
from tests.conftest import ROOT
from tests.core.helpers import chain

LR = "compile.optimizer.learning_rate=1e-3:1e-1:log"


def iris(tmp_path, name="iris.layerwise"):
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 8, "activation": "relu"}, "hidden"),
                 ("Dense", {"units": 3, "activation": "softmax"}, "head"), ("Output", {}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.training.update({"epochs": 1, "batch_size": 32, "device": "cpu"})
    return save_project(p, tmp_path / name)


def sweep(*args, timeout=240):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "cli", "sweep", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def json_lines(text):
    return [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]


DIMS = ("--dim", LR, "--dim", "head.units=3,7", "--dim", "hidden.units=4:16")


def one_finished_before(path):
    """The study s1 with one finished trial already, as an earlier (killed) start of the sweep left it."""
    from core.experiments import space as sp
    from core.experiments import sweep_storage, sweep_study
    from core.experiments.sweep import prepare
    from core.project import load_project
    project = load_project(path)
    spec = prepare(path, DIMS[1::2], trials=3, study="s1")
    lock = sweep_storage.StudyLock(spec["storage"])
    study = sweep_study.load(sweep_storage.open_storage(spec["storage"], lock), spec)
    t = study.ask()
    sp.suggest(t, [sp.parse_dim(d, project) for d in DIMS[1::2]])
    study.tell(t, 5.0)
    lock.close()


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A sweep to 3 finished trials of a study that had 1; head.units 3 or 7 (7 does not fit 3 classes: those
    trials fail)."""
    path = iris(tmp_path_factory.mktemp("sweep"))
    one_finished_before(path)
    r = sweep(path, "--trials", 3, "--epochs", 2, "--study", "s1", "--seed", 1, "--json", *DIMS)
    return path, r


def test_a_sweep_prints_one_json_line_per_trial_and_the_best_of_them(swept):
    path, r = swept
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json_lines(r.stdout)
    trials, best = [x for x in rows if "best" not in x], rows[-1]["best"]
    finished = [t for t in trials if t["status"] == "finished"]
    # --trials 3 counts the one finished before this start: two more were trained
    assert len(finished) == 2 and len({t["trial"] for t in trials}) == len(trials) and 0 not in \
        {t["trial"] for t in trials}
    for t in finished:
        assert 1e-3 <= t["params"]["compile.optimizer.learning_rate"] <= 0.1
        assert 4 <= t["params"]["hidden.units"] <= 16 and t["params"]["head.units"] == 3
        assert isinstance(t["value"], float)
    assert best["value"] == min(t["value"] for t in finished)     # (the earlier trial's 5.0 is worse)
    for t in trials:
        if t["status"] == "failed":    # 7 units for 3 classes: recorded failed with the reason
            assert t["params"]["head.units"] == 7 and "3 classes" in t["message"] and t["value"] is None


def test_every_trial_is_a_run_with_its_study_and_trial_number(swept):
    path, r = swept
    rows = [x for x in json_lines(r.stdout) if "best" not in x]
    store = RunStore(runs_path(path))
    runs = store.list()
    store.close()
    assert sorted(x["trial"] for x in runs) == sorted(t["trial"] for t in rows)
    assert all(x["sweep"]["study"] == "s1" for x in runs)
    finished = {x["trial"]: x for x in runs if x["status"] == "finished"}
    for t in rows:
        if t["status"] == "finished":
            assert finished[t["trial"]]["metrics"]["val_loss"] == pytest.approx(t["value"])
            lr = finished[t["trial"]]["settings"]["compile"]["optimizer"]["learning_rate"]
            assert lr == pytest.approx(t["params"]["compile.optimizer.learning_rate"])
    failed = [x for x in runs if x["status"] not in ("finished", "pruned")]
    assert all("3 classes" in (x["message"] or "") for x in failed)


# -- bad input ---------------------------------------------------------------------------------------------------
def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="layerwise")


@pytest.mark.parametrize("extra, words", [
    (["--dim", "compile.optimizer.learning_rate=0.1:0.01"], "--dim compile.optimizer.learning_rate: low must be below high"),
    (["--dim", "compile.optimizer.learning_rate=0:0.1:log"], "a log range must be above 0"),
    (["--dim", "hidden.activation=,"], "--dim hidden.activation: the list of choices is empty"),
    (["--dim", "nosuch.units=2:4"], "--dim nosuch.units: no node named 'nosuch'"),
    ([], "no dimensions to sweep"),
    (["--dim", LR, "--storage", "not a url"], "--storage 'not a url': not a database URL"),
    (["--dim", LR, "--storage", "postgresql://u@127.0.0.1:1/db"], "--storage postgresql://u@127.0.0.1:1/db: cannot connect"),
    (["--dim", LR, "--storage", "oracle://u@h/db"], "unsupported database 'oracle'"),
    (["--dim", LR, "--trials", "0"], "--trials: the number of finished trials must be at least 1"),
])
def test_bad_input_is_one_line_naming_the_field_and_nothing_is_written(tmp_path, extra, words):
    path = iris(tmp_path)
    before = path.read_bytes()
    r = invoke("sweep", path, "--trials", 2, *extra) if "--trials" not in extra else invoke("sweep", path, *extra)
    assert r.exit_code == 2, r.output
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], r.stderr
    assert "Traceback" not in r.output and path.read_bytes() == before
    assert not runs_path(path).exists()


def test_a_study_that_exists_with_another_search_space_is_refused(tmp_path):
    from core.experiments.sweep import prepare
    path = iris(tmp_path)
    prepare(path, [LR], trials=2, study="lrs")
    r = invoke("sweep", path, "--trials", 2, "--study", "lrs", "--dim", "hidden.units=4:16")
    assert r.exit_code == 2
    assert "error: --study 'lrs': this study exists with another search space (dimensions " \
           "compile.optimizer.learning_rate" in r.stderr
