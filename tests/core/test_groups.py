"""core.groups: a nested model kept as one group node, expanded into its layers and collapsed back (the same
predictions and config), cut, frozen, trainable from layer N, fine-tuned."""
import numpy as np
import pytest

from core.build import build_model, collect_weights, compile_model
from core.errors import GraphError
from core.graph import Graph
from core.infer import check
from core.project import Project
from core.transfer import import_model, jsonable

keras = pytest.importorskip("keras")
L = keras.layers


def small_project(kind):
    """A small base (Sequential or Functional, with a branch) as one group node under a head, and the same
    network as a plain Keras model."""
    from core.groups import add_model_node
    keras.utils.set_random_seed(0)
    if kind == "Sequential":
        base = keras.Sequential([keras.Input((6,)), L.Dense(8, activation="relu", name="b1"),
                                 L.BatchNormalization(name="bn"), L.Dense(5, name="b2")], name="base")
    else:
        x = keras.Input((6,))
        h = L.Dense(8, activation="relu", name="b1")(x)
        y = L.Add(name="join")([L.Dense(5, name="b2")(h), L.Dense(5, name="skip")(x)])
        base = keras.Model(x, y, name="base")
    g = Graph()
    i = g.add_node("Input", {"shape": [6]})
    node = add_model_node(g, base, source=i.id)
    head = g.add_node("Dense", {"units": 3, "activation": "softmax"}, name="head")
    out = g.add_node("Output", {"loss": "sparse_categorical_crossentropy", "metrics": []})
    g.connect(node.id, head.id), g.connect(head.id, out.id)
    p = Project(graph=g)
    return p, base


@pytest.mark.parametrize("kind", ["Sequential", "Functional"])
def test_a_small_group_expands_and_collapses_back_to_the_same_predictions(kind):
    from core.groups import collapse_group, expand_group, group_members, is_group
    p, base = small_project(kind)
    g = p.graph
    x = np.random.default_rng(1).normal(size=(4, 6)).astype("float32")
    first = build_model(p)
    collect_weights(g, first)            # the head keeps its weights from here on
    want = first.model.predict(x, verbose=0)
    ids = expand_group(g, g.by_name("base").id)
    assert set(ids) == set(group_members(g, "base")) and not any(is_group(g.nodes[k]) for k in ids)
    assert check(g).ok
    np.testing.assert_allclose(build_model(p).model.predict(x, verbose=0), want, atol=1e-6)
    node = collapse_group(g, "base")
    assert is_group(node) and node.params["class_name"] == kind and not group_members(g, "base")
    rebuilt = build_model(p).model
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), want, atol=1e-6)
    assert jsonable(rebuilt.get_layer("base").get_config()["layers"]) == jsonable(base.get_config()["layers"])


def test_collapse_refuses_a_group_with_two_outputs_and_an_unknown_group():
    from core.groups import collapse_group, expand_group
    p, _ = small_project("Functional")
    g = p.graph
    expand_group(g, g.by_name("base").id)
    extra = g.add_node("Output", {"loss": "mean_squared_error", "metrics": []})
    g.connect(g.by_name("b1").id, extra.id)
    with pytest.raises(GraphError, match="feeds the rest of the graph from 2 outputs"):
        collapse_group(g, "base")
    with pytest.raises(GraphError, match="no expanded group named 'nope'"):
        collapse_group(g, "nope")


# -- groups, cut, freeze, fine-tune -----------------------------------------------------------------------------------
@pytest.fixture
def base_project(tmp_path):
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35, input_shape=(32, 32, 3))
    x = keras.Input((32, 32, 3))
    y = L.Dense(3, activation="softmax", name="head")(L.GlobalAveragePooling2D(name="pool")(base(x)))
    keras.Model(x, y, name="tl").save(tmp_path / "tl.keras")
    imported = import_model(tmp_path / "tl.keras")
    return imported.project, base.name, keras.models.load_model(tmp_path / "tl.keras")


def test_expand_and_collapse_a_group_keep_predictions_and_config(base_project):
    from core.groups import collapse_group, expand_group, group_members
    p, name, model = base_project
    g = p.graph
    x = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype("float32")
    want = model.predict(x, verbose=0)
    ids = expand_group(g, g.by_name(name).id)
    assert len(ids) == 153 and set(ids) == set(group_members(g, name))
    assert all(g.nodes[k].type != "KerasLayer" for k in ids[:5])           # editable layers now
    np.testing.assert_allclose(build_model(p).model.predict(x, verbose=0), want, atol=1e-5)
    assert check(g).total == model.count_params()
    node = collapse_group(g, name)
    assert node.name == name and not group_members(g, name)
    rebuilt = build_model(p).model
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), want, atol=1e-5)
    assert rebuilt.get_layer(name).get_config() == model.get_layer(name).get_config()


