"""Pretrained bases: keras.applications architectures with ImageNet weights, fetched the way Keras does it.

Keras downloads ImageNet weights once into its cache (``$KERAS_HOME/models`` or ``~/.keras/models``) under
fixed file names. ``load_base`` looks there first (so a machine that has run Keras online before, or a file
copied into the cache, works offline); when the file is missing it downloads it only if the network answers
within a few seconds (and with a socket timeout, so a stalled download ends; see core.downloads). Offline and
not cached, it raises ``WeightsUnavailable`` (a ModelFileError) saying where the file was expected, and the
caller offers a local weights file or random weights — never a hang or a traceback.

``add_pretrained_base`` puts the base into a graph as one group node (see core.groups), with an Input node of
the base's shape and, where the architecture expects it, the matching input preprocessing as layers.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import downloads
from .errors import ModelFileError

GS = "https://storage.googleapis.com/tensorflow/keras-applications/"
# (mean, std) per RGB channel of the "caffe" and "torch" preprocessing modes of keras.applications
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Arch:
    name: str            # the keras.applications function
    default_size: int
    min_size: int
    preprocess: str      # "tf" (to [-1, 1]) | "caffe" (BGR, mean subtracted) | "torch" | "none" (inside the model)
    stem: str            # weights file name before the top/no-top suffix
    url: str             # folder the weights are downloaded from
    top_suffix: str = ".h5"
    notop_suffix: str = "_notop.h5"
    alphas: tuple = ()
    description: str = ""


ARCHITECTURES = {a.name: a for a in [
    Arch("MobileNetV2", 224, 32, "tf", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels", GS + "mobilenet_v2/",
         alphas=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4), description="3.5 M params, fast; inputs 96-224 px"),
    Arch("MobileNetV3Small", 224, 32, "none", "weights_mobilenet_v3_small_224", GS + "mobilenet_v3/",
         alphas=(0.75, 1.0), description="small and fast, preprocessing built in"),
    Arch("ResNet50", 224, 32, "caffe", "resnet50_weights_tf_dim_ordering_tf_kernels", GS + "resnet/",
         description="25.6 M params, a classic residual network"),
    Arch("EfficientNetB0", 224, 32, "none", "efficientnetb0", "https://storage.googleapis.com/keras-applications/",
         description="5.3 M params, preprocessing built in"),
    Arch("VGG16", 224, 32, "caffe", "vgg16_weights_tf_dim_ordering_tf_kernels", GS + "vgg16/",
         description="138 M params with the top, simple stack of 3×3 convolutions"),
    Arch("DenseNet121", 224, 32, "torch", "densenet121_weights_tf_dim_ordering_tf_kernels", GS + "densenet/",
         description="8 M params, densely connected blocks"),
    Arch("InceptionV3", 299, 75, "tf", "inception_v3_weights_tf_dim_ordering_tf_kernels", GS + "inception_v3/",
         description="23.9 M params; inputs 299 px by default"),
    Arch("Xception", 299, 71, "tf", "xception_weights_tf_dim_ordering_tf_kernels", GS + "xception/",
         description="22.9 M params; inputs 299 px by default"),
]}


class WeightsUnavailable(ModelFileError):
    """ImageNet weights are neither in Keras' cache nor downloadable. ``path``: where the file was expected."""

    def __init__(self, message, arch, path, url):
        super().__init__(message)
        self.arch, self.path, self.url = arch, Path(path), url


def get_arch(name) -> Arch:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ModelFileError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}") from None


def weights_file_name(arch, include_top=False, input_shape=None, alpha=None) -> str:
    """The file name keras.applications uses for these ImageNet weights."""
    a = get_arch(arch) if isinstance(arch, str) else arch
    if a.name == "MobileNetV2":
        alpha = 1.0 if alpha is None else float(alpha)
        rows = int(input_shape[0]) if input_shape else 224
        if rows not in (96, 128, 160, 192, 224):
            rows = 224  # Keras loads the 224 weights then (with a warning)
        return f"{a.stem}_{alpha}_{rows}{'' if include_top else '_no_top'}.h5"
    if a.name == "MobileNetV3Small":
        alpha = 1.0 if alpha is None else float(alpha)
        return f"{a.stem}_{alpha}_float{'' if include_top else '_no_top_v2'}.h5"
    return a.stem + (a.top_suffix if include_top else a.notop_suffix)


