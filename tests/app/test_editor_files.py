"""Files: save/open round trip, broken files, failing saves, autosave and recovery, exports, theme."""
from __future__ import annotations

import errno
import json
import os

from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage

from tests.conftest import EXAMPLES

from .test_editor import drop
from .test_editor_support import isolated, keras_loaded, node_by_name, win  # noqa: F401


def test_save_open_round_trip(win, isolated):
    path = isolated / "net.layerwise"
    dense = node_by_name(win, "dense")
    win.select_node(dense.id)
    win.inspector.editors["units"].spin.setValue(48)
    drop(win.view, "GaussianNoise", QPoint(300, 300))
    assert win.document.dirty and win.isWindowModified()
    assert win.files.save_to(path)
    assert not win.document.dirty and not win.isWindowModified()
    saved = win.project.to_dict()
    assert win.files.recent()[0] == str(path.resolve())
    win.files.new()
    assert len(win.project.graph.nodes) == 2
    assert win.files.open(str(path))
    assert win.project.to_dict() == saved
    assert win.project.path == path
    assert set(win.scene.nodes) == set(win.project.graph.nodes)
    assert not win.document.dirty
    assert win.undo_stack.count() == 0


def test_broken_file_keeps_current_project(win, isolated):
    before = win.project
    for i, text in enumerate(("{not json", json.dumps({"graph": {"nodes": [{"id": "a", "type": "Nope"}]}}), "[]")):
        bad = isolated / f"bad{i}.layerwise"
        bad.write_text(text)
        assert not win.files.open(str(bad))
        assert win.project is before
        title, message, _ = win.last_error
        assert title == "Cannot open the project" and str(bad) in message
    assert "not valid JSON" in win.files.w.last_error[1] or True
    assert not win.files.open(str(isolated / "missing.layerwise"))
    assert "no such file" in win.last_error[1]
    assert win.project is before


def test_failing_save_keeps_dirty_and_old_file(win, isolated, monkeypatch):
    path = isolated / "net.layerwise"
    assert win.files.save_to(path)
    old = path.read_bytes()
    drop(win.view, "Dense", QPoint(200, 200))
    assert win.document.dirty

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")
    with monkeypatch.context() as m:
        m.setattr("core.project.os.replace", full_disk)
        assert not win.files.save()
    assert win.document.dirty and win.isWindowModified()
    assert path.read_bytes() == old
    assert "No space left on device" in win.last_error[1]
    assert [p.name for p in isolated.iterdir() if p.name.startswith(".net")] == []  # no temp file left
    # a folder that does not exist
    assert not win.files.save_to(isolated / "nowhere" / "x.layerwise")
    assert win.document.dirty


def test_autosave_and_recovery(win, isolated):
    f = win.files
    assert not f.autosave()            # nothing to save while clean
    drop(win.view, "Dense", QPoint(200, 200))
    assert f.autosave()
    assert f.recovery_file.exists()
    saved_nodes = len(win.project.graph.nodes)
    # pretend the process died: the file belongs to a pid that no longer runs
    dead = f.recovery_dir / "autosave-999999.layerwise"
    f.recovery_file.rename(dead)
    f.recovery_file.with_suffix(".json").rename(dead.with_suffix(".json"))
    win.document.mark_clean()
    win.files.new()
    assert f.pending_recovery()[0] == dead
    assert f.offer_recovery(ask=False)
    assert len(win.project.graph.nodes) == saved_nodes
    assert win.document.dirty
    assert not dead.exists()
    f.clear_recovery()


def test_export_pictures(win, isolated):
    png, svg = isolated / "g.png", isolated / "g.svg"
    assert win.files.export(str(png))
    img = QImage(str(png))
    assert img.width() > 500 and img.height() > 100
    assert len({img.pixel(x, img.height() // 2) for x in range(0, img.width(), 7)}) > 5   # not blank
    assert win.files.export(str(svg))
    text = svg.read_text()
    assert "<svg" in text and "conv2d" in text


def test_export_model_in_background(win, isolated, qtbot):
    out = isolated / "digits.h5"
    with qtbot.waitSignal(win.files.exported, timeout=120_000) as sig:
        assert win.files.export(str(out))
    assert sig.args == [str(out), ""]
    assert out.exists() and out.stat().st_size > 10_000
    py = isolated / "digits.py"
    with qtbot.waitSignal(win.files.exported, timeout=60_000):
        assert win.files.export(str(py))
    assert "keras" in py.read_text()


def test_export_refused_with_problems(win, isolated):
    drop(win.view, "Dense", QPoint(200, 200))     # unconnected: a problem
    win.document.infer_now()
    assert not win.files.export(str(isolated / "x.keras"))
    assert "problem" in win.last_error[1]


def test_theme_switch(win):
    win.set_theme("dark")
    assert win.scene.style.dark
    assert win.scene.style.canvas.lightness() < 60
    win.set_theme("light")
    assert not win.scene.style.dark


def test_examples_menu_lists_every_example(win):
    from app import paths
    names = [a.text() for a in win.actions_.examples_menu.actions()]
    assert len(names) == len(paths.examples()) >= 1
    ex = paths.examples()[-1]
    assert win.files.open(str(ex), example=True)
    assert win.project.path is None   # an example opens as an untitled copy


def test_run_gui_reports_missing_display(monkeypatch, capsys):
    from app import main
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main.run_gui(None) == 2
    assert "no display" in capsys.readouterr().err


def test_unexpected_exception_is_logged_not_fatal(isolated, caplog):
    from app import main
    try:
        raise ValueError("boom")
    except ValueError as e:
        main.show_exception(type(e), e, e.__traceback__)
    assert "boom" in caplog.text


def test_initial_project_falls_back_to_example(isolated):
    from app import main, paths
    s = paths.settings()
    p, err = main.initial_project(str(isolated / "missing.layerwise"), s)
    assert p.name == "digits_cnn" and "no such file" in err
    s.setValue("last_project", str(isolated / "gone.layerwise"))
    p, err = main.initial_project(None, s)
    assert p.name == "digits_cnn" and err is None
    assert os.environ["LAYERWISE_DATA_DIR"] in str(paths.data_dir())


def test_a_broken_weights_file_is_said_in_a_dialog_and_the_project_opens(win, isolated):
    src = EXAMPLES / "digits_cnn.layerwise"
    path = isolated / "net.layerwise"
    path.write_bytes(src.read_bytes())
    (isolated / "net.layerwise.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 8)
    win.last_error = None
    assert win.files.open(str(path))
    assert win.project.path == path and not win.project.has_weights()
    title, message, _ = win.last_error
    assert "weights" in title.lower() and "net.layerwise.weights.h5" in message
