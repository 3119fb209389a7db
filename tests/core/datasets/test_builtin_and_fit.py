"""Builtin scikit-learn sets, seeded stratified splits, and fitting a dataset to a graph."""
import numpy as np
import pytest

from core.datasets import DataError, arrays_for_model, check_fit, load_dataset
from core import datasets as D
from tests.core.helpers import chain
from tests.core.datasets.helpers import gen, mlp


def test_digits_images_raw_and_split():
    ds = load_dataset({"source": "builtin", "name": "digits", "validation_split": 0.15, "test_split": 0.15, "seed": 0})
    assert ds.input_shapes == [(8, 8, 1)] and ds.output_shapes == [()]
    assert ds.tasks == ["multiclass"] and ds.num_classes == [10]
    assert ds.class_names == [[str(i) for i in range(10)]]
    x = ds.train.x[0]
    assert x.dtype == np.float32 and x.shape[1:] == (8, 8, 1)
    assert x.min() == 0.0 and x.max() == 16.0          # raw pixel values, not normalised
    assert ds.train.n + ds.val.n + ds.test.n == 1797
    assert ds.val.n == ds.test.n == 270                  # round(0.15 * 1797), shared out over the classes
    # raw samples are exactly sklearn's images
    from sklearn.datasets import load_digits
    imgs = load_digits().images.reshape(1797, -1)
    rows = {r.tobytes() for r in imgs.astype(np.float32)}
    assert all(r.tobytes() in rows for r in ds.test.x[0].reshape(len(ds.test.x[0]), -1))


def test_digits_flat_and_other_sets():
    ds = load_dataset({"source": "builtin", "name": "digits", "form": "flat"})
    assert ds.input_shapes == [(64,)] and ds.train.x[0].shape[1] == 64
    iris = load_dataset({"source": "builtin", "name": "iris"})
    assert iris.input_shapes == [(4,)] and iris.num_classes == [3] and iris.class_names[0] == ["setosa", "versicolor", "virginica"]
    wine = load_dataset({"source": "builtin", "name": "wine"})
    assert wine.input_shapes == [(13,)] and wine.num_classes == [3]
    bc = load_dataset({"source": "builtin", "name": "breast_cancer"})
    assert bc.input_shapes == [(30,)] and bc.tasks == ["binary"] and bc.num_classes == [2]
    assert bc.train.n + bc.val.n + bc.test.n == 569
    assert "digits" in D.builtin_names() and "mnist" in D.builtin_names() and "match_last" in D.builtin_names()


def test_split_is_stratified_seeded_and_disjoint():
    spec = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 3}
    a, b = load_dataset(spec), load_dataset(spec)
    assert np.array_equal(a.train.x[0], b.train.x[0]) and np.array_equal(a.test.y[0], b.test.y[0])
    for split, n in ((a.train, 30), (a.val, 10), (a.test, 10)):
        assert np.bincount(split.y[0], minlength=3).tolist() == [n, n, n]
    c = load_dataset(dict(spec, seed=4))
    assert not np.array_equal(a.test.x[0], c.test.x[0])
    # disjoint and complete
    allrows = [tuple(r) + (int(l),) for s in (a.train, a.val, a.test) for r, l in zip(s.x[0], s.y[0])]
    from sklearn.datasets import load_iris
    ir = load_iris()
    assert sorted(allrows) == sorted(tuple(np.float32(r)) + (int(l),) for r, l in zip(ir.data, ir.target))


def test_seed_argument_used_when_spec_has_none():
    a = load_dataset({"source": "builtin", "name": "wine"}, seed=1)
    b = load_dataset({"source": "builtin", "name": "wine", "seed": 1})
    c = load_dataset({"source": "builtin", "name": "wine"}, seed=2)
    assert np.array_equal(a.val.x[0], b.val.x[0]) and not np.array_equal(a.val.x[0], c.val.x[0])


def test_zero_fractions_give_no_split():
    ds = load_dataset({"source": "builtin", "name": "iris", "validation_split": 0, "test_split": 0})
    assert ds.val is None and ds.test is None and ds.train.n == 150


