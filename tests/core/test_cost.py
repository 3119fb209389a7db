"""core.cost: exact MACs of small layers counted by hand, the same count as TensorFlow's profiler on tiny models
(one with a nested model kept as one group node), memory and training bytes per optimizer, and the budget."""
from __future__ import annotations

import pytest

from core.cost import graph_cost, optimizer_slots, project_cost
from core.cost.budget import budget_of, contributors, over_budget
from core.graph import Graph
from core.infer import check
from core.project import Project
from core.validate import training_problems
from tests.core.helpers import chain


def cost_of(*specs, **settings):
    g, ids = chain(*specs)
    res = check(g)
    assert res.ok, res.problems
    return graph_cost(g, res, settings.get("training"), settings.get("compile")), ids


@pytest.mark.parametrize("layer, in_shape, macs", [
    # 8 inputs x 16 units multiply-adds, and 16 bias adds at 1/2 MAC each (1 FLOP)
    (("Dense", {"units": 16, "activation": "relu"}), [8], 8 * 16 + 16 / 2),
    # softmax: 5 FLOPs per value
    (("Dense", {"units": 4, "activation": "softmax", "use_bias": False}), [3], 3 * 4 + 5 * 4 / 2),
    # 6x6 outputs x 4 filters, each 3x3x2 multiply-adds, plus the bias
    (("Conv2D", {"filters": 4, "kernel_size": [3, 3], "padding": "same"}), [6, 6, 2], 144 * 18 + 144 / 2),
    # depthwise: 4x4x2 outputs of 3x3 multiply-adds
    (("DepthwiseConv2D", {"kernel_size": [3, 3], "use_bias": False}), [6, 6, 2], 32 * 9),
    # a 2x2 window per output value (1 FLOP each)
    (("MaxPooling2D", {"pool_size": [2, 2]}), [6, 6, 2], 18 * 4 / 2),
    # inference BN: 2 FLOPs per value, 6 per channel
    (("BatchNormalization", {}), [6, 6, 2], (2 * 72 + 6 * 2) / 2),
    # LSTM, 3 steps of 2 features, 4 units: 8u(x+u) + 12u FLOPs a step
    (("LSTM", {"units": 4}), [3, 2], 3 * (8 * 4 * 2 + 8 * 16 + 12 * 4) / 2),
    (("Flatten", {}), [3, 2], 0),
    (("Rescaling", {"scale": 0.5}), [10], 10),
])
def test_macs_of_small_layers_counted_by_hand(layer, in_shape, macs):
    rep, ids = cost_of(("Input", {"shape": in_shape}), layer, ("Output", {"loss": "mean_squared_error"}))
    assert rep.nodes[ids[1]].macs == macs
    assert rep.total.macs == macs
    assert rep.uncounted == []


def test_memory_weights_activations_and_training_bytes_per_optimizer():
    specs = (("Input", {"shape": [8]}), ("Dense", {"units": 16}), ("Output", {"loss": "mean_squared_error"}))
    rep, ids = cost_of(*specs, training={"batch_size": 10})
    dense = rep.nodes[ids[1]]
    assert (dense.params, dense.weight_bytes, dense.activation_bytes) == (144, 576, 64)
    t = rep.total
    assert t.activation_bytes == 32 + 64          # the input's 8 values and the Dense layer's 16, float32
    assert (t.optimizer, t.optimizer_slots, t.optimizer_bytes) == ("adam", 2, 2 * 576)
    assert t.training_bytes == 576 + 2 * 576 + 96 * 10
    sgd, _ = cost_of(*specs, compile={"optimizer": {"name": "sgd", "momentum": 0.9}})
    assert sgd.total.optimizer_bytes == 576
    assert optimizer_slots({"optimizer": {"name": "sgd"}}) == ("sgd", 0)
    half, _ = cost_of(*specs, training={"mixed_precision": True})
    assert half.nodes[ids[1]].activation_bytes == 32   # float16 activations; weights stay float32
    assert half.total.weight_bytes == 576


