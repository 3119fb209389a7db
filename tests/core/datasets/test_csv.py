"""CSV files: headers, targets, features, and bad input named by line and column."""
import numpy as np
import pytest

from core.datasets import DataError, load_dataset


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



def test_csv_without_header_and_numeric_binary_labels(tmp_path):
    _csv(tmp_path, "".join(f"{i * 0.5},{i % 4},{i % 2}\n" for i in range(20)), "plain.csv")
    ds = load_dataset({"source": "csv", "path": "plain.csv", "validation_split": 0, "test_split": 0.25}, base_dir=tmp_path)
    assert ds.feature_names == ["column_1", "column_2"] and ds.output_names == ["column_3"]
    assert ds.tasks == ["binary"] and ds.class_names == [["0", "1"]] and (ds.train.n, ds.test.n) == (15, 5)
    ds = load_dataset({"source": "csv", "path": "plain.csv", "target": 1}, base_dir=tmp_path)   # by index
    assert ds.output_names == ["column_2"] and ds.num_classes == [4]
