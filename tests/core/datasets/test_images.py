"""Image folders: streamed batches, bad files named up front and while streaming."""
import numpy as np
import pytest

from core.datasets import DataError, arrays_for_model, check_fit, load_dataset
from core.datasets import images
from tests.core.datasets.helpers import mlp


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
    g = mlp((16, 16, 1), 1, "binary_crossentropy", act="sigmoid")
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
    monkeypatch.setattr(images, "IMAGE_DECODE_CHECK_BYTES", 0)
    ds = load_dataset(spec, base_dir=tmp_path)
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        for _ in ds.train.tf_dataset:
            pass
    err = images.stream_error(e.value)
    assert isinstance(err, DataError) and str(err) == (f"image {bad} cannot be read or decoded (damaged, cut short or "
                                                       f"not an image); remove it from the image folder or replace it "
                                                       f"with a real image")
    assert images.stream_error(ValueError("something else")) is None
    # the training engine stops with a data error that names the file
    g = mlp((8, 8, 3), 2, in_name="image", out_name="label")
    res = run(Project(graph=g, name="pics"), data=ds, config=TrainConfig(epochs=2, batch_size=3))
    assert res.error is not None and res.error.kind == "data" and str(bad) in str(res.error), res.error
