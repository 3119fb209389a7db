"""The layer catalog: one table of layer types that drives the palette, the inspector, validation and build.

Params use Keras' own config names and defaults. Adding a layer type is one entry in ``_ENTRIES``.
This module does not import Keras (the window shows the palette before TensorFlow has loaded).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
import math
from typing import Callable

from .errors import short

MAX_DIM = 2 ** 31 - 1  # largest size of one axis of a shape (Input shape, Reshape target)

ACTIVATIONS = [None, "relu", "sigmoid", "softmax", "tanh", "elu", "selu", "gelu", "silu", "softplus",
               "softsign", "leaky_relu", "relu6", "hard_sigmoid", "exponential", "linear"]
PADDING = ["valid", "same"]
LOSSES = ["categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
          "mean_squared_error", "mean_absolute_error", "huber", "log_cosh", "kl_divergence"]
METRICS = ["accuracy", "auc", "precision", "recall", "mae", "mse", "rmse", "top_5_accuracy"]


class ParamKind(str, Enum):
    """What a param's value is. A ``str`` enum: ``ParamKind.INT == "int"``, and it is written to JSON as "int"."""
    INT = "int"                   # a whole number
    FLOAT = "float"               # a number
    BOOL = "bool"                 # true / false
    CHOICE = "choice"             # one of ``choices`` (a name, or None where None is a choice)
    MULTICHOICE = "multichoice"   # a list of names from ``choices``
    INTS = "ints"                 # a fixed-length tuple of whole numbers (``length``); one number means all equal
    OPTINTS = "optints"           # like ints, or None (the layer's default)
    SHAPE = "shape"               # a tuple of whole numbers of any length (None: any size)
    OPTINT = "optint"             # a whole number or None
    OPTFLOAT = "optfloat"         # a number or None
    STR = "str"                   # text

    def __str__(self):
        return self.value


@dataclass(frozen=True)
class Param:
    """One editable param of a layer type. ``kind`` (a ParamKind; a plain string is converted) says what its value
    is: the checks of each kind are the rows of ``KINDS``, and the window picks its editor by kind too."""
    name: str
    kind: ParamKind
    default: object
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    length: int | None = None
    doc: str = ""
    min_exclusive: bool = False
    max_exclusive: bool = False
    allow_minus_one: bool = False  # Reshape's target_shape may hold one -1
    allow_empty: bool = False      # an Input's shape may be () (one number per sample: an id, a scalar)

    def __post_init__(self):
        object.__setattr__(self, "kind", ParamKind(self.kind))

    def type_error(self, value):
        """Return a message when ``value`` has the wrong JSON type for this param (file is malformed), else None."""
        rule = KINDS[self.kind]
        return None if rule.accepts(self, value) else f"expected {rule.expected(self)}, got {short(value)}"

    def value_error(self, value):
        """Return a plain-words message when ``value`` is of the right type but not allowed, else None."""
        return self.type_error(value) or KINDS[self.kind].check(self, value)

    def to_keras(self, value):
        """The value as Keras' constructor wants it (tuples for tuple params)."""
        if KINDS[self.kind].keras_tuple and isinstance(value, list):
            return tuple(value)
        return value


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# -- what each kind of param accepts ------------------------------------------------------------------------------
def _number_check(p, v):
    """A number of an int / float / optint / optfloat param: finite and within [min, max] (or the open ends)."""
    if v is None:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return f"must be a finite number, got {short(v)}"
    lo, hi = p.min, p.max
    if lo is not None and (v < lo or (p.min_exclusive and v == lo)):
        return f"must be {'>' if p.min_exclusive else '>='} {lo:g}, got {short(v)}"
    if hi is not None and (v > hi or (p.max_exclusive and v == hi)):
        return f"must be {'<' if p.max_exclusive else '<='} {hi:g}, got {short(v)}"
    return None


