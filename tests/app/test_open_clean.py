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
