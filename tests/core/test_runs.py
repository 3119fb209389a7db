"""The runs database (core.experiments.runs): what a run keeps, JSON and numbers only, one transaction per write
(a process killed mid-run keeps the earlier runs and its own curves so far), several writers, what differs between
two runs, and the files it refuses (damaged, not ours, newer) without touching them."""
from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
import threading

import pytest

from core.errors import LayerwiseError, RunsError
from core.experiments.diff import differing_paths, graph_diff
from core.experiments.runs import SCHEMA_VERSION, STATUSES, RunStore, runs_path
from core.experiments.table import csv_text, differing
from tests.conftest import ROOT


def graph(*nodes, edges=()):
    return {"nodes": [{"id": i, "type": t, "name": i, "params": p, "pos": [0, 0]} for i, t, p in nodes],
            "edges": [{"src": a, "dst": b, "port": 0} for a, b in edges]}


G1 = graph(("in", "Input", {"shape": [4]}), ("d", "Dense", {"units": 8}), ("out", "Output", {}),
           edges=[("in", "d"), ("d", "out")])
G2 = graph(("in", "Input", {"shape": [4]}), ("d", "Dense", {"units": 16}), ("drop", "Dropout", {"rate": 0.2}),
           ("out", "Output", {}), edges=[("in", "d"), ("d", "drop"), ("drop", "out")])


def snap(lr=0.001, g=G1, epochs=3):
    return {"graph": g, "settings": {"compile": {"optimizer": {"name": "adam", "learning_rate": lr}},
                                     "training": {"epochs": epochs, "batch_size": 32}},
            "versions": {"keras": "3.0"}}


def test_runs_path_is_beside_the_project(tmp_path):
    assert runs_path(tmp_path / "net.layerwise") == tmp_path / "net.runs.sqlite"
    assert issubclass(RunsError, LayerwiseError)


def test_a_run_keeps_its_snapshot_curves_and_end(tmp_path):
    store = RunStore(tmp_path / "a.runs.sqlite")
    rid = store.start(snap(), seed=7, device="cpu", sweep={"study": "lr1"}, trial=3)
    assert store.get(rid)["status"] == "running"
    store.log_epoch(rid, 0, {"loss": 1.0, "val_loss": 1.5})
    store.log_epoch(rid, 1, {"loss": 0.5, "val_loss": float("nan")})
    store.log_batches(rid, [(0, 3, {"loss": 1.2}), (1, 3, {"loss": 0.6})])
    store.finish(rid, "finished", metrics={"loss": 0.5, "val_loss": 0.9}, test_metrics={"loss": 0.8}, seconds=2.5,
                 samples_per_s=1000.0, device="CPU")
    r = store.get(rid)
    assert (r["status"], r["seed"], r["device"], r["sweep"], r["trial"]) == ("finished", 7, "CPU", {"study": "lr1"}, 3)
    assert r["metrics"] == {"loss": 0.5, "val_loss": 0.9} and r["test_metrics"] == {"loss": 0.8}
    assert r["settings"]["compile"]["optimizer"]["learning_rate"] == 0.001 and r["graph"] == G1
    assert r["versions"] == {"keras": "3.0"} and r["seconds"] == 2.5 and r["name"] == f"run {rid}"
    assert [e["loss"] for e in r["curves"]["epochs"]] == [1.0, 0.5]
    assert r["curves"]["epochs"][1]["val_loss"] is None          # NaN is stored as null: strict JSON
    assert r["curves"]["batches"] == [(0, 3, {"loss": 1.2}), (1, 3, {"loss": 0.6})]
    assert r["started"].endswith("+00:00") and r["epochs"] == 2
    with pytest.raises(ValueError, match="status must be one of"):
        store.finish(rid, "great")
    assert "early-stopped" in STATUSES and "pruned" in STATUSES


def test_the_file_holds_json_text_and_numbers_only(tmp_path):
    path = tmp_path / "a.runs.sqlite"
    store = RunStore(path)
    rid = store.start(snap(), trial=object())       # not plain data: kept as its text
    store.log_epoch(rid, 0, {"loss": float("inf")})
    store.finish(rid, "nan", message="the loss became nan", metrics={"loss": float("nan")})
    store.close()
    con = sqlite3.connect(path)
    for table in ("runs", "epochs", "batches", "meta"):
        for row in con.execute(f"SELECT * FROM {table}"):
            for v in row:
                assert v is None or isinstance(v, (int, float, str)), (table, type(v))
                if isinstance(v, str) and v[:1] in "[{":
                    json.loads(v)   # strict: no NaN
    assert "object at" in con.execute("SELECT trial FROM runs").fetchone()[0]


def test_rename_tag_note_delete(tmp_path):
    store = RunStore(tmp_path / "a.runs.sqlite")
    a, b = store.start(snap()), store.start(snap(lr=0.1))
    store.rename(a, "baseline")
    store.tag(a, ["good", "cnn", "good"])
    store.note(a, "first try")
    r = store.get(a)
    assert (r["name"], r["tags"], r["note"]) == ("baseline", ["cnn", "good"], "first try")
    store.log_epoch(b, 0, {"loss": 1.0})
    store.delete(b)
    assert [r["id"] for r in store.list()] == [a]
    with pytest.raises(RunsError, match=r"a\.runs\.sqlite: no run 99 \(it holds runs 1\.\.1\)"):
        store.get(99)
    with pytest.raises(RunsError, match="no run"):
        store.rename(b, "gone")


