"""The probe: per-layer statistics of a model's backward pass, measured on a fixed small batch.

One traced ``tf.function`` per model, built (and traced) once, does one ``GradientTape`` pass on the probe batch
and returns every per-layer reduction in one call and one transfer: the gradient norms of the kernel and the
bias, the weight norm, the update-to-weight ratio of the last optimizer step (weights copied before the step,
compared after it), the fraction of dead units of a ReLU-family output, the fraction of saturated values of a
sigmoid/tanh output, and the activation mean and standard deviation. Optionally, histograms of the kernel, its
gradient and the activations.

The forward pass runs in inference mode (``training=False``): dropout, noise and batch-norm statistics are not
touched, so probing never changes what training computes. The loss is the data loss of the model's outputs
(each Output node's loss and loss weight), without regularisation penalties.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import LayerwiseError, SettingsError

PROBE_SAMPLES = 64
HIST_BINS = 24
STATS = ("grad_norm", "kernel_grad_norm", "bias_grad_norm", "weight_norm", "kernel_grad_rms", "update_ratio",
         "dead_fraction", "saturated_fraction", "act_mean", "act_std", "weights_nonfinite", "grads_nonfinite",
         "acts_nonfinite")
COL = {k: i for i, k in enumerate(STATS)}
RELU_FAMILY = {"relu", "relu6"}
SATURATING = {"sigmoid": (0.01, 0.99), "hard_sigmoid": (0.01, 0.99), "tanh": (-0.99, 0.99)}
ACT_MEASURED = {"Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "SeparableConv1D",
                "SeparableConv2D", "DepthwiseConv2D", "Activation", "ReLU"}


class TelemetryError(LayerwiseError):
    """The gradient view cannot measure this model (no weighted layer, no gradient path, an unknown loss...)."""


@dataclass
class LayerProbe:
    node_id: str
    name: str
    layer: object
    kind: str                       # the Keras class name
    param: str | None = None        # "kernel", "gamma", ...: the weight whose norms are shown
    kernel: object = None
    bias: object = None
    variables: list = field(default_factory=list)
    activation: str | None = None   # "relu" | "sigmoid" | "tanh" | ... when its output is measured
    tensor: object = None


def activation_of(layer):
    """The name of the activation a layer's output comes out of (None when not one of ours to measure)."""
    kind = type(layer).__name__
    if kind not in ACT_MEASURED:
        return None
    if kind == "ReLU":
        slope = float(getattr(layer, "negative_slope", 0.0) or 0.0)
        return "relu" if slope == 0.0 else None
    fn = getattr(layer, "activation", None)
    name = getattr(fn, "__name__", None)
    return name if name in RELU_FAMILY or name in SATURATING else None


def _main_weights(layer):
    """(param name, main weight, bias) of a layer's trainable weights."""
    ws = list(layer.trainable_weights)
    by = {w.name.split("/")[-1]: w for w in ws}
    for key in ("kernel", "depthwise_kernel", "embeddings", "gamma"):
        if key in by:
            bias = by.get("bias", by.get("beta"))
            return ("kernel" if "kernel" in key else key), by[key], bias
    return (ws[0].name.split("/")[-1], ws[0], None) if ws else (None, None, None)


def layers_to_probe(build):
    """The layers measured, in the model's order (input to output): weighted ones and measured activations."""
    owner = {}
    for k, layer in build.layers.items():
        if ":" not in k:
            owner.setdefault(id(layer), k)
    out = []
    for layer in build.model.layers:
        k = owner.get(id(layer))
        if k is None:
            continue
        lp = LayerProbe(k, layer.name, layer, type(layer).__name__, activation=activation_of(layer),
                        tensor=build.tensors.get(k))
        lp.param, lp.kernel, lp.bias = _main_weights(layer)
        lp.variables = list(layer.trainable_weights)
        if lp.kernel is not None or lp.activation is not None:
            out.append(lp)
    return out


def output_losses(build, graph):
    """[(keras loss, weight)] per model output, from the Output nodes; TelemetryError for a loss we cannot make."""
    from ..build import make_loss
    out = []
    for k in build.outputs:
        node = graph.nodes[k]
        name = node.params.get("loss", "mean_squared_error")
        try:
            out.append((make_loss(name), float(node.params.get("loss_weight", 1.0))))
        except SettingsError as e:
            raise TelemetryError(f"output '{node.name}': the gradient view cannot compute its loss ({e})") from None
    return out


def probe_batch(train, n=PROBE_SAMPLES):
    """([x arrays], [y arrays]): the first ``n`` training samples (a streamed split: its first batch)."""
    from ..training.splits import as_list
    if isinstance(train, tuple):
        x, y = train
        return [np.asarray(a[:n]) for a in as_list(x)], [np.asarray(a[:n]) for a in as_list(y)]
    for xb, yb in train.take(1):
        return [np.asarray(a)[:n] for a in as_list(xb)], [np.asarray(a)[:n] for a in as_list(yb)]
    raise TelemetryError("the training split is empty: there is no batch to probe")