def weights_url(arch, **kw) -> str:
    a = get_arch(arch) if isinstance(arch, str) else arch
    return a.url + weights_file_name(a, **kw)


def cached_weights(arch, **kw) -> Path | None:
    name = weights_file_name(arch, **kw)
    for d in downloads.cache_dirs():
        p = d / "models" / name
        if p.is_file() and p.stat().st_size > 0:
            return p
    return None


def resolve_weights(arch, weights="imagenet", *, include_top=False, input_shape=None, alpha=None,
                    allow_download=True, timeout=30.0):
    """The weights argument for keras.applications: a local file path, or None for random weights."""
    a = get_arch(arch)
    if weights in (None, "random", "none"):
        return None
    if weights != "imagenet":
        p = Path(os.path.expanduser(str(weights)))
        if not p.is_file():
            raise ModelFileError(f"{p}: no such weights file")
        return str(p)
    kw = {"include_top": include_top, "input_shape": input_shape, "alpha": alpha}
    if a.alphas and alpha is not None and float(alpha) not in a.alphas:
        raise ModelFileError(f"{a.name}: ImageNet weights exist for alpha {', '.join(str(x) for x in a.alphas)}; "
                             f"got {alpha}")
    hit = cached_weights(a.name, **kw)
    if hit:
        return str(hit)
    name, url = weights_file_name(a, **kw), weights_url(a, **kw)
    expected = downloads.cache_dirs()[0] / "models" / name
    if not allow_download or not downloads.online():
        raise WeightsUnavailable(
            f"ImageNet weights for {a.name} are not in Keras' cache ({expected}) and cannot be downloaded: no "
            f"network. Choose a local weights file (this is {url}), or use random weights",
            a.name, expected, url)
    try:
        return str(downloads.fetch_into_cache(url, name, "models", timeout))
    except Exception as e:
        raise WeightsUnavailable(f"ImageNet weights for {a.name} could not be downloaded from {url} ({e}). "
                                 f"Choose a local weights file, or use random weights", a.name, expected, url) from None


def load_base(arch, weights="imagenet", *, include_top=False, input_shape=None, alpha=None, pooling=None,
              classes=1000, allow_download=True, timeout=30.0, name=None):
    """A keras.applications model with ImageNet weights (cache / download), a local weights file, or random
    weights (``weights=None``). Raises ModelFileError / WeightsUnavailable with a one-line message."""
    from .tfload import import_keras
    keras = import_keras()
    a = get_arch(arch)
    if input_shape is not None:
        input_shape = tuple(int(d) for d in input_shape)
        if len(input_shape) != 3 or input_shape[2] != 3 or min(input_shape[:2]) < a.min_size:
            raise ModelFileError(f"{a.name} needs colour images of at least {a.min_size}×{a.min_size}×3; "
                                 f"got an input of {'×'.join(map(str, input_shape))}")
    if include_top and input_shape is not None and tuple(input_shape[:2]) != (a.default_size, a.default_size):
        raise ModelFileError(f"{a.name} with its classifier top needs {a.default_size}×{a.default_size}×3 inputs; "
                             f"got {'×'.join(map(str, input_shape))} (leave the top out, or resize)")
    path = resolve_weights(a.name, weights, include_top=include_top, input_shape=input_shape, alpha=alpha,
                           allow_download=allow_download, timeout=timeout)
    kw = {"include_top": include_top, "weights": None, "input_shape": input_shape, "pooling": pooling}
    if include_top:
        kw["classes"] = classes
    if alpha is not None:
        kw["alpha"] = alpha
    if name:
        kw["name"] = name
    try:
        model = getattr(keras.applications, a.name)(**kw)
    except (TypeError, ValueError) as e:
        from .layers import plain_error
        raise ModelFileError(f"{a.name}: {plain_error(e)}") from None
    if path is not None:
        try:
            model.load_weights(path)
        except Exception as e:
            from .layers import plain_error
            raise ModelFileError(f"{Path(path).name}: these weights do not fit {a.name} "
                                 f"({'with' if include_top else 'without'} top, input {model.input_shape[1:]}): "
                                 f"{plain_error(e)}") from None
    return model


