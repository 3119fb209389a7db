"""The errors of an export to a deployment target."""
from __future__ import annotations

from ..errors import LayerwiseError

EXTRAS = {"onnx": ("tf2onnx", "onnxruntime", "onnx"), "keras2": ("tf_keras",)}


class DeployError(LayerwiseError):
    """The export cannot be done as asked (bad input): a missing extra, int8 without data, an unwritable output."""


class UnsupportedLayer(LayerwiseError):
    """A layer the target cannot express; the message names its node and type."""


class ParityError(LayerwiseError):
    """The target's outputs differ from Keras' by more than the tolerance; the message names the output."""


def require(extra):
    """Import the packages of ``extra`` (``onnx``, ``keras2``) or raise DeployError naming the extra to install."""
    import importlib
    missing = []
    for mod in EXTRAS[extra]:
        try:
            importlib.import_module(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        raise DeployError(f"the {extra} export needs {', '.join(missing)}, which is not installed: "
                          f'pip install "layerwise[{extra}]"')


def layer_error(model, message, target):
    """An UnsupportedLayer naming the first layer of ``model`` that ``message`` (a converter's error) mentions."""
    import re
    text = str(message)
    op = re.search(r'fused\["(\w+):', text) or re.search(r"'tf\.(\w+)' op", text)
    why = f"the TensorFlow op {op.group(1)} has no {target} equivalent" if op else first_line(text)
    for layer in model.layers:
        if any(mark in text for mark in (f"/{layer.name}/", f"/{layer.name}_1/", f"'{layer.name}'")):
            return UnsupportedLayer(f"node '{layer.name}' ({type(layer).__name__}): {target} cannot express it: {why}")
    return UnsupportedLayer(f"{target} cannot express this model: {why}")


def first_line(text, limit=200):
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return (lines[0] if lines else "unknown error")[:limit]
