"""What the engine needs from its backend, for every Keras backend: the device scope, the device a run asks for,
a traced function, input tensors, and the errors that mean "out of memory" or "bad data".

Under TensorFlow these are TensorFlow's own (``tf.device``, ``tf.function``, ``tf.errors``); under JAX or
PyTorch (a run in ``core.training.backend_worker``'s child process) they are Keras' backend-neutral ones and
TensorFlow is not imported for them.
"""
from __future__ import annotations

import contextlib

from ..errors import SettingsError
from . import backends


def tensorflow():
    """The ``tensorflow`` module when this process runs Keras on TensorFlow, else None (not imported)."""
    if not backends.is_tensorflow():
        return None
    import tensorflow as tf
    return tf


def device_scope(keras, tf, tf_name):
    """The scope a run's model is built and trained in: ``tf.device`` under TensorFlow, ``keras.device``
    ("cpu:0", "gpu:0") under another backend."""
    if tf is not None:
        return tf.device(tf_name)
    name = tf_name.strip("/").lower()
    try:
        return keras.device(name)
    except Exception:   # (a backend that cannot place on it: its default device)
        return contextlib.nullcontext()


def backend_devices() -> list[dict]:
    """The devices the running non-TensorFlow backend sees, like ``devices.list_devices``."""
    out = [{"name": "CPU", "kind": "cpu", "usable": True, "reason": "", "tf_name": "/CPU:0"}]
    name = backends.current()
    if name == "jax":
        import jax
        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        labels = [getattr(d, "device_kind", str(d)) for d in gpus]
    elif name == "torch":
        import torch
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        labels = [torch.cuda.get_device_name(i) for i in range(n)]
    else:
        labels = []
    for i, label in enumerate(labels):
        out.append({"name": f"GPU {i}: {label}", "kind": "gpu", "usable": True, "reason": "", "tf_name": f"/GPU:{i}"})
    return out


def pick_backend_device(request):
    """(device string, display name, kind) on the running non-TensorFlow backend, like ``devices.pick_device``."""
    devs = backend_devices()
    gpus = [d for d in devs if d["kind"] == "gpu"]
    cpu = devs[0]
    label = backends.INFO[backends.current()].label
    request = (request or "auto").lower()
    if request == "cpu" or (request == "auto" and not gpus):
        return cpu["tf_name"], f"{cpu['name']} ({label})", "cpu"
    idx = int(request.split(":")[1]) if ":" in request else 0
    names = ", ".join(d["name"] for d in devs)
    if idx >= len(gpus):
        raise SettingsError(f"device {request}: {label} sees no GPU {idx}; devices it sees: {names}")
    return gpus[idx]["tf_name"], f"{gpus[idx]['name']} ({label})", "gpu"


def traced(fn, sync=None, variables=()):
    """``fn`` compiled for repeated calls: ``tf.function`` under TensorFlow; ``jax.jit`` under JAX, the values of
    ``variables`` (the model's) passed in through a ``keras.StatelessScope`` so that each call sees the current
    weights, ``sync`` (``model.jax_state_sync``) called first: inside ``fit`` JAX keeps the training state outside
    the variables until synced; under PyTorch the plain function (eager)."""
    tf = tensorflow()
    if tf is not None:
        return tf.function(fn, reduce_retracing=True)
    if backends.current() != "jax":
        return fn
    import jax
    import keras
    variables = list(variables)

    def pure(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(*args)
    jitted = jax.jit(pure)

    def call(*args):
        if sync is not None:
            sync()
        return jitted([v.value for v in variables], *args)
    return call


def tensors(arrays):
    """Input arrays as the backend's tensors (``tf.constant`` under TensorFlow; Keras' ``convert_to_tensor``)."""
    tf = tensorflow()
    if tf is not None:
        return [tf.constant(a) for a in arrays]
    import keras
    return [keras.ops.convert_to_tensor(a) for a in arrays]


def steps_of(stream):
    """Batches per epoch of a streamed split (tf.data cardinality, len() of a PyDataset), None when unknown."""
    card = getattr(stream, "cardinality", None)
    if card is not None:
        n = int(card().numpy())
        return n if n > 0 else None
    try:
        n = len(stream)
    except (TypeError, NotImplementedError):
        return None
    return n if n > 0 else None


def is_oom(exc, tf) -> bool:
    """Out of device memory: TensorFlow's ResourceExhaustedError, JAX's RESOURCE_EXHAUSTED, torch's OOM."""
    if tf is not None and isinstance(exc, tf.errors.ResourceExhaustedError):
        return True
    name = type(exc).__name__
    text = str(exc)[:2000]
    return name == "OutOfMemoryError" or ("RESOURCE_EXHAUSTED" in text and "XlaRuntimeError" in name) \
        or "CUDA out of memory" in text


def data_errors(tf) -> tuple:
    """The exception types that mean "the data is bad" (TensorFlow's op errors where TensorFlow runs)."""
    if tf is None:
        return ()
    return (tf.errors.InvalidArgumentError, tf.errors.DataLossError, tf.errors.NotFoundError,
            tf.errors.FailedPreconditionError)
