"""The classic Keras datasets (MNIST, Fashion-MNIST, CIFAR-10, IMDB), read from Keras' own cache (downloaded there
first when the network answers; see :mod:`core.downloads`)."""
from __future__ import annotations

import numpy as np

from .. import downloads
from ..errors import DataError
from .records import Dataset, Split
from .safe_pickle import NumpyOnlyUnpickler, read_npz_objects
from .splits import split_fractions, split_indices
from .validate import check_values, int_setting

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

def keras_cache_dirs() -> list:
    """Where Keras keeps downloaded datasets: the ``datasets`` folder of each of Keras' cache folders, first the
    one ``keras.datasets`` downloads into ($KERAS_HOME/datasets, else ~/.keras/datasets, or /tmp/.keras/datasets
    when the home folder cannot be written)."""
    return [d / "datasets" for d in downloads.cache_dirs()]

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

def _download(name, spec):
    """Fetch a Keras dataset into Keras' cache with keras.datasets (hash-checked), or raise DataError at once."""
    title = KERAS_INFO[name][0]
    where = keras_cache_dirs()[0]
    expect = where / KERAS_INFO[name][1][0]
    if spec.get("download", True) is False or downloads.switched_off():
        raise DataError(f"{title} is not in Keras' cache ({expect}) and downloads are switched off; copy the file "
                        f"there from a machine with internet")
    if not downloads.online():
        raise DataError(f"{title} is not in Keras' cache ({expect}) and cannot be downloaded: no network. Copy the "
                        f"file there from a machine where keras.datasets.{name}.load_data() has run")
    from ..tfload import import_keras
    keras = import_keras()
    try:
        with downloads.socket_timeout(30):
            getattr(keras.datasets, name).load_data()
    except Exception as e:
        raise DataError(f"{title} is not in Keras' cache ({expect}) and the download failed: {e}") from None

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
            d = NumpyOnlyUnpickler.load(raw, encoding="bytes")
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
        f = read_npz_objects(found)
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

def load(spec, base_dir):
    """A Keras dataset by the data setting 'name', from Keras' cache (downloaded first when missing)."""
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
        num_words = int_setting(spec, "num_words", 10000, 4, 10_000_000)
        maxlen = int_setting(spec, "maxlen", 200, 1, 100_000)
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
        limit = int_setting(spec, "samples", None, 10, 10_000_000)
        keep = np.sort(rng.permutation(len(xtr))[:limit])
        xtr, ytr = xtr[keep], ytr[keep]
        keep = np.sort(rng.permutation(len(xte))[:max(1, limit // 6)])
        xte, yte = xte[keep], yte[keep]
    val_frac, _ = split_fractions({"validation_split": spec.get("validation_split", 0.1), "test_split": 0.0})
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
