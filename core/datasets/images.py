"""Image folders: one subfolder of images per class, checked up front and streamed as tf.data batches."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from .records import Dataset, Split
from .splits import split_fractions, split_indices
from .validate import resolve_path


IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")     # what Keras' image_dataset_from_directory reads
COLOR_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
IMAGE_DECODE_CHECK_BYTES = 32 << 20    # folders up to this size have every image decoded once when they load
BAD_IMAGE_TEXT = (" cannot be read or decoded (damaged, cut short or not an image); remove it from the image "
                  "folder or replace it with a real image")


def _list_images(folder):
    """Image files (by extension) anywhere under ``folder``, in a stable order."""
    import os
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        out.extend(os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS))
    return out


def _image_kind(head):
    """The image format the first bytes announce (whatever the file's extension), else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM") and len(head) >= 26:
        return "BMP"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return "JPEG XL"
    return None


def _image_problem(file, channels, decode):
    """Why ``file`` cannot be read as an image (a phrase), or None when it can. Reads the first and last bytes;
    decodes the image with TensorFlow when ``decode`` or when the file looks cut short (TensorFlow's decoder,
    the one training uses, has the last word)."""
    import os
    try:
        size = os.path.getsize(file)
        with open(file, "rb") as f:
            head = f.read(32)
            f.seek(max(0, size - 1024))
            tail = f.read()
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if size == 0:
        return "is empty (0 bytes)"
    kind = _image_kind(head)
    if kind is None:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and all(c.isprintable() or c in "\r\n\t" for c in text):
            return f"holds text, not an image (it starts with {text[:20]!r})"
        return f"is not a PNG, JPEG, GIF or BMP image (its first bytes are {head[:8].hex(' ')})"
    complete = {"PNG": b"IEND" in tail[-64:], "JPEG": b"\xff\xd9" in tail, "GIF": b";" in tail[-16:],
                "BMP": int.from_bytes(head[2:6], "little") <= size,
                "WebP": int.from_bytes(head[4:8], "little") + 8 <= size}.get(kind, True)
    if complete and not decode:
        return None
    import tensorflow as tf
    try:
        with open(file, "rb") as f:
            tf.io.decode_image(f.read(), channels=channels, expand_animations=False)
    except Exception as e:  # noqa: BLE001  (TensorFlow's decoders raise InvalidArgumentError and friends)
        reason = str(getattr(e, "message", None) or e).strip().splitlines()[0]
        reason = reason.split("}}")[-1].split(" [Op:")[0].strip()
        return f"cannot be decoded as {kind} ({reason}): the file is damaged or cut short"
    return None


def _check_images(path, files, channels):
    """DataError naming the first bad image file (and how many more there are)."""
    import os
    total = 0
    for f in files:
        try:
            total += os.path.getsize(f)
        except OSError:
            pass
    decode = total <= IMAGE_DECODE_CHECK_BYTES
    bad = []
    for f in files:
        why = _image_problem(f, channels, decode)
        if why is not None:
            bad.append((f, why))
    if not bad:
        return
    f, why = bad[0]
    more = ""
    if len(bad) > 1:
        names = ", ".join(os.path.relpath(b, path) for b, _ in bad[1:4])
        more = f" ({len(bad) - 1} more bad file{'s' if len(bad) > 2 else ''}: {names}{', …' if len(bad) > 4 else ''})"
    raise DataError(f"image {f} {why}; remove it from the image folder or replace it with a real image{more}")


def _image_stream(files, labels, size, channels, batch, shuffle_seed=None):
    """A tf.data pipeline of (images float32 0-255 resized like Keras' image_dataset_from_directory, int32
    labels) batches. An image that fails to decode stops it with an error that names the file (the decode runs in
    a one-element inner dataset whose error is caught; an assertion then fails with the path): an
    InvalidArgumentError whose text :func:`stream_error` turns back into a DataError."""
    import tensorflow as tf
    h, w = size
    shape = (h, w, channels)

    def decode(p):
        img = tf.io.decode_image(tf.io.read_file(p), channels=channels, expand_animations=False)
        img = tf.image.resize(img, (h, w), method="bilinear")
        img.set_shape(shape)
        return img

    def load(p, y):
        inner = tf.data.Dataset.from_tensors(p).map(lambda q: (decode(q), True)).ignore_errors()
        fallback = tf.data.Dataset.from_tensors((tf.zeros(shape, tf.float32), False))
        img, ok = inner.concatenate(fallback).take(1).get_single_element()
        check = tf.debugging.Assert(ok, [tf.strings.join(["image ", p, BAD_IMAGE_TEXT])], summarize=1)
        with tf.control_dependencies([check]):
            img = tf.identity(img)
        return img, y

    ds = tf.data.Dataset.from_tensor_slices((np.asarray(files, dtype=str), np.asarray(labels, dtype=np.int32)))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch).prefetch(tf.data.AUTOTUNE)


