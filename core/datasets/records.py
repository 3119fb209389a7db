"""What a loaded dataset is (:class:`Dataset` of :class:`Split` parts, with its one-line summary) and the
names a project can use without a file."""
from __future__ import annotations

from dataclasses import dataclass, field


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
        ins = ", ".join(f"{n} {shape_str(s)}" for n, s in zip(self.input_names, self.input_shapes))
        outs = []
        for name, task, k in zip(self.output_names, self.tasks, self.num_classes):
            outs.append(f"{name}: {k} classes" if k else f"{name}: {task}")
        return f"{self.name}: {ns} train/val/test samples; inputs {ins}; outputs {'; '.join(outs)}"


def shape_str(shape):
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
