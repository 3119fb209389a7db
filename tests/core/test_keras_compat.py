"""core.keras_compat: every Keras internal Layerwise touches still exists and still behaves as relied on.

Checked on Keras 3.15.1. A failure here after a Keras upgrade names the internal that moved: fix
core/keras_compat.py (the only module that reaches into Keras' private parts) and update the version it
was checked on (KERAS_VERSION_CHECKED)."""
import importlib

import numpy as np
import pytest

from core import keras_compat as kc

keras = pytest.importorskip("keras")
CHECKED = f"checked on Keras {kc.KERAS_VERSION_CHECKED}, this is Keras {keras.__version__}"


def test_it_was_checked_on_this_keras():
    assert kc.KERAS_VERSION_CHECKED == "3.15.1"


@pytest.mark.parametrize("module, name", kc.INTERNALS)
def test_every_internal_name_still_exists(module, name):
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        pytest.fail(f"{module} is gone ({e}); keras_compat needs it for {name} ({CHECKED})")
    assert hasattr(mod, name), f"{module}.{name} is gone; keras_compat uses it ({CHECKED})"


def test_ops_modules_still_hold_operation_classes():
    for mod in kc.OPS_MODULES:
        assert importlib.import_module(f"{kc.OPS_PACKAGES[0]}.{mod}"), f"{kc.OPS_PACKAGES[0]}.{mod} is gone ({CHECKED})"
    assert kc.is_op_class("Add") is False, f"a layer is not an operation ({CHECKED})"   # keras.layers.Add
    assert kc.is_op_class("Absolute") is True, f"keras.src.ops.numpy.Absolute is an Operation ({CHECKED})"
    assert kc.is_ops_module("keras.src.ops.numpy") and kc.is_ops_module("keras.ops") and not kc.is_ops_module("keras.layers")


def test_stateless_scope_allocates_no_variables():
    with kc.stateless_scope(initialize_variables=False):
        layer = keras.layers.Dense(3)
        y = layer(keras.KerasTensor((None, 4)))
    assert tuple(y.shape) == (None, 3) and len(layer.weights) == 2, CHECKED


def test_safe_mode_scope_refuses_a_lambda_inside_and_allows_it_outside():
    cfg = keras.saving.serialize_keras_object(keras.layers.Lambda(lambda x: x + 1))
    with kc.safe_mode_scope(True):
        with pytest.raises(Exception):
            keras.saving.deserialize_keras_object(cfg)
    with kc.safe_mode_scope(False):
        assert isinstance(keras.saving.deserialize_keras_object(cfg), keras.layers.Lambda), CHECKED


def test_callback_helpers():
    class Batchy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.seen = logs

    plain = keras.callbacks.Callback()
    assert kc.is_default(plain.on_train_batch_end), f"is_default on Keras' own empty hook ({CHECKED})"
    assert not kc.is_default(Batchy().on_train_batch_end), CHECKED
    import tensorflow as tf
    logs = kc.pythonify_logs({"loss": tf.constant(0.5)})
    assert isinstance(logs["loss"], float) and logs["loss"] == 0.5, CHECKED


def test_raw_batch_callback_list_gives_raw_logs_to_one_and_numbers_to_the_others():
    class Recorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.logs = []

        def on_train_batch_end(self, batch, logs=None):
            self.logs.append(logs)

    raw, other = Recorder(), Recorder()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    cbl = kc.raw_batch_callback_list([raw, other], raw, add_history=True, add_progbar=False, model=model,
                                     verbose=0, epochs=1, steps=2)
    assert raw in cbl.callbacks and other in cbl.callbacks, f"CallbackList.callbacks ({CHECKED})"
    model.fit(np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32"), batch_size=4, epochs=1, verbose=0,
              callbacks=cbl)
    assert len(raw.logs) == len(other.logs) == 2
    assert not isinstance(raw.logs[0]["loss"], float) and isinstance(other.logs[0]["loss"], float), CHECKED


def test_call_outputs_reads_inbound_nodes():
    x = keras.Input((4,))
    dense = keras.layers.Dense(2)
    dense(x)
    assert hasattr(dense, "_inbound_nodes"), f"Layer._inbound_nodes is gone ({CHECKED})"
    assert kc.call_outputs(dense, 0) == 1 and kc.call_outputs(dense, 5) is None, CHECKED
