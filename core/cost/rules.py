"""How much arithmetic one layer does on one sample, from its config and its input and output shapes.

Each rule returns the layer's float operations (FLOPs) per sample, counted the way TensorFlow's profiler counts
the ops Keras' TensorFlow backend emits at inference: a multiply-add is 2 FLOPs; an element-wise add, multiply,
divide, subtract, maximum or comparison is 1 FLOP per output value; ``Rsqrt`` and ``SquaredDifference`` 2; a
softmax 5 per value; a pooling window ``pool area`` per output value; a mean 1 per input value. Activations that
are one fused op (relu, sigmoid, tanh, elu, ...) and data movement (reshape, padding, gather, concatenation) are
0. MACs are FLOPs / 2. The conventions per layer type are listed in the README ("Cost and profiling").

Shapes carry the batch axis (``(None, 8, 8, 32)``); configs use Keras' own config names (the catalog's params
are a subset of them, so a catalog node's params and an imported layer's Keras config both work).
"""
from __future__ import annotations

# FLOPs per output value of an activation (by name); missing names are one fused op: 0
ACTIVATION_FLOPS = {"softmax": 5, "gelu": 4, "silu": 2, "swish": 2, "hard_sigmoid": 2, "hard_silu": 3,
                    "hard_swish": 3, "log_softmax": 5}


def elems(shape):
    """Values in one sample of ``shape`` (a shape with the batch axis); unknown axes count 1."""
    n = 1
    for d in tuple(shape or ())[1:]:
        n *= d if isinstance(d, int) and d > 0 else 1
    return n


def _dim(shape, axis):
    try:
        d = tuple(shape)[axis]
    except (IndexError, TypeError):
        return 1
    return d if isinstance(d, int) and d > 0 else 1


def _prod(v, rank=1):
    if isinstance(v, int):
        return v ** rank
    n = 1
    for d in v or ():
        n *= int(d)
    return n


def _name(v):
    """An activation given as a name or as a serialized Keras object ({"class_name": ..., "config": ...})."""
    if isinstance(v, dict):
        cfg = v.get("config")
        return cfg if isinstance(cfg, str) else (cfg or {}).get("name", v.get("class_name"))
    return v


def activation(cfg, out):
    return ACTIVATION_FLOPS.get(_name(cfg.get("activation")), 0) * elems(out)


def _bias(cfg, out):
    return elems(out) if cfg.get("use_bias", True) else 0


def _channels(cfg, shape):
    return _dim(shape, 1 if cfg.get("data_format") == "channels_first" else -1)


# -- weighted layers --------------------------------------------------------------------------------------------
def dense(cfg, ins, out):
    """MatMul 2 × inputs × units per row, bias add 1 per output value, then the activation."""
    return 2 * elems(out) * _dim(ins[0], -1) + _bias(cfg, out) + activation(cfg, out)


def einsum_dense(cfg, ins, out):
    return 2 * elems(out) * _dim(ins[0], -1) + (elems(out) if cfg.get("bias_axes") else 0) + activation(cfg, out)


def conv(cfg, ins, out):
    """2 × window × input channels (per group) per output value, bias, activation."""
    rank = len(tuple(out)) - 2
    window = _prod(cfg.get("kernel_size", 1), rank)
    groups = int(cfg.get("groups", 1) or 1)
    return 2 * elems(out) * window * _channels(cfg, ins[0]) // groups + _bias(cfg, out) + activation(cfg, out)


def conv_transpose(cfg, ins, out):
    """TensorFlow's count of a transposed convolution: 2 × window × input channels per output value / strides."""
    rank = len(tuple(out)) - 2
    window = _prod(cfg.get("kernel_size", 1), rank)
    strides = _prod(cfg.get("strides", 1), rank)
    return 2 * elems(out) * window * _channels(cfg, ins[0]) / strides + _bias(cfg, out) + activation(cfg, out)


def depthwise(cfg, ins, out):
    rank = len(tuple(out)) - 2
    return 2 * elems(out) * _prod(cfg.get("kernel_size", 1), rank) + _bias(cfg, out) + activation(cfg, out)


def separable(cfg, ins, out):
    """The depthwise step (2 × window per value of its output) then the 1×1 step (2 × its input channels)."""
    rank = len(tuple(out)) - 2
    mid_channels = _channels(cfg, ins[0]) * int(cfg.get("depth_multiplier", 1) or 1)
    mid = elems(out) // max(_channels(cfg, out), 1) * mid_channels
    window = _prod(cfg.get("kernel_size", 1), rank)
    return 2 * mid * window + 2 * elems(out) * mid_channels + _bias(cfg, out) + activation(cfg, out)


