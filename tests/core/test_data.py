"""Datasets: builtin sets, splits, fit checks, generated tasks, CSV, NPZ, image folders, Keras' cache, bad input."""
import numpy as np
import pytest

from core import data as D
from core.data import DataError, load_dataset, check_fit, arrays_for_model
from tests.core.helpers import chain


# -- builtin -------------------------------------------------------------------------------------------------------
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
def _mlp(shape, units, loss="sparse_categorical_crossentropy", in_name="pixels", out_name="digit_out", act="softmax"):
    g, ids = chain(("Input", {"shape": list(shape)}, in_name), ("Flatten", {}), ("Dense", {"units": units, "activation": act}),
                   ("Output", {"loss": loss, "metrics": ["accuracy"]}, out_name))
    return g


def test_check_fit_messages():
    ds = load_dataset({"source": "builtin", "name": "digits", "form": "flat"})
    assert check_fit(ds, _mlp((64,), 10)) == []
    msgs = check_fit(ds, _mlp((8, 8, 1), 10))
    assert msgs == ["dataset gives (64,) per sample, Input 'pixels' expects (8, 8, 1)"]
    iris = load_dataset({"source": "builtin", "name": "iris"})
    msgs = check_fit(iris, _mlp((4,), 10))
    assert any("dataset has 3 classes, Output 'digit_out' gets 10 values" in m for m in msgs)
    bc = load_dataset({"source": "builtin", "name": "breast_cancer"})
    assert check_fit(bc, _mlp((30,), 1, "binary_crossentropy", act="sigmoid")) == []
    msgs = check_fit(iris, _mlp((4,), 3, "binary_crossentropy", act="sigmoid"))
    assert any("binary_crossentropy" in m and "3 classes" in m for m in msgs)
    msgs = check_fit(bc, _mlp((30,), 3, "binary_crossentropy", act="sigmoid"))
    assert any("needs 1 sigmoid unit" in m for m in msgs)


def test_arrays_for_model_shapes_and_losses():
    iris = load_dataset({"source": "builtin", "name": "iris"})
    x, y = arrays_for_model(iris, iris.train, _mlp((4,), 3))
    assert x.shape == (iris.train.n, 4) and y.shape == (iris.train.n,) and y.dtype == np.int32
    x, y = arrays_for_model(iris, iris.train, _mlp((4,), 3, "categorical_crossentropy"))
    assert y.shape == (iris.train.n, 3) and np.array_equal(y.argmax(1), iris.train.y[0])
    bc = load_dataset({"source": "builtin", "name": "breast_cancer"})
    x, y = arrays_for_model(bc, bc.val, _mlp((30,), 1, "binary_crossentropy", act="sigmoid"))
    assert y.shape == (bc.val.n, 1) and y.dtype == np.float32


# -- generated tasks -----------------------------------------------------------------------------------------------
def _gen(name, **kw):
    return load_dataset(dict({"source": "generated", "name": name, "samples": 600}, **kw))


def _all(ds, k=0, which="x"):
    return np.concatenate([getattr(s, which)[k] for _, s in ds.splits])


def test_generated_are_seeded_and_sized():
    for name in D.GENERATED_TASKS:
        a, b, c = _gen(name, seed=1), _gen(name, seed=1), _gen(name, seed=2)
        assert a.train.n + a.val.n + a.test.n == 600, name
        assert np.array_equal(a.train.x[0], b.train.x[0]), name
        assert not np.array_equal(a.train.x[0], c.train.x[0]), name
        assert len(a.input_shapes) == len(a.train.x) and len(a.output_names) == len(a.train.y) == len(a.tasks)
        for s in (a.train, a.val, a.test):
            assert all(len(arr) == s.n for arr in s.x + s.y)
        assert a.description


def test_match_last_labels_point_at_the_repeated_token():
    ds = _gen("match_last", seq_len=7, vocab=12)
    assert ds.input_shapes == [(7, 12 + 7)] and ds.num_classes == [6]
    x, y = _all(ds), _all(ds, which="y")
    tok = x[..., :12].argmax(-1)
    assert np.array_equal(x[..., 12:].argmax(-1)[0], np.arange(7))                    # position channels
    assert all(len(set(r[:-1])) == 6 for r in tok)                                      # earlier tokens differ
    assert np.array_equal(tok[np.arange(len(y)), y], tok[:, -1])                        # label = matching position
    with pytest.raises(DataError, match="'vocab' is 4; it must be between 6"):
        _gen("match_last", seq_len=7, vocab=4)


