"""Shared set-up for the editor tests (no tests here): an isolated data folder, no modal dialogs, Keras imported once."""
from __future__ import annotations

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


def node_by_name(w, name):
    n = w.project.graph.by_name(name)
    assert n is not None, name
    return n


def snapshot(w):
    return w.project.to_dict()
