"""A SavedModel folder for TF Serving: the ``serving_default`` signature takes the Keras input names and returns
``{output name: tensor}``. Checked by reloading it with ``tf.saved_model.load``."""
from __future__ import annotations


def write(model, folder):
    """Write the SavedModel into ``folder`` through Keras' ExportArchive (which tracks the Keras variables)."""
    import keras
    from .graph import input_specs, serving_function
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serving_function(model).python_function, input_signature=input_specs(model))
    archive.write_out(str(folder), verbose=False)


class Runner:
    """Calls the reloaded SavedModel's ``serving_default``: ``runner(xs)`` -> {output name: array}."""

    def __init__(self, path, model):
        import tensorflow as tf
        self.tf = tf
        self.loaded = tf.saved_model.load(str(path))
        self.fn = self.loaded.signatures["serving_default"]
        self.inputs = [i.name for i in model.inputs]

    def __call__(self, xs):
        kw = {n: self.tf.constant(x) for n, x in zip(self.inputs, xs)}
        return {k: v.numpy() for k, v in self.fn(**kw).items()}
