"""Workbench figures: training started from the real window, with live plots and feature maps on.

- ``gui_train_ratio``: samples/s of a run started from the window (offscreen QApplication, the real MainWindow shown
  at 1600×1000 with the workbench installed, live plots, feature maps every 50 batches, the gradient view on at its
  default cadence, the run recorded in the project's runs database) ÷ plain
  ``model.fit(verbose=0)`` on the same model, data and batch size. Both exclude the first epoch (tracing) and
  include the validation pass. One warm-up of each, then rounds alternating which goes first (window, fit, fit,
  window, ...); the median ratio and every round's ratio (single rounds swing by ±15% on this shared 2-core machine).
- ``gui_stall_max`` / ``gui_stall_p99``: during a window run (from Start to the end of the run), how late a
  10 ms GUI-thread timer fired: the longest and the 99th-percentile delay, in ms; the median over the rounds'
  runs (one run with another process hogging this shared machine's two cores says little about the app).
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "resources" / "examples" / "digits_cnn.layerwise"
EPOCHS = 10          # ~2 s measured per run: shorter spans swing more than the window costs
BATCH = 32
ROUNDS = 9

_cache = {}


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("LAYERWISE_NO_DIALOGS", "1")
    # the window's settings, saved layout and autosave go to a throwaway folder, not the user's
    import tempfile
    os.environ.setdefault("LAYERWISE_DATA_DIR", tempfile.mkdtemp(prefix="layerwise-bench-"))
    from PySide6.QtWidgets import QApplication
    return QApplication.instance() or QApplication(sys.argv[:1])


def _window(app):
    from PySide6.QtCore import QEventLoop, QTimer
    from core.project import load_project
    from app.main_window import MainWindow
    import shutil
    # a copy: the runs database and the checkpoint each run writes go beside it, not into resources/examples
    copy = Path(os.environ["LAYERWISE_DATA_DIR"]) / DIGITS.name
    shutil.copyfile(DIGITS, copy)
    p = load_project(copy, load_weights=False)
    p.training.update({"epochs": EPOCHS, "batch_size": BATCH})
    w = MainWindow(p)
    w.resize(1600, 1000)
    w.show()
    loop = QEventLoop()
    deadline = time.time() + 120

    def check():
        wb = getattr(w, "workbench", None)
        if (wb is not None and wb.dataset is not None and w.is_keras_ready()) or time.time() > deadline:
            loop.quit()
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(0, check)
    loop.exec()
    wb = getattr(w, "workbench", None)
    if wb is None or wb.dataset is None or not w.is_keras_ready():
        raise RuntimeError("the window did not get ready (workbench, dataset, TensorFlow) within 120 s")
    wb.features.every.setValue(50)
    wb.features.follow.setChecked(False)
    conv = p.graph.by_name("conv2d").id
    wb.features.layer.setCurrentIndex(wb.features.layer.findData(conv))
    return w, wb


def _gui_run(app, wb):
    """One run from the window; returns (samples/s, timer delays in ms, number of feature maps shown)."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    delays = []
    last = [time.perf_counter()]
    shown = [0]

    def tick():
        now = time.perf_counter()
        delays.append(max(0.0, (now - last[0]) * 1000 - 10.0))
        last[0] = now

    def on_shown(_node):
        shown[0] += 1

    probes = [0]

    def on_probe(_rec):
        probes[0] += 1

    timer = QTimer()
    timer.setTimerType(Qt.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    done = []
    loop = QEventLoop()

    def finished(r):
        done.append(r)
        loop.quit()

    wb.run_finished.connect(finished)
    wb.features_shown.connect(on_shown)
    if wb.gradients is not None:
        wb.gradients.probed.connect(on_probe)
    try:
        last[0] = time.perf_counter()
        timer.start()
        QTimer.singleShot(0, wb.start)
        loop.exec()            # the application's normal event loop, as in the app
        timer.stop()
    finally:
        wb.run_finished.disconnect(finished)
        wb.features_shown.disconnect(on_shown)
        if wb.gradients is not None:
            wb.gradients.probed.disconnect(on_probe)
    r = done[0]
    if r is None or r.error is not None:
        raise RuntimeError(f"the window's run failed: {wb.train_panel.message.text()}")
    wb.wait()
    return r.samples_per_s, delays[1:], shown[0], probes[0]


def _plain_fit(p, ds):
    from core.tfload import import_keras
    from core.build import build_model, compile_model
    from core.datasets import arrays_for_model
    keras = import_keras()
    x, y = arrays_for_model(ds, ds.train, p.graph)
    val = arrays_for_model(ds, ds.val, p.graph)
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    b = build_model(p, with_weights=False)
    compile_model(b, p)
    b.model.fit(x, y, batch_size=BATCH, epochs=1, validation_data=val, verbose=0)   # traces
    t = time.perf_counter()
    b.model.fit(x, y, batch_size=BATCH, epochs=EPOCHS - 1, validation_data=val, verbose=0)
    return len(x) * (EPOCHS - 1) / (time.perf_counter() - t)


def _pct(values, q):
    d = sorted(values)
    return d[min(len(d) - 1, int(round(q * (len(d) - 1))))] if d else float("nan")


def _measure():
    if "m" in _cache:
        return _cache["m"]
    app = _app()
    w, wb = _window(app)
    p, ds = w.project, wb.dataset
    _gui_run(app, wb)          # warm-up (tracing, first paints)
    _plain_fit(p, ds)
    gui, plain, maxes, p99s, maps, probes = [], [], [], [], [], []
    for i in range(ROUNDS):
        if i % 2 == 0:
            g = _gui_run(app, wb)
            k = _plain_fit(p, ds)
        else:
            k = _plain_fit(p, ds)
            g = _gui_run(app, wb)
        gui.append(g[0])
        plain.append(k)
        maxes.append(max(g[1]) if g[1] else float("nan"))
        p99s.append(_pct(g[1], 0.99))
        maps.append(g[2])
        probes.append(g[3])
        print(f"# round {i + 1}: window {g[0]:.0f} samples/s, model.fit {k:.0f} samples/s, "
              f"timer delay max {maxes[-1]:.1f} ms, p99 {p99s[-1]:.1f} ms, {g[2]} feature maps shown, "
              f"{g[3]} gradient probes",
              file=sys.stderr, flush=True)
    wb.shutdown()
    w.hide()   # not close(): the trained project is unsaved and closing would ask about it
    ratios = [g / k for g, k in zip(gui, plain)]
    _cache["m"] = {"ratio": statistics.median(ratios), "gui": statistics.median(gui),
                   "plain": statistics.median(plain), "max": statistics.median(maxes),
                   "p99": statistics.median(p99s), "maxes": maxes, "p99s": p99s, "maps": min(maps), "probes": min(probes),
                   "ratios": ratios}
    return _cache["m"]


def gui_train_ratio():
    m = _measure()
    return m["ratio"], "x", (f"window {m['gui']:.0f} samples/s vs model.fit {m['plain']:.0f} samples/s; digits CNN, "
                             f"batch {BATCH}, {EPOCHS} epochs, live plots + feature maps every 50 batches "
                             f"(≥ {m['maps']} maps shown per run) + gradient view (≥ {m['probes']} probes per run); "
                             f"median of {ROUNDS} rounds, range {min(m['ratios']):.3f}–{max(m['ratios']):.3f} "
                             f"({', '.join(f'{r:.3f}' for r in m['ratios'])})")


def gui_stall_max():
    m = _measure()
    return m["max"], "ms", (f"longest delay of a 10 ms GUI timer during a run from the window; median over "
                            f"{ROUNDS} runs ({', '.join(f'{v:.0f}' for v in m['maxes'])})")


def gui_stall_p99():
    m = _measure()
    return m["p99"], "ms", (f"99th percentile delay of a 10 ms GUI timer during a run from the window; median over "
                            f"{ROUNDS} runs ({', '.join(f'{v:.1f}' for v in m['p99s'])})")


FIGURES = {"gui_train_ratio": gui_train_ratio, "gui_stall_max": gui_stall_max, "gui_stall_p99": gui_stall_p99}