def test_cut_freeze_trainable_from_and_fine_tune(base_project):
    from core.groups import cut_group, fine_tune, freeze, inner_layers, set_trainable_from
    p, name, model = base_project
    g = p.graph
    base = g.by_name(name)
    rows = inner_layers(base)
    cut_group(g, base.id, "block_3_expand_relu")
    res = check(g)
    assert res.nodes[base.id].shape == (None, 8, 8, 48)      # the base now ends at the chosen layer
    assert len(inner_layers(base)) < len(rows)
    freeze(g, base.id)
    res = check(g)
    assert res.nodes[base.id].trainable == 0 and res.nodes[base.id].non_trainable > 0
    set_trainable_from(g, base.id, "block_2_project")
    res = check(g)
    frozen_part, trainable_part = res.nodes[base.id].non_trainable, res.nodes[base.id].trainable
    assert frozen_part > 0 and trainable_part > 0
    changed = fine_tune(p, base.id, 4, lr_factor=0.1)
    assert changed["learning_rate"] == (0.001, 0.0001) and len(changed["unfrozen"]) == 4
    assert "BatchNormalization" not in {r["class_name"] for r in inner_layers(base) if r["trainable"]}
    with pytest.raises(GraphError, match="has no layer named 'nope'"):
        cut_group(g, base.id, "nope")


def test_cut_after_drops_the_top_and_dead_branches():
    from core.groups import cut_after
    g = Graph()
    i = g.add_node("Input", {"shape": [4]})
    a = g.add_node("Dense", name="a")
    side = g.add_node("Dense", name="side")
    add = g.add_node("Add", name="add")
    top = g.add_node("Dense", {"units": 2, "activation": "softmax"}, name="top")
    out = g.add_node("Output")
    for s, d in ((i, a), (i, side), (a, add), (side, add), (add, top), (top, out)):
        g.connect(s.id, d.id)
    removed = cut_after(g, a.id)
    assert set(removed) == {"add", "top", "output", "side"}
    assert check(g).ok and [n.name for n in g.output_nodes()] == ["output"]


def test_frozen_batchnorm_runs_in_inference_mode_while_the_head_trains():
    from core.groups import add_model_node
    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input((4,)), L.Dense(4, name="bd"), L.BatchNormalization(name="bbn")], name="b")
    g = Graph()
    i = g.add_node("Input", {"shape": [4]})
    node = add_model_node(g, base, source=i.id, trainable=False)
    head = g.add_node("Dense", {"units": 1})
    out = g.add_node("Output", {"loss": "mean_squared_error", "metrics": []})
    g.connect(node.id, head.id), g.connect(head.id, out.id)
    p = Project(graph=g)
    b = build_model(p)
    compile_model(b, p)
    model = b.model
    bn = model.get_layer("b").get_layer("bbn")
    before = [w.copy() for w in bn.get_weights()]
    x = np.random.default_rng(0).normal(5, 3, (64, 4)).astype("float32")
    model.fit(x, np.ones((64, 1), "float32"), epochs=2, verbose=0)
    for w0, w1 in zip(before, bn.get_weights()):       # moving statistics untouched
        np.testing.assert_array_equal(w0, w1)
    np.testing.assert_allclose(model(x, training=True).numpy(), model(x, training=False).numpy(), atol=1e-6)
    res = check(g)
    assert res.nodes[node.id].trainable == 0 and res.nodes[node.id].non_trainable == base.count_params()


def test_groups_keep_which_output_an_edge_comes_from():
    """A group fed by the third output of an LSTM (its cell state), and a group with an LSTM inside whose second
    output (the hidden state) feeds the next layer: expanded and collapsed, each edge still reads the same port,
    and the predictions stay equal."""
    from core.groups import add_model_node, collapse_group, expand_group
    keras.utils.set_random_seed(0)
    base1 = keras.Sequential([keras.Input((4,)), L.Dense(6, name="b1")], name="base1")
    s = keras.Input((5, 3))
    _, h, _ = L.LSTM(3, return_state=True, name="inner")(s)
    base2 = keras.Model(s, L.Dense(2, name="d2")(h), name="base2")
    g = Graph()
    seq = g.add_node("Input", {"shape": [5, 3]}, name="seq")
    enc = g.add_node("LSTM", {"units": 4, "return_state": True}, name="enc")
    g.connect(seq.id, enc.id)
    n1 = add_model_node(g, base1)
    g.connect(enc.id, n1.id, 0, 2)                       # the cell state
    n2 = add_model_node(g, base2, source=seq.id)
    cat = g.add_node("Concatenate", {}, name="cat")
    head = g.add_node("Dense", {"units": 2}, name="head")
    out = g.add_node("Output", {"loss": "mean_squared_error", "metrics": []})
    g.connect(n1.id, cat.id, 0), g.connect(n2.id, cat.id, 1), g.connect(cat.id, head.id), g.connect(head.id, out.id)
    p = Project(graph=g)
    x = np.random.default_rng(2).normal(size=(3, 5, 3)).astype("float32")
    first = build_model(p)
    collect_weights(g, first)
    want = first.model.predict(x, verbose=0)

    def port_of(src_name, dst_name):
        return [e.src_port for e in g.edges if g.nodes[e.src].name == src_name and g.nodes[e.dst].name == dst_name]

    expand_group(g, g.by_name("base1").id)
    expand_group(g, g.by_name("base2").id)
    assert port_of("enc", "b1") == [2] and port_of("inner", "d2") == [1]
    assert check(g).ok
    np.testing.assert_allclose(build_model(p).model.predict(x, verbose=0), want, atol=1e-5)
    collapse_group(g, "base1")
    collapse_group(g, "base2")
    assert port_of("enc", "base1") == [2]
    assert check(g).ok
    np.testing.assert_allclose(build_model(p).model.predict(x, verbose=0), want, atol=1e-5)
    expand_group(g, g.by_name("base2").id)                # the collapsed model kept the inner port too
    assert port_of("inner", "d2") == [1]
