"""The window with imported models that need more than one output port, or custom code from a file."""
from __future__ import annotations

import textwrap

import pytest

from tests.app.test_transfer_ui import keras_loaded, ui, wait_idle, win  # noqa: F401  (fixtures)


def test_an_encoder_shows_one_output_port_per_state_and_edges_leave_from_them(win, ui, qtbot, tmp_path):
    import keras
    L = keras.layers
    ei, di = keras.Input((None, 3), name="ei"), keras.Input((None, 2), name="di")
    _, h, c = L.LSTM(4, return_state=True, name="enc")(ei)
    keras.Model([ei, di], L.LSTM(4, name="dec")(di, initial_state=[h, c]), name="s2s").save(tmp_path / "s2s.keras")
    ui.import_file(str(tmp_path / "s2s.keras"), wait=True)
    qtbot.waitUntil(lambda: win.project.name == "s2s", timeout=60_000)
    g = win.project.graph
    win.document.infer_now()
    scene = win.scene
    enc, dec = g.by_name("enc"), g.by_name("dec")
    item = scene.nodes[enc.id]
    assert item.n_out == 3 and item.shape_text == "4 (×3)"
    ys = [item.out_port_scene(i).y() for i in range(3)]
    assert ys[0] < ys[1] < ys[2]
    assert item.port_at(item.mapFromScene(item.out_port_scene(2))) == ("out", 2)
    edges = {e.edge.src_port: e for e in scene.edges.values() if e.edge.dst == dec.id and e.edge.src == enc.id}
    assert sorted(edges) == [1, 2] and edges[2]._p1 == item.out_port_scene(2)
    assert scene.nodes[dec.id].port_names[:3] == ["sequence", "initial state h", "initial state c"]
    # undoing a disconnect puts the edge back on its own output port
    from app import commands
    edge = edges[2].edge
    win.document.push(commands.Disconnect(g, [edge]))
    win.document.undo_stack.undo()
    assert edge in g.edges


def test_import_with_custom_code_from_the_window(win, ui, qtbot, tmp_path):
    import subprocess
    import sys
    code = tmp_path / "win_layers.py"
    code.write_text(textwrap.dedent('''
        import keras
        @keras.saving.register_keras_serializable(package="wintest")
        class Thrice(keras.layers.Layer):
            def call(self, x):
                return x * 3.0
    '''))
    make = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import keras, win_layers; i = keras.Input((2,)); "
            f"keras.Model(i, win_layers.Thrice(name='thrice')(i)).save({str(tmp_path / 'w.keras')!r})")
    subprocess.run([sys.executable, "-c", make], check=True, capture_output=True)
    ui.import_file(str(tmp_path / "w.keras"), trust=True, custom_code=str(code), wait=True)
    qtbot.waitUntil(lambda: win.project.name == "w", timeout=60_000)
    node = win.project.graph.by_name("thrice")
    assert node.settings["custom_code"] == str(code.resolve())
    win.document.infer_now()
    assert win.document.result.ok


pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
