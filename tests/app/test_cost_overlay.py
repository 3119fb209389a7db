"""The cost overlay on the canvas: cards coloured by their share of MACs or memory with the figure on each, updated
after an edit; the Summary panel's totals and the budget in red; View → Profile Model puts times on the cards."""
from __future__ import annotations

import pytest

from app.commands import SetParam
from app.cost_overlay import card_text, overlays
from core.cost import project_cost
from core.project import load_project
from tests.app.test_editor_support import isolated, keras_loaded, node_by_name, win  # noqa: F401
from tests.conftest import EXAMPLES


def test_overlay_shares_and_card_texts():
    rep = project_cost(load_project(EXAMPLES / "digits_cnn.layerwise", load_weights=False))
    marks = overlays(rep, "macs")
    assert marks["n4"] == (1.0, "591 k MACs · 61%")     # the largest share is the full colour
    assert marks["n3"][0] == pytest.approx(rep.nodes["n3"].macs / rep.nodes["n4"].macs)
    assert overlays(rep, "memory")["n8"][1] == "263 KB · 65%"
    assert card_text(rep.nodes["n4"], 0.61, "macs", ms=0.25) == "591 k MACs · 61% · 250 µs"


def test_overlay_on_the_canvas_follows_an_edit_and_the_mode(win, qtbot):
    ov = win.cost_overlay
    conv = node_by_name(win, "conv2d_1")
    assert win.scene.nodes[conv.id].overlay is None      # off until chosen
    assert "973 k</b> MACs · 377 KB weights" in win.summary.cost.text()
    ov.mode_actions["macs"].trigger()
    assert win.scene.nodes[conv.id].overlay == (1.0, "591 k MACs · 61%")
    win.document.push(SetParam(win.project.graph, conv.id, "filters", 8))
    win.document.infer_now()
    text = win.scene.nodes[conv.id].overlay[1]
    assert text.startswith("148 k MACs · ")          # 8 filters: 8x8x8 outputs of 3x3x32 multiply-adds, + bias
    ov.set_mode("memory")
    assert win.scene.nodes[conv.id].overlay[1].endswith("%") and "MACs" not in win.scene.nodes[conv.id].overlay[1]
    ov.set_mode("off")
    assert all(item.overlay is None for item in win.scene.nodes.values())


def test_budget_turns_the_summary_red_with_top_contributors(win):
    win.project.training.set("budget", {"max_macs": 1000})
    text = win.summary.cost.text()
    assert "color:#d93025" in text and "over budget" in text
    assert "over budget</b>: MACs 973 k &gt; 1 k<br>&nbsp;&nbsp;top: conv2d_1, conv2d_2, dense" in text


def test_profile_action_puts_times_on_the_cards(win, qtbot):
    ov = win.cost_overlay
    qtbot.waitUntil(win.is_keras_ready, timeout=30000)
    task = ov.run_profile()
    assert task is not None
    qtbot.waitUntil(lambda: ov.profile is not None, timeout=60000)
    conv = node_by_name(win, "conv2d_1")
    assert ov.mode == "macs"
    assert win.scene.nodes[conv.id].overlay[1].startswith("591 k MACs · 61% · ")
    assert "at batch 1" in win.summary.cost.text()


def test_budget_set_in_the_project_settings_panel(win):
    editors = win.settings_panel.budget_editors
    ed = editors.edits["max_macs"]
    ed.setText("1000")
    ed.editingFinished.emit()
    assert win.project.training["budget"] == {"max_macs": 1000}
    assert "over budget" in win.summary.cost.text()
    win.document.undo_stack.undo()
    assert win.project.training.get("budget") in (None, {})
    assert ed.text() == "" and "over budget" not in win.summary.cost.text()
    ed.setText("-5")
    ed.editingFinished.emit()
    assert win.settings_panel.error.text() == '"training.budget.max_macs" must be at least 0, got -5'
    assert win.project.training.get("budget") in (None, {}) and ed.text() == ""