def test_recall_marked_sum_parity_count_labels():
    ds = _gen("recall")
    x, y = _all(ds), _all(ds, which="y")
    assert x.dtype == np.int32 and ds.input_shapes == [(8, 2)] and ds.num_classes == [16]
    for r, lab in zip(x[:50], y[:50]):
        hit = [v for k, v in r[:-1] if k == r[-1, 0]]
        assert hit == [lab + 1] and r[-1, 1] == 0
    ds = _gen("marked_sum", seq_len=12)
    x, y = _all(ds), _all(ds, which="y")
    assert ds.input_shapes == [(12, 2)] and (x[..., 1].sum(1) == 2).all()
    assert np.array_equal(((x[..., 0] * x[..., 1]).sum(1) > 1).astype(int), y) and 0.3 < y.mean() < 0.7
    ds = _gen("parity", seq_len=9)
    assert np.array_equal(_all(ds).sum((1, 2)) % 2, _all(ds, which="y")) and ds.input_shapes == [(9, 1)]
    ds = _gen("count_ones", seq_len=5)
    assert np.array_equal(_all(ds).sum((1, 2)), _all(ds, which="y")) and ds.num_classes == [6]


def test_multi_input_and_multi_output_tasks():
    ds = _gen("two_inputs")
    assert ds.input_names == ["sequence", "features"] and ds.input_shapes == [(10, 1), (4,)]
    s, f, y = _all(ds, 0), _all(ds, 1), _all(ds, which="y")
    assert np.array_equal(2 * (s.sum((1, 2)) > 0) + (f[:, 0] + f[:, 1] - f[:, 2] - f[:, 3] > 0), y)
    ds = _gen("two_heads")
    assert ds.output_names == ["kind", "size"] and ds.tasks == ["multiclass", "regression"]
    assert ds.num_classes == [3, None] and ds.class_names[1] is None and ds.output_shapes == [(), ()]
    assert ds.train.y[1].dtype == np.float32


def test_arrays_for_model_maps_by_name_else_position():
    ds = _gen("two_inputs")
    g, ids = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 4}), ("Output", {}, "label"))
    n = g.add_node("Input", {"shape": [10, 1]}, name="sequence")
    fl = g.add_node("Flatten", {})
    g.connect(n.id, fl.id)
    cat = g.add_node("Concatenate", {})
    g.disconnect(next(e for e in g.edges if e.dst == ids[2]))
    g.connect(ids[1], cat.id, 0)
    g.connect(fl.id, cat.id, 1)
    d = g.add_node("Dense", {"units": 4, "activation": "softmax"})
    g.connect(cat.id, d.id)
    g.connect(d.id, ids[2])
    assert check_fit(ds, g) == []
    x, y = arrays_for_model(ds, ds.train, g)
    order = [k for k in g.topological_order() if g.nodes[k].type == "Input"]
    want = {"features": ds.train.x[1], "sequence": ds.train.x[0]}
    assert [a.shape for a in x] == [want[g.nodes[k].name].shape for k in order]
    assert all(np.array_equal(a, want[g.nodes[k].name]) for a, k in zip(x, order))
    # renamed inputs: matched by position
    g.rename(n.id, "s2")
    assert check_fit(ds, g)     # position order gives features (4,) to the sequence Input or vice versa