def test_share_and_top_contributors():
    rep, ids = cost_of(("Input", {"shape": [8]}), ("Dense", {"units": 64}), ("Dense", {"units": 2}),
                       ("Output", {"loss": "mean_squared_error"}))
    assert rep.top("macs", 1)[0].id == ids[1]
    assert rep.share(ids[1]) + rep.share(ids[2]) == pytest.approx(1.0)
    assert 0 < rep.share(ids[2], "memory") < rep.share(ids[1], "memory")


# -- the same count as TensorFlow's profiler ----------------------------------------------------------------------
def profiler_macs(model):
    """TensorFlow's profiler float operations of ``model`` at batch 1, halved (RNNs unrolled, Einsum counted as
    2 x the product of its index sizes, as the project's reference does)."""
    import keras
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.framework import graph_util, ops as tf_ops
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    def einsum_flops(graph, node):
        ins = node.attr["equation"].s.decode().split("->")[0].split(",")
        size = {}
        for term, name in zip(ins, node.input):
            dims = graph_util.tensor_shape_from_node_def_name(graph, name).as_list()
            size.update(zip(term, dims))
        return tf_ops.OpStats("flops", 2 * int(np.prod(list(size.values()))))
    try:
        tf_ops.RegisterStatistics("Einsum", "flops")(einsum_flops)
    except KeyError:
        pass
    cfg = keras.saving.serialize_keras_object(model)

    def unroll(o):   # every RNN, also one inside a Bidirectional or a nested model
        if isinstance(o, dict):
            if o.get("class_name") in ("LSTM", "GRU", "SimpleRNN") and isinstance(o.get("config"), dict):
                o["config"]["unroll"] = True
            for v in o.values():
                unroll(v)
        elif isinstance(o, list):
            for v in o:
                unroll(v)
    unroll(cfg)
    model = keras.saving.deserialize_keras_object(cfg)
    spec = [tf.TensorSpec((1,) + tuple(i.shape[1:]), i.dtype) for i in model.inputs]
    fn = tf.function(lambda *x: model(list(x) if len(x) > 1 else x[0], training=False))
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function(*spec))
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    info = tf.compat.v1.profiler.profile(graph=frozen.graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op",
                                         options=opts)
    return info.total_float_ops / 2


def project_and_model(*specs):
    from core.build import build_model
    g, _ = chain(*specs)
    p = Project(graph=g)
    return p, build_model(p, with_weights=False).model


OUT = ("Output", {"loss": "sparse_categorical_crossentropy"})


@pytest.mark.parametrize("specs", [
    [("Input", {"shape": [12, 12, 3]}), ("Conv2D", {"filters": 8, "kernel_size": [3, 3], "strides": [2, 2]}),
     ("BatchNormalization", {}), ("ReLU", {"max_value": 6.0}), ("SeparableConv2D", {"filters": 8}),
     ("AveragePooling2D", {}), ("GlobalAveragePooling2D", {}), ("Dense", {"units": 5, "activation": "softmax"}), OUT],
    [("Input", {"shape": [6, 4]}), ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3}),
     ("LayerNormalization", {}), ("GRU", {"units": 5}), ("Dense", {"units": 3, "activation": "gelu"}), OUT],
], ids=["cnn", "attention-rnn"])
def test_macs_equal_tensorflow_profiler_count(specs):
    p, model = project_and_model(*specs)
    rep = project_cost(p)
    assert rep.total.params == model.count_params()
    assert rep.total.macs == pytest.approx(profiler_macs(model), rel=1e-9)


def test_group_node_costs_the_sum_of_its_layers():
    import keras
    from core.groups import add_model_node
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, use_bias=False)(inp)
    x = keras.layers.BatchNormalization()(x)
    base = keras.Model(inp, keras.layers.GlobalAveragePooling2D()(x))
    g = Graph()
    src = g.add_node("Input", {"shape": [8, 8, 3]}).id
    group = add_model_node(g, base, source=src)
    dense = g.add_node("Dense", {"units": 2})
    g.connect(group.id, dense.id)
    g.connect(dense.id, g.add_node("Output", {"loss": "mean_squared_error"}).id)
    p = Project(graph=g)
    rep = project_cost(p)
    from core.build import build_model
    model = build_model(p, with_weights=False).model
    assert rep.nodes[group.id].macs == 6 * 6 * 4 * 27 + (2 * 144 + 24) / 2 + 144 / 2
    assert rep.total.macs == pytest.approx(profiler_macs(model), rel=1e-9)
    assert rep.total.params == model.count_params()


