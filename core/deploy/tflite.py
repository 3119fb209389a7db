"""TensorFlow Lite (LiteRT) from the frozen graph: float32, or ``dynamic`` (int8 weights) / ``int8`` (int8 weights
and activations, calibrated on a representative sample of the training split; float input and output) quantized.
Built-in ops only: RNN layers are unrolled first (:func:`.graph.unrolled`); the converter's own SavedModel path
freezes the variables and keeps the named serving signature. Run with the TFLite interpreter."""
from __future__ import annotations

import os

from .errors import layer_error

QUANTIZE = ("dynamic", "int8")
REPRESENTATIVE = 100        # training samples the int8 calibration sees


def convert(model, quantize=None, representative=None):
    """Serialized .tflite bytes with a ``serving_default`` signature (Keras input and output names), converted
    from a temporary SavedModel of the model. ``representative``: arrays (one per input), needed for int8."""
    import tempfile
    import tensorflow as tf
    from . import savedmodel
    from .graph import unrolled
    with tempfile.TemporaryDirectory(prefix="layerwise-tflite-") as tmp:
        savedmodel.write(unrolled(model), os.path.join(tmp, "m"))
        conv = tf.lite.TFLiteConverter.from_saved_model(os.path.join(tmp, "m"))
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize:
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "int8":
            conv.representative_dataset = _calibration(model, representative)
        from ..tfload import quiet_stderr
        try:
            with quiet_stderr():        # the calibrator's C++ notes
                return conv.convert()
        except Exception as e:
            raise layer_error(model, e, "TFLite") from None


def _calibration(model, xs):
    names = [i.name for i in model.inputs]

    def samples():
        for k in range(min(len(xs[0]), REPRESENTATIVE)):
            yield dict(zip(names, (x[k:k + 1] for x in xs)))
    return samples


class Runner:
    """Calls a .tflite file through its serving signature: ``runner(xs)`` -> {output name: array}."""

    def __init__(self, path, model):
        import warnings
        import tensorflow as tf
        from ..tfload import quiet_stderr
        with warnings.catch_warnings(), quiet_stderr():     # its deprecation note, the delegate's INFO line
            warnings.simplefilter("ignore")
            self.interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=os.cpu_count())
            self.signature = self.interpreter.get_signature_runner()
        self.inputs = [i.name for i in model.inputs]

        self.quiet = True

    def __call__(self, xs):
        if self.quiet:      # the first call creates the XNNPACK delegate, which says so on stderr
            from ..tfload import quiet_stderr
            self.quiet = False
            with quiet_stderr():
                return self.signature(**dict(zip(self.inputs, xs)))
        return self.signature(**dict(zip(self.inputs, xs)))