def _ints_check(p, v):
    """A tuple of an ints / optints param: ``length`` values (one number stands for all), each at least ``min``."""
    if v is None:
        return None
    vals = [v] * (p.length or 1) if _is_int(v) else list(v)
    if p.length is not None and len(vals) != p.length:
        return f"expected {p.length} values, got {len(vals)}"
    if p.min is not None and any(x < p.min for x in vals):
        return f"every value must be >= {p.min:g}, got {short(tuple(vals))}"
    return None


def _shape_check(p, v):
    """A shape: at least one dimension (or one -1 where allowed), each from ``min`` (1) to ``max`` (MAX_DIM)."""
    vals = list(v)
    if not vals and not (p.allow_minus_one or p.allow_empty):
        return "must have at least one dimension"
    if p.allow_minus_one:
        if sum(1 for x in vals if x == -1) > 1:
            return f"may hold at most one -1, got {short(tuple(vals))}"
        if any(x is not None and x != -1 and x < 1 for x in vals):
            return f"every dimension must be >= 1 (or one -1), got {short(tuple(vals))}"
    elif any(x is not None and x < (p.min if p.min is not None else 1) for x in vals):
        return f"every dimension must be >= {p.min if p.min is not None else 1:g}, got {short(tuple(vals))}"
    hi = p.max if p.max is not None else MAX_DIM
    if any(x is not None and x > hi for x in vals):
        return f"every dimension must be at most {hi:,}, got {short(tuple(vals))}"
    return None


def _choice_check(p, v):
    if p.choices and v not in p.choices:
        return f"must be one of {', '.join(str(c) for c in p.choices)}; got {short(v)}"
    return None


def _multichoice_check(p, v):
    bad = [x for x in v if x not in p.choices] if p.choices else []
    return f"unknown choice(s) {short(bad)}; expected from {', '.join(p.choices)}" if bad else None


def _int_list(v, none_ok=False):
    return isinstance(v, (list, tuple)) and all(_is_int(x) or (none_ok and x is None) for x in v)


def _names(p):
    names = ", ".join(str(c) for c in p.choices if c is not None)
    return f"a name{f' ({names})' if names else ''}"


@dataclass(frozen=True)
class KindRule:
    """How a kind of param is checked: ``accepts`` (the JSON type: a file with another is malformed), what a
    value must be in the message when it is not (``expected``), ``check`` for a value of the right type (range,
    length, membership: a message or None), and whether Keras wants a tuple for a list."""
    accepts: Callable[[Param, object], bool]
    expected: Callable[[Param], str]
    check: Callable[[Param, object], str | None] = lambda p, v: None
    keras_tuple: bool = False


def _fixed(text):
    return lambda p: text


KINDS: dict[ParamKind, KindRule] = {
    ParamKind.BOOL: KindRule(lambda p, v: isinstance(v, bool), _fixed("true/false")),
    ParamKind.INT: KindRule(lambda p, v: _is_int(v), _fixed("an integer"), _number_check),
    ParamKind.OPTINT: KindRule(lambda p, v: v is None or _is_int(v), _fixed("an integer or null"), _number_check),
    ParamKind.FLOAT: KindRule(lambda p, v: _is_num(v), _fixed("a number"), _number_check),
    ParamKind.OPTFLOAT: KindRule(lambda p, v: v is None or _is_num(v), _fixed("a number or null"), _number_check),
    ParamKind.INTS: KindRule(lambda p, v: _is_int(v) or _int_list(v), _fixed("a list of integers"), _ints_check,
                             keras_tuple=True),
    ParamKind.OPTINTS: KindRule(lambda p, v: v is None or _is_int(v) or _int_list(v), _fixed("a list of integers"),
                                _ints_check, keras_tuple=True),
    ParamKind.SHAPE: KindRule(lambda p, v: _int_list(v, none_ok=True), _fixed("a list of integers"), _shape_check,
                              keras_tuple=True),
    ParamKind.STR: KindRule(lambda p, v: isinstance(v, str), _fixed("text")),
    ParamKind.CHOICE: KindRule(lambda p, v: v is None or isinstance(v, str), _names, _choice_check),
    ParamKind.MULTICHOICE: KindRule(lambda p, v: isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v),
                                    _fixed("a list of names"), _multichoice_check),
}


