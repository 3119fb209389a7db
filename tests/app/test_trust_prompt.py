"""The window asks before a project's Python code runs (issue 9): opening a project with a Lambda layer asks
(default: do not trust); "No" opens it with the code not run (a problem on that node), "Yes" runs it for this
session only. A model imported with trust keeps the trust for that session's project."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def keras_loaded():
    from core.tfload import import_keras
    return import_keras()


@pytest.fixture(scope="module")
def code_files(tmp_path_factory, keras_loaded):
    """lambda.keras, whose Lambda writes a marker file when it runs, and the project imported from it."""
    import keras
    from core.project import save_project
    from core.transfer import import_model
    d = tmp_path_factory.mktemp("trust_ui")
    marker = d / "marker"
    fn = eval("lambda x: (open(%r, 'w').write('ran'), x * 2.0)[1]" % str(marker))  # noqa: S307 (test payload)
    i = keras.Input((4,), name="x")
    y = keras.layers.Dense(3, name="logits")(keras.layers.Lambda(fn, name="twice")(keras.layers.Dense(4, name="h")(i)))
    keras.Model(i, y).save(d / "lambda.keras")
    save_project(import_model(d / "lambda.keras", trust=True).project, d / "lambda.layerwise")
    marker.unlink(missing_ok=True)
    return {"model": d / "lambda.keras", "project": d / "lambda.layerwise", "marker": marker}


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch, keras_loaded):
    monkeypatch.setenv("LAYERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LAYERWISE_NO_DIALOGS", "1")
    from app.files import load_example
    from app.main_window import MainWindow
    w = MainWindow(load_example(EXAMPLES / "digits_cnn.layerwise"), plugins=False, start_keras=False)
    qtbot.addWidget(w)
    w.errors = []
    w.show_error = lambda title, text: w.errors.append((title, text))
    w.document.infer_now()
    yield w
    w.document.undo_stack.setClean()
    w.document._extra_dirty = False
    w.close()


@pytest.fixture
def answer(monkeypatch):
    """QMessageBox.question answers with ``answer.reply``; the calls are kept in ``answer.asked``."""
    class Answer:
        reply = QMessageBox.StandardButton.No
        asked = []

    def question(parent, title, text, buttons=None, default=None):
        Answer.asked.append({"title": title, "text": text, "buttons": buttons, "default": default})
        return Answer.reply
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.delenv("LAYERWISE_NO_DIALOGS", raising=False)   # the question is asked (and answered above)
    Answer.asked = []
    return Answer


def test_opening_a_project_with_code_asks_and_no_runs_nothing(win, answer, code_files):
    m = code_files["marker"]
    m.unlink(missing_ok=True)
    answer.reply = QMessageBox.StandardButton.No
    assert win.files.open(str(code_files["project"]))
    assert len(answer.asked) == 1
    q = answer.asked[0]
    assert "'twice' (Lambda)" in q["text"] and q["default"] == QMessageBox.StandardButton.No
    assert win.project.name != "digits_cnn" and win.project.graph.trusted is False
    res = win.document.infer_now()
    assert [p.node_name for p in res.problems] == ["twice"]
    assert "it runs only if you trust this project" in res.problems[0].message
    assert not m.exists(), "the Lambda from the file ran although the person said no"
    assert win.errors == []


def test_yes_runs_the_code_for_this_session_only(win, answer, code_files, tmp_path):
    m = code_files["marker"]
    m.unlink(missing_ok=True)
    answer.reply = QMessageBox.StandardButton.Yes
    assert win.files.open(str(code_files["project"]))
    assert win.project.graph.trusted is True
    res = win.document.infer_now()
    assert res.ok and m.exists()
    from app.files import copy_project
    assert copy_project(win.project).graph.trusted is True   # exports work on a copy: the trust goes with it
    assert win.files.save_to(tmp_path / "again.layerwise")
    assert "trusted\"" not in (tmp_path / "again.layerwise").read_text()
    m.unlink()
    answer.reply = QMessageBox.StandardButton.No
    assert win.files.open(str(tmp_path / "again.layerwise"))   # reopened: asked again
    assert len(answer.asked) == 2 and win.project.graph.trusted is False
    assert not win.document.infer_now().ok and not m.exists()


def test_without_dialogs_a_project_with_code_opens_untrusted(win, code_files, monkeypatch):
    m = code_files["marker"]
    m.unlink(missing_ok=True)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: asked.append(a)))
    assert win.files.open(str(code_files["project"]))
    assert asked == [] and win.project.graph.trusted is False
    assert not win.document.infer_now().ok and not m.exists()


def test_a_project_without_code_is_not_asked_about(win, answer):
    assert win.files.open(str(EXAMPLES / "digits_cnn.layerwise"))
    assert answer.asked == [] and win.document.infer_now().ok


def test_start_up_path_asks_too(qtbot, answer, code_files, tmp_path, monkeypatch, keras_loaded):
    """`layerwise PROJECT` builds the window with the project, then asks (app.main.run_gui)."""
    monkeypatch.setenv("LAYERWISE_DATA_DIR", str(tmp_path / "data"))
    from app.main_window import MainWindow
    from core.project import load_project
    m = code_files["marker"]
    m.unlink(missing_ok=True)
    answer.reply = QMessageBox.StandardButton.No
    w = MainWindow(load_project(code_files["project"]), plugins=False, start_keras=False)
    qtbot.addWidget(w)
    assert w.files.ask_trust(w.project) is False and len(answer.asked) == 1
    assert not w.document.infer_now().ok and not m.exists()
    w.close()


def test_import_with_trust_keeps_trust_for_the_session(win, code_files, qtbot):
    """File → Import Model… of a file with a Lambda: agreeing to import it is agreeing to run it in this session."""
    from app.transfer_ui import install
    ui = install(win)
    m = code_files["marker"]
    m.unlink(missing_ok=True)
    ui.import_file(str(code_files["model"]), wait=True)   # without trust: refused (dialogs off: not asked)
    qtbot.waitUntil(lambda: not ui.busy, timeout=60_000)
    assert win.project.graph.by_name("twice") is None and not m.exists()
    ui.import_file(str(code_files["model"]), trust=True, wait=True)
    qtbot.waitUntil(lambda: not ui.busy, timeout=60_000)
    assert win.project.graph.by_name("twice") is not None and win.project.graph.trusted is True
    m.unlink(missing_ok=True)
    win.project.graph.set_param(win.project.graph.by_name("h").id, "units", 5)   # an edit: inferred again
    res = win.document.infer_now()
    assert res.ok and m.exists()
    assert Path(code_files["project"]).exists()
