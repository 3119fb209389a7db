"""How a trained model does on the test split (else the validation split): per output, the true and predicted
labels with the confusion matrix (classification) or true and predicted values (regression), plus the run's test
metrics and the first input's samples, for the results view.

``evaluate(result, graph)`` does the numpy/Keras work (call it from a worker thread); ``class_labels`` turns
targets or predictions into integer class labels, the one place where one-hot rows and probabilities become
labels (argmax) and a single sigmoid value becomes a label (> 0.5).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .datasets import arrays_for_model, model_io, pair_names

MAX_EVAL = 5000       # samples predicted for the views (streamed data: at most this many)


@dataclass
class OutputEval:
    name: str
    task: str
    class_names: list | None
    y_true: np.ndarray             # labels (classification) or values (regression), one per sample
    y_pred: np.ndarray
    matrix: np.ndarray | None = None


@dataclass
class Evaluation:
    split: str                     # "test" or "validation"
    n: int
    metrics: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)
    x: np.ndarray | None = None    # the first input's samples (aligned with y_true/y_pred)
    columns: list | None = None


# -- labels ----------------------------------------------------------------------------------------------------------
def class_labels(y, task):
    """Integer class labels from targets or predictions: one-hot/probabilities → argmax, binary → > 0.5.

    ``task`` is the output's task ("multiclass", "binary", "regression": then the first value per sample)."""
    y = np.asarray(y)
    if task == "regression":
        return y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    if y.ndim > 1 and y.shape[-1] > 1:
        return np.argmax(y.reshape(len(y), -1), axis=-1)
    y = y.reshape(len(y))
    if y.dtype.kind == "f":
        if task == "binary" or ((y >= 0) & (y <= 1)).all() and not np.all(y == np.round(y)):
            return (y > 0.5).astype(np.int64)
        return np.round(y).astype(np.int64)
    return y.astype(np.int64)


def predicted_labels(y_pred, task):
    """Class labels from a classification output's predictions: one value per sample is a sigmoid (> 0.5),
    several are class scores (argmax)."""
    y_pred = np.asarray(y_pred)
    return class_labels(y_pred, "binary" if (y_pred.ndim == 1 or y_pred.shape[-1] == 1) else task)


def confusion_matrix(y_true, y_pred, n):
    """n×n counts (rows: true class, columns: predicted). Either may be class ids, one-hot rows or probabilities."""
    from sklearn.metrics import confusion_matrix as counts
    t = class_labels(y_true, "multiclass")
    p = predicted_labels(y_pred, "multiclass")
    return counts(t.reshape(-1).astype(int), p.reshape(-1).astype(int), labels=list(range(int(n))))


# -- evaluation of a finished run ------------------------------------------------------------------------------------
def evaluation_arrays(dataset, split, graph, limit=MAX_EVAL):
    """(x_model, y_model, x_first_input_raw, n): arrays for the model plus the first dataset input for display."""
    x, y = arrays_for_model(dataset, split, graph)
    if y is None and x is not None and hasattr(x, "take"):   # streamed: gather up to ``limit`` samples
        xs, ys = [], []
        count = 0
        for bx, by in x:
            xs.append(np.asarray(bx))
            ys.append(np.asarray(by))
            count += len(xs[-1])
            if count >= limit:
                break
        x = np.concatenate(xs)[:limit] if xs else np.zeros((0,))
        y = np.concatenate(ys)[:limit] if ys else np.zeros((0,))
        return x, y, x, len(x)
    raw = split.x[0] if split.x else None
    return x, y, raw, split.n


def output_order(dataset, graph):
    """(Output nodes, dataset output index for each): the same pairing as core.datasets.arrays_for_model."""
    _ins, outs = model_io(getattr(graph, "graph", graph))
    if len(outs) == len(dataset.output_names):
        idx = pair_names(dataset.output_names, outs)
    else:
        idx = list(range(len(outs)))
    return outs, idx


def output_eval(name, task, class_names, num_classes, y_true, y_pred):
    """One output's true and predicted labels (with the confusion matrix), or values for regression."""
    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    if task == "regression":
        return OutputEval(name, task, None, yt.reshape(len(yt), -1)[:, 0].astype(np.float64),
                          yp.reshape(len(yp), -1)[:, 0].astype(np.float64))
    t = class_labels(yt, task)
    pr = predicted_labels(yp, task)
    k = int(num_classes or max(int(t.max(initial=0)), int(pr.max(initial=0))) + 1)
    return OutputEval(name, task, list(class_names) if class_names else [str(c) for c in range(k)], t, pr,
                      confusion_matrix(t, pr, k))


def evaluate(result, graph, predict=None):
    """Predictions on the test split (else validation) of a finished run (a TrainResult) → Evaluation.

    ``predict(build, x, batch_size=...)`` defaults to core.training's ``predict``."""
    ds = result.dataset
    split, name = (ds.test, "test") if ds.test is not None else (ds.val, "validation")
    ev = Evaluation(split=name, n=0, metrics=dict(result.test_metrics or {}))
    if split is None or result.build is None:
        return ev
    x, y, raw, n = evaluation_arrays(ds, split, graph)
    if predict is None:
        from .training.evaluate import predict
    n_x = len(x[0]) if isinstance(x, (list, tuple)) else len(x)
    p = predict(result.build, x, batch_size=max(1, min(n_x, 1024)))   # one batch shape: one trace
    preds = p if isinstance(p, (list, tuple)) else [p]
    ys = y if isinstance(y, (list, tuple)) else [y]
    outs, idx = output_order(ds, graph)
    ev.n = int(len(preds[0])) if preds else 0
    for node, i, yt, yp in zip(outs, idx, ys, preds):
        task = ds.tasks[i] if i < len(ds.tasks) else "regression"
        names = ds.class_names[i] if i < len(ds.class_names) else None
        k = ds.num_classes[i] if i < len(ds.num_classes) else None
        ev.outputs.append(output_eval(node.name, task, names, k, yt, yp))
    if raw is not None:
        ev.x = np.asarray(raw)[:ev.n]
    ev.columns = ds.feature_names
    return ev


__all__ = ["Evaluation", "OutputEval", "MAX_EVAL", "class_labels", "predicted_labels", "confusion_matrix",
           "evaluation_arrays", "output_order", "output_eval", "evaluate"]