@dataclass(frozen=True)
class LayerType:
    """One catalog entry."""
    type: str
    category: str
    description: str
    params: tuple = ()
    inputs: tuple = (1, 1)          # (min, max); max None = any number
    keras_class: str | None = None  # class name in keras.layers; None for Input/Output
    weighted: bool = False          # has a kernel: global L2 applies
    block: bool = False             # Dense/Conv block: global dropout goes after it
    input_names: tuple = ()         # names of the ports, for the editor
    summary: tuple = ()             # params shown on the node face

    def param(self, name):
        for p in self.params:
            if p.name == name:
                return p
        return None

    def defaults(self):
        return {p.name: _copy(p.default) for p in self.params}

    def port_name(self, i):
        if i < len(self.input_names):
            return self.input_names[i]
        return f"in{i + 1}"

    @property
    def variadic(self):
        return self.inputs[1] is None


def _copy(v):
    return list(v) if isinstance(v, (list, tuple)) else v


# -- param helpers -------------------------------------------------------------------------------------------
def P_int(name, default, lo=1, hi=None, doc=""):
    return Param(name, "int", default, lo, hi, doc=doc)


def P_float(name, default, lo=None, hi=None, doc="", lo_ex=False, hi_ex=False):
    return Param(name, "float", default, lo, hi, doc=doc, min_exclusive=lo_ex, max_exclusive=hi_ex)


def P_bool(name, default, doc=""):
    return Param(name, "bool", default, doc=doc)


def P_choice(name, default, choices, doc=""):
    return Param(name, "choice", default, choices=tuple(choices), doc=doc)


def P_ints(name, default, length, lo=1, doc=""):
    return Param(name, "ints", list(default), lo, length=length, doc=doc)


ACT = lambda default=None: P_choice("activation", default, ACTIVATIONS, "activation function applied to the output")  # noqa: E731
BIAS = P_bool("use_bias", True, "add a learned bias")
RATE = P_float("rate", 0.5, 0.0, 1.0, "fraction of inputs set to zero during training", hi_ex=True)


def _conv(rank, name, desc, transpose=False, separable=False, depthwise=False):
    ks = [3] * rank
    one = [1] * rank
    params = []
    if not depthwise:
        params.append(P_int("filters", 32, 1, 65536, "number of output channels"))
    params += [P_ints("kernel_size", ks, rank, 1, "size of the convolution window"),
               P_ints("strides", one, rank, 1, "step of the window"),
               P_choice("padding", "valid", PADDING + (["causal"] if rank == 1 and not transpose else []),
                        "'same' keeps the spatial size at stride 1")]
    if separable or depthwise:
        params.append(P_int("depth_multiplier", 1, 1, 64, "output channels per input channel in the depthwise step"))
    if not transpose and not separable:
        params.append(P_ints("dilation_rate", one, rank, 1, "spacing between window elements"))
    params += [ACT(), BIAS]
    summary = ("filters", "kernel_size", "activation") if not depthwise else ("kernel_size", "activation")
    return LayerType(name, "Convolution", desc, tuple(params), keras_class=name, weighted=True, block=True,
                     summary=summary)


def _pool(name, rank, kind):
    params = (Param("pool_size", "ints", 2 if rank == 1 else [2, 2], 1, length=rank, doc="size of the window"),
              Param("strides", "optints", None, 1, length=rank, doc="step of the window (empty: the pool size)"),
              P_choice("padding", "valid", PADDING))
    return LayerType(name, "Pooling", f"{kind} pooling over {'time' if rank == 1 else 'height and width'}",
                     params, keras_class=name, summary=("pool_size",))


def _global_pool(name, rank, kind):
    return LayerType(name, "Pooling", f"{kind} over all {'time steps' if rank == 1 else 'positions'}: one value per channel",
                     (P_bool("keepdims", False, "keep the pooled axes with size 1"),), keras_class=name)


