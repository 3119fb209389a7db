"""The catalog is data: every entry's defaults match Keras, every entry builds in a small graph."""
import inspect

import numpy as np
import pytest

from core import catalog
from core.build import build_model
from core.graph import Graph
from core.infer import check

IMAGE = {"Conv2D", "Conv2DTranspose", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D",
         "GlobalAveragePooling2D", "GlobalMaxPooling2D", "UpSampling2D", "ZeroPadding2D", "Cropping2D",
         "SpatialDropout2D", "Resizing", "RandomFlip", "RandomRotation", "RandomZoom", "Rescaling",
         "BatchNormalization"}
SEQUENCE = {"Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
            "SpatialDropout1D", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "MultiHeadAttention", "Attention",
            "AdditiveAttention", "LayerNormalization", "Permute"}
LAYER_TYPES = [t for t in catalog.CATALOG if t not in ("Input", "Output")]


def input_for(t):
    if t in IMAGE:
        return {"shape": [8, 8, 3]}
    if t in SEQUENCE:
        return {"shape": [6, 4]}
    if t == "Embedding":
        return {"shape": [5], "dtype": "int32"}
    return {"shape": [4]}


def one_layer_graph(t, params=None):
    g = Graph()
    spec = catalog.get(t)
    n_in = max(spec.inputs[0], 1)
    inputs = [g.add_node("Input", input_for(t), pos=(0, i * 100)) for i in range(n_in)]
    extra = {"class_name": "Identity", "config": {}} if t == "KerasLayer" else {}
    node = g.add_node(t, {**extra, **(params or {})})
    for i in inputs:
        g.connect(i.id, node.id)
    out = g.add_node("Output", {"loss": "mean_squared_error", "metrics": []})
    g.connect(node.id, out.id)
    return g, node


def test_every_entry_has_category_description_and_valid_defaults():
    assert len(catalog.CATALOG) >= 50
    for t, e in catalog.CATALOG.items():
        assert e.category in catalog.CATEGORIES
        assert len(e.description) > 10, t
        for p in e.params:
            if t != "KerasLayer":
                assert p.value_error(p.default) is None, (t, p.name, p.default)


@pytest.mark.parametrize("t", [t for t in LAYER_TYPES if catalog.get(t).keras_class])
def test_defaults_match_keras_signature(t):
    import keras
    spec = catalog.get(t)
    cls = getattr(keras.layers, spec.keras_class)
    sig = inspect.signature(cls.__init__)
    for p in spec.params:
        kp = sig.parameters.get(p.name)
        if kp is None or kp.default is inspect.Parameter.empty:
            continue  # required in Keras (units, filters...) or ours (Bidirectional's wrapped layer)
        # Keras normalises values (3 -> (3, 3)); compare what each default turns into in the layer's config
        ours = cls(**_required(t), **{p.name: p.to_keras(p.default)}).get_config()[p.name]
        theirs = cls(**_required(t)).get_config()[p.name]
        assert ours == theirs, f"{t}.{p.name}: catalog default {p.default!r} != Keras default {kp.default!r}"


def _required(t):
    import keras
    spec = catalog.get(t)
    if t == "Bidirectional":
        return {"layer": keras.layers.LSTM(4)}
    cls = getattr(keras.layers, spec.keras_class)
    sig = inspect.signature(cls.__init__)
    req = {}
    for name, kp in sig.parameters.items():
        if name in ("self", "kwargs", "args") or kp.default is not inspect.Parameter.empty:
            continue
        p = spec.param(name)
        assert p is not None, f"{t}: Keras requires {name!r} but the catalog has no such param"
        req[name] = p.to_keras(p.default)
    return req


@pytest.mark.parametrize("t", LAYER_TYPES)
def test_every_entry_builds_in_a_small_graph(t):
    g, node = one_layer_graph(t)
    res = check(g)
    assert res.ok, [str(p) for p in res.problems]
    b = build_model(g)
    model = b.model
    assert model.count_params() == res.total
    info = res.nodes[node.id]
    # the inferred shape is the real output shape of the built layer
    assert tuple(model.outputs[0].shape) == info.shape
    x = [np.zeros((2,) + tuple(inp.shape[1:]), dtype=inp.dtype) for inp in model.inputs]
    y = model(x if len(x) > 1 else x[0], training=False)
    assert tuple(y.shape)[1:] == info.shape[1:]


def test_summary_text_and_markdown_table():
    assert catalog.summary_text("Conv2D", {"filters": 32, "kernel_size": [3, 3], "activation": "relu"}) == "Conv2D 32 3×3 relu"
    table = catalog.markdown_table()
    for t in catalog.CATALOG:
        assert f"| {t} |" in table


def test_param_kinds_are_declared_once():
    """Every param's kind is a ParamKind with a row in KINDS; a kind reads and writes as its plain string."""
    import json
    params = [p for e in catalog.CATALOG.values() for p in e.params]
    params += [p for _cls, ps in catalog.OPTIMIZERS.values() for p in ps]
    params += [p for ps in catalog.SCHEDULES.values() for p in ps]
    assert {p.kind for p in params} <= set(catalog.ParamKind)
    assert set(catalog.KINDS) == set(catalog.ParamKind)
    units = catalog.CATALOG["Dense"].param("units")
    assert units.kind is catalog.ParamKind.INT and units.kind == "int" and str(units.kind) == "int"
    assert json.dumps({"kind": units.kind}) == '{"kind": "int"}'
    assert catalog.Param("n", "int", 1).kind is catalog.ParamKind.INT   # a plain string is converted
    with pytest.raises(ValueError):
        catalog.Param("n", "integer", 1)


@pytest.mark.parametrize("kind, good, bad, message", [
    ("bool", True, 1, "expected true/false, got 1"),
    ("int", 3, 3.5, "expected an integer, got 3.5"),
    ("optint", None, "3", "expected an integer or null, got '3'"),
    ("float", 0.5, True, "expected a number, got True"),
    ("optfloat", None, [1], "expected a number or null, got [1]"),
    ("ints", [2, 2], [2, "x"], "expected a list of integers, got [2, 'x']"),
    ("optints", None, "2", "expected a list of integers, got '2'"),
    ("shape", [None, 3], 3, "expected a list of integers, got 3"),
    ("str", "x", 3, "expected text, got 3"),
    ("choice", "a", 3, "expected a name (a, b), got 3"),
    ("multichoice", ["a"], "a", "expected a list of names, got 'a'"),
])
def test_each_kind_checks_its_json_type(kind, good, bad, message):
    p = catalog.Param("p", kind, good, choices=("a", "b"), length=2)
    assert p.type_error(good) is None and p.value_error(good) is None
    assert p.type_error(bad) == message
