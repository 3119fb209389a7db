"""Measured latency: the built model at batch 1 and at the training batch size, and each node on its own.

``profile_project(project, batch=None, device="auto")`` builds the model (with the project's weights when it has
them), then on the chosen device:

* times the whole model's call (a ``tf.function``, inference mode) at batch 1 and at the batch size: warm-up
  calls first, then the median of repeated calls;
* times each node's layer called on its own, on random inputs of its real input shapes (from shape inference),
  less the median time of an empty call (a ``tf.function`` that returns its input), so that the per-call dispatch
  is not counted once per layer.

Below ``DISPATCH_MS`` for the whole batch-1 call, the fixed cost of each call dominates and the per-node times do
not add up to the whole: ``Profile.dispatch_dominates`` says so.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

DISPATCH_MS = 5.0


@dataclass
class Profile:
    device: str
    batch_size: int
    batch1_ms: float
    batch_ms: float
    empty_ms: float
    nodes: dict = field(default_factory=dict)   # node id -> ms at batch 1 (own call less the empty call)
    warmup: int = 3
    repeats: int = 20

    @property
    def node_sum_ms(self):
        return sum(self.nodes.values())

    @property
    def dispatch_dominates(self):
        return self.batch1_ms < DISPATCH_MS

    def to_dict(self):
        return {"device": self.device, "batch_size": self.batch_size, "batch1_ms": self.batch1_ms,
                "batch_ms": self.batch_ms, "empty_ms": self.empty_ms, "nodes": dict(self.nodes),
                "node_sum_ms": self.node_sum_ms, "dispatch_dominates": self.dispatch_dominates}


def median_ms(fn, args, warmup=3, repeats=20):
    """Median wall time of ``fn(*args)`` in ms, after ``warmup`` calls; each call waits until the device has done
    its work (``sync_devices``; a fetch of the result where TensorFlow lacks it), without copying the output."""
    sync = _syncer()
    for _ in range(warmup):
        sync(fn(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sync(fn(*args))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _syncer():
    import tensorflow as tf
    sync = getattr(getattr(tf.test, "experimental", None), "sync_devices", None)
    return (lambda _y: sync()) if sync is not None else _fetch


def _fetch(y):
    if isinstance(y, (list, tuple)):
        for v in y:
            _fetch(v)
    elif isinstance(y, dict):
        for v in y.values():
            _fetch(v)
    elif hasattr(y, "numpy"):
        y.numpy()


def sample(shape, dtype, batch, rng):
    """Random values of one batch of ``shape`` (with its batch axis): ids 0 for integer inputs (valid for any
    Embedding), uniform [0, 1) for the rest."""
    import numpy as np
    full = (batch,) + tuple(d if isinstance(d, int) and d > 0 else 1 for d in tuple(shape)[1:])
    if "int" in str(dtype):
        return np.zeros(full, dtype=str(dtype))
    return rng.uniform(0, 1, size=full).astype("float32")


def _model_inputs(build, graph, batch, rng):
    xs = []
    for k in build.inputs:
        n = graph.nodes[k]
        xs.append(sample((None,) + tuple(n.params["shape"]), n.params.get("dtype", "float32"), batch, rng))
    return xs


def profile_project(project, batch=None, device="auto", warmup=3, repeats=20, per_node=True) -> Profile:
    """Time the project's model (see the module doc). Raises BuildError / SettingsError as building does."""
    import numpy as np
    from .build import build_model
    from .tfload import import_keras
    from .training.devices import pick_device
    import_keras()
    import tensorflow as tf
    tf_name, label, _ = pick_device(device)
    batch = int(batch or project.training.get("batch_size", 32) or 32)
    rng = np.random.default_rng(0)
    with tf.device(tf_name):
        build = build_model(project, with_weights=True)
        model = build.model
        call = _function(tf, lambda xs: model(xs if len(xs) > 1 else xs[0], training=False))
        x1 = [tf.constant(x) for x in _model_inputs(build, project.graph, 1, rng)]
        xb = [tf.constant(x) for x in _model_inputs(build, project.graph, batch, rng)]
        empty = _function(tf, lambda x: x)
        prof = Profile(label, batch, median_ms(call, (x1,), warmup, repeats), median_ms(call, (xb,), warmup, repeats),
                       median_ms(empty, (x1[0],), warmup, repeats), warmup=warmup, repeats=repeats)
        if per_node:
            prof.nodes = node_times(project.graph, build, prof.empty_ms, rng, warmup, repeats)
    return prof


def node_times(graph, build, empty_ms, rng, warmup=3, repeats=20) -> dict:
    """Each layer node's own call at batch 1 on its real input shapes, less ``empty_ms`` (never below 0)."""
    import tensorflow as tf
    from .layers import call_layer
    info = build.info
    out = {}
    for k in info.order:
        n, layer = graph.nodes[k], build.layers.get(k)
        if layer is None:
            continue
        fn = _own_call(tf, call_layer, n, layer)
        try:
            xs = [tf.constant(sample(info.nodes[s].shape, _dtype(graph, s), 1, rng)) for s in graph.inputs_of(k)]
            out[k] = max(median_ms(fn, xs, warmup, repeats) - empty_ms, 0.0)
        except Exception:   # a layer that cannot run alone on random inputs: no time of its own
            continue
    return out


def _function(tf, fn):
    """A tf.function of ``fn`` (a lambda AutoGraph need not convert: plain tensor code)."""
    return tf.function(tf.autograph.experimental.do_not_convert(fn))


def _own_call(tf, call_layer, node, layer):
    return _function(tf, lambda *ts: call_layer(node, layer, list(ts)))


def _dtype(graph, node_id):
    n = graph.nodes[node_id]
    return n.params.get("dtype", "float32") if n.type == "Input" else "float32"