def _rnn(name, desc, extra=(), states=("state",)):
    params = (P_int("units", 32, 1, 65536, "size of the hidden state"),
              P_choice("activation", "tanh", ACTIVATIONS),) + tuple(extra) + (
              BIAS,
              P_bool("return_sequences", False, "output every time step (needed before another RNN)"),
              P_bool("return_state", False, "also output the final state(s), one output port each (to seed a decoder)"),
              P_bool("go_backwards", False, "read the sequence backwards"),
              P_float("dropout", 0.0, 0.0, 1.0, "dropout on the inputs", hi_ex=True),
              P_float("recurrent_dropout", 0.0, 0.0, 1.0, "dropout on the recurrent state", hi_ex=True))
    return LayerType(name, "Recurrent", desc, params, inputs=(1, 1 + len(states)), keras_class=name, weighted=True,
                     input_names=("sequence",) + tuple(f"initial {s}" for s in states),
                     summary=("units", "return_sequences", "return_state"))


_MERGE = lambda name, desc, lo=2, hi=None, params=(): LayerType(  # noqa: E731
    name, "Merge", desc, params, inputs=(lo, hi), keras_class=name)

_ENTRIES = [
    # -- input / output -----------------------------------------------------------------------------------
    LayerType("Input", "Input / Output", "a network input: the shape of one sample (without the batch axis)",
              (Param("shape", "shape", [28, 28, 1], 1, doc="shape of one sample, e.g. 8 8 1 for a small grayscale image "
                     "(empty: one number per sample, such as an id)", allow_empty=True),
               P_choice("dtype", "float32", ["float32", "int32", "int64"], "type of the values (int for token ids)")),
              inputs=(0, 0), summary=("shape",)),
    LayerType("Output", "Input / Output", "a network output, with its loss, weight and metrics",
              (P_choice("loss", "sparse_categorical_crossentropy", LOSSES, "what training minimises for this output"),
               P_float("loss_weight", 1.0, 0.0, None, "weight of this loss in the total"),
               P_bool("from_logits", False, "the layer before outputs logits, not probabilities (cross-entropy losses)"),
               P_float("label_smoothing", 0.0, 0.0, 1.0, "smooths the targets (categorical and binary cross-entropy)"),
               Param("metrics", "multichoice", ["accuracy"], choices=tuple(METRICS), doc="reported while training")),
              summary=("loss",)),
    # -- core ---------------------------------------------------------------------------------------------
    LayerType("Dense", "Core", "fully connected layer: every output unit sees every input value",
              (P_int("units", 32, 1, 1 << 20, "number of output units"), ACT(), BIAS),
              keras_class="Dense", weighted=True, block=True, summary=("units", "activation")),
    LayerType("Activation", "Core", "applies an activation function element-wise",
              (P_choice("activation", "relu", ACTIVATIONS[1:]),), keras_class="Activation", summary=("activation",)),
    LayerType("ReLU", "Core", "rectified linear unit, optionally capped (ReLU6)",
              (Param("max_value", "optfloat", None, 0.0, doc="cap of the output (6 for ReLU6)"),
               P_float("negative_slope", 0.0, 0.0, None), P_float("threshold", 0.0)),
              keras_class="ReLU"),
    LayerType("LeakyReLU", "Core", "leaky rectified linear unit: small slope for negative inputs",
              (P_float("negative_slope", 0.3, 0.0, None),), keras_class="LeakyReLU"),
    LayerType("Softmax", "Core", "normalises the last axis to probabilities",
              (P_int("axis", -1, None),), keras_class="Softmax"),
    LayerType("Dropout", "Regularization", "randomly zeroes a fraction of the inputs while training",
              (RATE,), keras_class="Dropout", summary=("rate",)),
    LayerType("SpatialDropout1D", "Regularization", "drops whole channels of a sequence while training",
              (RATE,), keras_class="SpatialDropout1D", summary=("rate",)),
    LayerType("SpatialDropout2D", "Regularization", "drops whole feature maps while training",
              (RATE,), keras_class="SpatialDropout2D", summary=("rate",)),
    LayerType("GaussianNoise", "Regularization", "adds zero-mean Gaussian noise while training",
              (P_float("stddev", 0.1, 0.0, None, "standard deviation of the noise"),), keras_class="GaussianNoise",
              summary=("stddev",)),
    LayerType("Flatten", "Reshaping", "flattens each sample to one dimension", (), keras_class="Flatten"),
    LayerType("Reshape", "Reshaping", "reshapes each sample (one dimension may be -1)",
              (Param("target_shape", "shape", [-1], doc="new shape of one sample", allow_minus_one=True),),
              keras_class="Reshape", summary=("target_shape",)),
    LayerType("Permute", "Reshaping", "reorders the axes of each sample (1-based)",
              (Param("dims", "shape", [2, 1], 1, doc="new order of the axes, e.g. 2 1"),), keras_class="Permute",
              summary=("dims",)),
    LayerType("RepeatVector", "Reshaping", "repeats a vector n times into a sequence",
              (P_int("n", 4, 1, None, "number of repetitions"),), keras_class="RepeatVector", summary=("n",)),
    LayerType("UpSampling2D", "Reshaping", "repeats rows and columns to enlarge feature maps",
              (P_ints("size", [2, 2], 2, 1), P_choice("interpolation", "nearest", ["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"])),
              keras_class="UpSampling2D", summary=("size",)),
    LayerType("ZeroPadding2D", "Reshaping", "adds rows and columns of zeros around feature maps",
              (Param("padding", "ints", [1, 1], 0, length=2, doc="rows, columns of zeros on each side"),),
              keras_class="ZeroPadding2D", summary=("padding",)),
    LayerType("Cropping2D", "Reshaping", "crops rows and columns from the edges of feature maps",
              (Param("cropping", "ints", [0, 0], 0, length=2, doc="rows, columns removed on each side"),),
              keras_class="Cropping2D", summary=("cropping",)),
    # -- convolution / pooling ------------------------------------------------------------------------------
    _conv(1, "Conv1D", "1-D convolution over time steps"),
    _conv(2, "Conv2D", "2-D convolution over height and width"),
    _conv(2, "Conv2DTranspose", "transposed 2-D convolution (learned up-sampling)", transpose=True),
    _conv(2, "SeparableConv2D", "depthwise then pointwise 2-D convolution (fewer weights)", separable=True),
    _conv(2, "DepthwiseConv2D", "one 2-D filter per input channel", depthwise=True),
    _pool("MaxPooling1D", 1, "max"), _pool("MaxPooling2D", 2, "max"),
    _pool("AveragePooling1D", 1, "average"), _pool("AveragePooling2D", 2, "average"),
    _global_pool("GlobalAveragePooling1D", 1, "average"), _global_pool("GlobalAveragePooling2D", 2, "average"),
    _global_pool("GlobalMaxPooling1D", 1, "maximum"), _global_pool("GlobalMaxPooling2D", 2, "maximum"),
    # -- normalisation ----------------------------------------------------------------------------------------
    LayerType("BatchNormalization", "Normalization", "normalises each channel with batch statistics (moving averages at inference)",
              (P_int("axis", -1, None), P_float("momentum", 0.99, 0.0, 1.0), P_float("epsilon", 0.001, 0.0, None, lo_ex=True),
               P_bool("center", True), P_bool("scale", True)), keras_class="BatchNormalization"),
    LayerType("LayerNormalization", "Normalization", "normalises each sample over its last axis",
              (P_int("axis", -1, None), P_float("epsilon", 0.001, 0.0, None, lo_ex=True), P_bool("center", True), P_bool("scale", True)),
              keras_class="LayerNormalization"),
    # -- embedding / recurrent ----------------------------------------------------------------------------
    LayerType("Embedding", "Embedding", "maps integer token ids to learned vectors",
              (P_int("input_dim", 1000, 1, None, "vocabulary size (largest id + 1)"), P_int("output_dim", 64, 1, None, "vector size"),
               P_bool("mask_zero", False, "treat id 0 as padding")), keras_class="Embedding", weighted=False,
              summary=("input_dim", "output_dim")),
    _rnn("SimpleRNN", "fully connected recurrent layer"),
    _rnn("LSTM", "long short-term memory recurrent layer", (P_choice("recurrent_activation", "sigmoid", ACTIVATIONS),),
         states=("state h", "state c")),
    _rnn("GRU", "gated recurrent unit layer", (P_choice("recurrent_activation", "sigmoid", ACTIVATIONS),)),
    LayerType("Bidirectional", "Recurrent", "runs an RNN forwards and backwards and merges both",
              (P_choice("layer", "LSTM", ["LSTM", "GRU", "SimpleRNN"], "the wrapped recurrent layer"),
               P_int("units", 32, 1, 65536), P_bool("return_sequences", False),
               P_choice("merge_mode", "concat", ["concat", "sum", "mul", "ave"], "how both directions are combined")),
              keras_class="Bidirectional", weighted=True, summary=("layer", "units", "return_sequences")),
    # -- attention ----------------------------------------------------------------------------------------
    LayerType("MultiHeadAttention", "Attention",
              "multi-head attention: one input = self-attention; or query, value (and key) inputs",
              (P_int("num_heads", 2, 1, 256, "number of attention heads"), P_int("key_dim", 16, 1, 4096, "size of each head for query and key"),
               Param("value_dim", "optint", None, 1, doc="size of each head for value (default: key_dim)"),
               P_float("dropout", 0.0, 0.0, 1.0, hi_ex=True), BIAS),
              inputs=(1, 3), input_names=("query", "value", "key"), keras_class="MultiHeadAttention", weighted=True,
              summary=("num_heads", "key_dim")),
    LayerType("Attention", "Attention", "dot-product attention: one input = self-attention; or query, value (and key)",
              (P_bool("use_scale", False), P_choice("score_mode", "dot", ["dot", "concat"]), P_float("dropout", 0.0, 0.0, 1.0, hi_ex=True)),
              inputs=(1, 3), input_names=("query", "value", "key"), keras_class="Attention"),
    LayerType("AdditiveAttention", "Attention", "additive (Bahdanau) attention: query, value (and key)",
              (P_bool("use_scale", True), P_float("dropout", 0.0, 0.0, 1.0, hi_ex=True)),
              inputs=(1, 3), input_names=("query", "value", "key"), keras_class="AdditiveAttention"),
    # -- merge ----------------------------------------------------------------------------------------------
    _MERGE("Add", "adds its inputs element-wise (shapes must match)"),
    _MERGE("Subtract", "subtracts the second input from the first", 2, 2),
    _MERGE("Multiply", "multiplies its inputs element-wise"),
    _MERGE("Average", "averages its inputs element-wise"),
    _MERGE("Maximum", "element-wise maximum of its inputs"),
    _MERGE("Concatenate", "joins its inputs along an axis", params=(P_int("axis", -1, None, None, "axis to join along"),)),
    # -- preprocessing / augmentation -----------------------------------------------------------------------
    LayerType("Rescaling", "Preprocessing", "multiplies by scale and adds offset (e.g. pixels 0-255 to 0-1)",
              (P_float("scale", 1 / 255, doc="multiplier"), P_float("offset", 0.0, doc="added after scaling")),
              keras_class="Rescaling", summary=("scale",)),
    LayerType("Normalization", "Preprocessing", "standardises features with mean and variance learned from the training data",
              (P_int("axis", -1, None, None, "axis that keeps separate statistics"),), keras_class="Normalization"),
    LayerType("Resizing", "Preprocessing", "resizes images to a fixed height and width",
              (P_int("height", 32, 1), P_int("width", 32, 1),
               P_choice("interpolation", "bilinear", ["bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area"]),
               P_bool("crop_to_aspect_ratio", False)), keras_class="Resizing", summary=("height", "width")),
    LayerType("RandomFlip", "Augmentation", "randomly flips images while training",
              (P_choice("mode", "horizontal_and_vertical", ["horizontal", "vertical", "horizontal_and_vertical"]),),
              keras_class="RandomFlip", summary=("mode",)),
    LayerType("RandomRotation", "Augmentation", "randomly rotates images while training (factor × 360°)",
              (P_float("factor", 0.1, 0.0, 1.0), P_choice("fill_mode", "reflect", ["reflect", "wrap", "constant", "nearest"])),
              keras_class="RandomRotation", summary=("factor",)),
    LayerType("RandomZoom", "Augmentation", "randomly zooms images while training",
              (P_float("height_factor", 0.1, -1.0, 1.0), Param("width_factor", "optfloat", None, -1.0, 1.0),
               P_choice("fill_mode", "reflect", ["reflect", "wrap", "constant", "nearest"])),
              keras_class="RandomZoom", summary=("height_factor",)),
    # -- keras.ops between tensors (x + y, ops.multiply(x, 0.5)): core.ops --------------------------------------
    LayerType("Op", "Operations", "a keras.ops function between tensors: x + y, ops.multiply(x, 0.5), ops.mean(x, axis=1)",
              (Param("op", "str", "square", doc="the keras.ops function (add, multiply, mean, square, ...); "
                     "the inputs are its arguments in port order"),),
              inputs=(1, None), keras_class=None, summary=("op",)),
    # -- any other built-in Keras layer (imported models) -------------------------------------------------------
    LayerType("KerasLayer", "Other", "any built-in Keras layer, configured by its Keras config (imported models)",
              (P_choice("class_name", "Identity", (), "the keras.layers class"),),
              inputs=(1, None), keras_class=None, summary=("class_name",)),
]

