"""Feature maps: the activations of chosen nodes (and a MultiHeadAttention node's attention scores) for a few
samples, from a sub-model built once and called through a traced ``tf.function``, never through ``predict()``."""
from __future__ import annotations

from .splits import as_list, split_arrays, take


def feature_batch(dataset, graph, cfg):
    """The samples whose activations are reported: validation split, else training split."""
    import numpy as np
    for split in (dataset.val, dataset.train):
        if split is None:
            continue
        if getattr(split, "tf_dataset", None) is not None:
            for xb, _ in split.tf_dataset.take(1):
                xs = list(xb) if isinstance(xb, (list, tuple)) else [xb]
                xs = [np.asarray(a) for a in xs]
                n = len(xs[0])
                idx = [i for i in cfg.feature_samples if 0 <= i < n] or [0]
                return take(xs, idx)
            continue
        if split.x is None:
            continue
        x, _ = split_arrays(dataset, split, graph)
        x = as_list(x)
        n = len(x[0])
        if n == 0:
            continue
        idx = [i for i in cfg.feature_samples if 0 <= i < n] or [0]
        return take([np.asarray(a) for a in x], idx)
    return None


def features_fn(keras, build, graph, node_ids):
    """A traced function x -> {node_id: activations, node_id + ':scores': attention scores}."""
    from .neutral import traced
    feat = [k for k in node_ids if k in build.tensors]
    att = [k for k in feat if graph.nodes[k].type == "MultiHeadAttention" and k in build.layers]
    att_inputs = {k: graph.inputs_of(k) for k in att}
    outs = [build.tensors[k] for k in feat]
    for k in att:
        outs += [build.tensors[s] for s in att_inputs[k]]
    if not outs:
        return None
    sub = keras.Model(build.model.inputs, outs, name="layerwise_features")
    n_feat = len(feat)

    def call(xs):
        res = sub(xs, training=False)
        res = list(res) if isinstance(res, (list, tuple)) else [res]
        i = n_feat
        scores = []
        for k in att:
            srcs = res[i:i + len(att_inputs[k])]
            i += len(srcs)
            q = srcs[0]
            v = srcs[1] if len(srcs) > 1 else srcs[0]
            key = srcs[2] if len(srcs) > 2 else None
            _, s = build.layers[k](q, v, key=key, return_attention_scores=True, training=False)
            scores.append(s)
        return res[:n_feat] + scores

    fn = traced(call, sync=getattr(build.model, "jax_state_sync", None), variables=build.model.variables)
    names = feat + [f"{k}:scores" for k in att]
    return fn, names, sub
