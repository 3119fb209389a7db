"""Validation: every kind of problem, all at once, named by node; shapes and parameter totals."""
import subprocess
import sys

import pytest

from core.infer import Inference, check, shape_text
from core.graph import Graph
from tests.core.helpers import chain
from tests.conftest import EXAMPLES, ROOT


def messages(res):
    return [str(p) for p in res.problems]


def test_valid_example_shapes_and_totals():
    from core.project import load_project
    p = load_project(EXAMPLES / "digits_cnn.layerwise")
    res = check(p.graph, p.regularization)
    assert res.ok, messages(res)
    by_name = {p.graph.nodes[k].name: v for k, v in res.nodes.items()}
    assert shape_text(by_name["pixels"].shape) == "8×8×1"
    assert by_name["digit"].shape == (None, 10)
    assert by_name["conv2d"].trainable == 3 * 3 * 1 * 32 + 32


def test_structural_problems_all_at_once():
    g = Graph()
    d1 = g.add_node("Dense", {"units": 4})          # input port left unconnected, output goes nowhere
    a = g.add_node("Dense", {"units": 4})
    b = g.add_node("Dense", {"units": 4})
    g.connect(a.id, b.id)
    g.edges.append(type(g.edges[0])(b.id, a.id, 0))  # a cycle (the editor refuses it; a file may hold one)
    res = check(g)
    text = "\n".join(messages(res))
    assert "there is no Input node" in text
    assert "there is no Output node" in text
    assert f"node 'dense' ({d1.id}): input port 'in1' is not connected" in text
    assert f"node 'dense' ({d1.id}): its output goes nowhere" in text
    assert "is on a cycle" in text and a.id in text and b.id in text


def test_merge_shape_mismatch_names_both_shapes():
    g, (i, c64) = chain(("Input", {"shape": [8, 8, 3]}), ("Conv2D", {"filters": 64, "padding": "same"}))
    c32 = g.add_node("Conv2D", {"filters": 32, "padding": "same"})
    g.connect(i, c32.id)
    add = g.add_node("Add")
    g.connect(c64, add.id)
    g.connect(c32.id, add.id)
    out = g.add_node("Output", {"loss": "mean_squared_error"})
    g.connect(add.id, out.id)
    res = check(g)
    (p,) = res.problems
    assert p.node_id == add.id
    assert p.message == "inputs must have the same shape; got 8×8×64 from 'conv2d' and 8×8×32 from 'conv2d_1'"


def test_rank_errors_are_real_errors_and_dense_after_conv_is_legal():
    g, ids = chain(("Input", {"shape": [8, 8, 1]}), ("Conv2D", {}), ("Dense", {"units": 5}), ("Output", {}))
    res = check(g)
    assert res.ok, messages(res)
    assert res.nodes[ids[2]].shape == (None, 6, 6, 5)
    g, ids = chain(("Input", {"shape": [10]}), ("Conv2D", {}), ("Output", {}))
    (p,) = check(g).problems
    assert p.node_id == ids[1]
    assert "expects an input with at least 3 axes per sample" in p.message and "got 1 (input shape (None, 10))" in p.message
    assert "Reshape" in p.message


@pytest.mark.parametrize("t,key,value,fragment", [
    ("Dense", "units", -3, "units must be >= 1, got -3"),
    ("Dropout", "rate", 1.5, "rate must be < 1, got 1.5"),
    ("Conv2D", "kernel_size", [0, 0], "kernel_size every value must be >= 1"),
])
def test_invalid_params(t, key, value, fragment):
    shape = [8, 8, 1] if t == "Conv2D" else [4]
    g, ids = chain(("Input", {"shape": shape}), (t, {key: value}), ("Output", {}))
    res = check(g)
    assert any(p.node_id == ids[1] and fragment in p.message for p in res.problems), messages(res)


def test_incremental_reinference_recomputes_only_what_changed():
    g, ids = chain(("Input", {"shape": [16]}), ("Dense", {"units": 8}), ("Dense", {"units": 7}),
                   ("Dense", {"units": 6}), ("Output", {}))
    inf = Inference()
    first = inf.run(g)
    assert first.recomputed == 3
    g.set_param(ids[3], "activation", "relu")      # same shape: only the node itself
    assert inf.run(g).recomputed == 1
    g.set_param(ids[1], "units", 4)                # new shape: the node and the next one (whose input changed)
    res = inf.run(g)
    assert res.recomputed == 2
    assert res.nodes[ids[2]].trainable == 4 * 7 + 7
    assert res.nodes[ids[3]].trainable == 7 * 6 + 6


def test_repeated_blocks_are_inferred_once():
    g, ids = chain(("Input", {"shape": [16]}), *[("Dense", {"units": 16})] * 5, ("Output", {}))
    res = Inference().run(g)
    assert res.ok and res.recomputed == 1
    assert all(res.nodes[k].trainable == 16 * 16 + 16 for k in ids[1:-1])


def test_effective_regularization_is_shown():
    from core.project import Project
    from cli.report import summary_lines
    g, ids = chain(("Input", {"shape": [4]}), ("Dense", {"units": 8}), ("Dense", {"units": 2}), ("Output", {}))
    g.set_setting(ids[2], "l2", 0.01)
    p = Project(graph=g, regularization={"l2": 0.001, "dropout": 0.25})
    res = check(g, p.regularization)
    assert res.nodes[ids[1]].l2 == 0.001 and res.nodes[ids[1]].dropout_after == 0.25
    assert res.nodes[ids[2]].l2 == 0.01 and res.nodes[ids[2]].dropout_after == 0.0  # feeds the Output
    text = "\n".join(summary_lines(p, res))
    assert "L2 0.001, +dropout 0.25" in text and "L2 0.01" in text
    from core.build import build_model
    model = build_model(p).model
    assert [l.name for l in model.layers if l.__class__.__name__ == "Dropout"] == ["dense_dropout"]
    assert model.get_layer("dense_1").kernel_regularizer.l2 == pytest.approx(0.01)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_cli_check_exit_codes(tmp_path):
    ok = run_cli("check", str(EXAMPLES / "digits_cnn.layerwise"))
    assert ok.returncode == 0, ok.stderr
    assert "Total params: 94,314" in ok.stdout
    bad = tmp_path / "bad.layerwise"
    bad.write_text("{ nope")
    r = run_cli("check", str(bad))
    assert r.returncode == 2 and "not valid JSON" in r.stderr and "Traceback" not in r.stderr
    g, ids = chain(("Input", {"shape": [4]}), ("Dense", {"units": -3}), ("Output", {}))
    from core.project import Project, save_project
    f = save_project(Project(graph=g, name="broken"), tmp_path / "broken.layerwise")
    r = run_cli("check", str(f))
    assert r.returncode == 1
    assert f"node 'dense' ({ids[1]}): units must be >= 1, got -3" in r.stdout