# -- budget -------------------------------------------------------------------------------------------------------
def test_budget_exceeded_names_the_limit_and_top_contributors():
    rep, ids = cost_of(("Input", {"shape": [100]}), ("Dense", {"units": 100}), ("Dense", {"units": 2}),
                       ("Output", {"loss": "mean_squared_error"}))
    budget = budget_of({"budget": {"max_macs": 1000, "max_params": 10 ** 6, "max_latency_ms": 1}})
    over = over_budget(rep, budget, latency_ms=2.5)
    assert [e.key for e in over] == ["max_macs", "max_latency_ms"]
    assert over[0].text == "MACs per sample 10.3 k over the budget of 1 k"
    assert contributors(rep, over[0])[0].id == ids[1]
    assert over_budget(rep, {}) == []


@pytest.mark.parametrize("budget, words", [
    ({"max_macs": -1}, '"training.budget.max_macs" must be at least 0, got -1'),
    ({"max_params": "many"}, '"training.budget.max_params" must be a number at least 0, got \'many\''),
    ({"max_size_mb": True}, '"training.budget.max_size_mb" must be a number'),
    ({"max_flops": 3}, '"training.budget" has no limit \'max_flops\''),
    ([1], '"training.budget" must be an object'),
])
def test_bad_budget_names_the_field(budget, words):
    problems = training_problems({"budget": budget})
    assert len(problems) == 1 and problems[0].startswith(words), problems
    assert training_problems({"budget": {"max_macs": 1e9, "max_latency_ms": 0.5}}) == []


def test_every_catalog_type_has_a_convention():
    from core import catalog
    from core.cost.rules import RULES
    assert [t for t, e in catalog.CATALOG.items() if (e.keras_class or t) not in RULES] == ["Op", "KerasLayer"]


def one_layer(layer, in_shape, inputs=1, dtype="float32"):
    """Input -> the layer (on ``inputs`` ports, all fed by the Input) -> Output."""
    g = Graph()
    src = g.add_node("Input", {"shape": in_shape, "dtype": dtype}).id
    n = g.add_node(*layer)
    for port in range(inputs):
        g.connect(src, n.id, port)
    g.connect(n.id, g.add_node("Output", {"loss": "mean_squared_error"}).id)
    return Project(graph=g)


@pytest.mark.parametrize("layer, in_shape, inputs", [
    (("Conv1D", {"filters": 4, "kernel_size": [3], "padding": "causal"}), [10, 2], 1),
    (("Conv2DTranspose", {"filters": 4, "kernel_size": [3, 3], "strides": [2, 2]}), [5, 5, 2], 1),
    (("DepthwiseConv2D", {"kernel_size": [3, 3], "depth_multiplier": 2}), [6, 6, 2], 1),
    (("Embedding", {"input_dim": 10, "output_dim": 4}), [5], 1),
    (("SimpleRNN", {"units": 3, "return_sequences": True}), [4, 2], 1),
    (("Bidirectional", {"layer": "LSTM", "units": 3, "merge_mode": "sum"}), [4, 2], 1),
    (("Attention", {"use_scale": True}), [5, 4], 2),
    (("AdditiveAttention", {}), [5, 4], 2),
    (("Average", {}), [6], 3),
    (("Normalization", {}), [6], 1),
])
def test_single_layers_equal_tensorflow_profiler_count(layer, in_shape, inputs):
    from core.build import build_model
    p = one_layer(layer, in_shape, inputs, dtype="int32" if layer[0] == "Embedding" else "float32")
    model = build_model(p, with_weights=False).model
    assert project_cost(p).total.macs == pytest.approx(profiler_macs(model), rel=1e-9)
