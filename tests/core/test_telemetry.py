"""The gradient view's probe against an independent GradientTape, its diagnoses (vanishing on deep_sigmoid and
not on deep_relu_bn, dead units, NaN naming its layer), that probing never changes training, and bad input."""
from types import SimpleNamespace

import numpy as np
import pytest

from core.build import build_model
from core.project import Project, load_project
from core.telemetry import Probe, TelemetryError, diagnose, telemetry_callback
from core.training import TrainConfig, run
from tests.conftest import EXAMPLES
from tests.core.helpers import chain


def small(extra_dense=None):
    g, ids = chain(("Input", {"shape": [4]}, "features"),
                   ("Dense", {"units": 8, "activation": "relu"}, "h1"),
                   ("Dense", {"units": 6, "activation": "tanh"}, "h2"),
                   ("Dropout", {"rate": 0.3}, "drop"),
                   ("Dense", {"units": 3, "activation": "softmax"}, "out"),
                   ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.compile["optimizer"] = {"name": "adam", "learning_rate": 0.01}
    p.training.update(epochs=3, batch_size=16)
    return p


def batch():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 4)).astype("float32") * 2, rng.integers(0, 3, size=20)


def test_probe_values_equal_a_plain_gradient_tape():
    import keras
    import tensorflow as tf
    p = small()
    b = build_model(p)
    x, y = batch()
    probe = Probe(b, p.graph, ([x], [y]))
    rec = probe.measure()
    model = b.model
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=False))
    grads = dict(zip([id(v) for v in model.trainable_weights], tape.gradient(loss, model.trainable_weights)))
    assert rec["loss"] == pytest.approx(float(loss), rel=1e-5)
    acts = keras.Model(model.inputs, [model.get_layer(n).output for n in ("h1", "h2", "out")])(x, training=False)
    for name, a in zip(("h1", "h2", "out"), acts):
        layer, got = model.get_layer(name), rec["layers"][name]
        gk, gb = grads[id(layer.kernel)].numpy(), grads[id(layer.bias)].numpy()
        assert got["kernel_grad_norm"] == pytest.approx(np.linalg.norm(gk), rel=1e-4)
        assert got["bias_grad_norm"] == pytest.approx(np.linalg.norm(gb), rel=1e-4)
        assert got["grad_norm"] == pytest.approx(np.sqrt((gk ** 2).sum() + (gb ** 2).sum()), rel=1e-4)
        assert got["kernel_grad_rms"] == pytest.approx(np.linalg.norm(gk) / np.sqrt(gk.size), rel=1e-4)
        assert got["weight_norm"] == pytest.approx(np.linalg.norm(layer.kernel.numpy()), rel=1e-5)
        a = np.asarray(a)
        assert got["act_mean"] == pytest.approx(a.mean(), rel=1e-4, abs=1e-6)
        assert got["act_std"] == pytest.approx(a.std(), rel=1e-4, abs=1e-6)
    assert rec["layers"]["h1"]["dead_fraction"] == pytest.approx(1 - (np.asarray(acts[0]) > 0).any(axis=0).mean())
    h2 = np.asarray(acts[1])
    assert rec["layers"]["h2"]["saturated_fraction"] == pytest.approx(((h2 <= -0.99) | (h2 >= 0.99)).mean())
    assert rec["layers"]["h1"]["update_ratio"] is None     # no step measured yet
    # the update ratio of one optimizer step: weights before and after it
    probe.snapshot()
    before = model.get_layer("h2").kernel.numpy().copy()
    for v in model.trainable_weights:
        v.assign(v - 0.1 * grads[id(v)])
    ratio = probe.measure()["layers"]["h2"]["update_ratio"]
    after = model.get_layer("h2").kernel.numpy()
    assert ratio == pytest.approx(np.linalg.norm(after - before) / np.linalg.norm(before), rel=1e-4)


def test_dead_units_of_a_layer_whose_bias_is_forced_negative():
    p = small()
    b = build_model(p)
    h1 = b.model.get_layer("h1")
    h1.bias.assign(np.full(8, -100.0, "float32"))
    rec = Probe(b, p.graph, ([batch()[0]], [batch()[1]])).measure()
    assert rec["layers"]["h1"]["dead_fraction"] == 1.0
    dead = [q for q in diagnose(rec) if q.kind == "dead"]
    assert [q.layer for q in dead] == ["h1"] and "100% of the units of 'h1' are dead" in dead[0].message