CATALOG: dict[str, LayerType] = {e.type: e for e in _ENTRIES}
CATEGORIES = list(dict.fromkeys(e.category for e in _ENTRIES))
WEIGHTED_KERAS = {"Dense", "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv1DTranspose", "SeparableConv1D",
                  "SeparableConv2D", "DepthwiseConv2D", "DepthwiseConv1D", "LSTM", "GRU", "SimpleRNN", "EinsumDense"}


def get(type_name: str) -> LayerType:
    try:
        return CATALOG[type_name]
    except KeyError:
        raise KeyError(type_name) from None


def types_in(category):
    return [e for e in _ENTRIES if e.category == category]


def format_value(v, limit=40):
    """A param value for the node face and tables: ``3×3``, ``0.5``, ``relu``; at most about ``limit`` characters."""
    if isinstance(v, (list, tuple)):
        text = "×".join("?" if x is None else format_value(x, limit) for x in v[:limit])
    elif isinstance(v, float):
        text = f"{v:g}"
    elif v is None:
        text = "none"
    elif isinstance(v, int) and not isinstance(v, bool):
        text = str(v) if v.bit_length() < 200 else short(v)
    else:
        text = str(v)[:limit + 1] if isinstance(v, str) else short(v, limit)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def dims_text(dims):
    """The shape of one sample for people: ``8×8×32``; ``T×64`` for a sequence of any length (T time steps);
    ``scalar`` for one number; ``?`` for any other axis of unknown size (``T (any length)`` alone)."""
    dims = list(dims)
    if not dims:
        return "scalar"
    if dims == [None]:
        return "T (any length)"
    seq = len(dims) > 1 and dims[0] is None
    return "×".join(("T" if i == 0 and seq else "?") if d is None else str(d) for i, d in enumerate(dims))


