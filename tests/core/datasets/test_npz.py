"""NPZ files: named arrays, non-finite values wherever the split puts them, damaged or unsafe files."""
import numpy as np
import pytest

from core.datasets import DataError, load_dataset


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
