"""An op node's call (``ops.multiply(h, 0.5)``) edited in the inspector: applied as one undo step, shown again
after undo, and a call that is not JSON, names an unknown keyword or reads an input that is not connected is
refused with a message naming the node, the graph unchanged."""
from __future__ import annotations

import pytest

from core.infer import check
from core.project import Project
from tests.app.test_editor_support import isolated, keras_loaded  # noqa: F401  (fixtures)
from tests.core.helpers import chain


@pytest.fixture
def op_window(qtbot, isolated, keras_loaded):  # noqa: F811
    from app.main_window import MainWindow
    g, ids = chain(("Input", {"shape": [4]}, "x"), ("Dense", {"units": 3}, "h"),
                   ("Op", {"op": "multiply", "args": [{"__port__": 0}, 0.5]}, "half"),
                   ("Output", {"loss": "mean_squared_error", "metrics": []}, "y"))
    w = MainWindow(Project(graph=g, name="ops"), plugins=False, start_keras=False)
    qtbot.addWidget(w)
    w.show()
    w.select_node(g.by_name("half").id)
    yield w, g.by_name("half")
    w.document.undo_stack.setClean()
    w.document._extra_dirty = False


def test_the_call_is_edited_as_one_undo_step(op_window):
    w, node = op_window
    ins = w.inspector
    assert ins.call_edit is not None and '"__port__": 0' in ins.call_edit.toPlainText() and "0.5" in ins.call_edit.toPlainText()
    ins.call_edit.setPlainText('{"args": [{"__port__": 0}, 2.0], "kwargs": {}}')
    ins._apply_op_call()
    assert node.params["args"] == [{"__port__": 0}, 2.0] and node.params["kwargs"] == {}
    assert check(w.project.graph).ok
    w.document.undo_stack.undo()                     # one step back: both keys as they were
    assert node.params["args"] == [{"__port__": 0}, 0.5] and not node.params.get("kwargs")
    assert "0.5" in ins.call_edit.toPlainText()
    assert check(w.project.graph).ok


@pytest.mark.parametrize("text, words", [
    ("{not json", "half: the call is not valid JSON"),
    ('{"args": [], "extra": 1}', 'half: the call must be a JSON object with "args"'),
    ('{"args": {"a": 1}}', "half: args must be a list"),
    ('{"args": [{"__port__": 3}, 2.0]}', "half: input port 3 is not connected (1 input(s))"),
])
def test_a_bad_call_is_refused_and_named(op_window, text, words):
    w, node = op_window
    ins = w.inspector
    before = dict(node.params)
    depth = w.document.undo_stack.count()
    ins.call_edit.setPlainText(text)
    ins._apply_op_call()
    assert words in ins.error.text() and ins.error.isVisibleTo(ins)
    assert node.params == before and w.document.undo_stack.count() == depth