def embedding(cfg, ins, out):
    """A gather (0) after TensorFlow's check for negative ids: a compare and an add per id."""
    return 2 * elems(ins[0])


# -- recurrent layers (per time step; TensorFlow's count of the unrolled steps) -----------------------------------
def _steps(ins):
    return _dim(ins[0], 1), _dim(ins[0], -1)


def _rnn_step(kind, units, features, use_bias, reset_after=True):
    u, x = units, features
    if kind == "LSTM":   # 4 gates: two matmuls, the recurrent add, bias, c = f*c + i*g, h = o*tanh(c)
        return 8 * u * x + 8 * u * u + 8 * u + (4 * u if use_bias else 0)
    if kind == "GRU":    # 3 gates: two matmuls, gate adds, h = z*h + (1-z)*h~; bias on both matmuls
        return 6 * u * x + 6 * u * u + 8 * u + (6 * u if use_bias else 0)
    return 2 * u * x + 2 * u * u + u + (u if use_bias else 0)   # SimpleRNN


def rnn(kind):
    def rule(cfg, ins, out):
        steps, features = _steps(ins)
        return steps * _rnn_step(kind, int(cfg.get("units", 1)), features, cfg.get("use_bias", True))
    rule.__doc__ = f"{kind}: every time step's matmuls and gate arithmetic"
    return rule


def bidirectional(cfg, ins, out):
    """Both directions of the wrapped RNN, then the merge (concat 0; sum and mul 1, ave 2 per value)."""
    inner = cfg.get("layer")
    if isinstance(inner, dict):   # a Keras config: {"class_name": "LSTM", "config": {...}}
        kind, icfg = inner.get("class_name", "LSTM"), inner.get("config") or {}
    else:                          # the catalog's params: layer, units, return_sequences
        kind, icfg = inner or "LSTM", cfg
    steps, features = _steps(ins)
    one = steps * _rnn_step(kind, int(icfg.get("units", 1)), features, icfg.get("use_bias", True))
    merge = cfg.get("merge_mode", "concat")
    per_direction = elems(out) // (2 if merge == "concat" else 1)
    return 2 * one + {"sum": 1, "mul": 1, "ave": 2}.get(merge, 0) * per_direction


# -- attention --------------------------------------------------------------------------------------------------
def _qkv(ins):
    q = ins[0]
    v = ins[1] if len(ins) > 1 else q
    k = ins[2] if len(ins) > 2 else v
    return q, v, k


def _seq(shape):
    """(positions, features) of an attention input: every axis but the batch and the last one are positions."""
    return elems(shape) // max(_dim(shape, -1), 1), _dim(shape, -1)


def multi_head_attention(cfg, ins, out):
    """Projections (matmuls), their biases, the scaled scores (a multiply and a softmax per score), and the two
    einsums (scores, weighted values: 2 × the product of their index sizes each)."""
    q, v, k = _qkv(ins)
    (tq, dq), (tv, dv), (tk, dk) = _seq(q), _seq(v), _seq(k)
    h, kd = int(cfg.get("num_heads", 1)), int(cfg.get("key_dim", 1))
    vd = int(cfg.get("value_dim") or kd)
    dout = _dim(out, -1)
    proj = 2 * h * (tq * dq * kd + tk * dk * kd + tv * dv * vd + tq * vd * dout)
    bias = h * (tq * kd + tk * kd + tv * vd) + tq * dout if cfg.get("use_bias", True) else 0
    scores = h * tq * tk
    return proj + bias + 6 * scores + 2 * scores * (kd + vd)


def attention(cfg, ins, out):
    """Luong attention: scores and weighted values (two batched matmuls), a softmax per score (+1 with a scale)."""
    q, v, _ = _qkv(ins)
    (tq, dq), (tv, dv) = _seq(q), _seq(v)
    scale = tq * tv if cfg.get("use_scale") and cfg.get("score_mode", "dot") == "dot" else 0
    return 2 * tq * tv * dq + 2 * tq * tv * dv + 5 * tq * tv + scale


def additive_attention(cfg, ins, out):
    """Bahdanau attention: query + key and (scale ×) tanh per score and feature, their sum, a softmax, the values."""
    q, v, _ = _qkv(ins)
    (tq, dq), (tv, dv) = _seq(q), _seq(v)
    per_feature = 3 if cfg.get("use_scale", True) else 2
    return per_feature * tq * tv * dq + 4 * tq * tv + 2 * tq * tv * dv


