"""Transfer in the window (issue 6): File → Import Model…, the Transfer menu and panel, one undo step per edit."""
from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import EXAMPLES, ROOT

TRANSFER = ROOT / "resources" / "transfer"


@pytest.fixture(scope="session")
def keras_loaded():
    from core.tfload import import_keras
    return import_keras()


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch, keras_loaded):
    """The main window with the digits example, no plugins (the test installs the transfer part itself)."""
    monkeypatch.setenv("LAYERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LAYERWISE_NO_DIALOGS", "1")
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


@pytest.fixture
def ui(win):
    from app.transfer_ui import install
    return install(win)


def wait_idle(qtbot, ui):
    qtbot.waitUntil(lambda: not ui.busy, timeout=120_000)


def menu_titles(w):
    return [a.text().replace("&", "") for a in w.menuBar().actions()]


def test_menus_and_panel_are_installed(win, ui):
    assert "Transfer" in menu_titles(win)
    file_menu = ui._menu("File")
    assert ui.import_action in file_menu.actions()
    assert [a.text().replace("&", "") for a in ui.menu.actions() if a.text()] == [
        "Add Pretrained Base…", "Expand Group", "Collapse Group", "Cut at Layer…", "Freeze", "Unfreeze",
        "Trainable From Layer…", "Fine-tune Phase…"]
    assert ui.dock.windowTitle() == "Transfer"


def test_import_model_opens_it_as_a_new_project_with_shapes(win, ui, qtbot, tmp_path):
    import keras
    x = keras.Input((8,), name="x")
    keras.Model(x, keras.layers.Dense(3, activation="softmax", name="probs")(
        keras.layers.Dense(5, activation="relu", name="hidden")(x)), name="tiny").save(tmp_path / "tiny.keras")
    ui.import_file(str(tmp_path / "tiny.keras"), wait=True)
    qtbot.waitUntil(lambda: win.project.name == "tiny", timeout=60_000)
    g = win.project.graph
    assert [n.name for n in g.nodes.values()] == ["x", "hidden", "probs", "output"]
    assert g.by_name("hidden").weights is not None
    win.document.infer_now()
    assert win.document.result.ok and win.document.result.total == 8 * 5 + 5 + 5 * 3 + 3


def test_import_of_a_bad_file_is_one_message_and_keeps_the_project(win, ui, qtbot, tmp_path):
    (tmp_path / "broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    before = win.project
    ui.import_file(str(tmp_path / "broken.h5"), wait=True)
    qtbot.waitUntil(lambda: win.last_error is not None, timeout=60_000)
    title, message, _ = win.last_error
    assert title == "Cannot import the model" and message.startswith("broken.h5: not a readable HDF5 file")
    assert win.project is before


def test_base_from_file_expand_collapse_cut_freeze_with_undo(win, ui, qtbot):
    doc = win.document
    g = win.project.graph
    win.scene.select_ids([])        # nothing selected: the base gets its own Input
    n_before = len(g.nodes)
    ui.add_base_with({"source": "file", "path": str(TRANSFER / "digits04_base.keras"), "frozen": True}, wait=True)
    qtbot.waitUntil(lambda: g.by_name("digits04_base") is not None, timeout=60_000)
    base = g.by_name("digits04_base")
    assert base.settings["trainable"] is False and base.weights is not None
    (src,) = g.inputs_of(base.id)
    assert g.nodes[src].type == "Input" and g.nodes[src].params["shape"] == [16, 16, 1]
    doc.infer_now()
    info = doc.result.nodes[base.id]
    assert info.trainable == 0 and info.non_trainable == 150_661
    ui._refresh([base.id])
    assert "0 trainable · 150,661 frozen params" in ui.panel.counts.text()
    assert ui.panel.tree.topLevelItemCount() == 9      # rescaling ... digit04 (InputLayer left out)

    # expand into layers, collapse back: one undo step each
    win.select_node(base.id)
    ui.expand_selected()
    assert g.by_name("conv1") is not None and g.by_name("digits04_base") is None
    assert g.by_name("conv1").settings["group"] == "digits04_base"
    doc.infer_now()
    win.select_node(g.by_name("conv1").id)
    ui.collapse_selected()
    base = g.by_name("digits04_base")
    assert base is not None and g.by_name("conv1") is None
    doc.undo_stack.undo()
    assert g.by_name("conv1") is not None
    doc.undo_stack.undo()
    assert g.by_name("conv1") is None and g.by_name("digits04_base") is not None

    # cut at 'features', trainable from layer 4, fine-tune phase
    base = g.by_name("digits04_base")
    win.select_node(base.id)
    ui.cut("features")
    doc.infer_now()
    assert doc.result.nodes[base.id].shape == (None, 128)
    ui.trainable_from(4)
    doc.infer_now()
    info = doc.result.nodes[base.id]
    assert info.trainable == 4 * 4 * 64 * 128 + 128 and info.non_trainable == 320 + 18_496
    lr = win.project.compile["optimizer"]["learning_rate"]
    r = ui.fine_tune(2, 0.1)
    assert r["learning_rate"] == (lr, round(lr * 0.1, 9))
    assert win.project.compile["optimizer"]["learning_rate"] == round(lr * 0.1, 9)
    doc.undo_stack.undo()
    assert win.project.compile["optimizer"]["learning_rate"] == lr
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert len(g.nodes) == n_before


def test_offline_imagenet_base_offers_a_choice(win, ui, qtbot, tmp_path, monkeypatch):
    from core import downloads
    monkeypatch.setattr(downloads, "cache_dirs", lambda: [tmp_path])
    monkeypatch.setattr(downloads, "online", lambda *a, **k: False)
    ui.add_base_with({"source": "MobileNetV2", "weights": "imagenet", "size": 96, "alpha": 0.35}, wait=True)
    qtbot.waitUntil(lambda: win.last_error is not None, timeout=60_000)
    title, message, _ = win.last_error
    assert title == "ImageNet weights unavailable" and "Choose a local weights file" in message
    win.last_error = None
    ui.add_base_with({"source": "MobileNetV2", "weights": "random", "size": 96, "alpha": 0.35,
                      "preprocessing": True}, wait=True)
    qtbot.waitUntil(lambda: any(n.name.startswith("mobilenetv2") for n in win.project.graph.nodes.values()),
                    timeout=60_000)
    g = win.project.graph
    pre = g.by_name("preprocess")
    assert pre is not None and pre.params["offset"] == -1.0
    win.document.infer_now()
    assert not [p for p in win.document.result.problems if p.node_id in (pre.id,)]
    assert np.isclose(pre.params["scale"], 1 / 127.5)