def summary_text(type_name: str, params: dict) -> str:
    """Short text for the node face, e.g. ``Conv2D 32 3×3 relu``."""
    spec = CATALOG.get(type_name)
    if spec is None:
        return type_name
    if type_name == "KerasLayer":
        return str(params.get("class_name", "?"))
    if type_name == "Op":
        return op_text(params)
    if type_name == "Input" and isinstance(params.get("shape"), list):
        return f"Input {dims_text(params['shape'])}"
    bits = []
    for key in spec.summary:
        v = params.get(key)
        if isinstance(v, bool):
            if v:
                bits.append(key.replace("_", " "))
            continue
        if v is None:
            continue
        bits.append(format_value(v))
    return " ".join([type_name] + bits)


def op_text(params, limit=40):
    """``multiply(in1, 0.5)``: an op node's function and its constant arguments, for the node face."""
    port = "__port__"   # core.layers.PORT: an input tensor in a call template

    def one(v):
        if isinstance(v, dict) and set(v) == {port}:
            return f"in{v[port] + 1}" if isinstance(v[port], int) else "?"
        if isinstance(v, list):
            return "[" + ", ".join(one(x) for x in v) + "]"
        return format_value(v, 12)
    args = params.get("args")
    parts = [one(a) for a in args] if isinstance(args, list) else ["in1", "…"]
    extra = dict(params["config"]) if isinstance(params.get("config"), dict) else {}
    extra.pop("name", None)
    if isinstance(params.get("kwargs"), dict):
        extra.update(params["kwargs"])
    parts += [f"{k}={one(v)}" for k, v in extra.items()]
    text = f"{params.get('op', '?')}({', '.join(parts)})"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def markdown_table() -> str:
    """The catalog as a Markdown table (the README's layer list is generated from this)."""
    rows = ["| category | layer | inputs | params | what it does |", "|---|---|---|---|---|"]
    for e in _ENTRIES:
        lo, hi = e.inputs
        ins = f"{lo}" if lo == hi else (f"{lo}+" if hi is None else f"{lo}–{hi}")
        params = ", ".join(f"`{p.name}`={format_value(p.default)}" for p in e.params)
        rows.append(f"| {e.category} | {e.type} | {ins} | {params} | {e.description} |")
    return "\n".join(rows)


