"""The model a run starts from: built fresh (nodes that keep their weights get them), its Normalization layers
adapted on the training split before compiling."""
from __future__ import annotations

from ..errors import DataError
from ..node_settings import PRETRAINED, is_frozen
from .failures import plain_message
from .splits import as_list, one


def build_fresh(project, keep_weights):
    """Build with fresh weights; frozen nodes (and every node with keep_weights) keep the weights they carry."""
    from ..build import build_model, set_layer_weights
    build = build_model(project, with_weights=False)
    for k, layer in build.layers.items():
        n = project.graph.nodes.get(k)
        if n is None or n.weights is None:
            continue
        if not (keep_weights or is_frozen(n) or n.settings.get(PRETRAINED)):
            continue  # (imported / pretrained-base nodes always start from the weights they carry)
        try:
            set_layer_weights(layer, n.weights)
        except Exception as e:
            build.warnings.append(f"node {n.label()}: saved weights do not fit the layer any more "
                                  f"({plain_message(e)}); it starts from fresh weights")
    return build


def adapt_normalization(keras, build, graph, train, batch_size):
    """Adapt every Normalization layer on the training split (what flows into it), before compiling."""
    import numpy as np
    norm = [k for k, layer in build.layers.items() if isinstance(layer, keras.layers.Normalization)]
    if not norm:
        return []
    done = []
    for k in norm:
        layer = build.layers[k]
        src = graph.inputs_of(k)
        if not src:
            continue
        t = build.tensors[src[0]]
        if isinstance(train, tuple):
            x = as_list(train[0])
            if src[0] in build.inputs:
                data = np.asarray(x[build.inputs.index(src[0])], dtype="float32")
            else:
                sub = keras.Model(build.model.inputs, t)
                data = sub.predict(one(x), batch_size=max(batch_size, 256), verbose=0)
        else:  # tf.data: (x, y) batches
            sub = keras.Model(build.model.inputs, t)
            data = train.map(lambda xb, yb: sub(xb, training=False))
        try:
            layer.adapt(data)
        except Exception as e:
            raise DataError(f"node {graph.nodes[k].label()}: Normalization cannot be adapted on the training "
                            f"data ({plain_message(e)})") from None
        if isinstance(data, np.ndarray) and not np.all(np.isfinite(np.asarray(layer.mean))):
            raise DataError(f"node {graph.nodes[k].label()}: the training data holds NaN or infinite values, "
                            f"so Normalization cannot learn its mean and variance")
        done.append(k)
    return done
