"""Shared set-up for the editor tests (no tests here): an isolated data folder, no modal dialogs, Keras imported once."""
from __future__ import annotations

import contextlib

import pytest

from tests.conftest import EXAMPLES


@pytest.fixture(scope="session")
def keras_loaded():
    from core.tfload import import_keras
    return import_keras()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LAYERWISE_NO_DIALOGS", "1")
    return tmp_path


@pytest.fixture
def win(qtbot, isolated, keras_loaded):
    """The main window with the digits example, shapes inferred, no plugins."""
    from app.files import load_example
    from app.main_window import MainWindow
    w = MainWindow(load_example(EXAMPLES / "digits_cnn.layerwise"), plugins=False, start_keras=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.document.infer_now()
    yield w
    w.document.undo_stack.setClean()
    w.document._extra_dirty = False
    w.close()


@contextlib.contextmanager
def window_with_plugins(qtbot, path):
    """The real main window on the project at ``path`` (shown, 1500×950) with its plugins installed (workbench,
    runs, sweeps...); afterwards its threads are stopped and its edits dropped, so closing it asks nothing."""
    from app.main_window import MainWindow
    from core.project import load_project
    w = MainWindow(load_project(path), plugins=False, start_keras=False)
    qtbot.addWidget(w)
    w.resize(1500, 950)
    w.show()
    qtbot.waitExposed(w)
    w.install_plugins()
    assert not isinstance(w.plugins["app.experiments"], Exception), w.plugins["app.experiments"]
    try:
        yield w
    finally:
        w.workbench.shutdown()
        w.runs.shutdown()
        w.document.undo_stack.setClean()
        w.document._extra_dirty = False


def node_by_name(w, name):
    n = w.project.graph.by_name(name)
    assert n is not None, name
    return n


def snapshot(w):
    return w.project.to_dict()