# -- optimizers and learning-rate schedules (the project settings panel is driven by these too) -----------------
OPTIMIZERS: dict[str, tuple] = {
    "sgd": ("SGD", (P_float("learning_rate", 0.01, 0.0, None, lo_ex=True), P_float("momentum", 0.0, 0.0, 1.0),
                    P_bool("nesterov", False))),
    "adam": ("Adam", (P_float("learning_rate", 0.001, 0.0, None, lo_ex=True), P_float("beta_1", 0.9, 0.0, 1.0, hi_ex=True),
                      P_float("beta_2", 0.999, 0.0, 1.0, hi_ex=True), P_float("epsilon", 1e-7, 0.0, None, lo_ex=True),
                      P_bool("amsgrad", False))),
    "adamw": ("AdamW", (P_float("learning_rate", 0.001, 0.0, None, lo_ex=True), P_float("weight_decay", 0.004, 0.0, None),
                        P_float("beta_1", 0.9, 0.0, 1.0, hi_ex=True), P_float("beta_2", 0.999, 0.0, 1.0, hi_ex=True))),
    "rmsprop": ("RMSprop", (P_float("learning_rate", 0.001, 0.0, None, lo_ex=True), P_float("rho", 0.9, 0.0, 1.0),
                            P_float("momentum", 0.0, 0.0, 1.0), P_bool("centered", False))),
    "adagrad": ("Adagrad", (P_float("learning_rate", 0.001, 0.0, None, lo_ex=True),
                            P_float("initial_accumulator_value", 0.1, 0.0, None))),
    "adadelta": ("Adadelta", (P_float("learning_rate", 0.001, 0.0, None, lo_ex=True), P_float("rho", 0.95, 0.0, 1.0))),
    "nadam": ("Nadam", (P_float("learning_rate", 0.001, 0.0, None, lo_ex=True), P_float("beta_1", 0.9, 0.0, 1.0, hi_ex=True),
                        P_float("beta_2", 0.999, 0.0, 1.0, hi_ex=True))),
}
SCHEDULES: dict[str, tuple] = {
    "none": (),
    "step": (P_int("decay_steps", 1000, 1, None, "batches between drops"), P_float("decay_rate", 0.5, 0.0, 1.0, lo_ex=True,
             doc="learning rate is multiplied by this at each drop")),
    "cosine": (P_int("decay_steps", 1000, 1, None, "batches from the start to the end of the cosine"),
               P_float("alpha", 0.0, 0.0, 1.0, doc="final learning rate as a fraction of the initial one")),
    "plateau": (P_float("factor", 0.5, 0.0, 1.0, lo_ex=True, hi_ex=True, doc="multiplier when validation loss stalls"),
                P_int("patience", 3, 1, None, "epochs without improvement before the drop"),
                P_float("min_lr", 1e-6, 0.0, None)),
}
