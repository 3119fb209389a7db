"""NPZ files: named numpy arrays for the inputs and targets, read without unpickling and size-checked first."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from .records import shape_str
from .splits import make_dataset
from .targets import encode_target, task_hint
from .validate import check_values, resolve_path


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


def load(spec, base_dir):
    """The .npz file the data setting 'path' names: input arrays 'x', target arrays 'y'."""
    path = resolve_path(spec, base_dir, "NPZ file")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an .npz file")
    xs_names, ys_names, arrays = _read_arrays(path, spec)
    _check_arrays(path, xs_names, ys_names, arrays)
    n = len(arrays[xs_names[0]])
    xs = [_input(arrays[a]) for a in xs_names]
    ys, tasks, class_names = [], [], []
    given_names = spec.get("class_names")
    for i, a in enumerate(ys_names):
        where = f"{path.name}: array {a!r}"
        y, task, names = _target(arrays[a], where, task_hint(spec, a, i))
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
    desc = (f"{path.name}: {n} samples; inputs " + ", ".join(f"{a} {shape_str(x.shape[1:])}" for a, x in zip(xs_names, xs))
            + "; targets " + ", ".join(f"{a} ({t})" for a, t in zip(ys_names, tasks)))
    return make_dataset(path.stem, spec, xs, ys, xs_names, ys_names, tasks, class_names, desc)


def _open(path):
    """The open NpzFile at ``path``; DataError when it is not a readable archive of named arrays."""
    import zipfile
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
    return npz


def _read_arrays(path, spec):
    """(input array names, target array names, {name: array}) as the data settings 'x' and 'y' name them."""
    with _open(path) as npz:
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
    return xs_names, ys_names, arrays


def _check_arrays(path, xs_names, ys_names, arrays):
    """One entry per sample in every array, the same number of samples, numbers (targets: or text), all finite."""
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


def _input(v):
    """An input array as the model gets it: signed integers stay integers (token ids for an Embedding) when int32
    holds them; bytes (uint8 images), bools, floats and larger integers → float32. (N,) → (N, 1)."""
    i32 = np.iinfo(np.int32)
    if v.ndim == 1:
        v = v[:, None]
    if v.dtype.kind == "i" and (v.dtype.itemsize <= 4 or (v.min() >= i32.min and v.max() <= i32.max)):
        return v.astype(np.int32)
    return v.astype(np.float32)


def _target(v, where, hint):
    """(y, task, class names) for one target array: one-hot rows, one label or value per sample, or values."""
    if v.ndim == 2 and v.shape[1] > 1 and v.dtype.kind in "biuf" and hint != "regression" and \
            np.all((v == 0) | (v == 1)) and np.all(v.sum(axis=1) == 1):
        ids = v.argmax(axis=1)          # one-hot rows → class ids
        names_k = ids.max() + 1
        return ids.astype(np.int32), ("binary" if names_k == 2 else "multiclass"), [str(k) for k in range(v.shape[1])]
    if v.ndim == 1 or (v.ndim == 2 and v.shape[1] == 1 and hint not in (None, "regression")) or \
            (v.ndim == 2 and v.shape[1] == 1 and v.dtype.kind in "biuU"):
        flat = v.reshape(len(v))
        if flat.dtype.kind not in "biufUS":
            raise DataError(f"{where} holds {flat.dtype} values; targets must be numbers or text")
        if flat.dtype.kind == "S":
            flat = flat.astype(str)
        if flat.dtype.kind in "iu" and hint is None:
            hint = "classification" if len(np.unique(flat)) <= 1000 else None
        y, task, names = encode_target(flat, where, hint)
        if task != "regression" and flat.dtype.kind in "iu":
            uniq = np.unique(flat)
            if uniq[0] == 0 and uniq[-1] < 2 * len(uniq) + 10:     # label ids from 0: keep them as they are
                k = int(uniq[-1]) + 1
                y = flat.astype(np.int32)
                names = [str(j) for j in range(k)]
                task = "binary" if k == 2 else "multiclass"
        return y, task, names
    if v.dtype.kind not in "biuf":
        raise DataError(f"{where} holds {v.dtype} values; targets must be numbers")
    if hint not in (None, "regression"):
        raise DataError(f"{where} has shape {v.shape}; class labels must be one per sample (N,) or one-hot")
    return v.astype(np.float32), "regression", None
