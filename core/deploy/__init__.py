"""Exports to the runtimes people deploy on, each checked against Keras on the same batch.

Targets: ``onnx`` (onnxruntime), ``tflite`` (the TensorFlow Lite interpreter; float32, or ``quantize`` ``dynamic`` /
``int8``), ``savedmodel`` (a folder for TF Serving) and ``keras2`` (an ``.h5`` that ``tf_keras`` loads).
:func:`export_target` converts in memory, writes to a temporary path beside the output, runs the parity check
(:mod:`.parity`) on what it wrote and only then moves it to the output path: a failed export leaves nothing there.

Errors: :class:`DeployError` a request that cannot be served as asked (a missing extra, int8 without data, an
output that cannot be written: bad input); :class:`UnsupportedLayer` a layer the target cannot express (named, with
its type, before anything is written); :class:`ParityError` the target's outputs differ from Keras' beyond the
tolerance.
"""
from __future__ import annotations

from .errors import DeployError, ParityError, UnsupportedLayer
from .export import QUANTIZE, TARGETS, export_target, target_of

__all__ = ["DeployError", "ParityError", "UnsupportedLayer", "QUANTIZE", "TARGETS", "export_target", "target_of"]