# -- normalisation and element-wise layers ------------------------------------------------------------------------
def _axis_size(cfg, shape, default=-1):
    axis = cfg.get("axis", default)
    if isinstance(axis, (list, tuple)):
        return _prod([_dim(shape, a) for a in axis])
    return _dim(shape, axis if isinstance(axis, int) else default)


def batch_norm(cfg, ins, out):
    """Inference: x * inv + (beta - mean * inv), inv = rsqrt(var + eps) * gamma: 2 per value, 6 per channel."""
    c = _axis_size(cfg, ins[0])
    return 2 * elems(ins[0]) + (6 if cfg.get("scale", True) else 5) * c


def layer_norm(cfg, ins, out):
    """Mean, squared difference, mean, add eps, rsqrt, scale and shift: 9 per value and 4 per normalised row."""
    n = elems(ins[0])
    return 9 * n + 4 * (n // max(_axis_size(cfg, ins[0]), 1))


def normalization(cfg, ins, out):
    """(x - mean) / max(sqrt(var), eps): 2 per value and 1 per feature."""
    return 2 * elems(ins[0]) + _axis_size(cfg, ins[0])


def per_value(k):
    def rule(cfg, ins, out):
        return k * elems(out)
    rule.__doc__ = f"{k} FLOP(s) per output value"
    return rule


def activation_layer(cfg, ins, out):
    return activation(cfg, out)


def relu(cfg, ins, out):
    """ReLU: one op (0) unless it has a threshold (a compare: 1), or a threshold with a cap or slope (7)."""
    threshold = cfg.get("threshold") or 0
    others = (cfg.get("max_value") is not None) + bool(cfg.get("negative_slope") or 0)
    return 0 if not threshold else (1 if not others else 7) * elems(out)


def merge(extra=0):
    def rule(cfg, ins, out):
        return (max(len(ins) - 1, 1) + extra) * elems(out)
    rule.__doc__ = "one op per output value for each input after the first" + (" and a divide" if extra else "")
    return rule


def pool(cfg, ins, out):
    rank = len(tuple(out)) - 2
    return _prod(cfg.get("pool_size", 2), rank) * elems(out)


def global_average(cfg, ins, out):
    return elems(ins[0])


def zero(cfg, ins, out):
    return 0


ZERO = ("Input", "Output", "InputLayer", "Flatten", "Reshape", "Permute", "RepeatVector", "Dropout",
        "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
        "AlphaDropout", "Identity", "Concatenate", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D",
        "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "Resizing", "RandomFlip",
        "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomCrop", "RandomBrightness",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "LeakyReLU", "ELU", "Masking",
        "CenterCrop", "ActivityRegularization")

RULES = {name: zero for name in ZERO}
RULES.update({
    "Dense": dense, "EinsumDense": einsum_dense,
    "Conv1D": conv, "Conv2D": conv, "Conv3D": conv,
    "Conv1DTranspose": conv_transpose, "Conv2DTranspose": conv_transpose, "Conv3DTranspose": conv_transpose,
    "DepthwiseConv1D": depthwise, "DepthwiseConv2D": depthwise,
    "SeparableConv1D": separable, "SeparableConv2D": separable,
    "Embedding": embedding,
    "LSTM": rnn("LSTM"), "GRU": rnn("GRU"), "SimpleRNN": rnn("SimpleRNN"), "Bidirectional": bidirectional,
    "MultiHeadAttention": multi_head_attention, "Attention": attention, "AdditiveAttention": additive_attention,
    "BatchNormalization": batch_norm, "LayerNormalization": layer_norm, "Normalization": normalization,
    "Rescaling": per_value(2), "Softmax": per_value(5), "Activation": activation_layer, "ReLU": relu,
    "PReLU": per_value(3),
    "Add": merge(), "Subtract": merge(), "Multiply": merge(), "Maximum": merge(), "Minimum": merge(),
    "Average": merge(1),
    "MaxPooling1D": pool, "MaxPooling2D": pool, "MaxPooling3D": pool,
    "AveragePooling1D": pool, "AveragePooling2D": pool, "AveragePooling3D": pool,
    "GlobalAveragePooling1D": global_average, "GlobalAveragePooling2D": global_average,
    "GlobalAveragePooling3D": global_average,
})


def layer_flops(class_name, cfg, in_shapes, out_shape):
    """(FLOPs per sample, whether a convention covers the class). A class without one counts 0 (and says so)."""
    rule = RULES.get(class_name)
    if rule is None or out_shape is None or any(s is None for s in in_shapes):
        return 0, rule is not None
    return rule(cfg or {}, list(in_shapes) or [out_shape], out_shape), True
