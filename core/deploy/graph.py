"""The model as a TensorFlow function with named inputs and outputs, and as a frozen graph (every variable and
captured constant, e.g. a Normalization layer's mean and variance, folded into the graph as a constant)."""
from __future__ import annotations

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
    import logging
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    level = tf.get_logger().level
    tf.get_logger().setLevel(logging.ERROR)     # its deprecation notes about TF1 graph utilities
    try:
        fn = convert_variables_to_constants_v2(serving_function(model, batch).get_concrete_function())
    finally:
        tf.get_logger().setLevel(level)
    return fn, tf.nest.flatten({n: n for n in output_names(model)})


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

    def walk(o):
        if isinstance(o, dict):
            if o.get("class_name") in RNN_TYPES and isinstance(o.get("config"), dict):
                o["config"]["unroll"] = True
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(cfg)
    twin = keras.saving.deserialize_keras_object(cfg)
    twin.set_weights(model.get_weights())
    return twin