def stream_error(exc):
    """The DataError that a streamed split's error stands for (an image file that cannot be decoded, named), or
    None when ``exc`` is not one."""
    text = str(getattr(exc, "message", None) or exc)
    if BAD_IMAGE_TEXT not in text:
        return None
    start = text.find("[image ")
    end = text.find(BAD_IMAGE_TEXT, start)
    if start < 0 or end < 0:
        return None
    return DataError(text[start + 1:end + len(BAD_IMAGE_TEXT)])


def load(spec, base_dir):
    """The image folder the data setting 'path' names, streamed in batches (one class per subfolder)."""
    path = resolve_path(spec, base_dir, "image folder")
    if not path.is_dir():
        raise DataError(f"{path} is a file; an image folder holds one subfolder of images per class")
    size = spec.get("image_size", [64, 64])
    if isinstance(size, int):
        size = [size, size]
    if (not isinstance(size, (list, tuple)) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 8192 for v in size)):
        raise DataError(f"data setting 'image_size' is {size!r}; expected [height, width] in pixels, e.g. [64, 64]")
    color = spec.get("color_mode", "rgb")
    if color not in COLOR_CHANNELS:
        raise DataError(f"data setting 'color_mode' is {color!r}; expected one of {', '.join(COLOR_CHANNELS)}")
    batch = spec.get("batch_size", 32)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise DataError(f"data setting 'batch_size' is {batch!r}; it must be a whole number of at least 1")
    val_frac, test_frac = split_fractions(spec, 0.2, 0.0)
    classes = sorted(d.name for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
    listed = {c: _list_images(path / c) for c in classes}
    counts = {c: len(listed[c]) for c in classes}
    with_images = [c for c in classes if counts[c]]
    loose = sum(1 for f in path.iterdir() if f.is_file() and f.name.lower().endswith(IMAGE_EXTENSIONS))
    exts = "/".join(e[1:] for e in IMAGE_EXTENSIONS)
    if not with_images:
        hint = f" ({loose} image(s) lie directly in it: put them in one subfolder per class)" if loose else ""
        raise DataError(f"image folder {path} has no images{hint}: expected one subfolder per class holding "
                        f"{exts} files")
    if len(with_images) < 2:
        raise DataError(f"image folder {path} has only one class ({with_images[0]!r}, {counts[with_images[0]]} "
                        f"images): a classifier needs at least two subfolders of images")
    files = [f for c in with_images for f in listed[c]]
    labels = np.asarray([k for k, c in enumerate(with_images) for _ in listed[c]], dtype=np.int32)
    total = len(files)
    seed = int(spec.get("seed", 0))
    tr, va, te = split_indices(total, val_frac, test_frac, seed, labels)
    if len(tr) == 0:
        raise DataError(f"image folder {path}: the split leaves no training images ({total} images)")
    if (val_frac > 0 and len(va) == 0) or (test_frac > 0 and len(te) == 0):
        raise DataError(f"image folder {path} has only {total} images: too few for validation_split {val_frac} "
                        f"and test_split {test_frac}")
    from ..tfload import import_keras
    import_keras()
    channels = COLOR_CHANNELS[color]
    _check_images(path, files, channels)
    files = np.asarray(files, dtype=str)

    def stream(idx, shuffle):
        if len(idx) == 0:
            return None
        return Split(None, None, _image_stream(files[idx], labels[idx], size, channels, batch,
                                               seed if shuffle else None), int(len(idx)))
    h, w = size
    shape = (h, w, channels)
    k = len(with_images)
    desc = (f"image folder {path.name}: {total} images in {k} classes ({', '.join(with_images)}), "
            f"{h}×{w} {color}, pixel values 0-255, streamed in batches of {batch}")
    return Dataset(name=path.name, train=stream(tr, True), val=stream(va, False), test=stream(te, False),
                   input_shapes=[shape], output_shapes=[()], input_names=["image"], output_names=["label"],
                   tasks=["binary" if k == 2 else "multiclass"], class_names=[list(with_images)], num_classes=[k],
                   description=desc, input_dtypes=["float32"])
