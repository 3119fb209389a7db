"""The window API of app.contracts: the main window provides all of it, the workbench's stand-in window the part the
workbench needs; the parts are installed from an explicit list."""
from __future__ import annotations

import pytest

from app.contracts import TransferHost, WorkbenchHost
from tests.conftest import EXAMPLES


@pytest.fixture
def main_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERWISE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LAYERWISE_NO_DIALOGS", "1")
    from app.main_window import MainWindow
    from core.project import load_project
    w = MainWindow(load_project(EXAMPLES / "digits_cnn.layerwise"), plugins=False, start_keras=False)
    qtbot.addWidget(w)
    return w


def test_the_main_window_provides_the_whole_window_api(main_window):
    assert isinstance(main_window, WorkbenchHost) and isinstance(main_window, TransferHost)
    assert main_window.last_inference() is main_window.document.result


def test_the_workbench_stand_in_window_provides_what_the_workbench_uses(qtbot):
    from tests.app.test_workbench import FakeWindow, digits_project
    w = FakeWindow(digits_project())
    qtbot.addWidget(w)
    assert isinstance(w, WorkbenchHost)
    assert not isinstance(w, TransferHost)       # no document, files or canvas: the transfer part needs them


def test_parts_are_installed_from_an_explicit_list(main_window):
    from app import experiments, main_window as mw, transfer_ui, workbench
    from app.workbench import gradients
    assert [name for name, _install in mw.PLUGINS] == ["app.workbench", "app.transfer_ui", "app.experiments",
                                                       "app.workbench.gradients"]
    assert [install for _name, install in mw.PLUGINS] == [workbench.install, transfer_ui.install, experiments.install,
                                                          gradients.install]