@pytest.mark.parametrize("spec, fragment", [
    ({"validation_split": 1.2}, "'validation_split' is 1.2"),
    ({"test_split": -0.1}, "'test_split' is -0.1"),
    ({"validation_split": 0.5, "test_split": 0.5}, "nothing is left for training"),
    ({"validation_split": "a lot"}, "'validation_split' must be a number"),
    ({"name": "nope"}, "'name' is 'nope'"),
    ({"source": "ftp"}, "'source' is 'ftp'"),
    ({"form": "square"}, "'form' is 'square'"),
    ({"seed": "x"}, "'seed' must be an integer"),
])
def test_bad_builtin_settings(spec, fragment):
    with pytest.raises(DataError, match=None) as e:
        load_dataset(dict({"source": "builtin", "name": "digits"}, **spec))
    assert fragment in str(e.value)


# -- fit to a graph ------------------------------------------------------------------------------------------------

def test_check_fit_messages():
    ds = load_dataset({"source": "builtin", "name": "digits", "form": "flat"})
    assert check_fit(ds, mlp((64,), 10)) == []
    msgs = check_fit(ds, mlp((8, 8, 1), 10))
    assert msgs == ["dataset gives (64,) per sample, Input 'pixels' expects (8, 8, 1)"]
    iris = load_dataset({"source": "builtin", "name": "iris"})
    msgs = check_fit(iris, mlp((4,), 10))
    assert any("dataset has 3 classes, Output 'digit_out' gets 10 values" in m for m in msgs)
    bc = load_dataset({"source": "builtin", "name": "breast_cancer"})
    assert check_fit(bc, mlp((30,), 1, "binary_crossentropy", act="sigmoid")) == []
    msgs = check_fit(iris, mlp((4,), 3, "binary_crossentropy", act="sigmoid"))
    assert any("binary_crossentropy" in m and "3 classes" in m for m in msgs)
    msgs = check_fit(bc, mlp((30,), 3, "binary_crossentropy", act="sigmoid"))
    assert any("needs 1 sigmoid unit" in m for m in msgs)


def test_arrays_for_model_shapes_and_losses():
    iris = load_dataset({"source": "builtin", "name": "iris"})
    x, y = arrays_for_model(iris, iris.train, mlp((4,), 3))
    assert x.shape == (iris.train.n, 4) and y.shape == (iris.train.n,) and y.dtype == np.int32
    x, y = arrays_for_model(iris, iris.train, mlp((4,), 3, "categorical_crossentropy"))
    assert y.shape == (iris.train.n, 3) and np.array_equal(y.argmax(1), iris.train.y[0])
    bc = load_dataset({"source": "builtin", "name": "breast_cancer"})
    x, y = arrays_for_model(bc, bc.val, mlp((30,), 1, "binary_crossentropy", act="sigmoid"))
    assert y.shape == (bc.val.n, 1) and y.dtype == np.float32


# -- fit checks on examples and multi-output -----------------------------------------------------------------------
def test_digits_example_fits_its_dataset():
    from core.project import load_project
    from tests.conftest import EXAMPLES
    proj = load_project(EXAMPLES / "digits_cnn.layerwise")
    ds = load_dataset(proj.data, EXAMPLES)
    assert check_fit(ds, proj) == []
    x, y = arrays_for_model(ds, ds.test, proj.graph)
    assert x.shape == (ds.test.n, 8, 8, 1) and y.shape == (ds.test.n,)


def test_two_heads_fit_and_targets():
    ds = gen("two_heads")
    g, ids = chain(("Input", {"shape": [8]}, "features"), ("Dense", {"units": 16, "activation": "relu"}),
                   ("Dense", {"units": 3, "activation": "softmax"}), ("Output", {}, "kind"))
    size = g.add_node("Dense", {"units": 1})
    g.connect(ids[1], size.id)
    out = g.add_node("Output", {"loss": "mean_squared_error", "metrics": ["mae"]}, name="size")
    g.connect(size.id, out.id)
    assert check_fit(ds, g) == []
    x, (y_kind, y_size) = arrays_for_model(ds, ds.train, g)
    assert y_kind.shape == (ds.train.n,) and y_size.shape == (ds.train.n, 1) and y_size.dtype == np.float32
    g.set_param(out.id, "loss", "sparse_categorical_crossentropy")
    msgs = check_fit(ds, g)
    assert msgs == ["Output 'size' uses sparse_categorical_crossentropy (classification) but the dataset's target "
                    "'size' is numeric (regression): use mean_squared_error, mean_absolute_error or huber"]
    g.rename(out.id, "other")                          # names no longer match: by position, still fine
    g.set_param(out.id, "loss", "mean_squared_error")
    assert check_fit(ds, g) == []
    g.remove_node(out.id)
    assert check_fit(ds, g) == ["dataset gives 2 target(s) (kind, size), the graph has 1 Output node(s) ('kind')"]
