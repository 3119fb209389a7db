"""Large graphs for the figures: a deep residual CNN of about N nodes."""
from __future__ import annotations

from core.graph import Graph


def residual_cnn(n_nodes=200, channels=16, size=32):
    """Input → stem conv → residual blocks (Conv-BN-ReLU-Conv-BN + Add + ReLU) → pooling → Dense → Output."""
    g = Graph()
    x, y = 0.0, 0.0
    def add(t, params=None, src=None, srcs=None):
        nonlocal x
        x += 200
        n = g.add_node(t, params or {}, pos=(x, y))
        for s in (srcs or ([src] if src else [])):
            g.connect(s, n.id)
        return n.id
    inp = add("Input", {"shape": [size, size, 3]})
    h = add("Conv2D", {"filters": channels, "kernel_size": [3, 3], "padding": "same"}, inp)
    while len(g.nodes) + 7 + 4 <= n_nodes:
        a = add("Conv2D", {"filters": channels, "kernel_size": [3, 3], "padding": "same"}, h)
        a = add("BatchNormalization", {}, a)
        a = add("Activation", {"activation": "relu"}, a)
        a = add("Conv2D", {"filters": channels, "kernel_size": [3, 3], "padding": "same"}, a)
        a = add("BatchNormalization", {}, a)
        s = add("Add", {}, srcs=[h, a])
        h = add("Activation", {"activation": "relu"}, s)
    h = add("GlobalAveragePooling2D", {}, h)
    while len(g.nodes) < n_nodes - 2:
        h = add("Dense", {"units": 32, "activation": "relu"}, h)
    h = add("Dense", {"units": 10, "activation": "softmax"}, h)
    add("Output", {"loss": "sparse_categorical_crossentropy"}, h)
    return g