def test_diff_names_only_what_differs(tmp_path):
    store = RunStore(tmp_path / "a.runs.sqlite")
    a, b, c = store.start(snap(0.001)), store.start(snap(0.0123, g=G2)), store.start(snap(0.001))
    lines = store.diff(a, b)
    assert lines[0] == "compile.optimizer.learning_rate: 0.001 -> 0.0123"
    assert "node drop (Dropout) added" in lines
    assert any(ln.startswith("node d (Dense) changed: units 8 -> 16") for ln in lines)
    assert any("node out (Output) changed: inputs d -> drop" in ln for ln in lines)
    assert not any("epochs" in ln or "batch_size" in ln for ln in lines)
    assert store.diff(a, c) == []
    assert store.graph_diff(b, a) == {"added": [], "removed": ["drop"], "changed": {
        "d": ["units 16 -> 8"], "out": ["inputs drop -> d"]}}
    moved = json.loads(json.dumps(G1))
    moved["nodes"][1]["pos"] = [500, 500]
    assert graph_diff(G1, moved) == {"added": [], "removed": [], "changed": {}}   # layout is not structure


def test_differing_settings_and_csv(tmp_path):
    store = RunStore(tmp_path / "a.runs.sqlite")
    for lr in (0.1, 0.2, 0.1):
        rid = store.start(snap(lr))
        store.finish(rid, "finished", metrics={"loss": lr, "val_loss": 2 * lr})
    runs = store.list()
    assert differing(runs) == ["compile.optimizer.learning_rate"]
    assert differing_paths([{"a": 1}, {"a": 1, "b": 2}]) == ["b"]
    assert differing_paths([{"a": 1}, {"a": True}]) == ["a"]
    lines = csv_text(runs).splitlines()
    assert lines[0].endswith("loss,val_loss,compile.optimizer.learning_rate")
    assert lines[2].split(",")[-3:] == ["0.2", "0.4", "0.2"]


def test_two_threads_and_two_processes_write_one_file(tmp_path):
    path = tmp_path / "a.runs.sqlite"
    store = RunStore(path)
    rid = store.start(snap())

    def writer(offset):
        for e in range(25):
            store.log_epoch(rid, offset + e, {"loss": float(e)})

    threads = [threading.Thread(target=writer, args=(k * 100,)) for k in range(3)]
    other = subprocess.Popen([sys.executable, "-c", (
        "import sys; sys.path.insert(0, sys.argv[1]); from core.experiments.runs import RunStore\n"
        "s = RunStore(sys.argv[2])\n"
        "for i in range(20):\n    r = s.start({'settings': {'i': i}}); s.log_epoch(r, 0, {'loss': i})\n"
        "    s.finish(r, 'finished', metrics={'loss': i})"), str(ROOT), str(path)])
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other.wait(60) == 0
    assert store.get(rid)["epochs"] == 75
    assert len(store.list()) == 21


def test_a_process_killed_mid_run_keeps_the_earlier_runs_and_its_curves(tmp_path):
    path = tmp_path / "a.runs.sqlite"
    store = RunStore(path)
    done = store.start(snap())
    store.finish(done, "finished", metrics={"loss": 0.1})
    code = ("import os, sys; sys.path.insert(0, sys.argv[1]); from core.experiments.runs import RunStore\n"
            "s = RunStore(sys.argv[2]); r = s.start({'settings': {}})\n"
            "s.log_epoch(r, 0, {'loss': 2.0}); s.log_epoch(r, 1, {'loss': 1.0})\n"
            "s._conn.execute('BEGIN IMMEDIATE'); s._conn.execute(\"UPDATE runs SET name='half'\")\n"
            "os.kill(os.getpid(), 9)")
    subprocess.run([sys.executable, "-c", code, str(ROOT), str(path)], timeout=60)
    runs = RunStore(path).list()
    assert [r["status"] for r in runs] == ["finished", "failed"]   # its process is gone: it did not finish
    assert "ended before" in runs[1]["message"] and runs[0]["name"] == "run 1"
    assert [e["loss"] for e in RunStore(path).curves(runs[1]["id"])["epochs"]] == [2.0, 1.0]


@pytest.mark.parametrize("content, words", [
    (b"this is not a database at all" * 50, "not a Layerwise runs database, or damaged"),
    (b"SQLite format 3\x00" + b"\xff" * 2000, "not a Layerwise runs database, or damaged"),
])
def test_a_damaged_file_is_refused_and_left_as_it_is(tmp_path, content, words):
    path = tmp_path / "a.runs.sqlite"
    path.write_bytes(content)
    with pytest.raises(RunsError) as e:
        RunStore(path)
    assert str(e.value).startswith(f"{path}: ") and words in str(e.value)
    assert path.read_bytes() == content


def test_a_newer_or_foreign_database_is_refused(tmp_path):
    newer = tmp_path / "new.runs.sqlite"
    RunStore(newer).close()
    con = sqlite3.connect(newer)
    con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    before = newer.read_bytes()
    with pytest.raises(RunsError, match=rf"new\.runs\.sqlite: runs database version {SCHEMA_VERSION + 1} was written "
                                        rf"by a newer Layerwise; this one reads up to version {SCHEMA_VERSION}"):
        RunStore(newer)
    assert newer.read_bytes() == before
    foreign = tmp_path / "other.runs.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(RunsError, match="other tables"):
        RunStore(foreign)
    (tmp_path / "dir.runs.sqlite").mkdir()
    with pytest.raises(RunsError, match="is not a file"):
        RunStore(tmp_path / "dir.runs.sqlite")


def test_big_values_are_cut(tmp_path):
    store = RunStore(tmp_path / "a.runs.sqlite")
    rid = store.start(snap(), name="x" * 50_000)
    store.note(rid, "y" * 50_000)
    r = store.get(rid)
    assert len(r["name"]) == 10_000 and len(r["note"]) == 10_000
    assert math.isfinite(r["id"])
