"""Feature maps of a trained model on demand: the activations of chosen nodes (and a MultiHeadAttention node's
attention scores) for one validation (else training) sample, for the feature-map view after a run.

During a run the engine reports feature maps itself (core.training.features builds the traced sub-model);
:func:`feature_maps` uses the same function on a finished run's model, keeping one traced function per model and
node list in a cache: TensorFlow never frees a trace, so a new one per click would grow memory.
"""
from __future__ import annotations

import numpy as np


def feature_maps(result, graph, node_ids, sample, cache=None):
    """{node id: float32 activations (batch of one), node id + ":scores": attention scores} of ``node_ids`` for
    sample ``sample`` of the validation (else training) split, with the trained model of ``result`` (a
    TrainResult). None when there is no sample or none of the nodes has an output. Call it from a worker thread.

    ``cache`` (a dict) keeps the traced function per model and node list; functions of another model are dropped
    from it."""
    from .tfload import import_keras
    from .training import TrainConfig, feature_batch, features_fn
    keras = import_keras()
    build = result.build
    x = feature_batch(result.dataset, graph, TrainConfig(feature_samples=[sample]))
    if x is None:
        return None
    key = (id(build.model), tuple(node_ids))
    made = cache.get(key) if cache is not None else None
    if made is None:
        made = features_fn(keras, build, graph, node_ids)
        if cache is not None:
            for k in [k for k in cache if k[0] != key[0]]:
                del cache[k]   # another model: its functions are of no use any more
            cache[key] = made
    if made is None:
        return None
    fn, names, _sub = made
    import tensorflow as tf
    xs = [tf.constant(a) for a in x]
    outs = fn(xs[0] if len(xs) == 1 else xs)
    return {n: np.asarray(o).astype("float32", copy=False) for n, o in zip(names, outs)}


__all__ = ["feature_maps"]
