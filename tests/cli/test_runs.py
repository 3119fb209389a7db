"""``layerwise train`` records runs and ``layerwise runs`` lists, compares and exports them; a damaged or newer runs
database is one error line naming it, exit 2, and is left as it is."""
from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from click.testing import CliRunner

from cli.main import cli
from core.experiments.runs import SCHEMA_VERSION, RunStore, runs_path
from core.project import Project, load_project, save_project
from tests.core.helpers import chain


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="layerwise")


def assert_exit_2(result, *words):
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert all(w in errors[0] for w in words), errors[0]
    assert "Traceback" not in result.output


def iris(tmp_path, name="iris.layerwise"):
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 8, "activation": "relu"}),
                 ("Dense", {"units": 3, "activation": "softmax"}), ("Output", {}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.training.update({"epochs": 1, "batch_size": 32, "device": "cpu"})
    return save_project(p, tmp_path / name)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """A project trained twice, the second time with another learning rate."""
    tmp = tmp_path_factory.mktemp("runs")
    src = iris(tmp)
    first = invoke("train", src, "--epochs", 2, "--no-save")
    p = load_project(src)
    p.compile["optimizer"] = {**p.compile["optimizer"], "learning_rate": 0.0123}
    save_project(p, src)
    second = invoke("train", src, "--epochs", 2, "--no-save")
    return src, first, second


def test_each_training_is_a_run(two_runs):
    src, first, second = two_runs
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert f"recorded run 1 (finished) in {runs_path(src)}" in first.stderr
    r = invoke("runs", src, "--json")
    assert r.exit_code == 0, r.output
    runs = json.loads(r.stdout)
    assert [x["id"] for x in runs] == [1, 2] and all(x["status"] == "finished" for x in runs)
    for x in runs:
        assert set(x) >= {"id", "status", "started", "seconds", "metrics", "settings", "sweep", "trial", "name",
                          "tags", "note", "device", "versions", "seed", "samples_per_s", "test_metrics", "message"}
        assert set(x["metrics"]) == {"loss", "accuracy", "val_loss", "val_accuracy"} and x["seconds"] > 0
    assert runs[1]["settings"]["compile"]["optimizer"]["learning_rate"] == 0.0123


def test_the_table_shows_the_setting_that_differs(two_runs):
    r = invoke("runs", two_runs[0])
    assert r.exit_code == 0, r.output
    head, *rows = r.stdout.splitlines()
    assert head.split()[:5] == ["id", "name", "status", "started", "time"]
    assert "learning_rate" in head and "val_loss" in head and "epochs" not in head
    assert len(rows) == 2 and "0.0123" in rows[1] and "finished" in rows[0]


def test_diff_names_only_the_learning_rate(two_runs):
    r = invoke("runs", two_runs[0], "--diff", 1, 2)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["compile.optimizer.learning_rate: 0.001 -> 0.0123"]
    same = invoke("runs", two_runs[0], "--diff", 2, 2)
    assert same.stdout.strip() == "runs 2 and 2 have the same graph and settings"
    assert_exit_2(invoke("runs", two_runs[0], "--diff", 1, 9), "no run 9", "runs.sqlite")


def test_export_csv(two_runs, tmp_path):
    out = tmp_path / "runs.csv"
    r = invoke("runs", two_runs[0], "--export-csv", out)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert [row["id"] for row in rows] == ["1", "2"]
    assert rows[1]["compile.optimizer.learning_rate"] == "0.0123" and float(rows[0]["val_loss"]) > 0
    assert_exit_2(invoke("runs", two_runs[0], "--export-csv", tmp_path / "no" / "such" / "x.csv"), "x.csv")


def test_no_runs_yet_and_no_record(tmp_path):
    src = iris(tmp_path)
    assert invoke("runs", src, "--json").stdout.strip() == "[]"
    assert "no runs recorded" in invoke("runs", src).stdout
    r = invoke("train", src, "--no-record", "--no-save")
    assert r.exit_code == 0 and not runs_path(src).exists()
    assert_exit_2(invoke("runs", tmp_path / "missing.layerwise"), "missing.layerwise", "no such project")
    bad = invoke("train", src, "--epochs", 0)
    assert bad.exit_code == 2 and not runs_path(src).exists()    # refused before training: nothing written


@pytest.mark.parametrize("kind", ["garbage", "newer"])
def test_a_damaged_or_newer_database_is_exit_2_naming_it_and_kept(tmp_path, kind):
    src = iris(tmp_path)
    db = runs_path(src)
    if kind == "garbage":
        db.write_bytes(b"\x00garbage" * 300)
        words = ("not a Layerwise runs database",)
    else:
        RunStore(db).close()
        con = sqlite3.connect(db)
        con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 5),))
        con.commit()
        con.close()
        words = (f"version {SCHEMA_VERSION + 5}", "newer Layerwise")
    before = db.read_bytes()
    for args in (("runs", src), ("runs", src, "--json"), ("train", src, "--no-save")):
        assert_exit_2(invoke(*args), str(db), *words)
    assert db.read_bytes() == before
    assert not (tmp_path / "iris.layerwise.weights.h5").exists()
    r = invoke("train", src, "--no-save", "--no-record")    # the way out the message names
    assert r.exit_code == 0 and db.read_bytes() == before


def test_run_weights_are_kept_with_the_run_and_go_with_it(tmp_path):
    src = iris(tmp_path)
    r = invoke("train", src, "--no-save", "--run-weights")
    assert r.exit_code == 0, r.output
    store = RunStore(runs_path(src))
    run = store.list()[0]
    assert run["weights_path"] == "iris.runs/run-1.weights.h5"
    kept = tmp_path / "iris.runs" / "run-1.weights.h5"
    assert kept.is_file() and not (tmp_path / "iris.layerwise.weights.h5").exists()
    from core.experiments.runs import weights_file
    assert weights_file(store.path, run["weights_path"]) == kept.resolve()
    assert weights_file(store.path, "../elsewhere/x.weights.h5") is None     # a record names only its folder
    store.delete(run["id"])
    assert not kept.exists() and store.list() == []