# -- CSV -----------------------------------------------------------------------------------------------------------
def _csv(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _iris_like_csv(tmp_path, n=60):
    rng = np.random.default_rng(0)
    lines = ["sepal,petal,name,species"]
    kinds = ["setosa", "versicolor", "virginica"]
    for i in range(n):
        k = i % 3
        lines.append(f"{rng.normal(k, 0.3):.3f},{rng.normal(2 * k, 0.3):.3f},plant{i},{kinds[k]}")
    return _csv(tmp_path, "\n".join(lines) + "\n", "flowers.csv")


def test_csv_string_labels_mapped_and_text_columns_left_out(tmp_path):
    p = _iris_like_csv(tmp_path)
    ds = load_dataset({"source": "csv", "path": "flowers.csv", "target": "species", "validation_split": 0.2,
                       "test_split": 0.2}, base_dir=tmp_path)
    assert ds.input_shapes == [(2,)] and ds.feature_names == ["sepal", "petal"]
    assert ds.output_names == ["species"] and ds.tasks == ["multiclass"]
    assert ds.class_names == [["setosa", "versicolor", "virginica"]] and ds.num_classes == [3]
    assert "name" in ds.description                                        # the skipped text column is mentioned
    assert ds.train.n == 36 and ds.val.n == 12 and ds.test.n == 12
    # round trip: label ids → names → the original rows
    import csv
    rows = {(float(r["sepal"]), float(r["petal"])): r["species"] for r in csv.DictReader(p.open())}
    for s in (ds.train, ds.val, ds.test):
        for xrow, lab in zip(s.x[0], s.y[0]):
            key = min(rows, key=lambda k: abs(k[0] - xrow[0]) + abs(k[1] - xrow[1]))
            assert ds.class_names[0][lab] == rows[key]
    assert np.bincount(ds.test.y[0]).tolist() == [4, 4, 4]


def test_csv_regression_integer_classes_several_targets_and_explicit_features(tmp_path):
    rng = np.random.default_rng(1)
    lines = ["a;b;grade;price"]
    for i in range(50):
        lines.append(f"{i};{rng.random():.4f};{[3, 5, 9][i % 3]};{rng.random() * 100:.2f}")
    _csv(tmp_path, "\n".join(lines), "shop.csv")
    ds = load_dataset({"source": "csv", "path": str(tmp_path / "shop.csv"), "target": ["grade", "price"]})
    assert ds.feature_names == ["a", "b"] and ds.input_shapes == [(2,)]      # ';' sniffed
    assert ds.tasks == ["multiclass", "regression"] and ds.class_names[0] == ["3", "5", "9"]
    assert ds.class_names[1] is None and ds.train.y[1].dtype == np.float32 and ds.output_shapes == [(), ()]
    ds = load_dataset({"source": "csv", "path": str(tmp_path / "shop.csv"), "target": "grade", "features": ["b"],
                       "task": "regression"})
    assert ds.input_shapes == [(1,)] and ds.tasks == ["regression"]
    # default target: the last column
    ds = load_dataset({"source": "csv", "path": str(tmp_path / "shop.csv")})
    assert ds.output_names == ["price"] and ds.feature_names == ["a", "b", "grade"]


def test_csv_bad_input(tmp_path):
    _iris_like_csv(tmp_path)
    spec = {"source": "csv", "path": "flowers.csv"}
    with pytest.raises(DataError) as e:
        load_dataset(dict(spec, target="kind"), base_dir=tmp_path)
    assert "flowers.csv has no column 'kind'" in str(e.value) and "columns found: sepal, petal, name, species" in str(e.value)
    _csv(tmp_path, "x,y,label\n1,2,a\n3,oops,b\n5,6,a\n7,8,b\n")
    with pytest.raises(DataError) as e:
        load_dataset({"source": "csv", "path": "t.csv", "target": "label"}, base_dir=tmp_path)
    assert "column 'y' has text 'oops' in line 3 (row 2)" in str(e.value) and "t.csv" in str(e.value)
    _csv(tmp_path, "x,y,label\n1,2,a\n3,,b\n")
    with pytest.raises(DataError, match=r"column 'y' is empty in line 3"):
        load_dataset({"source": "csv", "path": "t.csv", "target": "label", "features": ["x", "y"]}, base_dir=tmp_path)
    _csv(tmp_path, "")
    with pytest.raises(DataError, match=r"t.csv is empty"):
        load_dataset({"source": "csv", "path": "t.csv", "target": "label"}, base_dir=tmp_path)
    _csv(tmp_path, "x,label\n")
    with pytest.raises(DataError, match=r"has a header \(x, label\) but no data rows"):
        load_dataset({"source": "csv", "path": "t.csv", "target": "label"}, base_dir=tmp_path)
    _csv(tmp_path, "x,label\n1,a\n2,a\n3,a\n")
    with pytest.raises(DataError, match=r"target column 'label' has a single value \('a' in every row\)"):
        load_dataset({"source": "csv", "path": "t.csv", "target": "label"}, base_dir=tmp_path)
    _csv(tmp_path, "x,label\n1,a\n2,b,7\n")
    with pytest.raises(DataError, match=r"t.csv line 3 has 3 values, the header has 2 columns"):
        load_dataset({"source": "csv", "path": "t.csv", "target": "label"}, base_dir=tmp_path)
    with pytest.raises(DataError, match=r"missing.csv: no such file"):
        load_dataset({"source": "csv", "path": "missing.csv"}, base_dir=tmp_path)
    _csv(tmp_path, "x,label\n1,a\n2,b\n")
    with pytest.raises(DataError, match=r"has no column 'z' \(a feature\)"):
        load_dataset({"source": "csv", "path": "t.csv", "target": "label", "features": ["z"]}, base_dir=tmp_path)
    with pytest.raises(DataError, match=r"'task' is 'sorting'"):
        load_dataset({"source": "csv", "path": "t.csv", "target": "label", "task": "sorting"}, base_dir=tmp_path)


def test_csv_values_beyond_float32_empty_rows_and_unreadable_lines(tmp_path):
    _csv(tmp_path, "a,b,label\n1,2,x\n1e39,3,y\n4,5,x\n-1e40,1,y\n")
    with pytest.raises(DataError) as e:
        load_dataset({"source": "csv", "path": "t.csv", "target": "label"}, base_dir=tmp_path)
    assert str(e.value).startswith("t.csv: column 'a' has '1e39' in line 3 (row 2); 2 rows in all hold such values; "
                                   "values must be finite numbers that fit 32-bit floats")
    _csv(tmp_path, ",,\n , ,\n")
    with pytest.raises(DataError, match=r"t.csv holds no values \(only empty rows\)"):
        load_dataset({"source": "csv", "path": "t.csv"}, base_dir=tmp_path)
    _csv(tmp_path, 'a,b,label\n1,2,x\n3,"' + "z" * 200000 + '",y\n')
    with pytest.raises(DataError, match=r"t.csv line 3 cannot be read as CSV \(field larger than field limit"):
        load_dataset({"source": "csv", "path": "t.csv", "target": "label"}, base_dir=tmp_path)
    _csv(tmp_path, "a,b,label\n1,2,x\n3," + "w" * 5000 + ",y\n4,5,x\n")
    with pytest.raises(DataError) as e:
        load_dataset({"source": "csv", "path": "t.csv", "target": "label", "features": ["a", "b"]}, base_dir=tmp_path)
    assert "column 'b' has text 'wwww" in str(e.value) and "(5,000 characters)" in str(e.value)
    assert len(str(e.value)) < 200
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DataError, match=r"dir.csv is a folder, not a CSV file"):
        load_dataset({"source": "csv", "path": "dir.csv"}, base_dir=tmp_path)


