"""Models written the way Keras' documentation and examples write them, imported, checked and exported to .keras,
.h5 (where Keras reloads its own .h5) and .py: equal predictions, parameter counts and compile settings."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from core.build import LOSS_ALIASES, LOSS_CLASSES
from core.export import export
from core.infer import check
from core.transfer import import_model
from core.transfer.compile_config import METRIC_NAMES

keras = pytest.importorskip("keras")
L = keras.layers
ops = keras.ops


# -- the models -------------------------------------------------------------------------------------------------
def functional_mlp():
    x = keras.Input((8,), name="features")
    h = L.Dense(16, activation="relu", name="hidden")(x)
    h = L.Dropout(0.2, name="drop")(h)
    m = keras.Model(x, L.Dense(3, activation="softmax", name="probs")(h), name="mlp")
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002), loss="sparse_categorical_crossentropy",
              metrics=["acc"])
    return m


def sequential_cnn():
    m = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(),
                          L.Flatten(), L.Dense(5, activation="softmax")], name="cnn")
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, clipnorm=1.0),
              loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["categorical_accuracy"])
    return m


def shared_siamese():
    a, b = keras.Input((6,), name="left"), keras.Input((6,), name="right")
    enc = L.Dense(4, activation="tanh", name="encoder")
    d = L.Subtract(name="diff")([enc(a), enc(b)])
    m = keras.Model([a, b], L.Dense(1, activation="sigmoid", name="same")(d), name="siamese")
    m.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy", keras.metrics.AUC()])
    return m


def two_heads_logits():
    x = keras.Input((10,), name="x")
    h = L.Dense(12, activation="relu", name="h")(x)
    m = keras.Model(x, [L.Dense(3, name="cls")(h), L.Dense(1, name="bin")(h), L.Dense(2, name="reg")(h)],
                    name="heads")
    m.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.003),
              loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    keras.losses.BinaryCrossentropy(from_logits=True), "mse"],
              loss_weights=[1.0, 0.2, 0.5],
              metrics=[["sparse_categorical_accuracy"], ["accuracy"], ["mean_absolute_error"]])
    return m


def residual_ops():
    a = keras.Input((6,), name="a")
    h = L.Dense(6, activation="relu", name="d1")(a)
    y = ops.multiply(h + a, 0.5)
    y = L.Dense(2, name="head")(ops.mean(ops.expand_dims(y, -1), axis=-1))
    m = keras.Model(a, y, name="opsnet")
    m.compile(optimizer="adam", loss="mae")
    return m


def encoder_decoder():
    ei, di = keras.Input((None, 5), name="enc_in"), keras.Input((None, 7), name="dec_in")
    _, sh, sc = L.LSTM(8, return_state=True, name="enc")(ei)
    do = L.LSTM(8, return_sequences=True, name="dec")(di, initial_state=[sh, sc])
    m = keras.Model([ei, di], L.Dense(7, activation="softmax", name="tok")(do), name="seq2seq")
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    return m


def transformer_block():
    t = keras.Input((6,), dtype="int32", name="tokens")
    x = L.Embedding(30, 8, name="emb")(t)
    a = L.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(x, x)
    x = L.LayerNormalization(name="ln1")(x + a)
    f = L.Dense(8, name="ffn2")(L.Dense(16, activation="relu", name="ffn1")(x))
    x = L.LayerNormalization(name="ln2")(x + f)
    m = keras.Model(t, L.Dense(2, activation="softmax", name="cls")(L.GlobalAveragePooling1D(name="pool")(x)),
                    name="transformer")
    m.compile(optimizer=keras.optimizers.AdamW(learning_rate=0.001), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def scalar_ids():
    u, i = keras.Input((), dtype="int32", name="user"), keras.Input((), dtype="int32", name="item")
    users, items = L.Embedding(20, 4, name="users")(u), L.Embedding(30, 4, name="items")(i)
    dot = L.Dot(axes=1, name="dot")([users, items])
    m = keras.Model([u, i], L.Dense(1, activation="sigmoid", name="p")(dot), name="recommender")
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def frozen_embedding_bilstm():
    t = keras.Input((None,), dtype="int32", name="tokens")
    emb = L.Embedding(25, 6, name="glove", trainable=False)
    x = emb(t)
    x = L.Bidirectional(L.LSTM(5, return_sequences=False), name="bilstm")(x)
    m = keras.Model(t, L.Dense(1, activation="sigmoid", name="sentiment")(x), name="sentiment")
    emb.set_weights([np.random.default_rng(1).normal(size=(25, 6)).astype("float32")])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def layer_scale():
    x = keras.Input((4, 8), name="x")
    h = L.Dense(8, name="proj")(x)
    scale = keras.saving.deserialize_keras_object(   # keras.applications' registered layer-scale layer (ConvNeXt)
        {"module": "keras.src.applications.convnext", "class_name": "LayerScale", "registered_name": "LayerScale",
         "config": {"name": "scale", "init_values": 0.1, "projection_dim": 8}})
    m = keras.Model(x, L.GlobalAveragePooling1D(name="pool")(h + scale(h)), name="convnext_bits")
    return m


MODELS = [functional_mlp, sequential_cnn, shared_siamese, two_heads_logits, residual_ops, encoder_decoder,
          transformer_block, scalar_ids, frozen_embedding_bilstm, layer_scale]


# -- comparing ----------------------------------------------------------------------------------------------------
def sample(model, seed=0):
    rng = np.random.default_rng(seed)
    xs = []
    for t in model.inputs:
        shape = (3,) + tuple(d or 5 for d in t.shape[1:])
        xs.append(rng.integers(0, 20, size=shape).astype(str(t.dtype)) if "int" in str(t.dtype)
                  else rng.normal(size=shape).astype("float32"))
    return xs if len(xs) > 1 else xs[0]


def predictions(model, x):
    p = model.predict(x, verbose=0)
    return [np.asarray(a) for a in (p if isinstance(p, list) else [p])]


def _loss(spec):
    if isinstance(spec, str):
        return (LOSS_CLASSES[LOSS_ALIASES.get(spec, spec)], False, 0.0)
    c = spec.get("config") or {}
    return (spec["class_name"], bool(c.get("from_logits", False)), float(c.get("label_smoothing", 0.0) or 0.0))


def _metric(m):
    name = m if isinstance(m, str) else (m.get("config") or {}).get("name", m.get("class_name"))
    return METRIC_NAMES.get(name, name)


def compile_settings(model, n_outputs, metrics=True):
    """What training does: each loss with its arguments, the loss weights, the optimizer and its rate, metrics."""
    cfg = model.get_compile_config() or {}
    if "optimizer" not in cfg:   # a model loaded from a file: its compile config is the file's
        cfg = dict(cfg, optimizer=keras.optimizers.serialize(model.optimizer))
    loss = cfg.get("loss")
    losses = [_loss(x) for x in (loss if isinstance(loss, list) else [loss] * n_outputs)]
    weights = cfg.get("loss_weights") or [1.0] * n_outputs
    opt = cfg["optimizer"]
    opt = (opt, None) if isinstance(opt, str) else (opt["class_name"], round(opt["config"]["learning_rate"], 6),
                                                    opt["config"].get("clipnorm"), opt["config"].get("momentum"))
    out = {"losses": losses, "weights": [float(w) for w in weights], "optimizer": opt}
    if metrics:
        ms = cfg.get("metrics") or []
        per = ms if (ms and isinstance(ms[0], list)) else [ms] * n_outputs
        out["metrics"] = [sorted(_metric(m) for m in one) for one in per]
    return out


def exec_script(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("make", MODELS, ids=[m.__name__ for m in MODELS])
def test_written_like_the_keras_docs_imports_and_exports_the_same_model(make, tmp_path):
    keras.utils.set_random_seed(0)
    model = make()
    src = tmp_path / f"{make.__name__}.keras"
    model.save(src)
    x = sample(model)
    want = predictions(model, x)
    compiled = model.get_compile_config() is not None and bool(model.get_compile_config())
    n_out = len(model.outputs)

    imported = import_model(src)
    project = imported.project
    assert project.name == make.__name__
    res = check(project.graph, project.regularization)
    assert res.ok, res.problems
    assert res.total == model.count_params()
    assert imported.stats["keras_layer"] <= 1, imported.stats   # Dot: the one layer without a catalog entry

    back_k = keras.models.load_model(export(project, tmp_path / "back.keras"))
    for a, b in zip(want, predictions(back_k, x)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert back_k.count_params() == model.count_params()
    if compiled:
        assert compile_settings(back_k, n_out) == compile_settings(model, n_out)

    try:   # .h5: where Keras itself reloads its own .h5 of this model
        model.save(tmp_path / "orig.h5")
        keras.models.load_model(tmp_path / "orig.h5")
        h5_ok = True
    except Exception:
        h5_ok = False
    if h5_ok:
        back_h = keras.models.load_model(export(project, tmp_path / "back.h5"))
        for a, b in zip(want, predictions(back_h, x)):
            np.testing.assert_allclose(a, b, atol=1e-5)
        assert back_h.count_params() == model.count_params()

    script = exec_script(export(project, tmp_path / "rebuilt.py"))
    rebuilt = script.compile_model(script.build_model())
    rebuilt.set_weights(back_k.get_weights())
    for a, b in zip(want, predictions(rebuilt, x)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert rebuilt.count_params() == model.count_params()
    if compiled:
        assert (compile_settings(rebuilt, n_out, metrics=False)
                == compile_settings(model, n_out, metrics=False))


def test_models_cover_every_pattern_of_the_issue():
    assert len(MODELS) >= 10
