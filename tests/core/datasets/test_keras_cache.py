"""The Keras datasets through Keras' cache: found offline, refused at once when missing, broken files named."""
import numpy as np
import pytest

from core.datasets import DataError, arrays_for_model, load_dataset
from core import downloads
from core.datasets import keras_cache
from tests.core.datasets.helpers import mlp


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "kh"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(downloads, "online", lambda *a, **k: False)
    monkeypatch.setattr(downloads, "cache_dirs", lambda: [home])
    return home / "datasets"


def test_keras_cache_dir_follows_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert keras_cache.keras_cache_dirs()[0] == tmp_path / "kh" / "datasets"
    monkeypatch.delenv("KERAS_HOME")
    from pathlib import Path
    assert keras_cache.keras_cache_dirs()[0] in (Path.home() / ".keras" / "datasets", Path("/tmp/.keras/datasets"))


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
    x, y = arrays_for_model(ds, ds.train, mlp((28, 28, 1), 10))
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