def preprocessing_nodes(graph, arch, source, pos=(0.0, 0.0)):
    """Add the layers that turn 0-255 RGB pixels into what the architecture's weights expect; returns the
    last node's id (``source`` when none is needed). "tf": Rescaling to [-1, 1]; "caffe" and "torch": a
    frozen 1×1 convolution that reorders / scales the channels and subtracts the mean (exact, and it
    exports as an ordinary layer)."""
    import numpy as np
    a = get_arch(arch)
    x, y = pos
    if a.preprocess == "tf":
        n = graph.add_node("Rescaling", {"scale": 1 / 127.5, "offset": -1.0}, name=graph.unique_name("preprocess"),
                           pos=(x, y))
        graph.connect(source, n.id, 0)
        return n.id
    if a.preprocess in ("caffe", "torch"):
        if a.preprocess == "caffe":   # RGB -> BGR, minus the ImageNet mean
            kernel = np.zeros((1, 1, 3, 3), "float32")
            for i in range(3):
                kernel[0, 0, i, 2 - i] = 1.0
            bias = -np.array(CAFFE_MEAN_BGR, "float32")
        else:                          # /255, minus mean, / std
            std = np.array(TORCH_STD, "float32")
            kernel = np.zeros((1, 1, 3, 3), "float32")
            for i in range(3):
                kernel[0, 0, i, i] = 1.0 / (255.0 * std[i])
            bias = -np.array(TORCH_MEAN, "float32") / std
        n = graph.add_node("Conv2D", {"filters": 3, "kernel_size": [1, 1], "activation": None},
                           name=graph.unique_name(f"preprocess_{a.preprocess}"), pos=(x, y),
                           settings={"trainable": False, "pretrained": True})
        n.weights = [kernel, bias]
        graph.connect(source, n.id, 0)
        return n.id
    return source


def add_pretrained_base(graph, arch, weights="imagenet", *, include_top=False, input_shape=None, alpha=None,
                        pooling=None, frozen=True, source=None, preprocessing=True, pos=(60.0, 200.0), **kw):
    """Add a keras.applications base as one group node. Without ``source`` an Input node of the base's shape
    is added. Returns {"input", "preprocess", "base"} node ids."""
    a = get_arch(arch)
    shape = tuple(input_shape) if input_shape else (a.default_size, a.default_size, 3)
    model = load_base(a.name, weights, include_top=include_top, input_shape=shape, alpha=alpha, pooling=pooling, **kw)
    from .groups import add_model_node
    x, y = pos
    out = {"input": None, "preprocess": None}
    if source is None:
        inp = graph.add_node("Input", {"shape": list(shape), "dtype": "float32"}, name=graph.unique_name("image"),
                             pos=(x, y))
        source = out["input"] = inp.id
        x += 220.0
    if preprocessing:
        last = preprocessing_nodes(graph, a.name, source, pos=(x, y))
        if last != source:
            out["preprocess"] = last
            source = last
            x += 220.0
    base = add_model_node(graph, model, pos=(x, y), source=source, trainable=not frozen)
    out["base"] = base.id
    return out


def add_base_from_file(graph, path, *, trust=False, frozen=True, source=None, pos=(60.0, 200.0)):
    """Add the model in a .h5/.keras file as one group node (with an Input of its shape unless ``source``)."""
    from .groups import add_model_node
    from .transfer import load_keras_model
    model = load_keras_model(path, trust)
    x, y = pos
    out = {"input": None}
    if source is None:
        if len(model.inputs) != 1:
            raise ModelFileError(f"{Path(path).name}: the model has {len(model.inputs)} inputs; a base has one")
        shape = [None if d is None else int(d) for d in model.inputs[0].shape[1:]]
        dtype = str(model.inputs[0].dtype).replace("tf.", "")
        inp = graph.add_node("Input", {"shape": shape, "dtype": dtype if dtype in ("float32", "int32", "int64") else "float32"},
                             name=graph.unique_name("input"), pos=(x, y))
        source = out["input"] = inp.id
        x += 220.0
    base = add_model_node(graph, model, pos=(x, y), source=source, trainable=not frozen)
    out["base"] = base.id
    if trust:   # the person trusted this file just now: its code runs in this session (never saved)
        from .trust import node_code, set_trusted
        if node_code(base):
            set_trusted(graph)
    return out
