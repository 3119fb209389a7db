"""One test per point of importing models as people write them: keras.ops steps, Keras' own registered layers,
scalar inputs, several outputs and state inputs, training settings, custom code, readability."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from core import catalog
from core.build import build_model, compile_model, make_metric
from core.export import python_source
from core.graph import Graph, output_count
from core.infer import check, shape_text
from core.project import Project, load_project, save_project
from core.transfer import import_model
from core.transfer.compile_config import read_training

keras = pytest.importorskip("keras")
L = keras.layers


def _save(model, tmp_path, name="m"):
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return path


# 1. keras.ops steps ------------------------------------------------------------------------------------------------
def test_ops_steps_become_op_nodes_with_their_constants(tmp_path):
    a = keras.Input((6,), name="a")
    h = L.Dense(6, name="d1")(a)
    m = keras.Model(a, L.Dense(2, name="head")(keras.ops.multiply(h + a, 0.5)), name="opsnet")
    g = import_model(_save(m, tmp_path)).project.graph
    ops = [n for n in g.nodes.values() if n.type == "Op"]
    assert [(n.params["op"], catalog.summary_text("Op", n.params)) for n in ops] == [
        ("add", "add(in1, in2)"), ("multiply", "multiply(in1, 0.5)")]
    assert check(g).nodes[ops[1].id].shape == (None, 6)
    src = python_source(Project(graph=g))   # (Keras numbers the ops' names within a session: add, add_1...)
    assert f"{ops[0].name} = keras.ops.add(d1, a)" in src and f"keras.ops.multiply({ops[0].name}, 0.5)" in src


def test_an_op_node_from_the_palette_calls_its_inputs_in_port_order():
    g = Graph()
    a, b = g.add_node("Input", {"shape": [3]}), g.add_node("Input", {"shape": [3]})
    op = g.add_node("Op", {"op": "subtract"})
    out = g.add_node("Output", {"loss": "mean_squared_error", "metrics": []})
    g.connect(a.id, op.id), g.connect(b.id, op.id), g.connect(op.id, out.id)
    model = build_model(g).model
    x, y = np.ones((1, 3), "float32"), np.full((1, 3), 3.0, "float32")
    np.testing.assert_allclose(model.predict([x, y], verbose=0), x - y)
    g.set_param(op.id, "op", "no_such_op")
    (p,) = check(g).problems
    assert "'no_such_op' is not a keras.ops function" in p.message


# 2. Keras' own registered layers ------------------------------------------------------------------------------------
def test_a_layer_keras_registers_outside_keras_layers_is_built_in(tmp_path):
    x = keras.Input((3, 4), name="x")
    scale = keras.saving.deserialize_keras_object(
        {"module": "keras.src.applications.convnext", "class_name": "LayerScale", "registered_name": "LayerScale",
         "config": {"name": "scale", "init_values": 0.5, "projection_dim": 4}})
    m = keras.Model(x, scale(x))
    imported = import_model(_save(m, tmp_path))   # no trust
    n = imported.project.graph.by_name("scale")
    assert n.type == "KerasLayer" and "code" not in n.settings
    assert check(imported.project.graph).ok


# 3. scalar inputs -------------------------------------------------------------------------------------------------------
def test_a_scalar_input_checks_builds_and_exports():
    g = Graph()
    i = g.add_node("Input", {"shape": [], "dtype": "int32"})
    e = g.add_node("Embedding", {"input_dim": 10, "output_dim": 4})
    o = g.add_node("Output", {"loss": "mean_squared_error", "metrics": []})
    g.connect(i.id, e.id), g.connect(e.id, o.id)
    res = check(g)
    assert res.ok and shape_text(res.nodes[i.id].shape) == "scalar" and res.nodes[e.id].shape == (None, 4)
    assert "keras.Input(shape=(), dtype='int32'" in python_source(Project(graph=g))
    assert build_model(g).model.input_shape == (None,)


# 4. several outputs, state inputs -------------------------------------------------------------------------------------
def test_an_lstm_with_states_has_three_output_ports_and_the_decoder_state_ports(tmp_path):
    ei, di = keras.Input((None, 3), name="ei"), keras.Input((None, 2), name="di")
    _, h, c = L.LSTM(4, return_state=True, name="enc")(ei)
    y = L.LSTM(4, name="dec")(di, initial_state=[h, c])
    g = import_model(_save(keras.Model([ei, di], y), tmp_path)).project.graph
    enc, dec = g.by_name("enc"), g.by_name("dec")
    assert enc.type == dec.type == "LSTM" and output_count(enc) == 3
    assert [(e.src_port, e.port) for e in g.in_edges(dec.id)] == [(0, 0), (1, 1), (2, 2)]
    assert catalog.get("LSTM").port_name(1) == "initial state h"
    res = check(g)
    assert res.nodes[enc.id].outputs == [(None, 4)] * 3 and res.nodes[enc.id].shape == (None, 4)
    assert "(di, initial_state=[enc[1], enc[2]])" in python_source(Project(graph=g))


def test_the_source_port_is_saved_and_files_without_it_mean_port_0(tmp_path):
    g = Graph()
    i = g.add_node("Input", {"shape": [5, 3]})
    lstm = g.add_node("LSTM", {"units": 2, "return_state": True})
    o = g.add_node("Output", {"loss": "mean_squared_error", "metrics": []})
    g.connect(i.id, lstm.id), g.connect(lstm.id, o.id, 0, 2)
    path = tmp_path / "p.layerwise"
    save_project(Project(graph=g), path)
    d = json.loads(path.read_text())
    assert [e.get("src_port", 0) for e in d["graph"]["edges"]] == [0, 2]
    assert "src_port" not in d["graph"]["edges"][0]   # an old reader sees the file it always saw
    assert load_project(path).graph.edges[1].src_port == 2
    d["graph"]["edges"][1]["src_port"] = -1
    path.write_text(json.dumps(d))
    from core.errors import ProjectError
    with pytest.raises(ProjectError, match="src_port"):
        load_project(path)
    with pytest.raises(Exception, match="no output port 5"):
        g.connect(lstm.id, g.add_node("Output").id, 0, 5)


# 5. training settings -----------------------------------------------------------------------------------------------
def test_from_logits_losses_and_loss_weights_come_back(tmp_path):
    x = keras.Input((4,), name="x")
    m = keras.Model(x, [L.Dense(3, name="cls")(x), L.Dense(1, name="bin")(x)])
    m.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.003, clipvalue=0.5),
              loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)],
              loss_weights=[1.0, 0.2], metrics=[["acc"], ["accuracy", keras.metrics.AUC(from_logits=True)]])
    imported = import_model(_save(m, tmp_path))
    p = imported.project
    outs = {n.name: n.params for n in p.graph.output_nodes()}
    assert outs["cls_out"]["from_logits"] is True and outs["bin_out"]["label_smoothing"] == 0.1
    assert [outs["cls_out"]["loss_weight"], outs["bin_out"]["loss_weight"]] == [1.0, 0.2]
    assert outs["bin_out"]["metrics"] == ["accuracy", "auc"]
    assert p.compile["optimizer"] == {"name": "rmsprop", "learning_rate": 0.003, "clipvalue": 0.5}
    assert "bin_out" not in imported.training and "from_logits" in imported.training
    build = build_model(p)
    compile_model(build, p)
    cfg = build.model.get_compile_config()
    assert cfg["loss_weights"] == [1.0, 0.2]
    src = python_source(p)
    assert "SparseCategoricalCrossentropy(from_logits=True)" in src and "loss_weights=[1.0, 0.2]" in src
    assert "BinaryCrossentropy(from_logits=True, label_smoothing=0.1)" in src


def test_metric_names_map_and_what_is_not_kept_is_said():
    comp = {"loss": {"class_name": "SparseCategoricalCrossentropy",
                     "config": {"ignore_class": 0, "from_logits": True, "reduction": "sum_over_batch_size"}},
            "metrics": ["mean_absolute_error", {"class_name": "SparseTopKCategoricalAccuracy", "config": {"k": 3}},
                        "cosine_similarity"],
            "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01, "use_ema": True, "amsgrad": True}}}
    t = read_training(comp, ["out"])
    assert t.outputs[0].loss == "sparse_categorical_crossentropy" and t.outputs[0].args == {"from_logits": True}
    assert t.outputs[0].metrics == ["mae"]
    assert t.optimizer == {"name": "adam", "learning_rate": 0.01, "amsgrad": True}
    text = " | ".join(t.warnings)
    for what in ("ignore_class=0", "SparseTopKCategoricalAccuracy(k=3)", "cosine_similarity", "use_ema=True"):
        assert what in text
    top5 = read_training({"loss": "sparse_categorical_crossentropy", "metrics": [
        {"class_name": "SparseTopKCategoricalAccuracy", "config": {"k": 5}}, "sparse_categorical_accuracy"]}, ["o"])
    assert top5.outputs[0].metrics == ["top_5_accuracy", "accuracy"] and not top5.warnings


def test_binary_metrics_read_logits():
    acc = make_metric("accuracy", "binary_crossentropy", from_logits=True)
    assert acc.threshold == 0.0
    assert make_metric("auc", "binary_crossentropy", from_logits=True).get_config()["from_logits"] is True
    assert make_metric("accuracy", "binary_crossentropy").threshold == 0.5


# 6. custom code ---------------------------------------------------------------------------------------------------
def _cli(*args):
    from click.testing import CliRunner
    from cli.main import cli
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="layerwise")


def test_custom_code_is_loaded_only_with_trust_and_trust_is_not_saved(tmp_path):
    from core.custom_code import load
    code = tmp_path / "my_layers_t.py"
    code.write_text(textwrap.dedent('''
        import keras
        @keras.saving.register_keras_serializable(package="tests")
        class Twice(keras.layers.Layer):
            def call(self, x):
                return x * 2.0
    '''))
    with pytest.raises(Exception, match="only with trust"):
        load(code)
    mod = load(code, trusted=True)
    i = keras.Input((3,))
    keras.Model(i, mod.Twice(name="twice")(i)).save(tmp_path / "c.keras")
    no = _cli("import", tmp_path / "c.keras", "--out", tmp_path / "c", "--custom-code", code)
    assert no.exit_code == 2 and "pass --trust too" in no.output
    ok = _cli("import", tmp_path / "c.keras", "--out", tmp_path / "c", "--trust", "--custom-code", code)
    assert ok.exit_code == 0, ok.output
    assert "training settings: none in the file" in ok.output
    d = json.loads((tmp_path / "c.layerwise").read_text())
    (node,) = [n for n in d["graph"]["nodes"] if n["name"] == "twice"]
    assert node["settings"]["custom_code"] == str(code.resolve()) and node["settings"]["code"] is True
    assert "trust" not in json.dumps({k: v for k, v in d.items() if k != "graph"})
    later = _cli("check", tmp_path / "c.layerwise")
    assert later.exit_code == 1 and "only if you trust this project" in later.output
    trusted = _cli("check", tmp_path / "c.layerwise", "--trust")   # the recorded code is loaded
    assert trusted.exit_code == 0, trusted.output
    missing = _cli("check", tmp_path / "c.layerwise", "--trust", "--custom-code", tmp_path / "nope.py")
    assert missing.exit_code == 2 and "nope.py: no such file" in missing.output


# 7. readability ----------------------------------------------------------------------------------------------------
def test_bidirectional_sequences_names_and_order(tmp_path):
    t = keras.Input((None, 4), name="seq")
    enc = L.Dense(4, name="shared")
    a = enc(t)
    b = L.Bidirectional(L.GRU(3, return_sequences=True), name="bi")(a)
    c = enc(L.Dense(4, name="mid")(b))
    m = keras.Model(t, c, name="functional")
    g = import_model(_save(m, tmp_path, "my_tagger")).project.graph
    p = import_model(tmp_path / "my_tagger.keras").project
    assert p.name == "my_tagger"
    bi = g.by_name("bi")
    assert bi.type == "Bidirectional" and bi.params["layer"] == "GRU" and bi.params["units"] == 3
    assert catalog.summary_text("Input", g.by_name("seq").params) == "Input T×4"
    assert shape_text(check(g).nodes[bi.id].shape) == "T×6"
    assert [n.name for n in g.nodes.values()] == ["seq", "shared", "bi", "mid", "shared_call2", "output"]
