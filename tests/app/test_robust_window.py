"""The window takes bad input calmly (issue 9): non-finite node positions, settings of any JSON type, failures
while a project is shown, megabyte names; and four visible defects (stale feature maps after New, an Input that
said "no shape", a spare port on group nodes, the early-stopping check box outside the form's column).

Projects with bad values are built directly (bypassing the loader, which refuses most of them), as a paste, a
command or an older file could bring them in. The crash test runs in a subprocess, so a segmentation fault fails
the test instead of ending pytest."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.app.test_editor_support import isolated, keras_loaded  # noqa: F401  (fixtures)
from tests.conftest import EXAMPLES, ROOT


def _env(tmp_path):
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", LAYERWISE_DATA_DIR=str(tmp_path / "data"),
                LAYERWISE_NO_DIALOGS="1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))


def _run(script, tmp_path, *args, timeout=240):
    f = tmp_path / "script.py"
    f.write_text(script)
    return subprocess.run([sys.executable, str(f), *map(str, args)], cwd=ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=timeout)


def _window(qtbot, project, plugins=False):
    from app.main_window import MainWindow
    w = MainWindow(project, plugins=False, start_keras=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    if plugins:
        w.install_plugins()
    w.document.infer_now()
    return w


def _close(w):
    w.document.undo_stack.setClean()
    w.document._extra_dirty = False
    w.close()


@pytest.fixture
def slot_errors(monkeypatch):
    """Exceptions raised in Qt slots (PySide hands them to sys.excepthook): a test fails when any are left."""
    errors = []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: errors.append(e))
    return errors


# -- 1. non-finite positions ----------------------------------------------------------------------------------------
NAN_SCRIPT = r'''
import json, math, sys
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QPointF
app = QApplication([])
from core.project import Project
from app.main_window import MainWindow
bad = [(math.nan, math.inf), (math.inf, 0.0), (-math.inf, math.nan), (1e300, -1e300), (1e12, 5.0)]
p = Project(name="bad positions")
g = p.graph
ids = [g.add_node("Input", {"shape": [8, 8, 1]}, name="inp", pos=(0.0, 0.0)).id]
for i, pos in enumerate(bad):
    n = g.add_node("Dense", {"units": 4}, name=f"d{i}", pos=(0.0, 0.0))
    n.pos = pos                      # as a broken file or an old loader would leave it
    g.connect(ids[-1], n.id)
    ids.append(n.id)
w = MainWindow(p, plugins=False, start_keras=False)
w.resize(1200, 800)
w.show()
for _ in range(10):
    app.processEvents()
w.editor.fit()
w.grab()
def finite(item):
    r = item.sceneBoundingRect()
    return all(math.isfinite(v) for v in (r.x(), r.y(), r.width(), r.height()))
assert all(finite(it) for it in w.scene.nodes.values()), "non-finite item geometry"
assert all(abs(it.pos().x()) <= 100000 and abs(it.pos().y()) <= 100000 for it in w.scene.nodes.values())
# a node moved to NaN behind the scene's back (the graph's move event), auto-layout over NaN positions,
# a paste of NaN positions
n0 = g.nodes[ids[0]]
n0.pos = (math.nan, math.inf)
g.events.node_moved.emit(n0)
app.processEvents()
assert finite(w.scene.nodes[ids[0]])
w.editor.auto_layout()
app.processEvents()
assert all(finite(it) for it in w.scene.nodes.values())
assert all(math.isfinite(v) for k in ids for v in g.nodes[k].pos), [g.nodes[k].pos for k in ids]
frag = {"nodes": [{"id": "x1", "type": "Dense", "name": "pasted", "params": {"units": 2}, "pos": [math.nan, math.inf]}],
        "edges": []}
QApplication.clipboard().setText(json.dumps(frag))
w.editor.paste()
assert w.editor._paste_offset(frag) == (w.editor._paste_offset(frag)[0], w.editor._paste_offset(frag)[1])
assert all(math.isfinite(v) for v in w.editor._paste_offset(frag))
app.processEvents()
assert all(finite(it) for it in w.scene.nodes.values())
w.editor.render_image()
w.grab()
# the real open path with such a file (the loader may refuse it: then a message, never a crash)
src, bad = sys.argv[1], sys.argv[2]
d = json.loads(open(src).read())
d["graph"]["nodes"][0]["pos"] = [math.nan, math.inf]
open(bad, "w").write(json.dumps(d))
opened = w.files.open(bad, ask=False)
for _ in range(10):
    app.processEvents()
w.editor.fit()
w.grab()
assert all(finite(it) for it in w.scene.nodes.values())
print("OPENED" if opened else "REFUSED", w.last_error)
w.document.undo_stack.setClean()
w.close()
print("OK")
'''


def test_nan_and_infinite_positions_never_crash_the_window(tmp_path):
    r = _run(NAN_SCRIPT, tmp_path, EXAMPLES / "digits_cnn.layerwise", tmp_path / "nan.layerwise")
    assert r.returncode == 0, f"exit {r.returncode} (a negative code is a signal: -11 = segfault)\n{r.stderr[-3000:]}"
    assert "OK" in r.stdout, r.stdout + r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]


def test_scene_positions_are_sanitized():
    from app import safe
    from app.editor.node_item import scene_pos
    assert safe.xy((math.nan, math.inf)) == (0.0, 0.0)
    assert safe.xy((1e300, -1e300)) == (safe.POS_LIMIT, -safe.POS_LIMIT)
    assert safe.xy("no") == (0.0, 0.0) and safe.xy(None) == (0.0, 0.0) and safe.xy(("a", 3)) == (0.0, 3.0)
    p = scene_pos((math.nan, 12.5))
    assert (p.x(), p.y()) == (0.0, 12.5)


# -- 2. settings of any JSON type, failures while showing, the command-line open ---------------------------------
BAD_SETTINGS = [
    ("compile", "optimizer", "adam"),
    ("training", "budget", "small"),
    ("training", "budget", {"max_macs": "many", "max_params": -1, "max_latency_ms": math.inf}),
    ("compile", "optimizer", {"name": "adam", "learning_rate": "fast"}),
    ("compile", "optimizer", {"name": "sgd", "learning_rate": [1], "momentum": math.nan}),
    ("compile", "optimizer", {"name": 5}),
    ("compile", "schedule", "step"),
    ("compile", "schedule", {"kind": ["x"]}),
    ("compile", "schedule", {"kind": "step", "step_size": 1e40}),
    ("training", "epochs", "ten"),
    ("training", "epochs", 1e12),
    ("training", "epochs", math.nan),
    ("training", "batch_size", None),
    ("training", "device", 3),
    ("training", "early_stopping", "yes"),
    ("training", "early_stopping", {"patience": "x", "monitor": None, "enabled": "on"}),
    ("regularization", "dropout", "x"),
    ("regularization", "l2", math.inf),
    ("data", "samples", "many"),
    ("data", "validation_split", "x"),
    ("compile", None, "not an object"),
    ("training", None, 5),
    ("regularization", None, None),
    ("data", None, "x"),
]


@pytest.fixture
def bench_win(qtbot, isolated, keras_loaded):  # noqa: F811
    from core.project import load_project
    w = _window(qtbot, load_project(EXAMPLES / "digits_cnn.layerwise"), plugins=True)
    assert "app.workbench" in w.plugins and not isinstance(w.plugins["app.workbench"], Exception)
    yield w
    w.workbench.shutdown()
    _close(w)


def _with(section, key, value):
    from core.project import load_project
    p = load_project(EXAMPLES / "digits_cnn.layerwise")
    if key is None:
        setattr(p, section, value)
    else:
        getattr(p, section)[key] = value
    return p


def test_every_settings_panel_tolerates_any_json_value(bench_win, qtbot, slot_errors):
    w = bench_win
    for section, key, value in BAD_SETTINGS:
        p = _with(section, key, value)
        before = json.dumps(p.to_dict(), default=str)
        assert w.files.show_project(p, f"{section}.{key}"), (section, key, value, w.last_error)
        qtbot.wait(5)
        assert w.project is p
        assert not slot_errors, (section, key, value, slot_errors)
        assert json.dumps(p.to_dict(), default=str) == before, "showing a project must not change it"
        assert not w.isWindowModified()


def test_unusable_values_show_a_default_and_are_marked(bench_win, qtbot, slot_errors):
    w = bench_win
    tp = w.workbench.train_panel
    w.files.show_project(_with("training", "epochs", 1e12), "big")
    assert tp.epochs.value() == 10   # the default, not the largest allowed number
    assert tp.epochs.property("invalid") == "true" and "1000000000000.0" in tp.epochs.toolTip()
    w.files.show_project(_with("training", "epochs", "ten"), "text")
    assert tp.epochs.value() == 10 and tp.epochs in tp.invalid_fields()
    w.files.show_project(_with("training", "epochs", 7), "fine")
    assert tp.epochs.value() == 7 and tp.epochs.property("invalid") == "false" and not tp.invalid_fields()

    sp = w.settings_panel
    w.files.show_project(_with("compile", "optimizer", "adam"), "opt")
    assert sp.opt_combo.currentData() == "adam" and sp.opt_combo.property("invalid") == "true"
    w.files.show_project(_with("compile", "optimizer", {"name": "adam", "learning_rate": "fast"}), "lr")
    lr = sp.opt_editors["learning_rate"]
    assert lr.is_invalid() and "'fast'" in lr.toolTip()
    assert lr.spin.value() == pytest.approx(0.001)
    w.files.show_project(_with("regularization", "dropout", "x"), "reg")
    assert sp.dropout.value() == 0.0 and sp.dropout.property("invalid") == "true"
    # an edit replaces the unusable value (one undo step brings it back)
    w.files.show_project(_with("compile", "optimizer", "adam"), "opt")
    sp._optimizer_param(sp.opt_editors["learning_rate"].param, "learning_rate", 0.01)
    assert w.project.compile["optimizer"] == {"name": "adam", "learning_rate": 0.01}
    w.undo_stack.undo()
    assert w.project.compile["optimizer"] == "adam"
    assert not slot_errors


def test_param_editors_never_raise():
    from core import catalog
    from app.panels.param_editors import make_editor
    spec = catalog.CATALOG
    params = [p for e in spec.values() for p in e.params]
    for p in params:
        ed = make_editor(p)
        for v in ("text", [1, "a"], {"a": 1}, math.nan, math.inf, 1e300, -1e300, True, None, [[1]], 3):
            ed.set_value(v)
        ed.set_value(p.default)
        assert not ed.is_invalid() or p.value_error(p.default), (p.name, p.kind)
        ed.deleteLater()


def test_a_failure_while_showing_keeps_the_current_project(qtbot, isolated, keras_loaded, monkeypatch, tmp_path,  # noqa: F811
                                                           slot_errors):
    from app.files import load_example
    from core.project import save_project, load_project
    w = _window(qtbot, load_example(EXAMPLES / "digits_cnn.layerwise"))
    g = w.project.graph
    dense = g.by_name("dense")
    w.select_node(dense.id)
    units = dense.params["units"]
    w.inspector.editors["units"].spin.setValue(77)   # an unsaved edit, one undo step
    assert w.isWindowModified() and w.undo_stack.count() == 1
    current, before = w.project, w.project.to_dict()
    other = tmp_path / "other.layerwise"
    save_project(load_project(EXAMPLES / "tabular_mlp.layerwise"), other)

    from app.panels.settings import ProjectSettings
    real = ProjectSettings.rebuild

    def broken(self):
        if self.project.name != current.name:
            raise RuntimeError("the panel broke")
        real(self)
    monkeypatch.setattr(ProjectSettings, "rebuild", broken)
    assert w.files.open(str(other), ask=False) is False
    title, message, _details = w.last_error
    assert title == "Cannot open the project" and str(other) in message and "the panel broke" in message
    assert w.project is current and w.project.to_dict() == before
    assert set(w.scene.nodes) == set(g.nodes)
    assert w.isWindowModified() and w.undo_stack.count() == 1
    w.undo_stack.undo()   # the history survived the failed open
    assert dense.params["units"] == units != 77
    slot_errors.clear()   # the broken panel's error was logged and shown, not left to Qt
    monkeypatch.setattr(ProjectSettings, "rebuild", real)
    assert w.files.open(str(other), ask=False) is True and w.project.path == other
    _close(w)


def test_any_exception_while_loading_is_a_message(qtbot, isolated, keras_loaded, monkeypatch, tmp_path):  # noqa: F811
    from app.files import load_example
    import app.files as files
    w = _window(qtbot, load_example(EXAMPLES / "digits_cnn.layerwise"))
    current = w.project

    def boom(path):
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr(files, "load_project", boom)
    bad = tmp_path / "deep.layerwise"
    bad.write_text("{}")
    assert w.files.open(str(bad), ask=False) is False
    assert str(bad) in w.last_error[1] and "RecursionError" in w.last_error[1]
    assert w.project is current
    _close(w)


def test_initial_project_and_window_fall_back_with_a_message(qtbot, isolated, keras_loaded, monkeypatch, tmp_path):  # noqa: F811
    from app import main, paths
    settings = paths.settings()
    bad = tmp_path / "bad.layerwise"
    bad.write_text('{"format": "layerwise", "graph": {"nodes": [], "edges": []}, "compile": {"optimizer": "adam"}}')
    project, error = main.initial_project(str(bad), settings)
    assert project.graph.nodes and str(bad) in error
    notjson = tmp_path / "broken.layerwise"
    notjson.write_text("{ not json")
    project, error = main.initial_project(str(notjson), settings)
    assert project.graph.nodes and str(notjson) in error
    import core.project
    monkeypatch.setattr(core.project, "load_project", lambda p: (_ for _ in ()).throw(MemoryError("too big")))
    project, error = main.initial_project(str(bad), settings)
    assert project.graph.nodes and "MemoryError" in error and str(bad) in error
    monkeypatch.undo()

    # building the window fails on the project: the example is shown instead, the message names the file
    from app.panels.settings import ProjectSettings
    real = ProjectSettings.rebuild

    def broken(self):
        if self.project.name == "doomed":
            raise ValueError("cannot show this")
        real(self)
    monkeypatch.setattr(ProjectSettings, "rebuild", broken)
    from core.project import load_project
    doomed = load_project(EXAMPLES / "tabular_mlp.layerwise")
    doomed.name = "doomed"
    w, error = main.make_window(doomed, str(bad))
    qtbot.addWidget(w)
    assert w.project is not doomed and w.project.graph.nodes
    assert str(bad) in error and "cannot show this" in error
    w.close()


CLI_SCRIPT = r'''
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import app.document
app.document.Document.start_keras_import = lambda self: None   # no TensorFlow needed here
import app.main as m
seen = {}
def look():
    for w in QApplication.topLevelWidgets():
        if type(w).__name__ == "MainWindow":
            seen["nodes"] = len(w.project.graph.nodes)
            seen["error"] = w.last_error
            seen["title"] = w.windowTitle()
    QApplication.instance().quit()
orig = QApplication.exec
def exec_(*a):
    QTimer.singleShot(1500, look)
    return orig()
QApplication.exec = exec_
rc = m.run_gui(sys.argv[1])
print("RC", rc)
print("SEEN", seen)
'''


def test_command_line_open_of_a_bad_file_shows_the_error_and_goes_on(tmp_path):
    bad = tmp_path / "BAD.layerwise"
    bad.write_text('{"format": "layerwise", "graph": {"nodes": [{"id": "n1", "type": "Input", "name": "x", '
                   '"params": {"shape": [8]}, "pos": [0, 0]}], "edges": []}, "compile": {"optimizer": "adam"}, '
                   '"training": {"epochs": 1e12}}')
    r = _run(CLI_SCRIPT, tmp_path, bad, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "RC 0" in r.stdout, r.stdout + r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    seen = r.stdout.split("SEEN", 1)[1]
    assert "Cannot open the project" in seen and str(bad) in seen, seen
    assert "'nodes': 0" not in seen


# -- 3. long names ------------------------------------------------------------------------------------------------
def test_megabyte_names_are_cut_everywhere(qtbot, isolated, keras_loaded, slot_errors):  # noqa: F811
    from app.files import new_project
    p = new_project()
    inp = p.graph.nodes[next(iter(p.graph.nodes))]
    inp.name = "a" * 20_000_000          # the loader refuses this; the views must cope anyway
    p.name = "b" * 5_000_000
    p.description = "c" * 5_000_000
    t0 = time.perf_counter()
    w = _window(qtbot, p, plugins=True)
    qtbot.wait(300)
    w.select_node(inp.id)
    qtbot.wait(50)
    w.grab()
    assert time.perf_counter() - t0 < 20
    item = w.scene.nodes[inp.id]
    assert len(item._name_e) <= 60 and len(item.toolTip()) < 2000
    assert len(w.windowTitle()) < 100
    assert len(w.inspector.name_edit.text()) <= 1000
    assert len(w.settings_panel.name_edit.text()) <= 1000 and len(w.settings_panel.desc_edit.toolTip()) <= 400
    assert all(len(t) < 600 for t in w.problems.items()) and w.problems.items()
    feats = w.workbench.features.layer
    assert all(len(feats.itemText(i)) < 100 for i in range(feats.count()))
    # leaving the fields without typing is no rename
    w.inspector._rename()
    w.settings_panel._name()
    w.settings_panel._description()
    assert len(inp.name) == 20_000_000 and len(w.project.name) == 5_000_000 and w.undo_stack.count() == 0
    w.workbench.shutdown()
    assert not slot_errors
    _close(w)


def test_clip():
    from app.safe import clip
    assert clip("short") == "short"
    assert clip("x" * 100, 10) == "x" * 9 + "…" and len(clip("y" * 10**7)) == 60
    assert clip(12) == "12"


# -- 4. visible defects ---------------------------------------------------------------------------------------------
def test_new_clears_the_feature_maps_plots_and_results(bench_win, qtbot):
    from app.workbench.features import HINT
    w = bench_win
    wb = w.workbench
    fp = wb.features
    conv = w.project.graph.by_name("conv1") or next(n for n in w.project.graph.nodes.values() if n.type == "Conv2D")
    fp.set_nodes([(k, n.name, n.type) for k, n in w.project.graph.nodes.items()])
    i = fp.layer.findData(conv.id)
    fp.layer.setCurrentIndex(i)
    assert fp.show_features(conv.id, {conv.id: np.random.rand(1, 6, 6, 4).astype("float32")},
                            np.random.rand(8, 8, 1), when="epoch 3, batch 5")
    assert conv.name in fp.caption.text() and conv.name in fp.output_view.title
    wb.plots.start_run("run 1")
    assert wb.plots.run is not None
    w.files.new()
    qtbot.wait(10)
    assert fp.caption.text() == HINT and conv.name not in fp.caption.text()
    assert fp.output_view.title == "Output" and fp.input_view.title == "Input"
    assert fp.output_view.data is None and fp.input_view.data is None
    assert wb.plots.run is None and not wb.plots.runs
    assert wb.results.matrix.rowCount() == 0 and wb.results.evaluation is None
    assert all(fp.layer.itemData(i) in w.project.graph.nodes for i in range(fp.layer.count()))


def test_an_unconnected_input_shows_its_own_shape(qtbot, isolated, keras_loaded):  # noqa: F811
    from core.project import Project
    p = Project(name="lonely")
    inp = p.graph.add_node("Input", {"shape": [8, 8, 1]}, name="pixels", pos=(0.0, 0.0))
    p.graph.add_node("Output", None, name="out", pos=(400.0, 0.0))
    w = _window(qtbot, p)
    item = w.scene.nodes[inp.id]
    assert item.shape_text == "8×8×1" and item.has_shape
    assert item.error   # it still says its output goes nowhere
    # a long name stops before the problem badge in the corner (it used to run under it)
    from app.commands import Rename
    w.document.push(Rename(p.graph, inp.id, "pixels_with_a_rather_long_name_that_goes_on"))
    w.document.infer_now()
    item = w.scene.nodes[inp.id]
    badge_left = item.w - 16 - 7
    assert item.x0 + 26 + w.scene.style.title_fm.horizontalAdvance(item._name_e) < badge_left
    assert item._name_e.endswith("…") and item.shape_text == "8×8×1"
    w.select_node(inp.id)
    assert "8×8×1" in w.inspector.info.text()
    _close(w)


def test_a_group_node_shows_as_many_input_ports_as_its_model_has_inputs(qtbot, isolated, keras_loaded):  # noqa: F811
    import keras
    from core.groups import add_model_node
    from core.project import Project
    p = Project(name="groups")
    g = p.graph
    inp = g.add_node("Input", {"shape": [8, 8, 1]}, name="pixels", pos=(0.0, 0.0))
    seq = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(4)], name="base")
    one = add_model_node(g, seq, name="base", pos=(300.0, 0.0), source=inp.id)
    a, b = keras.Input((4,)), keras.Input((4,))
    two = add_model_node(g, keras.Model([a, b], keras.layers.Add()([a, b])), name="two", pos=(300.0, 300.0))
    a = keras.Input((4,))
    single = add_model_node(g, keras.Model(a, keras.layers.Dense(2)(a)), name="single", pos=(300.0, 600.0))
    w = _window(qtbot, p)
    assert len(w.scene.nodes[one.id]._in_pos) == 1 and w.scene.nodes[one.id].n_in == 1
    assert len(w.scene.nodes[two.id]._in_pos) == 2
    assert len(w.scene.nodes[single.id]._in_pos) == 1
    # a drop on the connected Sequential's body does not add a second input
    other = g.add_node("Input", {"shape": [8, 8, 1]}, name="more", pos=(0.0, 300.0))
    sc = w.scene
    sc.begin_connect(sc.nodes[other.id], ("out", 0), sc.nodes[other.id].out_port_scene())
    sc.end_connect(sc.nodes[one.id].center())
    assert len(g.in_edges(one.id)) == 1
    assert len(w.scene.nodes[one.id]._in_pos) == 1
    _close(w)


def test_the_early_stopping_box_sits_in_the_form_column(qtbot):
    from PySide6.QtWidgets import QFormLayout
    from app.workbench.train_panel import TrainPanel
    tp = TrainPanel()
    qtbot.addWidget(tp)
    tp.resize(380, 600)
    tp.show()
    qtbot.waitExposed(tp)
    form = tp.form
    row, role = form.getWidgetPosition(tp.es_enabled)
    assert role == QFormLayout.ItemRole.FieldRole
    # its settings are rows of the same form: one label column for all
    labels = [form.labelForField(f) for f in (tp.epochs, tp.batch, tp.es_monitor, tp.es_patience)]
    assert all(lab is not None for lab in labels)
    assert len({lab.geometry().right() for lab in labels}) == 1   # right-aligned in one column
    assert form.labelForField(tp.es_monitor).text() == "Watch"
    x = tp.es_enabled.geometry().x()
    assert x == tp.epochs.geometry().x() == tp.mixed.geometry().x() == tp.es_patience.geometry().x()
    assert tp.es_enabled.parentWidget() is tp.epochs.parentWidget()
    tp.load({"early_stopping": {"enabled": False}})
    assert not tp.es_patience.isEnabled() and not tp.es_monitor.isEnabled()
    assert not form.labelForField(tp.es_patience).isEnabled()
    tp.es_enabled.setChecked(True)
    assert tp.es_patience.isEnabled() and tp.values()["early_stopping"]["enabled"] is True
    assert form.labelForField(tp.es_patience).isEnabled()
    # no blank gap under the progress bar while there is nothing to say
    assert not tp.message.isVisible() and not tp.detail.isVisible()
    tp.show_done("Done: 3 epochs")
    assert tp.message.isVisible()
