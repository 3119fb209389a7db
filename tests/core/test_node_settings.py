"""Node settings are declared once (core.node_settings.SETTINGS): every key the code reads or writes is in the
table, and the table drives the checks on load."""
from __future__ import annotations

import ast

import pytest

from core import node_settings as ns
from core.errors import ProjectError
from core.graph import Graph
from core.validate import node_settings_problems
from tests.conftest import ROOT


def keys_used_in_source():
    """(file:line, key) for every string key read or written on a node's settings in core, app and cli:
    ``x.settings.get("k")``, ``x.settings["k"]``, ``set_setting(node, "k", v)``, ``SetSetting(g, node, "k", v)``."""
    found = []
    for folder in ("core", "app", "cli"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = path.relative_to(ROOT)
            for node in ast.walk(tree):
                key = None
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                        and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "settings" \
                        and node.args and isinstance(node.args[0], ast.Constant):
                    key = node.args[0].value
                elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                        and node.value.attr == "settings" and isinstance(node.slice, ast.Constant):
                    key = node.slice.value
                elif isinstance(node, ast.Call) and len(node.args) >= 3 and isinstance(node.args[1], ast.Constant) \
                        and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("set_setting", "SetSetting"):
                    key = node.args[1].value
                if key is not None:
                    found.append((f"{where}:{node.lineno}", key))
    return found


def test_every_settings_key_in_the_code_is_declared():
    used = keys_used_in_source()
    undeclared = [f"{where} {key!r}" for where, key in used if key not in ns.SETTINGS]
    assert not undeclared, "node settings keys missing from core.node_settings.SETTINGS:\n" + "\n".join(undeclared)


def test_the_constants_name_the_table():
    constants = {v for k, v in vars(ns).items() if k.isupper() and isinstance(v, str)}
    assert constants == set(ns.SETTINGS)
    assert set(ns.CODE_MARKERS) <= set(ns.SETTINGS)
    assert all(s.kind in (None, "number", "bool", "text", "object") for s in ns.SETTINGS.values())
    assert ns.markdown_table().count("\n") == len(ns.SETTINGS) + 1


@pytest.mark.parametrize("key, bad, words", [
    (ns.L2, 5, ('"settings.l2"', "from 0 to 1")),
    (ns.DROPOUT, 1, ('"settings.dropout"', "below 1")),
    (ns.GLOBAL_DROPOUT, "no", ('"settings.global_dropout"', "true or false")),
    (ns.TRAINABLE, 0, ('"settings.trainable"', "true or false")),
    (ns.PRETRAINED, "yes", ('"settings.pretrained"', "true or false")),
    (ns.SHARES, 3, ('"settings.shares"', "text")),
    (ns.GROUP, "g" * 300, ('"settings.group"', "at most 200")),
    (ns.CALL, [], ('"settings.call"', "object")),
    (ns.GROUP_META, "m", ('"settings.group_meta"', "object")),
])
def test_each_checked_key_refuses_a_bad_value_on_load(key, bad, words):
    assert node_settings_problems({key: None}) == []
    problems = node_settings_problems({key: bad})
    assert len(problems) == 1 and all(w in problems[0] for w in words), problems
    d = {"nodes": [{"id": "n1", "type": "Input", "name": "x", "params": {"shape": [2]}, "settings": {key: bad}}],
         "edges": []}
    with pytest.raises(ProjectError, match="node 'x' \\(n1\\)"):
        Graph.from_dict(d)


def test_unchecked_and_unknown_keys_are_kept():
    s = {ns.TRAINABLE_FROM: 3, ns.CODE: True, ns.TRUSTED_CODE: "yes", "something_else": [1]}
    assert node_settings_problems(s) == []
    d = {"nodes": [{"id": "n1", "type": "Input", "name": "x", "params": {"shape": [2]}, "settings": s}], "edges": []}
    assert Graph.from_dict(d).nodes["n1"].settings == s


def test_is_frozen():
    g = Graph()
    n = g.add_node("Dense")
    assert not ns.is_frozen(n)
    g.set_setting(n.id, ns.TRAINABLE, False)
    assert ns.is_frozen(n)
