"""Graph edits and events, project files: round trip, migration, atomic save, bad files."""
import json
import os

import numpy as np
import pytest

from core.errors import GraphError, ProjectError
from core.graph import Graph
from core.project import (Project, SCHEMA_VERSION, load_project, loads_project, save_project, weights_path_for)
from tests.core.helpers import chain
from tests.conftest import EXAMPLES


def test_events_fire_for_each_edit():
    g = Graph()
    seen = []
    for name in g.events.names():
        getattr(g.events, name).connect(lambda *a, _n=name: seen.append(_n))
    a = g.add_node("Input", {"shape": [4]})
    b = g.add_node("Dense", {"units": 3})
    e = g.connect(a.id, b.id)
    g.set_param(b.id, "units", 5)
    g.move(b.id, (10, 20))
    g.rename(b.id, "hidden")
    g.disconnect(e)
    g.remove_node(b.id)
    for ev in ("node_added", "edge_added", "param_changed", "node_moved", "node_renamed", "edge_removed",
               "node_removed", "changed"):
        assert ev in seen
    assert g.nodes[a.id].name == "input"


def test_refused_connections_say_why():
    g, (i, d1, d2) = chain(("Input", {"shape": [4]}), ("Dense", {}), ("Dense", {}))
    assert "cycle" in g.can_connect(d2, d1)
    assert "already connected" in g.can_connect(i, d2, 0)
    assert "takes no inputs" in g.can_connect(d1, i)
    with pytest.raises(GraphError, match="cycle"):
        g.connect(d2, d1)
    sub = g.add_node("Subtract")
    g.connect(d1, sub.id)
    g.connect(d2, sub.id)
    assert "all are connected" in g.can_connect(i, sub.id)
    with pytest.raises(GraphError, match="already exists"):
        g.rename(d1, g.nodes[d2].name)
    with pytest.raises(GraphError, match="unknown layer type"):
        g.add_node("NoSuchLayer")


def test_remove_and_reinsert_restores_edges_and_paste_gets_fresh_ids():
    g, (i, d, o) = chain(("Input", {"shape": [4]}), ("Dense", {"units": 2}), ("Output", {}))
    index = g.index_of(d)
    node, edges = g.remove_node(d)
    assert len(g.edges) == 0
    g.insert_node(node, edges, index)
    assert g.to_dict() == chain(("Input", {"shape": [4]}), ("Dense", {"units": 2}), ("Output", {}))[0].to_dict()
    new = g.paste(g.to_dict([i, d]))
    assert len(new) == 2 and not set(new) & {i, d}
    names = [n.name for n in g.nodes.values()]
    assert len(names) == len(set(names))
    assert any(e.src == new[0] and e.dst == new[1] for e in g.edges)


def test_project_round_trip_unchanged(tmp_path):
    src = EXAMPLES / "digits_cnn.layerwise"
    p = load_project(src)
    out = save_project(p, tmp_path / "copy.layerwise")
    q = load_project(out)
    assert q.to_dict() == p.to_dict()
    assert json.loads(out.read_text())["schema_version"] == SCHEMA_VERSION


def test_weights_sidecar_round_trip(tmp_path):
    g, (i, d, o) = chain(("Input", {"shape": [4]}), ("Dense", {"units": 2}), ("Output", {}))
    w = [np.arange(8, dtype="float32").reshape(4, 2), np.array([1.5, -2.0], dtype="float32")]
    g.nodes[d].weights = w
    p = Project(graph=g, name="w")
    path = save_project(p, tmp_path / "w.layerwise")
    assert weights_path_for(path).exists()
    q = load_project(path)
    for a, b in zip(q.graph.nodes[d].weights, w):
        np.testing.assert_array_equal(a, b)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    p = load_project(EXAMPLES / "digits_cnn.layerwise")
    path = tmp_path / "keep.layerwise"
    save_project(p, path)
    before = path.read_bytes()
    p.graph.add_node("Dense")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        save_project(p, path)
    assert path.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["keep.layerwise"]  # no temporary file left behind


def test_migrates_version_0_files():
    d = {"name": "old", "graph": {"nodes": [{"id": "a", "type": "Input", "name": "x", "config": {"shape": [3]}}],
                                  "edges": []}}
    p = loads_project(json.dumps(d))
    assert p.graph.nodes["a"].params["shape"] == [3]


BAD = {
    "not JSON": ("this is { not json", "not valid JSON"),
    "wrong shape": ("[1, 2, 3]", "expected a JSON object"),
    "no graph": ('{"name": "x"}', "no \"graph\" key"),
    "newer version": ('{"schema_version": 999, "graph": {"nodes": [], "edges": []}}', "newer Layerwise"),
    "unknown type": ('{"graph": {"nodes": [{"id": "a", "type": "Dense42", "name": "d"}], "edges": []}}',
                     "unknown layer type 'Dense42'"),
    "edge to missing node": ('{"graph": {"nodes": [{"id": "a", "type": "Dense", "name": "d"}], '
                             '"edges": [{"src": "a", "dst": "zz"}]}}', "dst 'zz' is not a node"),
    "param of wrong type": ('{"graph": {"nodes": [{"id": "a", "type": "Dense", "name": "d", "params": {"units": "many"}}],'
                            ' "edges": []}}', "param 'units' expected an integer"),
    "duplicate names": ('{"graph": {"nodes": [{"id": "a", "type": "Dense", "name": "d"}, {"id": "b", "type": "Dense", '
                        '"name": "d"}], "edges": []}}', "used by two nodes"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_project_files_raise_project_error(tmp_path, case):
    text, fragment = BAD[case]
    f = tmp_path / "bad.layerwise"
    f.write_text(text)
    with pytest.raises(ProjectError) as exc:
        load_project(f)
    assert fragment in str(exc.value)
    assert str(f) in str(exc.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "nope.layerwise")
    b = tmp_path / "bin.layerwise"
    b.write_bytes(b"\x89HDF\r\n\x1a\n\xff\xfe")
    with pytest.raises(ProjectError, match="not a text file|not valid JSON"):
        load_project(b)
