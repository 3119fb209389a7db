"""Runs figures: the Runs panel of a project with many recorded runs.

- ``runs_panel_open``: a copy of the digits example with 500 recorded runs (each: the snapshot of the graph and
  every setting, 10 epochs of loss/accuracy/validation values and 40 sampled batches; learning rate, batch size
  and dropout vary). In the real main window (offscreen, 1600×1000, plugins installed), from bringing the Runs tab
  to the front with its database closed until the table has painted: open the SQLite file, read the 500 runs,
  find the settings that differ, fill and paint the table. Median of 9, in ms (the issue asks ≤ 300 ms).
- ``runs_list_500``: ``RunStore.list()`` of the same file alone (core, no Qt), median of 9, in ms.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "resources" / "examples" / "digits_cnn.layerwise"
N_RUNS = 500
ROUNDS = 9
_cache = {}


def _project_with_runs():
    if "path" in _cache:
        return _cache["path"]
    from core.experiments.record import snapshot
    from core.experiments.runs import RunStore, runs_path
    from core.project import load_project
    folder = Path(tempfile.mkdtemp(prefix="layerwise-runs-bench-"))
    path = folder / "digits.layerwise"
    shutil.copy(DIGITS, path)
    p = load_project(path, load_weights=False)
    store = RunStore(runs_path(path))
    for i in range(N_RUNS):
        p.compile["optimizer"] = {"name": "adam", "learning_rate": 10 ** (-4 + 3 * (i % 17) / 16)}
        p.training["batch_size"] = (16, 32, 64)[i % 3]
        p.regularization["dropout"] = (i % 5) / 10
        rid = store.start(snapshot(p), sweep={"study": "bench"} if i % 2 else None, trial=i // 2 if i % 2 else None)
        store.log_batches(rid, [(e, s, {"loss": 2.0 / (1 + e + s / 10), "accuracy": 0.1 * e})
                                for e in range(10) for s in range(0, 40, 10)])
        for e in range(10):
            store.log_epoch(rid, e, {"loss": 2.0 / (e + 1), "accuracy": 0.5 + e / 25, "val_loss": 2.2 / (e + 1),
                                     "val_accuracy": 0.45 + e / 25, "time_s": 1.0})
        store.finish(rid, "finished" if i % 7 else "early-stopped", seconds=12.0 + i % 9,
                     metrics={"loss": 0.2 + (i % 13) / 50, "accuracy": 0.9, "val_loss": 0.25 + (i % 11) / 40,
                              "val_accuracy": 0.88}, samples_per_s=5000.0)
    store.close()
    _cache["path"] = path
    return path


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("LAYERWISE_NO_DIALOGS", "1")
    os.environ.setdefault("LAYERWISE_DATA_DIR", tempfile.mkdtemp(prefix="layerwise-bench-"))
    from PySide6.QtWidgets import QApplication
    return QApplication.instance() or QApplication(sys.argv[:1])


def runs_panel_open():
    app = _app()
    from app.main_window import MainWindow
    from core.project import load_project
    path = _project_with_runs()
    w = MainWindow(load_project(path, load_weights=False), plugins=False, start_keras=False)
    w.resize(1600, 1000)
    w.show()
    app.processEvents()
    w.install_plugins()
    ctl = w.runs
    other = w.workbench.docks.by_key["results"]
    times = []
    for _ in range(ROUNDS):
        other.raise_()
        ctl.shutdown()               # the next open reads the file afresh
        ctl.store_path = None
        app.processEvents()
        t0 = time.perf_counter()
        ctl.dock.raise_()            # visible -> refresh -> the table
        app.processEvents()
        ctl.panel.table.viewport().repaint()
        times.append((time.perf_counter() - t0) * 1000)
        assert len(ctl.runs) == N_RUNS and ctl.panel.model.rowCount() == N_RUNS
    w.workbench.shutdown()
    ctl.shutdown()
    w.document.undo_stack.setClean()
    w.close()
    return statistics.median(times), "ms", f"{N_RUNS} runs, min {min(times):.0f} ms, max {max(times):.0f} ms"


def runs_list_500():
    from core.experiments.runs import RunStore, runs_path
    path = runs_path(_project_with_runs())
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        with RunStore(path) as store:
            n = len(store.list())
        times.append((time.perf_counter() - t0) * 1000)
    assert n == N_RUNS
    return statistics.median(times), "ms", f"{N_RUNS} runs"


FIGURES = {"runs_panel_open": runs_panel_open, "runs_list_500": runs_list_500}