def test_csv_label_setting_names_the_target(tmp_path):
    _csv(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
    with pytest.raises(DataError, match=r"t.csv has no column 'species' \(the target\); columns found: a, b, label"):
        load_dataset({"source": "csv", "path": "t.csv", "label": "species"}, base_dir=tmp_path)
    ds = load_dataset({"source": "csv", "path": "t.csv", "label": "a", "test_split": 0}, base_dir=tmp_path)
    assert ds.output_names == ["a"] and ds.feature_names == ["b"]
    ds = load_dataset({"source": "csv", "path": "t.csv", "label": "a", "target": "label"}, base_dir=tmp_path)
    assert ds.output_names == ["label"]                     # 'target' wins
    with pytest.raises(DataError, match=r"data setting 'target' is 2.5; it names the column to predict"):
        load_dataset({"source": "csv", "path": "t.csv", "target": 2.5}, base_dir=tmp_path)


# -- NPZ -----------------------------------------------------------------------------------------------------------
def test_npz_named_arrays_several_inputs_outputs(tmp_path):
    rng = np.random.default_rng(0)
    n = 80
    np.savez(tmp_path / "d.npz", img=rng.random((n, 6, 6, 1)).astype(np.float32), tok=rng.integers(0, 9, (n, 5)),
             cls=np.repeat([2, 7], n // 2), onehot=np.eye(3)[np.arange(n) % 3], val=rng.random((n, 2)),
             names=np.array(["cat", "dog"] * (n // 2)))
    ds = load_dataset({"source": "npz", "path": "d.npz", "x": ["img", "tok"], "y": ["cls", "onehot", "val", "names"]},
                      base_dir=tmp_path)
    assert ds.input_names == ["img", "tok"] and ds.input_shapes == [(6, 6, 1), (5,)]
    assert ds.train.x[1].dtype == np.int32 and ds.input_dtypes == ["float32", "int32"]
    assert ds.tasks == ["binary", "multiclass", "regression", "binary"]
    assert ds.class_names[0] == ["2", "7"] and ds.num_classes == [2, 3, None, 2]
    assert ds.output_shapes == [(), (), (2,), ()] and ds.class_names[3] == ["cat", "dog"]
    assert set(np.unique(ds.train.y[0])) == {0, 1}
    # label ids 0..K-1 stay as they are
    np.savez(tmp_path / "e.npz", x=rng.random((30, 3)), y=np.arange(30) % 3)
    ds = load_dataset({"source": "npz", "path": str(tmp_path / "e.npz"), "class_names": ["r", "g", "b"]})
    assert ds.class_names == [["r", "g", "b"]] and ds.input_names == ["x"]
    all_y = np.concatenate([s.y[0] for _, s in ds.splits])
    assert np.bincount(all_y).tolist() == [10, 10, 10]


def test_npz_bad_input(tmp_path):
    np.savez(tmp_path / "d.npz", features=np.zeros((10, 2)), labels=np.arange(10) % 2)
    with pytest.raises(DataError) as e:
        load_dataset({"source": "npz", "path": "d.npz"}, base_dir=tmp_path)
    assert "d.npz has no array 'x' (data setting 'x'); arrays found: features, labels" in str(e.value)
    with pytest.raises(DataError, match=r"has no array 'y' \(data setting 'y'\); arrays found: features, labels"):
        load_dataset({"source": "npz", "path": "d.npz", "x": "features"}, base_dir=tmp_path)
    np.savez(tmp_path / "f.npz", x=np.zeros((10, 2)), y=np.arange(9) % 2)
    with pytest.raises(DataError, match=r"different numbers of samples: x 10, y 9"):
        load_dataset({"source": "npz", "path": "f.npz"}, base_dir=tmp_path)
    (tmp_path / "g.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"g.npz is not a readable .npz file"):
        load_dataset({"source": "npz", "path": "g.npz"}, base_dir=tmp_path)
    with pytest.raises(DataError, match=r"nothere.npz: no such file"):
        load_dataset({"source": "npz", "path": "nothere.npz"}, base_dir=tmp_path)
    with pytest.raises(DataError, match=r"'path' is missing"):
        load_dataset({"source": "npz"}, base_dir=tmp_path)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_npz_nan_is_refused_wherever_the_split_puts_it(tmp_path, seed):
    x = np.random.default_rng(0).normal(size=(120, 4)).astype("float32")
    x[77, 2] = np.nan
    np.savez(tmp_path / "nan.npz", features=x, labels=np.arange(120) % 3)
    spec = {"source": "npz", "path": "nan.npz", "x": "features", "y": "labels", "validation_split": 0.2,
            "test_split": 0.2, "seed": seed}
    with pytest.raises(DataError) as e:
        load_dataset(spec, base_dir=tmp_path)
    assert str(e.value) == ("nan.npz: array 'features' has a NaN at sample 77 (index [77, 2]); Layerwise needs "
                            "finite numbers: fix or drop those samples")


def test_npz_infinite_and_too_large_values_in_inputs_and_targets(tmp_path):
    x = np.zeros((50, 3))
    x[4, 1], x[9, 0] = np.inf, -np.inf
    np.savez(tmp_path / "inf.npz", x=x, y=np.arange(50) % 2)
    with pytest.raises(DataError) as e:
        load_dataset({"source": "npz", "path": "inf.npz"}, base_dir=tmp_path)
    assert str(e.value).startswith("inf.npz: array 'x' has an infinite value (inf) at sample 4 (index [4, 1]); "
                                   "2 samples in all hold NaN or infinite values")
    y = np.linspace(0, 1, 50)
    y[3] = np.nan                                            # a regression target
    np.savez(tmp_path / "ynan.npz", x=np.zeros((50, 3)), y=y)
    with pytest.raises(DataError, match=r"^ynan.npz: array 'y' has a NaN at sample 3; Layerwise needs finite"):
        load_dataset({"source": "npz", "path": "ynan.npz"}, base_dir=tmp_path)
    x = np.zeros((50, 3))
    x[6, 2] = 1e39                                           # finite in float64, inf once trained as float32
    np.savez(tmp_path / "big.npz", x=x, y=np.arange(50) % 2)
    with pytest.raises(DataError, match=r"big.npz: array 'x' has the value 1e\+39 at sample 6 \(index \[6, 2\]\): "
                                        r"too large for the 32-bit floats"):
        load_dataset({"source": "npz", "path": "big.npz"}, base_dir=tmp_path)
    # int64 values beyond int32 are not wrapped around: they become floats
    np.savez(tmp_path / "ids.npz", x=np.arange(10, dtype=np.int64) * 10 ** 12, y=np.arange(10) % 2)
    ds = load_dataset({"source": "npz", "path": "ids.npz", "validation_split": 0, "test_split": 0}, base_dir=tmp_path)
    assert ds.train.x[0].dtype == np.float32 and sorted(ds.train.x[0][:, 0].tolist())[-1] == pytest.approx(9e12)


def test_npz_arrays_that_are_not_one_entry_per_sample(tmp_path):
    cases = [
        ("zero.npz", dict(x=np.float64(3), y=np.arange(2)), "zero.npz: array 'x' is a single value (shape ()), not "
                                                             "one entry per sample"),
        ("empty.npz", dict(x=np.zeros((0, 3)), y=np.zeros(0)), "empty.npz: array 'x' is empty (shape (0, 3)): no "
                                                                "samples"),
        ("nofeat.npz", dict(x=np.zeros((10, 0)), y=np.arange(10) % 2), "nofeat.npz: array 'x' has no values per "
                                                                       "sample (shape (10, 0))"),
        ("ystr.npz", dict(x=np.zeros((10, 2)), y=np.float64(1)), "ystr.npz: array 'y' is a single value"),
        ("text.npz", dict(x=np.array(["a", "b"] * 5), y=np.arange(10) % 2), "text.npz: array 'x' holds <U1 values; "
                                                                            "inputs must be numbers"),
        ("cplx.npz", dict(x=np.zeros((10, 2), complex), y=np.arange(10) % 2), "array 'x' holds complex128 values"),
    ]
    for name, arrays, message in cases:
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(DataError) as e:
            load_dataset({"source": "npz", "path": name}, base_dir=tmp_path)
        assert message in str(e.value), (name, str(e.value))


def test_npz_files_that_are_damaged_or_unsafe(tmp_path):
    import io
    import pickle
    import zipfile

    def fails(name, fragment, **spec):
        with pytest.raises(DataError) as e:
            load_dataset(dict({"source": "npz", "path": name}, **spec), base_dir=tmp_path)
        assert fragment in str(e.value), str(e.value)
        return str(e.value)

    # object arrays are never unpickled (a pickle could run code)
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("the pickle was loaded",))
    ragged = np.empty(10, dtype=object)
    ragged[:] = [Boom()] * 10
    np.savez(tmp_path / "obj.npz", x=ragged, y=np.arange(10) % 2)
    fails("obj.npz", "obj.npz: array 'x' (data setting 'x') holds Python objects (dtype object")
    # a header that claims terabytes, over a few bytes of data
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 6, 10 ** 6)})
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as z:
        z.writestr("x.npy", head.getvalue() + b"\0" * 64)
        z.writestr("y.npy", head.getvalue() + b"\0" * 64)
    fails("huge.npz", "huge.npz: array 'x' (data setting 'x') declares shape (1000000, 1000000) of float64 (8.0 TB) "
                      "but the file holds only 64 bytes of it: the file is damaged or cut short")
    # a zip member that is not .npy data
    with zipfile.ZipFile(tmp_path / "junk.npz", "w") as z:
        z.writestr("x.npy", b"hello")
        z.writestr("y.npy", pickle.dumps([1, 2]))
    fails("junk.npz", "junk.npz: array 'x' (data setting 'x') is not numpy array data")
    # damaged bytes inside a member (CRC check)
    np.savez(tmp_path / "ok.npz", x=np.zeros((100, 3)), y=np.arange(100) % 2)
    raw = bytearray((tmp_path / "ok.npz").read_bytes())
    raw[raw.find(b"\0" * 40) + 10] = 7
    (tmp_path / "crc.npz").write_bytes(bytes(raw))
    fails("crc.npz", "crc.npz: array 'x' (data setting 'x') cannot be read: the file is damaged (Bad CRC-32")
    (tmp_path / "cut.npz").write_bytes(bytes(raw[:len(raw) // 2]))
    fails("cut.npz", "cut.npz is not a readable .npz file: it is not a zip archive of arrays, or it is cut short")
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "one.npz").write_bytes((tmp_path / "one.npy").read_bytes())
    fails("one.npz", "one.npz holds a single array, not named arrays")
    (tmp_path / "folder.npz").mkdir()
    fails("folder.npz", "folder.npz is a folder, not an .npz file")
    fails("ok.npz", "data setting 'x' is 5; it names an array of ok.npz (or lists several); arrays found: x, y", x=5)


# -- image folder --------------------------------------------------------------------------------------------------
def _write_pngs(folder, counts, size=(10, 12)):
    import tensorflow as tf
    rng = np.random.default_rng(0)
    for cls, n in counts.items():
        d = folder / cls
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img = rng.integers(0, 256, size + (3,), dtype=np.uint8)
            (d / f"{i}.png").write_bytes(tf.io.encode_png(img).numpy())


def test_image_folder_streams_batches(tmp_path):
    _write_pngs(tmp_path / "pics", {"cats": 12, "dogs": 8, "empty": 0})
    spec = {"source": "image_folder", "path": "pics", "image_size": [16, 16], "color_mode": "grayscale",
            "batch_size": 4, "validation_split": 0.2, "test_split": 0.1, "seed": 1}
    ds = load_dataset(spec, base_dir=tmp_path)
    assert ds.streamed and ds.train.x is None
    assert ds.input_shapes == [(16, 16, 1)] and ds.class_names == [["cats", "dogs"]] and ds.num_classes == [2]
    assert ds.tasks == ["binary"] and (ds.train.n, ds.val.n, ds.test.n) == (14, 4, 2)
    seen = 0
    for x, y in ds.train.tf_dataset:
        assert tuple(x.shape[1:]) == (16, 16, 1) and x.shape[0] <= 4
        assert set(y.numpy().tolist()) <= {0, 1}
        seen += int(x.shape[0])
    assert seen == 14
    assert sum(int(x.shape[0]) for x, _ in ds.val.tf_dataset) == 4
    assert sum(int(x.shape[0]) for x, _ in ds.test.tf_dataset) == 2
    g = _mlp((16, 16, 1), 1, "binary_crossentropy", act="sigmoid")
    assert check_fit(ds, g) == []
    stream, none = arrays_for_model(ds, ds.train, g)
    assert none is None
    x, y = next(iter(stream))
    assert tuple(y.shape) == (x.shape[0], 1) and y.dtype.name == "float32"
    rgb = load_dataset(dict(spec, color_mode="rgb", image_size=[8, 10], test_split=0), base_dir=tmp_path)
    assert rgb.input_shapes == [(8, 10, 3)] and rgb.test is None


def test_image_folder_bad_input(tmp_path):
    (tmp_path / "none" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match=r"image folder .*none has no images"):
        load_dataset({"source": "image_folder", "path": "none"}, base_dir=tmp_path)
    _write_pngs(tmp_path / "one", {"only": 3})
    with pytest.raises(DataError, match=r"has only one class \('only', 3 images\)"):
        load_dataset({"source": "image_folder", "path": "one"}, base_dir=tmp_path)
    _write_pngs(tmp_path / "two", {"a": 3, "b": 3})
    with pytest.raises(DataError, match=r"'color_mode' is 'cmyk'"):
        load_dataset({"source": "image_folder", "path": "two", "color_mode": "cmyk"}, base_dir=tmp_path)
    with pytest.raises(DataError, match=r"'image_size' is \[0, 4\]"):
        load_dataset({"source": "image_folder", "path": "two", "image_size": [0, 4]}, base_dir=tmp_path)
    with pytest.raises(DataError, match=r"nowhere: no such folder"):
        load_dataset({"source": "image_folder", "path": "nowhere"}, base_dir=tmp_path)


def _bad_image_folder(tmp_path, name, content):
    import shutil
    folder = tmp_path / "pics"
    shutil.rmtree(folder, ignore_errors=True)
    _write_pngs(folder, {"cats": 4, "dogs": 4})
    bad = folder / "dogs" / name
    bad.write_bytes(content)
    return bad


def _jpeg_bytes():
    import tensorflow as tf
    return tf.io.encode_jpeg(np.random.default_rng(1).integers(0, 256, (10, 12, 3), dtype=np.uint8)).numpy()


@pytest.mark.parametrize("name, content, fragment", [
    ("note.png", b"hello, this is not an image\n", "holds text, not an image (it starts with 'hello, this is not a')"),
    ("blank.jpg", b"", "is empty (0 bytes)"),
    ("noise.gif", bytes(range(200, 256)) * 3, "is not a PNG, JPEG, GIF or BMP image (its first bytes are c8 c9"),
    ("cut.jpg", "jpeg-half", "cannot be decoded as JPEG ("),
    ("cut.png", "png-half", "cannot be decoded as PNG ("),
])
def test_image_folder_names_the_file_that_is_not_an_image(tmp_path, name, content, fragment):
    import tensorflow as tf
    if content == "jpeg-half":
        jpg = _jpeg_bytes()
        content = jpg[:len(jpg) // 2]
    elif content == "png-half":
        png = tf.io.encode_png(np.zeros((10, 12, 3), np.uint8) + 7).numpy()
        content = png[:len(png) // 2]
    bad = _bad_image_folder(tmp_path, name, content)
    with pytest.raises(DataError) as e:
        load_dataset({"source": "image_folder", "path": "pics", "image_size": [8, 8]}, base_dir=tmp_path)
    msg = str(e.value)
    assert msg.startswith(f"image {bad} {fragment}"), msg
    assert "remove it from the image folder or replace it with a real image" in msg


def test_image_folder_counts_the_bad_files_and_accepts_misnamed_images(tmp_path):
    bad = _bad_image_folder(tmp_path, "a.png", b"text")
    for n in ("b.png", "c.png"):
        (bad.parent / n).write_bytes(b"")
    with pytest.raises(DataError) as e:
        load_dataset({"source": "image_folder", "path": "pics", "image_size": [8, 8]}, base_dir=tmp_path)
    assert f"image {bad} holds text" in str(e.value) and "(2 more bad files: dogs/b.png, dogs/c.png)" in str(e.value)
    # JPEG data under a .png name decodes (the decoder goes by the content): accepted
    _bad_image_folder(tmp_path, "photo.png", _jpeg_bytes())
    ds = load_dataset({"source": "image_folder", "path": "pics", "image_size": [8, 8], "validation_split": 0},
                      base_dir=tmp_path)
    assert ds.train.n == 9 and sum(int(x.shape[0]) for x, _ in ds.train.tf_dataset) == 9


def test_image_that_breaks_while_streaming_is_named(tmp_path, monkeypatch):
    import tensorflow as tf
    from core.project import Project
    from core.training import TrainConfig, run
    # damaged inside (header and end intact): only a full decode finds it, and big folders are not decoded up front
    png = bytearray(tf.io.encode_png(np.random.default_rng(2).integers(0, 256, (10, 12, 3), dtype=np.uint8)).numpy())
    for i in range(40, len(png) - 20):
        png[i] ^= 0x55
    bad = _bad_image_folder(tmp_path, "inside.png", bytes(png))
    spec = {"source": "image_folder", "path": "pics", "image_size": [8, 8], "batch_size": 3, "validation_split": 0}
    with pytest.raises(DataError, match=r"cannot be decoded as PNG"):
        load_dataset(spec, base_dir=tmp_path)                        # a small folder: every image decoded once
    monkeypatch.setattr(D, "IMAGE_DECODE_CHECK_BYTES", 0)
    ds = load_dataset(spec, base_dir=tmp_path)
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        for _ in ds.train.tf_dataset:
            pass
    err = D.stream_error(e.value)
    assert isinstance(err, DataError) and str(err) == (f"image {bad} cannot be read or decoded (damaged, cut short or "
                                                       f"not an image); remove it from the image folder or replace it "
                                                       f"with a real image")
    assert D.stream_error(ValueError("something else")) is None
    # the training engine stops with a data error that names the file
    g = _mlp((8, 8, 3), 2, in_name="image", out_name="label")
    res = run(Project(graph=g, name="pics"), data=ds, config=TrainConfig(epochs=2, batch_size=3))
    assert res.error is not None and res.error.kind == "data" and str(bad) in str(res.error), res.error


# -- Keras datasets through Keras' cache ---------------------------------------------------------------------------
@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "kh"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(D, "_network_available", lambda timeout=3.0: False)
    monkeypatch.setattr(D, "keras_cache_dirs", lambda: [home / "datasets"])
    return home / "datasets"


def test_keras_cache_dir_follows_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert D.keras_cache_dirs()[0] == tmp_path / "kh" / "datasets"
    monkeypatch.delenv("KERAS_HOME")
    from pathlib import Path
    assert D.keras_cache_dirs()[0] in (Path.home() / ".keras" / "datasets", Path("/tmp/.keras/datasets"))


def test_keras_not_cached_fails_at_once(keras_home):
    import time
    t = time.time()
    with pytest.raises(DataError) as e:
        load_dataset({"source": "keras", "name": "mnist"})
    assert time.time() - t < 2
    msg = str(e.value)
    assert "MNIST is not in Keras' cache" in msg and str(keras_home / "mnist.npz") in msg
    assert "cannot be downloaded: no network" in msg
    with pytest.raises(DataError, match=r"CIFAR-10 is not in Keras' cache .* downloads are switched off"):
        load_dataset({"source": "keras", "name": "cifar10", "download": False})


def test_keras_mnist_from_cache(keras_home):
    rng = np.random.default_rng(0)
    np.savez(keras_home / "mnist.npz", x_train=rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
             y_train=np.arange(50, dtype=np.uint8) % 10, x_test=rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
             y_test=np.arange(12, dtype=np.uint8) % 10)
    ds = load_dataset({"source": "keras", "name": "mnist", "validation_split": 0.2})
    assert ds.input_shapes == [(28, 28, 1)] and ds.num_classes == [10] and ds.class_names[0][3] == "3"
    assert (ds.train.n, ds.val.n, ds.test.n) == (40, 10, 12)
    assert np.bincount(ds.val.y[0]).tolist() == [1] * 10                   # stratified
    flat = load_dataset({"source": "keras", "name": "mnist", "form": "flat"})
    assert flat.input_shapes == [(784,)]
    x, y = arrays_for_model(ds, ds.train, _mlp((28, 28, 1), 10))
    assert x.shape == (40, 28, 28, 1) and y.shape == (40,)


def test_keras_fashion_cifar_imdb_from_cache(keras_home):
    import gzip
    import pickle
    rng = np.random.default_rng(0)
    fm = keras_home / "fashion-mnist"
    fm.mkdir()
    for prefix, n in (("train", 20), ("t10k", 5)):
        with gzip.open(fm / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + (np.arange(n) % 10).astype(np.uint8).tobytes())
        with gzip.open(fm / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + rng.integers(0, 256, n * 784, dtype=np.uint8).tobytes())
    ds = load_dataset({"source": "keras", "name": "fashion_mnist", "validation_split": 0})
    assert ds.train.n == 20 and ds.test.n == 5 and ds.class_names[0][9] == "Ankle boot" and ds.val is None
    assert ds.test.y[0].tolist() == [0, 1, 2, 3, 4]

    cd = keras_home / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    cd.mkdir(parents=True)
    first = None
    for b in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        first = data if first is None else first
        with open(cd / b, "wb") as f:
            pickle.dump({b"data": data, b"labels": [0, 1, 2, 3]}, f)
    ds = load_dataset({"source": "keras", "name": "cifar10", "validation_split": 0})
    assert ds.input_shapes == [(32, 32, 3)] and ds.train.n == 20 and ds.test.n == 4
    img = first[0].reshape(3, 32, 32).transpose(1, 2, 0)                   # channels last, like Keras
    assert any(np.array_equal(img, x) for x in ds.train.x[0])

    xs = np.empty(6, dtype=object)
    for i in range(6):
        xs[i] = list(rng.integers(1, 50, rng.integers(3, 12)))
    np.savez(keras_home / "imdb.npz", x_train=xs, y_train=np.array([0, 1] * 3), x_test=xs[:2], y_test=np.array([0, 1]))
    ds = load_dataset({"source": "keras", "name": "imdb", "maxlen": 8, "num_words": 30, "validation_split": 0})
    assert ds.input_shapes == [(8,)] and ds.tasks == ["binary"] and ds.class_names == [["negative", "positive"]]
    seq = ds.test.x[0][0]
    want = ([1] + [w + 3 if w + 3 < 30 else 2 for w in xs[0]])[-8:]
    assert seq.tolist() == [0] * (8 - len(want)) + want and seq.dtype == np.int32


def test_keras_cached_file_that_is_broken(keras_home):
    (keras_home / "mnist.npz").write_bytes(b"junk")
    with pytest.raises(DataError, match=r"MNIST in Keras' cache .*mnist.npz\) cannot be read"):
        load_dataset({"source": "keras", "name": "mnist"})


def test_keras_cached_file_with_nan(keras_home):
    x = np.zeros((30, 28, 28), dtype=np.float32)
    x[12, 3, 4] = np.nan
    np.savez(keras_home / "mnist.npz", x_train=x, y_train=np.arange(30) % 10, x_test=x[:5].copy() * 0,
             y_test=np.arange(5))
    with pytest.raises(DataError) as e:
        load_dataset({"source": "keras", "name": "mnist"})
    assert "MNIST in Keras' cache" in str(e.value) and "array 'x_train' has a NaN at sample 12 (index [12, 3, 4])" \
        in str(e.value)


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
    ds = _gen("two_heads")
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


def test_csv_without_header_and_numeric_binary_labels(tmp_path):
    _csv(tmp_path, "".join(f"{i * 0.5},{i % 4},{i % 2}\n" for i in range(20)), "plain.csv")
    ds = load_dataset({"source": "csv", "path": "plain.csv", "validation_split": 0, "test_split": 0.25}, base_dir=tmp_path)
    assert ds.feature_names == ["column_1", "column_2"] and ds.output_names == ["column_3"]
    assert ds.tasks == ["binary"] and ds.class_names == [["0", "1"]] and (ds.train.n, ds.test.n) == (15, 5)
    ds = load_dataset({"source": "csv", "path": "plain.csv", "target": 1}, base_dir=tmp_path)   # by index
    assert ds.output_names == ["column_2"] and ds.num_classes == [4]