class Probe:
    """Measures one model. ``snapshot()`` before an optimizer step, ``measure()`` after it -> a record dict."""

    def __init__(self, build, graph, batch, histograms=False):
        import tensorflow as tf
        self.build, self.histograms = build, histograms
        self.items = layers_to_probe(build)
        self.weighted = [lp for lp in self.items if lp.kernel is not None]
        if not self.weighted:
            raise TelemetryError("the model has no weighted layers (Dense, convolution, recurrent, normalisation): "
                                 "there are no gradients to show")
        self.losses = output_losses(build, graph)
        model = build.model
        outs = list(model.outputs)
        self.n_out = len(outs)
        acts = [lp.tensor for lp in self.items]
        import keras
        self.sub = keras.Model(model.inputs, outs + acts, name="layerwise_probe")
        self.vars, self.slots = self._variables()
        self.shadow = [tf.Variable(tf.zeros(lp.kernel.shape, "float32"), trainable=False) if lp.kernel is not None
                       else None for lp in self.items]
        self.no_grad = set()
        self.snapped = False
        self.x = [tf.constant(a) for a in batch[0]]
        self.y = [tf.constant(a) for a in batch[1]]
        self._step = tf.function(self._stats)
        self._snap = tf.function(self._copy)
        self._snap()                              # both traced now, not in the middle of training
        self._raw = self._step(self.x, self.y)
        self._check_gradients()

    # -- set-up --------------------------------------------------------------------------------------------------
    def _variables(self):
        """(unique trainable variables, per layer the indices of its variables in that list)."""
        flat, index, slots = [], {}, []
        for lp in self.items:
            mine = []
            for v in lp.variables:
                if id(v) not in index:
                    index[id(v)] = len(flat)
                    flat.append(v)
                mine.append(index[id(v)])
            slots.append(mine)
        return flat, slots

    def _check_gradients(self):
        reach = [lp for lp in self.weighted if lp.name not in self.no_grad]
        if not reach:
            raise TelemetryError("no gradient reaches any weighted layer: a non-differentiable step (an integer "
                                 "cast, argmax, rounding) lies between them and the loss")

    # -- the traced functions ------------------------------------------------------------------------------------
    def _copy(self):
        for lp, s in zip(self.items, self.shadow):
            if s is not None:
                s.assign(lp.kernel.value if hasattr(lp.kernel, "value") else lp.kernel)
        return 0

    def _loss(self, ys, preds):
        import tensorflow as tf
        total = tf.constant(0.0)
        for (fn, w), y, p in zip(self.losses, ys, preds):
            total = total + w * tf.cast(fn(y, tf.cast(p, "float32")), "float32")
        return total

    def _stats(self, xs, ys):
        import tensorflow as tf
        with tf.GradientTape() as tape:
            res = self.sub(xs if len(xs) > 1 else xs[0], training=False)
            res = list(res) if isinstance(res, (list, tuple)) else [res]
            loss = self._loss(ys, res[:self.n_out])
        grads = tape.gradient(loss, self.vars)
        rows, hists = [], []
        for i, lp in enumerate(self.items):
            g = [grads[j] for j in self.slots[i]]
            if self.slots[i] and all(x is None for x in g):
                self.no_grad.add(lp.name)   # (at trace time)
            row, hist = self._layer(lp, g, res[self.n_out + i], self.shadow[i])
            rows.append(row)
            hists.append(hist)
        out = {"rows": tf.stack(rows), "loss": loss}
        if self.histograms:
            out["hist"] = tf.stack([h[0] for h in hists])
            out["range"] = tf.stack([h[1] for h in hists])
        return out

    def _layer(self, lp, grads, act, shadow):
        import tensorflow as tf
        nan = tf.constant(float("nan"))
        f32 = lambda t: tf.cast(t, "float32")   # noqa: E731
        vals = {k: nan for k in STATS}
        gk = gb = None
        if lp.kernel is not None:
            k = f32(lp.kernel)
            vals["weight_norm"] = tf.norm(k)
            vals["weights_nonfinite"] = f32(tf.logical_not(tf.reduce_all(tf.math.is_finite(k))))
            for w, g in zip(lp.variables, grads):
                if g is not None and w is lp.kernel:
                    gk = f32(g)
                if g is not None and w is lp.bias:
                    gb = f32(g)
            present = [f32(g) for g in grads if g is not None]
            if present:
                vals["grad_norm"] = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(g)) for g in present]))
                vals["grads_nonfinite"] = f32(tf.logical_not(tf.reduce_all(
                    [tf.reduce_all(tf.math.is_finite(g)) for g in present])))
            if gk is not None:
                vals["kernel_grad_norm"] = tf.norm(gk)
                vals["kernel_grad_rms"] = tf.norm(gk) / math.sqrt(max(int(np.prod(k.shape)), 1))
            if gb is not None:
                vals["bias_grad_norm"] = tf.norm(gb)
            vals["update_ratio"] = tf.norm(k - shadow) / (tf.norm(shadow) + 1e-12)
        a = f32(act)
        self._activation_stats(lp, a, vals)
        row = tf.stack([tf.reshape(f32(vals[k]), []) for k in STATS])
        hist = self._histograms(lp, gk, a) if self.histograms else None
        return row, hist

    @staticmethod
    def _activation_stats(lp, a, vals):
        import tensorflow as tf
        vals["act_mean"] = tf.reduce_mean(a)
        vals["act_std"] = tf.math.reduce_std(a)
        vals["acts_nonfinite"] = tf.cast(tf.logical_not(tf.reduce_all(tf.math.is_finite(a))), "float32")
        if lp.activation in RELU_FAMILY:
            per_unit = tf.reshape(a, [-1, tf.shape(a)[-1]])
            alive = tf.reduce_any(per_unit > 0, axis=0)
            vals["dead_fraction"] = 1.0 - tf.reduce_mean(tf.cast(alive, "float32"))
        elif lp.activation in SATURATING:
            lo, hi = SATURATING[lp.activation]
            vals["saturated_fraction"] = tf.reduce_mean(tf.cast((a <= lo) | (a >= hi), "float32"))

    def _histograms(self, lp, gk, a):
        import tensorflow as tf
        parts = [tf.cast(lp.kernel, "float32") if lp.kernel is not None else None, gk, a]
        counts, ranges = [], []
        for t in parts:
            if t is None:
                counts.append(tf.zeros([HIST_BINS], "int32"))
                ranges.append(tf.constant([0.0, 0.0]))
                continue
            t = tf.reshape(t, [-1])
            t = tf.boolean_mask(t, tf.math.is_finite(t))
            lo, hi = tf.reduce_min(t), tf.reduce_max(t)
            lo = tf.where(tf.size(t) > 0, lo, 0.0)
            hi = tf.where(tf.size(t) > 0, hi, 0.0)
            hi = tf.where(hi > lo, hi, lo + 1e-3 * (tf.abs(lo) + 1.0))   # a constant (BN's gamma at 1)
            counts.append(tf.histogram_fixed_width(t, tf.stack([lo, hi]), nbins=HIST_BINS))
            ranges.append(tf.stack([lo, hi]))
        return tf.stack(counts), tf.stack(ranges)

    # -- use -----------------------------------------------------------------------------------------------------
    def snapshot(self):
        """Copy the weights now (call right before an optimizer step); the next ``measure`` compares with them."""
        self._snap()
        self.snapped = True

    def measure(self):
        """{"layers": {name: {stat: float or None}}, "loss": float, "hist": {...}} of the probe batch now."""
        raw = self._step(self.x, self.y)
        rows = raw["rows"].numpy()
        layers = {}
        for lp, row in zip(self.items, rows):
            d = {k: _num(v) for k, v in zip(STATS, row)}
            if not self.snapped or lp.kernel is None:
                d["update_ratio"] = None
            for k in ("weights_nonfinite", "grads_nonfinite", "acts_nonfinite"):
                d[k] = bool(d[k])
            d["type"], d["param"], d["activation"] = lp.kind, lp.param, lp.activation
            if lp.name in self.no_grad:
                d["no_gradient"] = True
            layers[lp.name] = d
        self.snapped = False
        rec = {"loss": _num(raw["loss"].numpy()), "layers": layers}
        if self.histograms:
            rec["hist"] = _histogram_dict(self.items, raw["hist"].numpy(), raw["range"].numpy())
        return rec


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _histogram_dict(items, counts, ranges):
    """{name: {"weights"|"gradients"|"activations": (counts, lo, hi)}}."""
    out = {}
    for lp, c, r in zip(items, counts, ranges):
        out[lp.name] = {part: (c[i].astype(int).tolist(), float(r[i][0]), float(r[i][1]))
                        for i, part in enumerate(("weights", "gradients", "activations"))}
    return out


_CACHE = {}


def probe_for(build, graph, train, histograms=False):
    """The probe of ``build``'s model, made once per model (TensorFlow never frees a trace); its batch is the
    first samples of ``train``."""
    key = (id(build.model), bool(histograms))
    p = _CACHE.get(key)
    batch = probe_batch(train)
    if p is not None and p.build is build and [tuple(a.shape) for a in batch[0]] == [tuple(t.shape) for t in p.x]:
        import tensorflow as tf
        p.x = [tf.constant(a) for a in batch[0]]
        p.y = [tf.constant(a) for a in batch[1]]
        p.snapped = False
        return p
    for k in [k for k in _CACHE if k[0] != key[0]]:
        del _CACHE[k]
    p = _CACHE[key] = Probe(build, graph, batch, histograms)
    return p
