"""Editor figures: time until the window is visible, param edit → labels on a 200-node graph, painting a
500-node graph at fit-to-view. Medians of several runs, printed by ``benchmarks/run.py``."""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graphs import residual_cnn

ROOT = Path(__file__).resolve().parents[1]


def _layerwise_cmd():
    exe = Path(sys.executable).with_name("layerwise")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("layerwise")
    if found:
        return [found]
    return [sys.executable, "-c", "from cli.main import main; main()"]


def window_visible(runs=5):
    """Process start → first paint of the main window with the digits example loaded (offscreen Qt)."""
    times = []
    cmd = _layerwise_cmd()
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            shown = Path(tmp) / "shown"
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAYERWISE_SHOWN_FILE=str(shown),
                       LAYERWISE_DATA_DIR=str(Path(tmp) / "data"), LAYERWISE_NO_DIALOGS="1",
                       TF_CPP_MIN_LOG_LEVEL="3")
            t0 = time.time()
            proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = t0 + 60
                while time.time() < deadline:
                    if shown.exists() and shown.read_text().strip():
                        break
                    if proc.poll() is not None:
                        raise RuntimeError(f"layerwise exited with code {proc.returncode} before showing its window")
                    time.sleep(0.005)
                else:
                    raise RuntimeError("the window did not show within 60 s")
                times.append(float(shown.read_text()) - t0)
            finally:
                proc.kill()
                proc.wait()
    return statistics.median(times), "s", f"median of {runs}; runs: {', '.join(f'{t:.2f}' for t in times)}"


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LAYERWISE_NO_DIALOGS"] = "1"
    os.environ.setdefault("LAYERWISE_DATA_DIR", tempfile.mkdtemp(prefix="lw-bench-"))
    from PySide6.QtWidgets import QApplication
    return QApplication.instance() or QApplication([])


def _window(graph, size=(1280, 800)):
    from app.main_window import MainWindow
    from core.project import Project
    w = MainWindow(Project(graph=graph, name="bench"), plugins=False, start_keras=False)
    w.resize(*size)
    w.show()
    return w


def edit_to_shapes_200(repeats=11):
    """Param edit on a 200-node graph (a Dense's units: its shape and the next layer's count change) until every
    label on the canvas shows the new values: undo command → incremental inference → items → repaint."""
    app = _app()
    from core.tfload import import_keras
    import_keras()
    from app.commands import SetParam
    g = residual_cnn(200)
    w = _window(g)
    app.processEvents()
    w.document.infer_now()
    dense = [n for n in g.nodes.values() if n.type == "Dense"]
    target, nxt = dense[0], dense[1]
    w.view.set_zoom(1.0)
    w.view.centerOn(w.scene.nodes[target.id].center())
    app.processEvents()
    times = []
    for i in range(repeats + 1):
        units = 48 if i % 2 == 0 else 32
        t = time.perf_counter()
        w.document.push(SetParam(g, target.id, "units", units))
        w.document.undo_stack.clear()   # no merging between timed edits
        app.processEvents()             # the coalesced inference timer fires here
        w.view.viewport().repaint()
        dt = time.perf_counter() - t
        assert w.scene.nodes[target.id].shape_text == str(units), w.scene.nodes[target.id].shape_text
        assert w.scene.nodes[nxt.id].params_text.startswith(f"{units * 32 + 32:,}"), w.scene.nodes[nxt.id].params_text
        if i:
            times.append(dt * 1000)
    # the same for a mid-graph Conv2D kernel (shape unchanged, counts change), reported in the note
    convs = [n for n in g.nodes.values() if n.type == "Conv2D"]
    mid = convs[len(convs) // 2]
    conv_times = []
    for i in range(repeats + 1):
        t = time.perf_counter()
        w.document.push(SetParam(g, mid.id, "kernel_size", [5, 5] if i % 2 == 0 else [3, 3]))
        w.document.undo_stack.clear()
        app.processEvents()
        w.view.viewport().repaint()
        if i:
            conv_times.append((time.perf_counter() - t) * 1000)
    w.document.mark_clean()
    w.close()
    return (statistics.median(times), "ms",
            f"{len(g.nodes)} nodes, Dense units edit; mid-graph Conv2D kernel edit {statistics.median(conv_times):.1f} ms; "
            f"median of {repeats}")


def paint_500_nodes(repeats=9, size=(1280, 800)):
    """Render a 500-node graph (laid out 25 nodes a row) to a 1280×800 QImage at fit-to-view: the canvas view
    alone, sized 1280×800, rendered with its background grid and every item."""
    app = _app()
    from PySide6.QtGui import QImage, QPainter
    from app.document import Document
    from app.editor.controller import EditorController
    from core.project import Project
    g = residual_cnn(500)
    for i, k in enumerate(g.topological_order()):
        g.move(k, ((i % 25) * 220.0, (i // 25) * 140.0))
    doc = Document(Project(graph=g, name="bench"))
    ed = EditorController(doc)
    view = ed.view
    view.resize(*size)
    view.show()
    app.processEvents()
    ed.fit()
    vp = view.viewport()
    img = QImage(vp.width(), vp.height(), QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for i in range(repeats + 1):
        t = time.perf_counter()
        p = QPainter(img)
        p.setRenderHints(view.renderHints())
        view.render(p)
        p.end()
        if i:
            times.append((time.perf_counter() - t) * 1000)
    zoom = view.zoom()
    if os.environ.get("LAYERWISE_BENCH_SHOT"):
        img.save(os.environ["LAYERWISE_BENCH_SHOT"])
    view.close()
    return (statistics.median(times), "ms",
            f"{len(g.nodes)} nodes, {len(g.edges)} edges, zoom {zoom:.2f}, {vp.width()}×{vp.height()}, median of {repeats}")


FIGURES = {"window_visible": window_visible, "edit_to_shapes_200": edit_to_shapes_200, "paint_500_nodes": paint_500_nodes}
