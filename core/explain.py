"""Why a model made one prediction: saliency (the gradient of the chosen class score with respect to the input),
Grad-CAM on a chosen convolution-like node, and per-step attribution for sequences (integrated gradients, or
gradient × input). Each is one traced ``tf.function`` per model (kept in a cache: TensorFlow never frees a trace),
called on one sample; never ``predict()``.

    ex = explain_sample(build, graph, xs, layer="conv2d_2")     # xs: one sample per model input (batch of one)
    write_png(render(ex), "why.png")                             # core.explain_png

Works on any built project (trained, or imported with its weights); see :func:`sample_of` for picking a sample of
a dataset's split.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import LayerwiseError

IG_STEPS = 32


class ExplainError(LayerwiseError):
    """An explanation that cannot be made (a sample out of range, a node without spatial axes, no gradient...)."""


@dataclass
class Explanation:
    kind: str                        # "image" | "sequence" | "vector"
    x: np.ndarray                    # the first input's sample (no batch axis)
    saliency: np.ndarray             # gradient of the score w.r.t. that input, same shape as x
    output: str                      # the Output node's name
    class_index: int | None          # the class explained (None: a single-value output)
    score: float                     # the explained score (class probability or output value)
    probabilities: np.ndarray | None = None
    cam: np.ndarray | None = None    # Grad-CAM, (H, W) of the input, in [0, 1]
    cam_layer: str | None = None
    attribution: np.ndarray | None = None   # per step (sequences)
    method: str | None = None
    split: str | None = None
    index: int | None = None
    label: object = None

    def saliency_map(self):
        """|gradient| reduced to what is drawn: (H, W) for images, (steps,) for sequences, (n,) for vectors."""
        s = np.abs(self.saliency)
        return s.max(axis=-1) if self.kind == "image" else (s.sum(axis=-1) if self.kind == "sequence" else s)


# -- samples ---------------------------------------------------------------------------------------------------------
def sample_of(dataset, graph, index, split=None):
    """(one-sample input arrays in model order, target or None, split name) of sample ``index`` of the test split
    (else validation, else training, or the named ``split``); ExplainError when out of range."""
    from .datasets import arrays_for_model
    order = [split] if split else ["test", "validation", "train"]
    attr = {"test": "test", "validation": "val", "train": "train"}
    for name in order:
        sp = getattr(dataset, attr.get(name, name), None)
        if sp is None or getattr(sp, "tf_dataset", None) is not None or sp.x is None:
            continue
        x, y = arrays_for_model(dataset, sp, graph)
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        n = len(xs[0])
        if n == 0:
            continue
        if not 0 <= index < n:
            raise ExplainError(f"sample {index} is out of range: the {name} split has {n} samples (0 to {n - 1})")
        ys = list(y) if isinstance(y, (list, tuple)) else [y]
        return [np.asarray(a[index:index + 1]) for a in xs], np.asarray(ys[0][index]), name
    raise ExplainError("the dataset has no samples in memory to explain (streamed image folders: pass an image)")


# -- the traced functions --------------------------------------------------------------------------------------------
class Explainer:
    """Traced gradient functions of one model: saliency, Grad-CAM per node, integrated gradients."""

    def __init__(self, build, graph):
        import tensorflow as tf
        self.tf, self.build, self.graph = tf, build, graph
        self.model = build.model
        ins = self.model.inputs
        if ins[0].dtype not in ("float16", "float32", "float64", "bfloat16") and "float" not in str(ins[0].dtype):
            name = graph.nodes[build.inputs[0]].name if build.inputs else "the input"
            raise ExplainError(f"input '{name}' holds {ins[0].dtype} values (ids, not measurements): a gradient "
                               f"with respect to it does not exist; saliency needs a float input")
        self._sal = tf.function(self._saliency, reduce_retracing=True)
        self._cams = {}

    def _outputs(self, xs, sub=None):
        res = (sub or self.model)(xs if len(xs) > 1 else xs[0], training=False)
        return list(res) if isinstance(res, (list, tuple)) else [res]

    @staticmethod
    def _score(y, c):
        """The score of class ``c`` (a (1,) tensor; -1: the predicted class) per sample, and the class."""
        import tensorflow as tf
        flat = tf.reshape(tf.cast(y, "float32"), [tf.shape(y)[0], -1])
        c = tf.where(c < 0, tf.cast(tf.argmax(flat[0])[None], c.dtype), c)
        return tf.gather(flat, c, axis=1), c

    def _saliency(self, xs, out, c):
        tf = self.tf
        with tf.GradientTape() as tape:
            tape.watch(xs[0])
            ys = self._outputs(xs)
            score, c = self._score(ys[out], c)
            score = tf.reduce_sum(score)
        g = tape.gradient(score, xs[0])
        if g is None:
            return tf.zeros_like(xs[0]), tf.cast(ys[out], "float32"), c, tf.constant(False)
        return g, tf.cast(ys[out], "float32"), c, tf.constant(True)

    def saliency(self, xs, out, c):
        """(gradient of class ``c``'s score w.r.t. the first input, the output values, the class) for one sample;
        ``c`` = -1: the predicted class."""
        tf = self.tf
        g, y, c, ok = self._sal([tf.constant(a) for a in xs], int(out), tf.constant([int(c)]))
        if not bool(ok):
            raise ExplainError("no gradient flows from the output back to the input: a non-differentiable step "
                               "(an integer cast, argmax, rounding) lies between them")
        return g.numpy()[0], np.asarray(y)[0], int(c.numpy()[0])

    def cam_fn(self, node_id):
        fn = self._cams.get(node_id)
        if fn is None:
            import keras
            sub = keras.Model(self.model.inputs, [self.build.tensors[node_id]] + list(self.model.outputs))
            tf = self.tf

            def cam(xs, out, c):
                with tf.GradientTape() as tape:
                    res = self._outputs(xs, sub)
                    a, ys = res[0], res[1:]
                    score = tf.reduce_sum(self._score(ys[out], c)[0])
                g = tape.gradient(score, a)
                if g is None:
                    return tf.zeros(tf.shape(a)[:-1]), tf.constant(False)
                axes = list(range(1, len(a.shape) - 1))
                alpha = tf.reduce_mean(tf.cast(g, "float32"), axis=axes, keepdims=True)
                return tf.nn.relu(tf.reduce_sum(alpha * tf.cast(a, "float32"), axis=-1)), tf.constant(True)

            fn = self._cams[node_id] = (tf.function(cam, reduce_retracing=True), sub)
        return fn[0]

    def integrated_gradients(self, xs, out, c, steps=IG_STEPS):
        """Per-value attribution along the straight path from a zero baseline (other inputs held)."""
        tf = self.tf
        x0 = xs[0].astype("float32")
        alphas = (np.arange(1, steps + 1, dtype="float32") / steps).reshape((-1,) + (1,) * (x0.ndim - 1))
        path = [alphas * x0] + [np.repeat(a, steps, axis=0) for a in xs[1:]]
        g, _y, _c, ok = self._sal([tf.constant(a) for a in path], int(out), tf.constant([int(c)]))
        if not bool(ok):
            raise ExplainError("no gradient flows from the output back to the input: a non-differentiable step "
                               "(an integer cast, argmax, rounding) lies between them")
        return (x0[0] * g.numpy().mean(axis=0))


# -- the explanation -------------------------------------------------------------------------------------------------
def _kind(x):
    return {3: "image", 2: "sequence"}.get(x.ndim, "vector")


def _output_index(build, graph, output):
    names = [graph.nodes[k].name for k in build.outputs]
    if output is None:
        return 0
    if output not in names:
        raise ExplainError(f"no output named {output!r}; the outputs are {', '.join(names)}")
    return names.index(output)


def _check_cam_node(build, graph, layer):
    node = next((n for n in graph.nodes.values() if n.name == layer or n.id == layer), None)
    if node is None:
        raise ExplainError(f"no node named {layer!r} in the graph")
    t = build.tensors.get(node.id)
    if t is None or node.type in ("Input", "Output"):
        raise ExplainError(f"node '{node.name}' is not a layer of the model; Grad-CAM needs a convolution node")
    rank = len(t.shape) - 1
    if rank < 2:
        raise ExplainError(f"node '{node.name}' ({node.type}) has no spatial axes (its output is "
                           f"{tuple(t.shape[1:])} per sample): Grad-CAM needs a node with height and width (or "
                           f"steps), such as a convolution")
    return node


def _upsample(cam, shape):
    """Nearest-neighbour resize of a (h, w) or (t,) map to ``shape``, scaled to [0, 1]."""
    cam = np.asarray(cam, dtype="float32")
    idx = [np.minimum((np.arange(n) * cam.shape[i] / n).astype(int), cam.shape[i] - 1) for i, n in enumerate(shape)]
    out = cam[np.ix_(*idx)]
    top = float(out.max())
    return out / top if top > 0 else out


def explain_sample(build, graph, xs, output=None, class_index=None, layer=None, method="auto", cache=None):
    """An Explanation of the model's prediction for one sample ``xs`` (one array per model input, batch of one).
    ``class_index``: the class to explain (default: the predicted one); ``layer``: a node name for Grad-CAM;
    ``method`` for sequences: "integrated_gradients" (auto) or "grad_x_input"."""
    ex = explainer_for(build, graph, cache)
    out = _output_index(build, graph, output)
    cam_node = _check_cam_node(build, graph, layer) if layer else None
    xs = [np.asarray(a) for a in xs]
    size = int(np.prod([d or 1 for d in build.model.outputs[out].shape[1:]]))
    if class_index is not None and not 0 <= int(class_index) < size:
        raise ExplainError(f"class {class_index} is out of range: the output has {size} value(s)")
    g, y, c = ex.saliency(xs, out, -1 if class_index is None else int(class_index))
    probs = np.asarray(y, dtype="float64").reshape(-1)
    x = xs[0][0]
    res = Explanation(_kind(x), x, g, graph.nodes[build.outputs[out]].name, c if probs.size > 1 else None,
                      float(probs[c]), probs if probs.size > 1 else None)
    if res.kind == "sequence":
        if method in ("auto", "integrated_gradients"):
            res.attribution, res.method = ex.integrated_gradients(xs, out, c).sum(axis=-1), "integrated gradients"
        elif method == "grad_x_input":
            res.attribution, res.method = (g * x).sum(axis=-1), "gradient × input"
        else:
            raise ExplainError(f"unknown attribution method {method!r}; use integrated_gradients or grad_x_input")
    if cam_node is not None:
        tf = ex.tf
        cam, ok = ex.cam_fn(cam_node.id)([tf.constant(a) for a in xs], out, tf.constant([c]))
        if not bool(ok):
            raise ExplainError(f"no gradient flows from the output back to node '{cam_node.name}'")
        spatial = x.shape[:-1] if res.kind != "vector" else x.shape
        cam = cam.numpy()[0]
        res.cam = _upsample(cam, spatial) if cam.ndim == len(spatial) else _upsample(cam, cam.shape)
        res.cam_layer = cam_node.name
    return res


def explainer_for(build, graph, cache=None):
    """The Explainer of ``build``'s model (one per model in ``cache``, a dict; functions of other models dropped)."""
    key = id(build.model)
    cache = _CACHE if cache is None else cache
    ex = cache.get(key)
    if ex is None or ex.build is not build:
        cache.clear()
        ex = cache[key] = Explainer(build, graph)
    return ex


_CACHE = {}

__all__ = ["ExplainError", "Explanation", "Explainer", "explain_sample", "explainer_for", "sample_of"]
