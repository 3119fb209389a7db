"""The model as a TensorFlow function with named inputs and outputs, and as a frozen graph (every variable and
captured constant, e.g. a Normalization layer's mean and variance, folded into the graph as a constant)."""
from __future__ import annotations

import contextlib
import logging

from ..layers import config_dicts

RNN_TYPES = ("LSTM", "GRU", "SimpleRNN")


def input_specs(model, batch=None):
    import tensorflow as tf
    return [tf.TensorSpec((batch,) + tuple(i.shape[1:]), i.dtype, name=i.name) for i in model.inputs]


def output_names(model):
    return list(model.output_names)


def serving_function(model, batch=None):
    """``tf.function`` taking the model's inputs positionally, returning ``{output name: tensor}``."""
    import tensorflow as tf
    names = output_names(model)

    @tf.function(input_signature=input_specs(model, batch))
    def serve(*xs):
        out = model(list(xs) if len(xs) > 1 else xs[0], training=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        return {n: tf.identity(o, name=n) for n, o in zip(names, out)}
    return serve


def frozen(model, batch=None):
    """The frozen concrete function of :func:`serving_function`, and its output names in the order of its
    ``outputs`` (TensorFlow flattens the output dict in key order)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    with quiet_tf_log():
        fn = convert_variables_to_constants_v2(serving_function(model, batch).get_concrete_function())
    return fn, tf.nest.flatten({n: n for n in output_names(model)})


@contextlib.contextmanager
def quiet_tf_log():
    """TensorFlow's and tf2onnx's Python loggers at ERROR while the block runs (their notes about TF1 graph
    utilities being deprecated are not the user's concern)."""
    loggers = [logging.getLogger(n) for n in ("tensorflow", "tf2onnx")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def unrolled(model, target="TFLite"):
    """``model`` with its LSTM/GRU/SimpleRNN layers unrolled (same weights), or ``model`` itself when it has none.
    TFLite converts an RNN's while loop to built-in ops only when it is unrolled, and tf2onnx writes an invalid
    graph for a Keras 3 RNN's loop; unrolling needs a fixed number of steps, else UnsupportedLayer names the
    layer."""
    import keras
    from .errors import UnsupportedLayer
    rnns = [layer for layer in model.layers if type(layer).__name__ in RNN_TYPES]
    if not rnns:
        return model
    for layer in rnns:
        steps = layer.input.shape[1] if hasattr(layer, "input") else None
        if steps is None:
            raise UnsupportedLayer(f"node '{layer.name}' ({type(layer).__name__}): {target} needs it unrolled, which "
                                   "needs a fixed number of time steps (the input's length is not fixed)")
    cfg = keras.saving.serialize_keras_object(model)

    for o in config_dicts(cfg):
        if o.get("class_name") in RNN_TYPES and isinstance(o.get("config"), dict):
            o["config"]["unroll"] = True
    twin = keras.saving.deserialize_keras_object(cfg)
    twin.set_weights(model.get_weights())
    return twin
