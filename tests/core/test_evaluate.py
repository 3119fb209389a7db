"""Evaluation of a finished run (core.evaluate): labels from targets and predictions, the confusion matrix, each
output's true and predicted values paired with the dataset by name."""
from types import SimpleNamespace

import numpy as np

from core.datasets import Dataset, Split
from core.evaluate import class_labels, confusion_matrix, evaluate, predicted_labels
from tests.core.helpers import chain


def test_labels_from_targets_and_predictions():
    probs = np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]], dtype=np.float32)
    assert class_labels(probs, "multiclass").tolist() == [1, 0]                 # class scores: argmax
    assert class_labels(np.eye(3)[[2, 0, 1]], "multiclass").tolist() == [2, 0, 1]   # one-hot targets
    assert class_labels(np.array([[0.2], [0.9]]), "binary").tolist() == [0, 1]    # one sigmoid value: > 0.5
    assert class_labels(np.array([0.0, 2.0, 1.0]), "multiclass").tolist() == [0, 2, 1]   # whole numbers as they are
    assert class_labels(np.array([3, 1], dtype=np.int32), "multiclass").dtype == np.int64
    assert class_labels(np.array([[1.5, 9.0], [2.5, 9.0]]), "regression").tolist() == [1.5, 2.5]   # first value
    # a prediction with one value per sample is a sigmoid whatever the output's task says
    assert predicted_labels(np.array([[0.3], [0.6]]), "multiclass").tolist() == [0, 1]
    assert predicted_labels(probs, "multiclass").tolist() == [1, 0]


def test_confusion_matrix_of_known_predictions():
    y_true = [0, 1, 2, 2, 1]
    y_pred = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.0, 0.1, 0.9], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7]])
    m = confusion_matrix(y_true, y_pred, 3)
    assert m.tolist() == [[1, 0, 0], [0, 1, 1], [1, 0, 1]]          # rows: true class, columns: predicted
    assert m.sum() == 5 and np.trace(m) == 3
    # one-hot truth, sigmoid predictions, and a class that never occurs still gets its row and column
    m = confusion_matrix(np.eye(2)[[0, 1, 1, 0]], np.array([[0.2], [0.8], [0.4], [0.1]]), 3)
    assert m.tolist() == [[2, 0, 0], [1, 1, 0], [0, 0, 0]]
    # the same counts as scikit-learn's
    from sklearn.metrics import confusion_matrix as sk
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 4, 200), rng.random((200, 4))
    assert np.array_equal(confusion_matrix(t, p, 4), sk(t, p.argmax(1), labels=[0, 1, 2, 3]))


def _two_heads_dataset(n=8):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    kind = np.array([0, 1, 2, 0, 1, 2, 0, 1][:n], dtype=np.int32)
    size = np.linspace(0, 1, n).astype(np.float32)
    split = Split([x], [kind, size], n=n)
    return Dataset(name="t", train=split, val=None, test=split, input_shapes=[(3,)], output_shapes=[(), ()],
                   input_names=["features"], output_names=["kind", "size"], tasks=["multiclass", "regression"],
                   class_names=[["a", "b", "c"], None], num_classes=[3, None], feature_names=["f0", "f1", "f2"])


def test_evaluate_pairs_outputs_by_name_and_fills_each_view():
    ds = _two_heads_dataset()
    # the graph lists the regression head first: outputs are matched to the dataset's targets by name
    g, ids = chain(("Input", {"shape": [3]}, "features"), ("Dense", {"units": 1}), ("Output", {"loss": "mse"}, "size"))
    head = g.add_node("Dense", {"units": 3, "activation": "softmax"})
    g.connect(ids[0], head.id)
    out = g.add_node("Output", {}, name="kind")
    g.connect(head.id, out.id)
    order = [g.nodes[k].name for k in g.topological_order() if g.nodes[k].type == "Output"]
    scores = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 2, 2, 1, 1]]            # two mistakes (samples 4 and 6)
    values = (ds.test.y[1] + 0.5)[:, None]
    calls = []

    def predict(build, x, batch_size):
        calls.append((np.asarray(x).shape, batch_size))
        return [values, scores] if order == ["size", "kind"] else [scores, values]

    result = SimpleNamespace(dataset=ds, build=object(), test_metrics={"kind_accuracy": 0.75})
    ev = evaluate(result, g, predict=predict)
    assert calls == [((8, 3), 8)]                                # one batch: one trace
    assert ev.split == "test" and ev.n == 8 and ev.metrics == {"kind_accuracy": 0.75}
    by_name = {o.name: o for o in ev.outputs}
    kind, size = by_name["kind"], by_name["size"]
    assert kind.task == "multiclass" and kind.class_names == ["a", "b", "c"]
    assert kind.y_true.tolist() == [0, 1, 2, 0, 1, 2, 0, 1] and kind.y_pred.tolist() == [0, 1, 2, 0, 2, 2, 1, 1]
    assert kind.matrix.tolist() == [[2, 1, 0], [0, 2, 1], [0, 0, 2]]
    assert size.task == "regression" and size.matrix is None and size.class_names is None
    np.testing.assert_allclose(size.y_pred - size.y_true, 0.5, rtol=1e-6)
    assert ev.x.shape == (8, 3) and ev.columns == ["f0", "f1", "f2"]


def test_evaluate_without_test_split_uses_validation_and_without_model_gives_metrics_only():
    ds = _two_heads_dataset()
    ds.val, ds.test = ds.test, None
    result = SimpleNamespace(dataset=ds, build=None, test_metrics=None)
    ev = evaluate(result, chain(("Input", {"shape": [3]}), ("Output", {}))[0])
    assert ev.split == "validation" and ev.n == 0 and ev.outputs == [] and ev.metrics == {}