def test_nan_planted_in_one_layers_weights_is_reported_naming_that_layer():
    p = small()
    b = build_model(p)
    k = b.model.get_layer("h2").kernel
    w = k.numpy()
    w[2, 3] = np.nan
    k.assign(w)
    rec = Probe(b, p.graph, ([batch()[0]], [batch()[1]])).measure()
    probs = diagnose(rec)
    assert len(probs) == 1 and probs[0].kind == "nonfinite" and probs[0].layer == "h2"
    assert "NaN/inf in the weights of 'h2'" in probs[0].message


def test_deep_sigmoid_is_flagged_and_deep_relu_bn_is_not_and_learns_more():
    seen, acc = {}, {}
    for name in ("deep_sigmoid", "deep_relu_bn"):
        p = load_project(EXAMPLES / f"{name}.layerwise", load_weights=False)
        recs = []
        cfg = TrainConfig.from_project(p)
        cfg.extra_callbacks = [telemetry_callback(p, recs.append)]
        res = run(p, config=cfg)
        assert res.error is None and len(recs) >= 2
        seen[name] = {q.kind for r in recs for q in r["problems"]}
        acc[name] = res.test_metrics["accuracy"]
    assert "vanishing" in seen["deep_sigmoid"]
    assert "vanishing" not in seen["deep_relu_bn"] and not seen["deep_relu_bn"] - {"update_small"}
    assert acc["deep_relu_bn"] - acc["deep_sigmoid"] >= 0.15, acc


def test_the_probe_never_changes_training_results():
    def train(with_probe):
        p = small()
        cfg = TrainConfig.from_project(p, seed=5)
        recs = []
        if with_probe:   # the probe at every batch: as much interference as it can have
            cfg.extra_callbacks = [telemetry_callback(p, recs.append, interval=0.0, share=0)]
        res = run(p, config=cfg)
        assert res.error is None
        return [w.copy() for w in res.build.model.get_weights()], res.history["loss"], recs
    w_off, loss_off, _ = train(False)
    w_on, loss_on, recs = train(True)
    assert len(recs) > 10
    assert loss_on == loss_off
    assert all(np.array_equal(a, b) for a, b in zip(w_off, w_on))


# -- bad input -------------------------------------------------------------------------------------------------------
def fake(model, layers, outputs, losses):
    """A BuildResult-like object and graph for a hand-made Keras model."""
    nodes = {k: SimpleNamespace(name=k, params={}) for k in layers}
    nodes.update({k: SimpleNamespace(name=k, params={"loss": loss}) for k, loss in zip(outputs, losses)})
    tensors = {k: layer.output for k, layer in layers.items()}
    return SimpleNamespace(model=model, layers=layers, tensors=tensors, outputs=outputs), SimpleNamespace(nodes=nodes)


def test_a_model_without_weighted_layers_is_refused_and_the_run_goes_on():
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Activation", {"activation": "softmax"}, "act"),
                 ("Output", {"loss": "mean_squared_error"}, "y"))
    p = Project(graph=g, name="noweights")
    b = build_model(p)
    with pytest.raises(TelemetryError, match="no weighted layers"):
        Probe(b, p.graph, ([np.zeros((2, 4), "float32")], [np.zeros((2, 4), "float32")]))
    warned = []
    make = telemetry_callback(p, lambda r: None, warn=warned.append)
    inputs = SimpleNamespace(train=(np.zeros((2, 4), "float32"), np.zeros((2, 4), "float32")))
    assert make(None, b, inputs) is None and "no weighted layers" in warned[0]


def test_a_non_differentiable_path_and_an_unsupported_loss_are_said():
    import keras
    x = keras.Input((4,))
    d1 = keras.layers.Dense(3, name="d1")
    hard = keras.layers.Lambda(lambda t: keras.ops.one_hot(keras.ops.argmax(t, axis=-1), 3), name="argmax")
    h = d1(x)
    y = hard(h)
    model = keras.Model(x, y)
    b, g = fake(model, {"d1": d1, "argmax": hard}, ["o"], ["categorical_crossentropy"])
    data = ([np.ones((2, 4), "float32")], [np.eye(3, dtype="float32")[:2]])
    with pytest.raises(TelemetryError, match="non-differentiable step"):
        Probe(b, g, data)
    b, g = fake(keras.Model(x, h), {"d1": d1}, ["o"], ["hinge_of_my_own"])
    with pytest.raises(TelemetryError, match="output 'o'.*hinge_of_my_own"):
        Probe(b, g, data)
