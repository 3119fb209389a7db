"""Datasets Layerwise trains on, all offline: scikit-learn's bundled sets, generated sequence tasks, CSV, NPZ,
image folders and the classic Keras datasets (from Keras' own cache).

``load_dataset(project.data)`` returns a :class:`Dataset` with seeded train/validation/test splits. Feature values
stay raw (digits pixels 0-16, CSV numbers as written): normalisation belongs inside the model (``Rescaling`` or a
``Normalization`` layer adapted on the training split), so a trained model takes samples exactly as the data gives them.

Every problem with the input raises :class:`~core.errors.DataError` with one line naming the file, column, array or
setting. Keras/TensorFlow are imported only by the sources that need them (image folders, the fit check).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import math

import numpy as np

from .errors import DataError


# -- data classes --------------------------------------------------------------------------------------------------
@dataclass
class Split:
    x: list | None                      # one array per network input, in dataset input order
    y: list | None                      # one array per network output
    tf_dataset: object = None           # for streamed sources (image folder): a tf.data.Dataset of (x, y) batches
    n: int = 0                          # number of samples


@dataclass
class Dataset:
    name: str
    train: Split
    val: Split | None
    test: Split | None
    input_shapes: list                  # per-sample shapes, e.g. [(8, 8, 1)]
    output_shapes: list                 # per-sample target shapes, e.g. [()] for integer class labels
    input_names: list
    output_names: list
    tasks: list                         # per output: "multiclass" | "binary" | "regression"
    class_names: list                   # per output: list of names, or None for regression
    num_classes: list                   # per output: int, or None for regression
    description: str = ""
    input_dtypes: list = field(default_factory=list)   # per input: "float32" | "int32" (token ids)
    feature_names: list | None = None   # CSV: the feature columns, in order

    @property
    def splits(self):
        """(name, split) for each split that exists."""
        return [(k, s) for k, s in (("train", self.train), ("val", self.val), ("test", self.test)) if s is not None]

    @property
    def streamed(self):
        return self.train.tf_dataset is not None

    def summary(self):
        """One line: 'digits: 1257/270/270 samples, input (8, 8, 1), 10 classes'."""
        ns = "/".join(str(s.n) if s is not None else "0" for s in (self.train, self.val, self.test))
        ins = ", ".join(f"{n} {_shape_str(s)}" for n, s in zip(self.input_names, self.input_shapes))
        outs = []
        for name, task, k in zip(self.output_names, self.tasks, self.num_classes):
            outs.append(f"{name}: {k} classes" if k else f"{name}: {task}")
        return f"{self.name}: {ns} train/val/test samples; inputs {ins}; outputs {'; '.join(outs)}"


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


# -- names ---------------------------------------------------------------------------------------------------------
SKLEARN_SETS = ("digits", "iris", "wine", "breast_cancer")
GENERATED_TASKS = ("match_last", "recall", "marked_sum", "parity", "count_ones", "sum_sign", "two_inputs", "two_heads")
KERAS_SETS = ("mnist", "fashion_mnist", "cifar10", "imdb")
SOURCES = ("builtin", "generated", "csv", "npz", "image_folder", "keras")


def builtin_names() -> list:
    """Names a project can use without a file: scikit-learn sets, generated tasks, Keras datasets."""
    return list(SKLEARN_SETS) + list(GENERATED_TASKS) + list(KERAS_SETS)


def source_of(name):
    """The spec source for a builtin name ("digits" -> "builtin", "parity" -> "generated", "mnist" -> "keras")."""
    if name in SKLEARN_SETS:
        return "builtin"
    if name in GENERATED_TASKS:
        return "generated"
    if name in KERAS_SETS:
        return "keras"
    return None


# -- entry point ---------------------------------------------------------------------------------------------------
def load_dataset(spec: dict, base_dir: Path | None = None, *, seed: int | None = None) -> Dataset:
    """Load the dataset described by ``spec`` (a project's ``data`` dict).

    Relative file paths are resolved against ``base_dir`` (the project's folder). The split seed is the spec's
    ``"seed"``, else ``seed``, else 0. Raises DataError naming the file/column/array/setting on bad input.
    """
    if not isinstance(spec, dict):
        raise DataError(f"data settings must be a mapping with a 'source', got {type(spec).__name__}")
    spec = dict(spec)
    source = spec.get("source")
    name = spec.get("name")
    if source is None and name is not None:
        source = source_of(name)
    if source == "builtin" and name in GENERATED_TASKS:
        source = "generated"
    if source == "builtin" and name in KERAS_SETS:
        source = "keras"
    split_seed = spec.get("seed", seed if seed is not None else 0)
    try:
        split_seed = int(split_seed)
    except (TypeError, ValueError):
        raise DataError(f"data setting 'seed' must be an integer, got {split_seed!r}") from None
    spec["seed"] = split_seed
    loaders = {"builtin": _load_builtin, "generated": _load_generated, "csv": _load_csv, "npz": _load_npz,
               "image_folder": _load_image_folder, "keras": _load_keras}
    if source not in loaders:
        raise DataError(f"data setting 'source' is {source!r}; expected one of {', '.join(SOURCES)}")
    return loaders[source](spec, Path(base_dir) if base_dir is not None else None)


# -- splitting -----------------------------------------------------------------------------------------------------
def _fractions(spec, default_val=0.15, default_test=0.15):
    out = []
    for key, default in (("validation_split", default_val), ("test_split", default_test)):
        v = spec.get(key, default)
        if v is None:
            v = 0.0
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise DataError(f"data setting '{key}' must be a number between 0 and 1, got {v!r}")
        if not 0.0 <= v < 1.0:
            raise DataError(f"data setting '{key}' is {v}; it must be at least 0 and less than 1")
        out.append(float(v))
    if out[0] + out[1] >= 1.0:
        raise DataError(f"data settings 'validation_split' ({out[0]}) and 'test_split' ({out[1]}) add up to "
                        f"{out[0] + out[1]:g}: nothing is left for training (they must add up to less than 1)")
    return out


def split_indices(n, val_frac, test_frac, seed=0, strata=None):
    """Seeded (train, val, test) index arrays. With ``strata`` (integer labels) every class is split in the same
    proportions (each class keeps at least one training sample). Each part is shuffled."""
    rng = np.random.default_rng(seed)
    if strata is None:
        groups = [np.arange(n)]
    else:
        strata = np.asarray(strata)
        groups = [np.flatnonzero(strata == c) for c in np.unique(strata)]
    sizes = [len(g) for g in groups]
    n_tests, n_vals = _allocate(sizes, test_frac), _allocate(sizes, val_frac)
    tr, va, te = [], [], []
    for idx, m, n_test, n_val in zip(groups, sizes, n_tests, n_vals):
        idx = rng.permutation(idx)
        while n_test + n_val >= m and (n_test or n_val):   # keep at least one training sample of each class
            if n_val >= n_test and n_val:
                n_val -= 1
            else:
                n_test -= 1
        te.append(idx[:n_test])
        va.append(idx[n_test:n_test + n_val])
        tr.append(idx[n_test + n_val:])
    parts = [rng.permutation(np.concatenate(p)).astype(np.int64) for p in (tr, va, te)]
    return tuple(parts)


def _allocate(sizes, frac):
    """Per-group counts that add up to round(total * frac), each group getting its share (largest remainders)."""
    total = int(math.floor(sum(sizes) * frac + 0.5))
    base = [int(math.floor(m * frac)) for m in sizes]
    order = sorted(range(len(sizes)), key=lambda i: -(sizes[i] * frac - base[i]))
    for i in order[:max(0, total - sum(base))]:
        base[i] += 1
    return base


def _make_splits(xs, ys, spec, tasks, default_val=0.15, default_test=0.15, name="dataset"):
    """Split arrays (all with the same first axis) into train/val/test Splits (stratified on the first
    classification output)."""
    val_frac, test_frac = _fractions(spec, default_val, default_test)
    n = len(xs[0])
    strata = None
    for y, task in zip(ys, tasks):
        if task != "regression":
            strata = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
            break
    tr, va, te = split_indices(n, val_frac, test_frac, spec.get("seed", 0), strata)
    if len(tr) == 0:
        raise DataError(f"{name}: the split leaves no training samples ({n} samples, validation_split {val_frac}, "
                        f"test_split {test_frac})")

    def take(idx):
        if len(idx) == 0:
            return None
        return Split(x=[a[idx] for a in xs], y=[a[idx] for a in ys], n=int(len(idx)))
    return take(tr), take(va), take(te)


def _classes_of(y):
    """(task, num_classes) for integer labels 0..K-1."""
    k = int(y.max()) + 1 if len(y) else 0
    return ("binary" if k == 2 else "multiclass"), k


# -- scikit-learn sets ---------------------------------------------------------------------------------------------
def _load_builtin(spec, base_dir):
    name = spec.get("name")
    if name not in SKLEARN_SETS:
        raise DataError(f"data setting 'name' is {name!r}; built-in datasets are {', '.join(SKLEARN_SETS)} "
                        f"(generated tasks: {', '.join(GENERATED_TASKS)}; Keras datasets: {', '.join(KERAS_SETS)})")
    from sklearn import datasets as skd
    loader = {"digits": skd.load_digits, "iris": skd.load_iris, "wine": skd.load_wine,
              "breast_cancer": skd.load_breast_cancer}[name]
    bunch = loader()
    y = np.asarray(bunch.target, dtype=np.int32)
    class_names = [str(c) for c in bunch.target_names]
    feature_names = [str(f) for f in getattr(bunch, "feature_names", [])] or None
    if name == "digits":
        form = spec.get("form", "images")
        if form == "images":
            x = np.asarray(bunch.images, dtype=np.float32)[..., None]
            input_name = "pixels"
            feature_names = None
        elif form == "flat":
            x = np.asarray(bunch.data, dtype=np.float32)
            input_name = "pixels"
        else:
            raise DataError(f"data setting 'form' is {form!r}; digits comes as 'images' (8, 8, 1) or 'flat' (64,)")
        desc = ("scikit-learn's 8×8 handwritten digits (1,797 samples, 10 classes); raw pixel values 0-16 "
                + ("as 8×8×1 images" if form == "images" else "as 64 values per sample"))
        output_name = "digit"
    else:
        x = np.asarray(bunch.data, dtype=np.float32)
        input_name = "features"
        output_name = {"iris": "species", "wine": "cultivar", "breast_cancer": "diagnosis"}[name]
        desc = {"iris": "Fisher's iris flowers: 4 measurements (cm), 3 species, 150 samples",
                "wine": "wine recognition: 13 chemical measurements, 3 cultivars, 178 samples",
                "breast_cancer": "Wisconsin breast cancer: 30 cell-nucleus features, malignant/benign, 569 samples"}[name]
    task, k = _classes_of(y)
    train, val, test = _make_splits([x], [y], spec, [task], name=name)
    return Dataset(name=name, train=train, val=val, test=test, input_shapes=[tuple(x.shape[1:])],
                   output_shapes=[()], input_names=[input_name], output_names=[output_name], tasks=[task],
                   class_names=[class_names], num_classes=[k], description=desc, input_dtypes=["float32"],
                   feature_names=feature_names)


# -- fitting a dataset to a graph ----------------------------------------------------------------------------------
CLASS_LOSSES = {"sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy"}


def _graph_of(graph):
    return getattr(graph, "graph", graph)   # accept a Project


def _model_io(graph):
    """Input and Output nodes in the order build_model gives the model's inputs/outputs (topological)."""
    order = graph.topological_order(strict=False)
    ins = [graph.nodes[k] for k in order if graph.nodes[k].type == "Input"]
    outs = [graph.nodes[k] for k in order if graph.nodes[k].type == "Output"]
    return ins, outs


def _pair(names, nodes):
    """Dataset index for each node: by name when every node name is a dataset name, else by position."""
    node_names = [n.name for n in nodes]
    if len(set(node_names)) == len(node_names) and all(nm in names for nm in node_names):
        return [names.index(nm) for nm in node_names]
    return list(range(len(nodes)))


def _shape_fits(data_shape, node_shape):
    if len(data_shape) != len(node_shape):
        return False
    return all(b is None or a is None or int(a) == int(b) for a, b in zip(data_shape, node_shape))


def _output_shape(graph, out_node, info):
    """Per-sample shape (no batch axis) of what feeds the Output node, or None when unknown."""
    if info is None:
        return None
    ni = info.nodes.get(out_node.id)
    shape = getattr(ni, "shape", None) if ni is not None else None
    if shape is None or isinstance(shape, list):
        return None
    return tuple(shape[1:])


def check_fit(dataset: Dataset, graph, info=None) -> list:
    """Messages (empty when fine) where the dataset does not fit the graph's Input and Output nodes.

    ``info`` is an optional shape-inference Result for the graph (computed when not given)."""
    graph = _graph_of(graph)
    ins, outs = _model_io(graph)
    msgs = []
    if len(ins) != len(dataset.input_names):
        msgs.append(f"dataset gives {len(dataset.input_names)} input(s) ({', '.join(dataset.input_names)}), the graph "
                    f"has {len(ins)} Input node(s) ({', '.join(repr(n.name) for n in ins) or 'none'})")
    else:
        for n, i in zip(ins, _pair(dataset.input_names, ins)):
            want = tuple(n.params.get("shape") or ())
            have = tuple(dataset.input_shapes[i])
            if not _shape_fits(have, want):
                extra = f" (dataset input '{dataset.input_names[i]}')" if len(ins) > 1 else ""
                msgs.append(f"dataset gives {_shape_str(have)} per sample{extra}, Input '{n.name}' expects "
                            f"{_shape_str(want)}")
    if len(outs) != len(dataset.output_names):
        msgs.append(f"dataset gives {len(dataset.output_names)} target(s) ({', '.join(dataset.output_names)}), the "
                    f"graph has {len(outs)} Output node(s) ({', '.join(repr(n.name) for n in outs) or 'none'})")
        return msgs
    if info is None and outs:
        try:
            from .infer import Inference
            info = Inference().run(graph)
        except Exception:   # shape problems are reported by the graph check itself
            info = None
    for n, i in zip(outs, _pair(dataset.output_names, outs)):
        msgs.extend(_check_output(dataset, i, n, _output_shape(graph, n, info)))
    return msgs


def _check_output(ds, i, node, shape):
    loss = node.params.get("loss", "sparse_categorical_crossentropy")
    task, k, tname = ds.tasks[i], ds.num_classes[i], ds.output_names[i]
    units = None
    if shape is not None:
        units = int(np.prod(shape)) if all(d is not None for d in shape) else None
    out = []
    if task == "regression":
        if loss in CLASS_LOSSES:
            out.append(f"Output '{node.name}' uses {loss} (classification) but the dataset's target '{tname}' is "
                       f"numeric (regression): use mean_squared_error, mean_absolute_error or huber")
        elif shape is not None:
            want = tuple(ds.output_shapes[i])
            if not (_shape_fits(want, shape) or (want in ((), (1,)) and tuple(shape) in ((), (1,)))):
                out.append(f"dataset target '{tname}' is {_shape_str(want)} per sample, Output '{node.name}' gets "
                           f"{_shape_str(tuple(shape))}")
        return out
    # classification target
    if loss == "binary_crossentropy":
        if k != 2:
            out.append(f"Output '{node.name}' uses binary_crossentropy but the dataset's target '{tname}' has {k} "
                       f"classes: use sparse_categorical_crossentropy with {k} softmax units")
        elif units is not None and units != 1:
            out.append(f"dataset has 2 classes (binary), Output '{node.name}' gets {units} values: binary_crossentropy "
                       f"needs 1 sigmoid unit (or use sparse_categorical_crossentropy with 2 softmax units)")
        return out
    if loss in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        if units is not None and units != k:
            out.append(f"dataset has {k} classes, Output '{node.name}' gets {units} values"
                       + (f" (the target '{tname}' needs {k} softmax units)" if units > 0 else ""))
        return out
    # a regression loss on class labels: fine when it gets one value per class (one-hot) or one value (label)
    if units is not None and units not in (1, k):
        out.append(f"dataset has {k} classes, Output '{node.name}' gets {units} values")
    return out


def _target_for(y, task, k, loss, shape):
    units = None
    if shape is not None and all(d is not None for d in shape):
        units = int(np.prod(shape))
    if task == "regression":
        y = np.asarray(y, dtype=np.float32)
        if shape is not None and tuple(shape) != tuple(y.shape[1:]) and units == int(np.prod(y.shape[1:])):
            y = y.reshape((len(y),) + tuple(shape))
        return y
    if loss == "categorical_crossentropy" or (loss not in CLASS_LOSSES and units == k and k and k > 1):
        return np.eye(k, dtype=np.float32)[np.asarray(y, dtype=np.int64).reshape(len(y))]
    if loss == "binary_crossentropy" or loss not in CLASS_LOSSES:
        y = np.asarray(y, dtype=np.float32).reshape(len(y))
        if shape is not None and len(shape) >= 1:
            y = y.reshape((len(y),) + tuple(d or 1 for d in shape))
        return y
    return np.asarray(y, dtype=np.int32).reshape(len(y))


def arrays_for_model(dataset: Dataset, split: Split, graph, info=None):
    """(x, y) for ``model.fit``/``evaluate``: lists ordered like the built model's inputs and outputs (Input and
    Output nodes in topological order, as ``build_model`` orders them), matched by node name when the dataset's
    names match, else by position. Targets are shaped for each Output's loss (one-hot for
    categorical_crossentropy, (N, 1) floats for binary_crossentropy). Single input/output come unwrapped.

    For a streamed split (image folder) it returns ``(tf_dataset, None)`` with the targets mapped the same way."""
    graph = _graph_of(graph)
    if split is None:
        return None, None
    ins, outs = _model_io(graph)
    in_idx = _pair(dataset.input_names, ins) if len(ins) == len(dataset.input_names) else list(range(len(ins)))
    out_idx = _pair(dataset.output_names, outs) if len(outs) == len(dataset.output_names) else list(range(len(outs)))
    if any(i >= len(dataset.input_names) for i in in_idx) or any(i >= len(dataset.output_names) for i in out_idx):
        raise DataError("; ".join(check_fit(dataset, graph, info)) or "the dataset does not fit the graph")
    shapes = []
    need_info = any(n.params.get("loss") not in ("sparse_categorical_crossentropy",) for n in outs)
    if need_info and info is None:
        try:
            from .infer import Inference
            info = Inference().run(graph)
        except Exception:
            info = None
    for n in outs:
        shapes.append(_output_shape(graph, n, info) if need_info else None)
    if split.tf_dataset is not None:
        return _map_stream(dataset, split, ins, outs, in_idx, out_idx, shapes), None
    xs = []
    for n, i in zip(ins, in_idx):
        a = split.x[i]
        dt = n.params.get("dtype", "float32")
        if dt.startswith("int") and a.dtype.kind == "f":
            a = a.astype(dt)
        elif a.dtype.kind == "b":
            a = a.astype(np.float32)
        # uint8 images and int token ids go as they are: Keras casts each batch to the Input's dtype
        xs.append(a)
    ys = [_target_for(split.y[i], dataset.tasks[i], dataset.num_classes[i],
                      n.params.get("loss", "sparse_categorical_crossentropy"), shp)
          for n, i, shp in zip(outs, out_idx, shapes)]
    return (xs[0] if len(xs) == 1 else xs), (ys[0] if len(ys) == 1 else ys)


def _map_stream(dataset, split, ins, outs, in_idx, out_idx, shapes):
    """Map a streamed (x, y) dataset's targets like ``_target_for``."""
    from .tfload import import_keras
    import_keras()
    import tensorflow as tf
    n, i, shp = outs[0], out_idx[0], shapes[0]
    loss = n.params.get("loss", "sparse_categorical_crossentropy")
    k = dataset.num_classes[i]
    ds = split.tf_dataset
    if loss == "categorical_crossentropy" or (loss not in CLASS_LOSSES and shp is not None and shp and shp[-1] == k):
        return ds.map(lambda x, y: (x, tf.one_hot(tf.cast(y, tf.int32), k)),
                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    if loss == "binary_crossentropy" or loss not in CLASS_LOSSES:
        return ds.map(lambda x, y: (x, tf.reshape(tf.cast(y, tf.float32), (-1, 1))),
                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    return ds


# -- generated sequence tasks --------------------------------------------------------------------------------------
def _int_setting(spec, key, default, lo, hi, what=""):
    v = spec.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v:
        raise DataError(f"data setting '{key}' must be a whole number, got {v!r}")
    v = int(v)
    if not lo <= v <= hi:
        raise DataError(f"data setting '{key}' is {v}; it must be between {lo} and {hi}{what}")
    return v


def _finish(name, spec, xs, ys, input_names, output_names, tasks, class_names, desc, input_dtypes=None,
            default_val=0.15, default_test=0.15, feature_names=None):
    """Split arrays and wrap them in a Dataset (classification outputs hold int labels 0..K-1)."""
    train, val, test = _make_splits(xs, ys, spec, tasks, default_val, default_test, name=name)
    return Dataset(name=name, train=train, val=val, test=test,
                   input_shapes=[tuple(a.shape[1:]) for a in xs], output_shapes=[tuple(a.shape[1:]) for a in ys],
                   input_names=list(input_names), output_names=list(output_names), tasks=list(tasks),
                   class_names=[list(c) if c is not None else None for c in class_names],
                   num_classes=[len(c) if c is not None else None for c in class_names], description=desc,
                   input_dtypes=input_dtypes or [("int32" if a.dtype.kind in "iu" else "float32") for a in xs],
                   feature_names=feature_names)


def _gen_match_last(spec, rng, n):
    """Which earlier position holds the token that the last position repeats?

    Each sample is ``seq_len`` tokens from a vocabulary of ``vocab``: the first seq_len-1 are all different, the last
    one repeats one of them. Input 'tokens' is (seq_len, vocab + seq_len) floats: a one-hot token followed by a
    one-hot position (attention layers see no order by themselves, so the position is part of the input). Label
    'position': the index (0..seq_len-2) of the earlier token equal to the last one.

    Measured (defaults: seq_len 10, vocab 32, 4,000 samples, 70% for training, batch 32, 2 CPU cores, about 1 s an
    epoch): Input → MultiHeadAttention(2 heads, key_dim 16, self-attention) → Flatten → Dense(9, softmax) reaches
    1.00 validation accuracy. Learning has a plateau at chance (0.11) and then jumps: with Adam 3e-3 the jump came
    at epoch 4-6 for three seeds, with Adam 1e-3 at epoch 12-14 — use 3e-3 and 15-20 epochs. A dense net
    (Flatten → Dense 128 relu → Dense 64 relu → Dense 9) reaches only about 0.22 in 20 epochs: comparing the last
    token with each earlier one is what attention does.
    """
    L = _int_setting(spec, "seq_len", 10, 3, 200)
    V = _int_setting(spec, "vocab", 32, L - 1, 10000, f" (at least seq_len - 1 = {L - 1}: earlier tokens differ)")
    tok = np.argsort(rng.random((n, V)), axis=1)[:, :L - 1]          # L-1 distinct tokens per row
    pos = rng.integers(0, L - 1, n)
    seq = np.concatenate([tok, tok[np.arange(n), pos][:, None]], axis=1)
    x = np.concatenate([np.eye(V, dtype=np.float32)[seq],
                        np.broadcast_to(np.eye(L, dtype=np.float32), (n, L, L))], axis=-1)
    desc = (f"match_last: {L} tokens (vocabulary {V}) given as one-hot token + one-hot position; the label is the "
            f"position of the earlier token that the last one repeats. Attention reaches about 1.00, a dense net "
            f"about 0.22")
    return ([x], [pos.astype(np.int32)], ["tokens"], ["position"], ["multiclass"],
            [[str(i) for i in range(L - 1)]], desc)


def _gen_recall(spec, rng, n):
    """Associative recall: rows of (key, value) token ids, then a last row (query key, 0); the label is the value
    stored with that key.

    Input 'pairs' is (seq_len, 2) int32 ids (keys 1..vocab all different, values 1..vocab, 0 = blank); label 'value'
    is the recalled value - 1 (vocab classes). Measured (seq_len 8, vocab 16, 4,000 samples, 20 epochs, about
    13 s): Embedding(17, 16) → Reshape(8, 32) → MultiHeadAttention(2, 16) → Flatten → Dense(16, softmax) reaches
    1.00 validation accuracy; Embedding → Flatten → Dense 128 → Dense 64 → Dense 16 about 0.21 (chance 0.06).
    """
    L = _int_setting(spec, "seq_len", 8, 3, 200)
    V = _int_setting(spec, "vocab", 16, L - 1, 10000, f" (at least seq_len - 1 = {L - 1}: keys differ)")
    keys = np.argsort(rng.random((n, V)), axis=1)[:, :L - 1] + 1
    vals = rng.integers(1, V + 1, (n, L - 1))
    pos = rng.integers(0, L - 1, n)
    rows = np.stack([keys, vals], axis=-1)
    last = np.stack([keys[np.arange(n), pos], np.zeros(n, dtype=keys.dtype)], axis=-1)[:, None]
    x = np.concatenate([rows, last], axis=1).astype(np.int32)
    y = (vals[np.arange(n), pos] - 1).astype(np.int32)
    desc = (f"recall: {L - 1} (key, value) token pairs then a query key; the label is the value stored with it "
            f"(vocabulary {V}). Attention reaches about 1.00, a dense net about 0.21")
    return [x], [y], ["pairs"], ["value"], ["multiclass"], [[str(i) for i in range(1, V + 1)]], desc


def _gen_marked_sum(spec, rng, n):
    """The adding problem as a yes/no question: is the sum of the two marked values greater than 1?

    Input 'signal' is (seq_len, 2) floats: channel 0 random values in [0, 1), channel 1 a marker (1 at two random
    steps, else 0). The network has to remember the first marked value until it meets the second one.
    Measured (4,000 samples, 70% training, Adam 3e-3, batch 32, 20 epochs, 2 CPU cores): at the default seq_len 30
    GRU(32) → Dense(2) reaches about 0.97 validation accuracy (about 45 s), a dense net (Flatten → Dense 128 →
    Dense 64 → Dense 2) about 0.68 (chance 0.5); at seq_len 20 LSTM(32) 0.97, GRU(32) 0.96, the dense net 0.78.
    """
    L = _int_setting(spec, "seq_len", 30, 2, 1000)
    v = rng.random((n, L))
    marks = np.argsort(rng.random((n, L)), axis=1)[:, :2]
    m = np.zeros((n, L))
    m[np.arange(n)[:, None], marks] = 1.0
    x = np.stack([v, m], axis=-1).astype(np.float32)
    y = ((v * m).sum(axis=1) > 1.0).astype(np.int32)
    desc = (f"marked_sum: {L} steps of (value, marker); is the sum of the two marked values above 1? "
            f"A GRU/LSTM reaches about 0.97, a dense net about 0.68")
    return [x], [y], ["signal"], ["above_one"], ["binary"], [["no", "yes"]], desc


def _gen_parity(spec, rng, n):
    """Is the number of ones in a (seq_len, 1) sequence of 0/1 floats odd? Hard for every network: a dense net
    memorises short sequences (seq_len 12: about 0.94 with 4,000 samples, because there are only 4,096 patterns),
    and a plain GRU(32) needs far more than 30 epochs to find the rule (0.51 in 30). Use ``marked_sum`` to show
    memory in a recurrent network; parity is the classic hard case."""
    L = _int_setting(spec, "seq_len", 12, 1, 1000)
    x = rng.integers(0, 2, (n, L, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) % 2).astype(np.int32)
    return [x], [y], ["bits"], ["odd"], ["binary"], [["even", "odd"]], \
        f"parity: is the number of ones among {L} bits odd? (hard for every network)"


def _gen_count_ones(spec, rng, n):
    """How many ones are in a (seq_len, 1) sequence of 0/1 floats? seq_len + 1 classes. An easy task (a sum):
    both a dense net and an LSTM learn it."""
    L = _int_setting(spec, "seq_len", 10, 1, 1000)
    x = (rng.random((n, L, 1)) < 0.5).astype(np.float32)
    y = x.sum(axis=(1, 2)).astype(np.int32)
    return [x], [y], ["bits"], ["count"], ["multiclass"], [[str(i) for i in range(L + 1)]], \
        f"count_ones: how many ones among {L} bits ({L + 1} classes)"


def _gen_sum_sign(spec, rng, n):
    """Is the sum of a (seq_len, 1) sequence of N(0, 1) values positive? Linear, so every network learns it; a
    first sequence example."""
    L = _int_setting(spec, "seq_len", 20, 1, 1000)
    x = rng.normal(size=(n, L, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.int32)
    return [x], [y], ["values"], ["positive"], ["binary"], [["negative", "positive"]], \
        f"sum_sign: is the sum of {L} random values positive?"


def _gen_two_inputs(spec, rng, n):
    """Two inputs, one 4-class output: 'sequence' (seq_len, 1) floats and 'features' (4,) floats.
    class = 2 * [sum of the sequence > 0] + [f0 + f1 - f2 - f3 > 0], so the network needs both inputs
    (each alone gives at most 0.5). Measured (4,000 samples, 20 epochs, about 16 s): Flatten on the sequence and
    Dense(16, relu) on the features, joined by Concatenate → Dense(32, relu) → Dense(4, softmax), reaches 0.97
    validation accuracy; the same net on one input alone about 0.5."""
    L = _int_setting(spec, "seq_len", 10, 1, 1000)
    seq = rng.normal(size=(n, L, 1)).astype(np.float32)
    feats = rng.normal(size=(n, 4)).astype(np.float32)
    y = (2 * (seq.sum(axis=(1, 2)) > 0) + (feats[:, 0] + feats[:, 1] - feats[:, 2] - feats[:, 3] > 0)).astype(np.int32)
    names = ["seq-,feat-", "seq-,feat+", "seq+,feat-", "seq+,feat+"]
    return [seq, feats], [y], ["sequence", "features"], ["label"], ["multiclass"], [names], \
        f"two_inputs: a sequence ({L}, 1) and 4 features; the 4 classes need both"


def _gen_two_heads(spec, rng, n):
    """One input, two outputs: 'features' (8,) N(0, 1) floats; 'kind' (3 classes: which of x0+x1, x2+x3, x4+x5 is
    largest) and 'size' (regression: the mean of the squares of all 8 values; standard deviation about 0.5).
    Measured (4,000 samples, 30 epochs, about 21 s): Dense 64 relu → Dense 64 relu, then a Dense(3, softmax) head
    (sparse_categorical_crossentropy) and a Dense(1) head (mean_squared_error) reach 0.99 accuracy on 'kind' and a
    mean absolute error of about 0.09 on 'size'."""
    x = rng.normal(size=(n, 8)).astype(np.float32)
    kind = np.argmax(np.stack([x[:, 0] + x[:, 1], x[:, 2] + x[:, 3], x[:, 4] + x[:, 5]], axis=1), axis=1)
    size = (x ** 2).mean(axis=1).astype(np.float32)
    return [x], [kind.astype(np.int32), size], ["features"], ["kind", "size"], ["multiclass", "regression"], \
        [["a", "b", "c"], None], "two_heads: 8 features; a 3-class head 'kind' and a regression head 'size'"


_GENERATORS = {"match_last": _gen_match_last, "recall": _gen_recall, "marked_sum": _gen_marked_sum,
               "parity": _gen_parity, "count_ones": _gen_count_ones, "sum_sign": _gen_sum_sign,
               "two_inputs": _gen_two_inputs, "two_heads": _gen_two_heads}


def _load_generated(spec, base_dir):
    name = spec.get("name")
    if name not in _GENERATORS:
        raise DataError(f"data setting 'name' is {name!r}; generated tasks are {', '.join(_GENERATORS)}")
    n = _int_setting(spec, "samples", 4000, 10, 2_000_000)
    rng = np.random.default_rng(spec.get("seed", 0))
    xs, ys, in_names, out_names, tasks, class_names, desc = _GENERATORS[name](spec, rng, n)
    for y, t, c in zip(ys, tasks, class_names):
        if t != "regression" and len(np.unique(y)) < 2:
            raise DataError(f"generated task {name!r} with {n} samples gave a single class; use more 'samples'")
    return _finish(name, spec, xs, ys, in_names, out_names, tasks, class_names, desc)


# -- files: common ------------------------------------------------------------------------------------------------
def _resolve(spec, base_dir, what):
    p = spec.get("path")
    if not p or not isinstance(p, (str, Path)):
        raise DataError(f"data setting 'path' is missing: which {what} to read")
    path = Path(p).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise DataError(f"{path}: no such {'folder' if what == 'image folder' else 'file'}")
    return path


# -- values: finite and within float32 -------------------------------------------------------------------------------
F32_MAX = float(np.finfo(np.float32).max)
_CHECK_BLOCK = 1 << 22          # values looked at in one go (keeps the temporary masks small on big arrays)


def _bad_values(a, f32=True):
    """(first bad index tuple, samples with a bad value) for NaN/inf values of a float array, and values too large
    for float32 when ``f32`` (the array is trained as float32); None when every value is fine. Checked in blocks of
    samples over the whole array."""
    if a.dtype.kind != "f" or a.size == 0 or a.ndim == 0:
        return None
    wide = f32 and a.dtype.itemsize > 4
    per = max(1, a.size // max(1, len(a)))
    step = max(1, _CHECK_BLOCK // per)
    first, samples = None, 0
    for s in range(0, len(a), step):
        block = a[s:s + step]
        bad = ~np.isfinite(block)
        if wide:
            with np.errstate(invalid="ignore"):
                bad |= np.abs(block) > F32_MAX
        if not bad.any():
            continue
        samples += int(bad.reshape(len(block), -1).any(axis=1).sum())
        if first is None:
            at = [int(i) for i in np.argwhere(bad)[0]]
            at[0] += s
            first = tuple(at)
    return None if first is None else (first, samples)


def check_values(a, where, f32=True):
    """Raise DataError when the numeric array ``a`` (samples on the first axis) holds NaN or infinite values, or
    values a float32 cannot hold. ``where`` names it, e.g. "nan.npz: array 'features'". The whole array is
    checked (before any split), and the message names the first offending sample, its index and value."""
    found = _bad_values(np.asarray(a), f32)
    if found is None:
        return
    at, samples = found
    v = a[at]
    index = f" (index [{', '.join(str(i) for i in at)}])" if len(at) > 1 else ""
    kinds = "NaN, infinite or too large values" if np.isfinite(v) else "NaN or infinite values"
    more = f"; {samples} samples in all hold {kinds}" if samples > 1 else ""
    if np.isfinite(v):
        raise DataError(f"{where} has the value {float(v):g} at sample {at[0]}{index}{more}: too large for the 32-bit "
                        f"floats Layerwise trains with (at most about 3.4e38); scale the values or drop those samples")
    what = "a NaN" if np.isnan(v) else f"an infinite value ({float(v)})"
    raise DataError(f"{where} has {what} at sample {at[0]}{index}{more}; Layerwise needs finite numbers: fix or "
                    f"drop those samples")


TASK_WORDS = ("classification", "multiclass", "binary", "regression")
MAX_AUTO_CLASSES = 20      # an integer-valued numeric target with at most this many values is taken as classes


def _task_hint(spec, target, i):
    t = spec.get("task")
    if isinstance(t, dict):
        t = t.get(target)
    elif isinstance(t, (list, tuple)):
        t = t[i] if i < len(t) else None
    if t is not None and t not in TASK_WORDS:
        raise DataError(f"data setting 'task' is {t!r}; expected one of {', '.join(TASK_WORDS)}")
    return t


def _encode_target(values, where, hint, numeric=None):
    """(y, task, class_names) for one target. ``values`` is a 1-D numpy array (numbers or strings).

    Strings → classes (sorted). Numbers → regression, unless ``hint`` says classification or the values are
    whole numbers with at most MAX_AUTO_CLASSES distinct values. Classes are mapped to 0..K-1 in sorted order
    and ``class_names[k]`` is the original value as text."""
    values = np.asarray(values)
    if numeric is None:
        numeric = values.dtype.kind in "biuf"
    if hint == "regression":
        if not numeric:
            raise DataError(f"{where} holds text, so it cannot be a regression target")
        return values.astype(np.float32), "regression", None
    if numeric and hint is None:
        v = values.astype(np.float64)
        whole = np.all(np.isfinite(v)) and np.all(v == np.round(v))
        if values.dtype.kind == "b":
            whole = True
        if not whole or len(np.unique(v)) > MAX_AUTO_CLASSES:
            return values.astype(np.float32), "regression", None
    if numeric:
        if values.dtype.kind == "b":
            uniq = [False, True] if len(np.unique(values)) == 2 else list(np.unique(values))
            names = [str(bool(u)) for u in uniq]
            y = np.searchsorted(np.asarray(uniq), values).astype(np.int32)
        else:
            v = values.astype(np.float64)
            uniq = np.unique(v)
            names = [str(int(u)) if u == int(u) else repr(float(u)) for u in uniq]
            y = np.searchsorted(uniq, v).astype(np.int32)
    else:
        strs = np.asarray([str(a) for a in values])
        uniq = np.unique(strs)
        names = [str(u) for u in uniq]
        y = np.searchsorted(uniq, strs).astype(np.int32)
    if len(names) < 2:
        raise DataError(f"{where} has a single value ({names[0]!r} in every row): a classifier needs at least two classes")
    if hint == "binary" and len(names) != 2:
        raise DataError(f"{where} has {len(names)} classes, not 2, but the data setting 'task' says binary")
    return y, ("binary" if len(names) == 2 else "multiclass"), names


# -- CSV -----------------------------------------------------------------------------------------------------------
def _parse_number(text):
    try:
        v = float(text)
    except ValueError:
        return None
    return v


def _cell(text, limit=40):
    """A CSV cell for a message: quoted, and cut when long."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text):,} characters)"


def _load_csv(spec, base_dir):
    import csv
    path = _resolve(spec, base_dir, "CSV file")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a CSV file")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path.name}: not a text file in UTF-8 (byte {e.start} cannot be read)") from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    if not raw.strip():
        raise DataError(f"{path.name} is empty: a CSV file needs a header row and data rows")
    delim = spec.get("delimiter")
    if not delim:
        try:
            delim = csv.Sniffer().sniff(raw[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delim = ","
    reader = csv.reader(raw.splitlines(), delimiter=delim)
    rows, lines = [], []
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            rows.append([c.strip() for c in row])
            lines.append(reader.line_num)
    except csv.Error as e:
        raise DataError(f"{path.name} line {reader.line_num} cannot be read as CSV ({e})") from None
    if not rows:
        raise DataError(f"{path.name} holds no values (only empty rows): a CSV file needs a header row and data rows")
    header_flag = spec.get("header")
    if header_flag is None:     # no header when every cell of the first row is a number
        header_flag = not all(_parse_number(c) is not None for c in rows[0])
    if header_flag:
        header, rows, lines = rows[0], rows[1:], lines[1:]
        header = [h or f"column_{i + 1}" for i, h in enumerate(header)]
        dup = sorted({h for h in header if header.count(h) > 1})
        if dup:
            raise DataError(f"{path.name}: the header names column(s) {', '.join(repr(d) for d in dup)} more than once")
    else:
        header = [f"column_{i + 1}" for i in range(len(rows[0]))]
    if not rows:
        raise DataError(f"{path.name} has a header ({', '.join(header)}) but no data rows")
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise DataError(f"{path.name} line {line} has {len(row)} values, the header has {len(header)} columns")
    cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    found = ", ".join(header)

    # "label" is taken as another name for "target" (when "target" is not set)
    key = "target" if "target" in spec or "label" not in spec else "label"
    targets = spec.get(key, header[-1])
    if isinstance(targets, bool) or (targets is not None and not isinstance(targets, (str, int, list, tuple))):
        raise DataError(f"data setting '{key}' is {targets!r}; it names the column to predict (or lists several); "
                        f"{path.name} has {found}")
    targets = [targets] if isinstance(targets, (str, int)) else list(targets or [])
    targets = [header[t] if isinstance(t, int) and -len(header) <= t < len(header) else t for t in targets]
    if not targets:
        raise DataError(f"data setting 'target' is empty: name the column(s) to predict ({path.name} has {found})")
    for t in targets:
        if t not in cols:
            raise DataError(f"{path.name} has no column {t!r} (the target); columns found: {found}")

    def numbers(col):
        out = np.empty(len(rows), dtype=np.float64)
        for j, (text, line) in enumerate(zip(cols[col], lines)):
            if text == "":
                raise DataError(f"{path.name}: column {col!r} is empty in line {line} (row {j + 1}); fill in a "
                                f"number or remove the row")
            v = _parse_number(text)
            if v is None:
                raise DataError(f"{path.name}: column {col!r} has text {_cell(text)} in line {line} (row {j + 1}); "
                                f"it must hold numbers")
            out[j] = v
        bad = ~np.isfinite(out) | (np.abs(out) > F32_MAX)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            more = f"; {int(bad.sum())} rows in all hold such values" if bad.sum() > 1 else ""
            raise DataError(f"{path.name}: column {col!r} has {_cell(cols[col][j])} in line {lines[j]} "
                            f"(row {j + 1}){more}; values must be finite numbers that fit 32-bit floats (at most "
                            f"about 3.4e38): fix or drop those rows")
        return out

    def looks_numeric(col):
        vals = [v for v in cols[col] if v != ""]
        ok = sum(_parse_number(v) is not None for v in vals)
        return bool(vals) and ok * 2 >= len(vals)

    features = spec.get("features")
    skipped = []
    if features:
        features = [features] if isinstance(features, str) else list(features)
        for f in features:
            if f not in cols:
                raise DataError(f"{path.name} has no column {f!r} (a feature); columns found: {found}")
            if f in targets:
                raise DataError(f"column {f!r} of {path.name} is both a feature and the target")
    else:
        features = []
        for h in header:
            if h in targets:
                continue
            (features if looks_numeric(h) else skipped).append(h)
        if not features:
            raise DataError(f"{path.name} has no numeric feature columns besides the target "
                            f"({', '.join(targets)})" + (f"; text columns: {', '.join(skipped)}" if skipped else ""))
    x = np.stack([numbers(f) for f in features], axis=1).astype(np.float32)

    ys, tasks, class_names = [], [], []
    for i, t in enumerate(targets):
        hint = _task_hint(spec, t, i)
        where = f"{path.name}: target column {t!r}"
        for j, (text, line) in enumerate(zip(cols[t], lines)):
            if text == "":
                raise DataError(f"{where} is empty in line {line} (row {j + 1})")
        numeric = all(_parse_number(v) is not None for v in cols[t])
        if hint == "regression" and not numeric:
            numbers(t)      # names the first row with text
        vals = numbers(t) if numeric else np.asarray(cols[t])
        y, task, names = _encode_target(vals, where, hint, numeric)
        ys.append(y)
        tasks.append(task)
        class_names.append(names)
    desc = (f"{path.name}: {len(rows)} rows, {len(features)} numeric feature(s); target(s) "
            + ", ".join(f"{t} ({task}{', ' + str(len(c)) + ' classes' if c else ''})"
                        for t, task, c in zip(targets, tasks, class_names)))
    if skipped:
        desc += f"; text columns left out: {', '.join(skipped)}"
    return _finish(path.stem, spec, [x], ys, ["features"], targets, tasks, class_names, desc,
                   feature_names=features)


# -- NPZ -----------------------------------------------------------------------------------------------------------
def _npz_header(npz, key):
    """(shape, dtype, stored data bytes) of array ``key`` of an open NpzFile, read from its .npy header without
    loading it; None when the member is not .npy data."""
    zf = npz.zip
    member = key + ".npy" if key + ".npy" in zf.namelist() else key
    info = zf.getinfo(member)
    with zf.open(member) as f:
        try:
            version = np.lib.format.read_magic(f)
        except ValueError:
            return None
        if version[0] == 1:
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:       # 2.0 and 3.0 share the layout (3.0 allows UTF-8 field names)
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(f)
        return tuple(shape), dtype, info.file_size - f.tell()


def _read_npz_array(path, npz, key, role):
    """Array ``key`` of an open NpzFile, checked before it is loaded: never unpickled, its declared size matched
    against what the file holds (a damaged header cannot ask for terabytes)."""
    import zipfile
    import zlib
    where = f"{path.name}: array {key!r} (data setting '{role}')"
    try:
        head = _npz_header(npz, key)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{where} cannot be read: the file is damaged ({e})") from None
    if head is None:
        raise DataError(f"{where} is not numpy array data (the zip member is some other file); save arrays with "
                        f"numpy.savez(path, x=..., y=...)")
    shape, dtype, stored = head
    if dtype.hasobject:
        raise DataError(f"{where} holds Python objects (dtype object: ragged lists or mixed values), which Layerwise "
                        f"does not unpickle; store a regular array of numbers or strings")
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize if shape else dtype.itemsize
    if need > stored:
        raise DataError(f"{where} declares shape {shape} of {dtype} ({_bytes_str(need)}) but the file holds only "
                        f"{_bytes_str(stored)} of it: the file is damaged or cut short")
    try:
        v = npz[key]
    except MemoryError:
        raise DataError(f"{where} (shape {shape}, {_bytes_str(need)}) does not fit in memory") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{where} cannot be read: the file is damaged ({e})") from None
    if not isinstance(v, np.ndarray):
        raise DataError(f"{where} is not numpy array data; save arrays with numpy.savez(path, x=..., y=...)")
    return v


def _bytes_str(n):
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def _load_npz(spec, base_dir):
    import zipfile
    path = _resolve(spec, base_dir, "NPZ file")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an .npz file")
    if not zipfile.is_zipfile(path):
        try:
            with open(path, "rb") as f:
                npy = f.read(6) == b"\x93NUMPY"
        except OSError as e:
            raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
        if npy:
            raise DataError(f"{path.name} holds a single array, not named arrays: save it with "
                            f"numpy.savez(path, x=..., y=...)")
        raise DataError(f"{path.name} is not a readable .npz file: it is not a zip archive of arrays, or it is cut "
                        f"short (save the data with numpy.savez(path, x=..., y=...))")
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path.name} is not a readable .npz file ({e})") from None
    if not hasattr(npz, "files"):
        raise DataError(f"{path.name} holds a single array, not named arrays: save it with numpy.savez(path, x=..., y=...)")
    with npz:
        present = list(npz.files)
        xs_names = spec.get("x", "x")
        ys_names = spec.get("y", "y")
        for role, names in (("x", xs_names), ("y", ys_names)):
            if not isinstance(names, (str, list, tuple)):
                raise DataError(f"data setting '{role}' is {names!r}; it names an array of {path.name} (or lists "
                                f"several); arrays found: {', '.join(present) or 'none'}")
        xs_names = [xs_names] if isinstance(xs_names, str) else list(xs_names)
        ys_names = [ys_names] if isinstance(ys_names, str) else list(ys_names)
        if not xs_names or not ys_names:
            raise DataError(f"data settings 'x' and 'y' must name arrays of {path.name}; arrays found: "
                            f"{', '.join(present) or 'none'}")
        arrays = {}
        for role, names in (("x", xs_names), ("y", ys_names)):
            for a in names:
                if not isinstance(a, str) or a not in present:
                    raise DataError(f"{path.name} has no array {a!r} (data setting '{role}'); arrays found: "
                                    f"{', '.join(present) or 'none'}")
                arrays[a] = _read_npz_array(path, npz, a, role)
    for role, names in (("x", xs_names), ("y", ys_names)):
        for a in names:
            v = arrays[a]
            where = f"{path.name}: array {a!r}"
            if v.ndim == 0:
                raise DataError(f"{where} is a single value (shape ()), not one entry per sample: the first axis of "
                                f"each array must run over the samples")
            if len(v) == 0:
                raise DataError(f"{where} is empty (shape {v.shape}): no samples")
            if v.size == 0:
                raise DataError(f"{where} has no values per sample (shape {v.shape})")
            kinds = "biuf" if role == "x" else "biufUS"
            if v.dtype.kind not in kinds:
                raise DataError(f"{where} holds {v.dtype} values; " + ("inputs must be numbers" if role == "x" else
                                                                       "targets must be numbers or text"))
    lengths = {a: len(v) for a, v in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise DataError(f"{path.name}: arrays have different numbers of samples: "
                        + ", ".join(f"{a} {n}" for a, n in lengths.items()))
    n = next(iter(lengths.values()))
    if n < 2:
        raise DataError(f"{path.name}: array {xs_names[0]!r} has {n} sample(s); a dataset needs at least 2")
    # the whole file, before any split: a NaN must not depend on which split it falls in
    for a, v in arrays.items():
        check_values(v, f"{path.name}: array {a!r}")
    xs = []
    i32 = np.iinfo(np.int32)
    for a in xs_names:
        v = arrays[a]
        if v.ndim == 1:
            v = v[:, None]
        # signed integers stay integers (token ids for an Embedding) when int32 holds them; bytes (uint8 images),
        # bools, floats and larger integers → float32
        if v.dtype.kind == "i" and (v.dtype.itemsize <= 4 or (v.min() >= i32.min and v.max() <= i32.max)):
            xs.append(v.astype(np.int32))
        else:
            xs.append(v.astype(np.float32))
    ys, tasks, class_names = [], [], []
    given_names = spec.get("class_names")
    for i, a in enumerate(ys_names):
        v = arrays[a]
        hint = _task_hint(spec, a, i)
        where = f"{path.name}: array {a!r}"
        if v.ndim == 2 and v.shape[1] > 1 and v.dtype.kind in "biuf" and hint != "regression" and \
                np.all((v == 0) | (v == 1)) and np.all(v.sum(axis=1) == 1):
            v = v.argmax(axis=1)          # one-hot rows → class ids
            names_k = v.max() + 1
            y, task, names = v.astype(np.int32), ("binary" if names_k == 2 else "multiclass"), \
                [str(k) for k in range(arrays[a].shape[1])]
        elif v.ndim == 1 or (v.ndim == 2 and v.shape[1] == 1 and hint not in (None, "regression")) or \
                (v.ndim == 2 and v.shape[1] == 1 and v.dtype.kind in "biuU"):
            flat = v.reshape(len(v))
            if flat.dtype.kind not in "biufUS":
                raise DataError(f"{where} holds {flat.dtype} values; targets must be numbers or text")
            if flat.dtype.kind == "S":
                flat = flat.astype(str)
            if flat.dtype.kind in "iu" and hint is None:
                hint = "classification" if len(np.unique(flat)) <= 1000 else None
            y, task, names = _encode_target(flat, where, hint)
            if task != "regression" and flat.dtype.kind in "iu":
                uniq = np.unique(flat)
                if uniq[0] == 0 and uniq[-1] < 2 * len(uniq) + 10:     # label ids from 0: keep them as they are
                    k = int(uniq[-1]) + 1
                    y = flat.astype(np.int32)
                    names = [str(j) for j in range(k)]
                    task = "binary" if k == 2 else "multiclass"
        else:
            if v.dtype.kind not in "biuf":
                raise DataError(f"{where} holds {v.dtype} values; targets must be numbers")
            if hint not in (None, "regression"):
                raise DataError(f"{where} has shape {v.shape}; class labels must be one per sample (N,) or one-hot")
            y, task, names = v.astype(np.float32), "regression", None
        if given_names is not None and names is not None:
            gn = given_names[i] if given_names and isinstance(given_names[0], (list, tuple)) else given_names
            if gn is not None:
                if len(gn) != len(names):
                    raise DataError(f"data setting 'class_names' has {len(gn)} names but {where} has "
                                    f"{len(names)} classes")
                names = [str(c) for c in gn]
        ys.append(y)
        tasks.append(task)
        class_names.append(names)
    desc = (f"{path.name}: {n} samples; inputs " + ", ".join(f"{a} {_shape_str(x.shape[1:])}" for a, x in zip(xs_names, xs))
            + "; targets " + ", ".join(f"{a} ({t})" for a, t in zip(ys_names, tasks)))
    return _finish(path.stem, spec, xs, ys, xs_names, ys_names, tasks, class_names, desc)


# -- image folder --------------------------------------------------------------------------------------------------
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")     # what Keras' image_dataset_from_directory reads
COLOR_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
IMAGE_DECODE_CHECK_BYTES = 32 << 20    # folders up to this size have every image decoded once when they load
BAD_IMAGE_TEXT = (" cannot be read or decoded (damaged, cut short or not an image); remove it from the image "
                  "folder or replace it with a real image")


def _list_images(folder):
    """Image files (by extension) anywhere under ``folder``, in a stable order."""
    import os
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        out.extend(os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS))
    return out


def _count_images(folder):
    return len(_list_images(folder))


def _image_kind(head):
    """The image format the first bytes announce (whatever the file's extension), else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM") and len(head) >= 26:
        return "BMP"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return "JPEG XL"
    return None


def _image_problem(file, channels, decode):
    """Why ``file`` cannot be read as an image (a phrase), or None when it can. Reads the first and last bytes;
    decodes the image with TensorFlow when ``decode`` or when the file looks cut short (TensorFlow's decoder,
    the one training uses, has the last word)."""
    import os
    try:
        size = os.path.getsize(file)
        with open(file, "rb") as f:
            head = f.read(32)
            f.seek(max(0, size - 1024))
            tail = f.read()
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if size == 0:
        return "is empty (0 bytes)"
    kind = _image_kind(head)
    if kind is None:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and all(c.isprintable() or c in "\r\n\t" for c in text):
            return f"holds text, not an image (it starts with {text[:20]!r})"
        return f"is not a PNG, JPEG, GIF or BMP image (its first bytes are {head[:8].hex(' ')})"
    complete = {"PNG": b"IEND" in tail[-64:], "JPEG": b"\xff\xd9" in tail, "GIF": b";" in tail[-16:],
                "BMP": int.from_bytes(head[2:6], "little") <= size,
                "WebP": int.from_bytes(head[4:8], "little") + 8 <= size}.get(kind, True)
    if complete and not decode:
        return None
    import tensorflow as tf
    try:
        with open(file, "rb") as f:
            tf.io.decode_image(f.read(), channels=channels, expand_animations=False)
    except Exception as e:  # noqa: BLE001  (TensorFlow's decoders raise InvalidArgumentError and friends)
        reason = str(getattr(e, "message", None) or e).strip().splitlines()[0]
        reason = reason.split("}}")[-1].split(" [Op:")[0].strip()
        return f"cannot be decoded as {kind} ({reason}): the file is damaged or cut short"
    return None


def _check_images(path, files, channels):
    """DataError naming the first bad image file (and how many more there are)."""
    import os
    total = 0
    for f in files:
        try:
            total += os.path.getsize(f)
        except OSError:
            pass
    decode = total <= IMAGE_DECODE_CHECK_BYTES
    bad = []
    for f in files:
        why = _image_problem(f, channels, decode)
        if why is not None:
            bad.append((f, why))
    if not bad:
        return
    f, why = bad[0]
    more = ""
    if len(bad) > 1:
        names = ", ".join(os.path.relpath(b, path) for b, _ in bad[1:4])
        more = f" ({len(bad) - 1} more bad file{'s' if len(bad) > 2 else ''}: {names}{', …' if len(bad) > 4 else ''})"
    raise DataError(f"image {f} {why}; remove it from the image folder or replace it with a real image{more}")


def _image_stream(files, labels, size, channels, batch, shuffle_seed=None):
    """A tf.data pipeline of (images float32 0-255 resized like Keras' image_dataset_from_directory, int32
    labels) batches. An image that fails to decode stops it with an error that names the file (the decode runs in
    a one-element inner dataset whose error is caught; an assertion then fails with the path): an
    InvalidArgumentError whose text :func:`stream_error` turns back into a DataError."""
    import tensorflow as tf
    h, w = size
    shape = (h, w, channels)

    def decode(p):
        img = tf.io.decode_image(tf.io.read_file(p), channels=channels, expand_animations=False)
        img = tf.image.resize(img, (h, w), method="bilinear")
        img.set_shape(shape)
        return img

    def load(p, y):
        inner = tf.data.Dataset.from_tensors(p).map(lambda q: (decode(q), True)).ignore_errors()
        fallback = tf.data.Dataset.from_tensors((tf.zeros(shape, tf.float32), False))
        img, ok = inner.concatenate(fallback).take(1).get_single_element()
        check = tf.debugging.Assert(ok, [tf.strings.join(["image ", p, BAD_IMAGE_TEXT])], summarize=1)
        with tf.control_dependencies([check]):
            img = tf.identity(img)
        return img, y

    ds = tf.data.Dataset.from_tensor_slices((np.asarray(files, dtype=str), np.asarray(labels, dtype=np.int32)))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch).prefetch(tf.data.AUTOTUNE)


def stream_error(exc):
    """The DataError that a streamed split's error stands for (an image file that cannot be decoded, named), or
    None when ``exc`` is not one."""
    text = str(getattr(exc, "message", None) or exc)
    if BAD_IMAGE_TEXT not in text:
        return None
    start = text.find("[image ")
    end = text.find(BAD_IMAGE_TEXT, start)
    if start < 0 or end < 0:
        return None
    return DataError(text[start + 1:end + len(BAD_IMAGE_TEXT)])


def _load_image_folder(spec, base_dir):
    path = _resolve(spec, base_dir, "image folder")
    if not path.is_dir():
        raise DataError(f"{path} is a file; an image folder holds one subfolder of images per class")
    size = spec.get("image_size", [64, 64])
    if isinstance(size, int):
        size = [size, size]
    if (not isinstance(size, (list, tuple)) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 8192 for v in size)):
        raise DataError(f"data setting 'image_size' is {size!r}; expected [height, width] in pixels, e.g. [64, 64]")
    color = spec.get("color_mode", "rgb")
    if color not in COLOR_CHANNELS:
        raise DataError(f"data setting 'color_mode' is {color!r}; expected one of {', '.join(COLOR_CHANNELS)}")
    batch = spec.get("batch_size", 32)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise DataError(f"data setting 'batch_size' is {batch!r}; it must be a whole number of at least 1")
    val_frac, test_frac = _fractions(spec, 0.2, 0.0)
    classes = sorted(d.name for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
    listed = {c: _list_images(path / c) for c in classes}
    counts = {c: len(listed[c]) for c in classes}
    with_images = [c for c in classes if counts[c]]
    loose = sum(1 for f in path.iterdir() if f.is_file() and f.name.lower().endswith(IMAGE_EXTENSIONS))
    exts = "/".join(e[1:] for e in IMAGE_EXTENSIONS)
    if not with_images:
        hint = f" ({loose} image(s) lie directly in it: put them in one subfolder per class)" if loose else ""
        raise DataError(f"image folder {path} has no images{hint}: expected one subfolder per class holding "
                        f"{exts} files")
    if len(with_images) < 2:
        raise DataError(f"image folder {path} has only one class ({with_images[0]!r}, {counts[with_images[0]]} "
                        f"images): a classifier needs at least two subfolders of images")
    files = [f for c in with_images for f in listed[c]]
    labels = np.asarray([k for k, c in enumerate(with_images) for _ in listed[c]], dtype=np.int32)
    total = len(files)
    seed = int(spec.get("seed", 0))
    tr, va, te = split_indices(total, val_frac, test_frac, seed, labels)
    if len(tr) == 0:
        raise DataError(f"image folder {path}: the split leaves no training images ({total} images)")
    if (val_frac > 0 and len(va) == 0) or (test_frac > 0 and len(te) == 0):
        raise DataError(f"image folder {path} has only {total} images: too few for validation_split {val_frac} "
                        f"and test_split {test_frac}")
    from .tfload import import_keras
    import_keras()
    channels = COLOR_CHANNELS[color]
    _check_images(path, files, channels)
    files = np.asarray(files, dtype=str)

    def stream(idx, shuffle):
        if len(idx) == 0:
            return None
        return Split(None, None, _image_stream(files[idx], labels[idx], size, channels, batch,
                                               seed if shuffle else None), int(len(idx)))
    h, w = size
    shape = (h, w, channels)
    k = len(with_images)
    desc = (f"image folder {path.name}: {total} images in {k} classes ({', '.join(with_images)}), "
            f"{h}×{w} {color}, pixel values 0-255, streamed in batches of {batch}")
    return Dataset(name=path.name, train=stream(tr, True), val=stream(va, False), test=stream(te, False),
                   input_shapes=[shape], output_shapes=[()], input_names=["image"], output_names=["label"],
                   tasks=["binary" if k == 2 else "multiclass"], class_names=[list(with_images)], num_classes=[k],
                   description=desc, input_dtypes=["float32"])


# -- Keras datasets (from Keras' cache) ------------------------------------------------------------------------------
KERAS_INFO = {
    "mnist": ("MNIST", ["mnist.npz"], [str(i) for i in range(10)],
              "MNIST handwritten digits: 28×28 grayscale, pixel values 0-255, 60,000 training and 10,000 test images"),
    "fashion_mnist": ("Fashion-MNIST", ["fashion-mnist/train-labels-idx1-ubyte.gz", "fashion-mnist/train-images-idx3-ubyte.gz",
                                        "fashion-mnist/t10k-labels-idx1-ubyte.gz", "fashion-mnist/t10k-images-idx3-ubyte.gz"],
                      ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                       "Ankle boot"],
                      "Fashion-MNIST clothing: 28×28 grayscale, pixel values 0-255, 60,000 training and 10,000 test images"),
    "cifar10": ("CIFAR-10", ["cifar-10-batches-py-target/cifar-10-batches-py", "cifar-10-batches-py",
                             "cifar-10-batches-py-target_archive", "cifar-10-batches-py.tar.gz"],
                ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
                "CIFAR-10: 32×32 colour images, pixel values 0-255, 10 classes, 50,000 training and 10,000 test images"),
    "imdb": ("IMDB", ["imdb.npz"], ["negative", "positive"],
             "IMDB movie reviews as word ids (1 = start, 2 = out of vocabulary, 0 = padding), positive or negative"),
}
DOWNLOAD_HOST = ("storage.googleapis.com", 443)


def keras_cache_dirs() -> list:
    """Where Keras keeps downloaded datasets, as ``keras.utils.get_file`` finds it: $KERAS_HOME/datasets, else
    ~/.keras/datasets (Keras falls back to /tmp/.keras/datasets when the home folder cannot be written)."""
    import os
    home = os.environ.get("KERAS_HOME")
    if home:
        dirs = [Path(home).expanduser() / "datasets"]
    else:
        base = Path("~").expanduser()
        dirs = [(base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras" / "datasets"]
    tmp = Path("/tmp/.keras/datasets")
    if tmp not in dirs:
        dirs.append(tmp)
    return dirs


def _find_cached(name):
    """The first cached file/folder for a Keras dataset (fashion_mnist: the folder holding its four files)."""
    files = KERAS_INFO[name][1]
    for d in keras_cache_dirs():
        if name == "fashion_mnist":
            if all((d / f).is_file() for f in files):
                return d / "fashion-mnist"
            continue
        for f in files:
            p = d / f
            if p.exists() and (p.is_file() or (p / "data_batch_1").is_file()):
                return p
    return None


def _network_available(timeout=3.0):
    """True when Keras' download host answers within ``timeout`` seconds (DNS included, run in a thread so a
    stuck resolver cannot hang the caller)."""
    import socket
    import threading
    ok = []

    def probe():
        try:
            with socket.create_connection(DOWNLOAD_HOST, timeout=timeout):
                ok.append(True)
        except OSError:
            pass
    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return bool(ok)


def _download(name, spec):
    """Fetch a Keras dataset into Keras' cache with keras.datasets (hash-checked), or raise DataError at once."""
    title = KERAS_INFO[name][0]
    where = keras_cache_dirs()[0]
    expect = where / KERAS_INFO[name][1][0]
    import os
    if spec.get("download", True) is False or os.environ.get("LAYERWISE_OFFLINE"):
        raise DataError(f"{title} is not in Keras' cache ({expect}) and downloads are switched off; copy the file "
                        f"there from a machine with internet")
    if not _network_available():
        raise DataError(f"{title} is not in Keras' cache ({expect}) and cannot be downloaded: no network. Copy the "
                        f"file there from a machine where keras.datasets.{name}.load_data() has run")
    import socket
    from .tfload import import_keras
    keras = import_keras()
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)
    try:
        getattr(keras.datasets, name).load_data()
    except Exception as e:
        raise DataError(f"{title} is not in Keras' cache ({expect}) and the download failed: {e}") from None
    finally:
        socket.setdefaulttimeout(old)


class _NumpyOnlyUnpickler:
    """pickle.Unpickler that only rebuilds numpy arrays (and plain containers); anything else is refused."""
    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    @classmethod
    def load(cls, f, **kw):
        import pickle

        class U(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) in cls.ALLOWED:
                    return super().find_class(module, name)
                raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")
        return U(f, **kw).load()


def _read_npz_objects(path):
    """Read every array of an .npz, object arrays (ragged lists, as in imdb.npz) through the numpy-only unpickler."""
    import zipfile
    out = {}
    with zipfile.ZipFile(path) as z:
        for member in z.namelist():
            if not member.endswith(".npy"):
                continue
            with z.open(member) as f:
                version = np.lib.format.read_magic(f)
                shape, fortran, dtype = (np.lib.format.read_array_header_1_0(f) if version[0] == 1
                                         else np.lib.format.read_array_header_2_0(f))
                if dtype.hasobject:
                    arr = _NumpyOnlyUnpickler.load(f)
                else:
                    data = f.read()
                    arr = np.frombuffer(data, dtype=dtype, count=int(np.prod(shape)) if shape else 1)
                    arr = arr.reshape(shape, order="F" if fortran else "C")
            out[member[:-4]] = arr
    return out


def _read_keras(name, found):
    """((x_train, y_train), (x_test, y_test)) from the cached file(s), in Keras' own layout."""
    import gzip
    import tarfile
    if name == "mnist":
        with np.load(found, allow_pickle=False) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    if name == "fashion_mnist":
        def idx(fname, offset):
            with gzip.open(found / fname, "rb") as f:
                return np.frombuffer(f.read(), np.uint8, offset=offset)
        ytr, xtr = idx("train-labels-idx1-ubyte.gz", 8), idx("train-images-idx3-ubyte.gz", 16)
        yte, xte = idx("t10k-labels-idx1-ubyte.gz", 8), idx("t10k-images-idx3-ubyte.gz", 16)
        return (xtr.reshape(len(ytr), 28, 28), ytr), (xte.reshape(len(yte), 28, 28), yte)
    if name == "cifar10":
        def batch(raw):
            d = _NumpyOnlyUnpickler.load(raw, encoding="bytes")
            d = {(k.decode() if isinstance(k, bytes) else k): v for k, v in d.items()}
            x = np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            return x, np.asarray(d["labels"], dtype=np.uint8)
        parts = {}
        wanted = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        if found.is_dir():
            for w in wanted:
                with open(found / w, "rb") as f:
                    parts[w] = batch(f)
        else:
            with tarfile.open(found) as tar:
                for m in tar.getmembers():
                    base = m.name.rsplit("/", 1)[-1]
                    if base in wanted and m.isfile():
                        parts[base] = batch(tar.extractfile(m))
            missing = [w for w in wanted if w not in parts]
            if missing:
                raise DataError(f"{found} lacks {', '.join(missing)}")
        tr = [parts[f"data_batch_{i}"] for i in range(1, 6)]
        return ((np.concatenate([p[0] for p in tr]), np.concatenate([p[1] for p in tr])), parts["test_batch"])
    if name == "imdb":
        f = _read_npz_objects(found)
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    raise AssertionError(name)


def _imdb_sequences(seqs, num_words, maxlen):
    """Keras' imdb.load_data conventions (1 = start, ids shifted by 3, rare words → 2), padded/truncated at the
    front to ``maxlen`` like keras.utils.pad_sequences (0 = padding)."""
    out = np.zeros((len(seqs), maxlen), dtype=np.int32)
    for i, s in enumerate(seqs):
        ids = np.concatenate([[1], np.asarray(s, dtype=np.int64) + 3])
        ids[ids >= num_words] = 2
        ids = ids[-maxlen:]
        out[i, maxlen - len(ids):] = ids
    return out


def _load_keras(spec, base_dir):
    name = spec.get("name")
    if name not in KERAS_INFO:
        raise DataError(f"data setting 'name' is {name!r}; Keras datasets are {', '.join(KERAS_INFO)}")
    title, _files, class_names, desc = KERAS_INFO[name]
    found = _find_cached(name)
    if found is None:
        _download(name, spec)
        found = _find_cached(name)
        if found is None:
            raise DataError(f"{title} was downloaded but not found in Keras' cache ({keras_cache_dirs()[0]})")
    try:
        (xtr, ytr), (xte, yte) = _read_keras(name, found)
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"{title} in Keras' cache ({found}) cannot be read: {e}; delete it to download it again") \
            from None
    if name != "imdb":              # imdb holds lists of word ids
        for key, arr in (("x_train", xtr), ("x_test", xte), ("y_train", ytr), ("y_test", yte)):
            arr = np.asarray(arr)
            if arr.dtype.kind not in "biuf" or arr.ndim == 0:
                raise DataError(f"{title} in Keras' cache ({found}): {key} holds {arr.dtype} values of shape "
                                f"{arr.shape}, not numbers; delete it to download it again")
            check_values(arr, f"{title} in Keras' cache ({found}): array {key!r}")
    ytr = np.asarray(ytr).reshape(-1).astype(np.int32)
    yte = np.asarray(yte).reshape(-1).astype(np.int32)
    if name == "imdb":
        num_words = _int_setting(spec, "num_words", 10000, 4, 10_000_000)
        maxlen = _int_setting(spec, "maxlen", 200, 1, 100_000)
        xtr, xte = _imdb_sequences(xtr, num_words, maxlen), _imdb_sequences(xte, num_words, maxlen)
        desc += f"; vocabulary {num_words}, {maxlen} words per review"
        dtype = "int32"
    else:
        form = spec.get("form", "images")
        if form not in ("images", "flat"):
            raise DataError(f"data setting 'form' is {form!r}; {title} comes as 'images' or 'flat'")
        if xtr.ndim == 3:                       # grayscale: add the channel axis Conv2D expects
            xtr, xte = xtr[..., None], xte[..., None]
        if form == "flat":
            xtr, xte = xtr.reshape(len(xtr), -1), xte.reshape(len(xte), -1)
        dtype = "float32"                       # stored as uint8 (raw 0-255); Keras casts to the Input's float32
    rng = np.random.default_rng(spec.get("seed", 0))
    limit = spec.get("samples")
    if limit is not None:
        limit = _int_setting(spec, "samples", None, 10, 10_000_000)
        keep = np.sort(rng.permutation(len(xtr))[:limit])
        xtr, ytr = xtr[keep], ytr[keep]
        keep = np.sort(rng.permutation(len(xte))[:max(1, limit // 6)])
        xte, yte = xte[keep], yte[keep]
    val_frac, _ = _fractions({"validation_split": spec.get("validation_split", 0.1), "test_split": 0.0})
    tr, va, _te = split_indices(len(xtr), val_frac, 0.0, spec.get("seed", 0), ytr)
    if len(tr) == 0:
        raise DataError(f"{title}: the split leaves no training samples")
    k = len(class_names)
    return Dataset(name=name, train=Split([xtr[tr]], [ytr[tr]], n=len(tr)),
                   val=Split([xtr[va]], [ytr[va]], n=len(va)) if len(va) else None,
                   test=Split([xte], [yte], n=len(xte)),
                   input_shapes=[tuple(xtr.shape[1:])], output_shapes=[()],
                   input_names=["words" if name == "imdb" else "image"], output_names=["label"],
                   tasks=["binary" if k == 2 else "multiclass"], class_names=[list(class_names)], num_classes=[k],
                   description=desc, input_dtypes=[dtype])
