"""Opening a project with every panel installed leaves it unchanged (no unsaved marker, no prompt on close)."""
import pytest

from tests.app.test_editor_support import isolated, keras_loaded  # noqa: F401  (fixtures)
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("example", ["digits_cnn", "tabular_mlp", "two_heads"])
def test_opening_an_example_with_all_panels_keeps_it_clean(qtbot, isolated, keras_loaded, example):  # noqa: F811
    from core.project import load_project
    from app.main_window import MainWindow
    p = load_project(EXAMPLES / f"{example}.layerwise")
    before = p.to_dict()
    w = MainWindow(p, plugins=True, start_keras=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(w.is_keras_ready, timeout=60000)
    qtbot.wait(1500)  # panels load the dataset and settle
    assert not w.isWindowModified(), f"{example} shows unsaved changes right after opening"
    assert w.project.to_dict() == before
    w.close()


def test_a_window_closed_before_its_panels_came_keeps_the_saved_layout(qtbot, isolated, keras_loaded):  # noqa: F811
    """The workbench, runs and sweep panels are added after the first paint; a window closed before that saves
    its geometry but not a dock layout without them (which would put them side by side next time)."""
    from app import paths
    from app.main_window import STATE_VERSION, MainWindow
    from core.project import load_project
    full = MainWindow(load_project(EXAMPLES / "digits_cnn.layerwise"), plugins=False, start_keras=False)
    qtbot.addWidget(full)
    full.show()
    full.install_plugins()
    assert full.plugins
    full.save_layout()
    saved = bytes(paths.settings().value("window/state"))
    assert paths.settings().value("window/state_version", 0, type=int) == STATE_VERSION
    early = MainWindow(load_project(EXAMPLES / "digits_cnn.layerwise"), plugins=False, start_keras=False)
    qtbot.addWidget(early)
    early.show()
    early.resize(900, 600)
    early.close()                               # before any panel was added
    assert bytes(paths.settings().value("window/state")) == saved
    assert early.saveState(STATE_VERSION) != saved       # (what it would have written instead)
    full.workbench.shutdown()
    full.document.undo_stack.setClean()
    full.document._extra_dirty = False
