"""One export to a deployment target: check the request, convert in memory (a layer the target cannot express is
named here, before anything is written), write to a temporary path beside the output, run the parity check on what
was written, and only when it holds move it to the output path."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from . import parity
from .errors import DeployError, ParityError, require
from .tflite import QUANTIZE

TARGETS = ("onnx", "tflite", "savedmodel", "keras2")
EXTENSIONS = {".onnx": "onnx", ".tflite": "tflite"}
LABELS = {"onnx": "onnxruntime", "tflite": "TFLite", "savedmodel": "SavedModel", "keras2": "tf_keras"}


def target_of(out, fmt=None, keras2=False, quantize=None):
    """The target an output path and options ask for, or None for the Keras formats (.h5, .keras, .py)."""
    ext = Path(out).suffix.lower()
    if keras2 and fmt not in (None, "keras2"):
        raise DeployError(f"--keras2 writes a Keras 2 .h5; it does not go with --format {fmt}")
    if keras2 or fmt == "keras2":
        if ext != ".h5":
            raise DeployError(f"{Path(out).name}: a Keras 2 export is an .h5 file (got {ext or 'no extension'})")
        target = "keras2"
    elif fmt == "savedmodel":
        target = "savedmodel"
    elif fmt not in (None, "keras"):
        raise DeployError(f"unknown export format {fmt!r}; use savedmodel or keras2")
    else:
        target = EXTENSIONS.get(ext)
    if quantize is not None and target != "tflite":
        raise DeployError(f"--quantize {quantize} is for a .tflite export only")
    if quantize is not None and quantize not in QUANTIZE:
        raise DeployError(f"--quantize {quantize}: unknown; use {' or '.join(QUANTIZE)}")
    return target


def check_request(out, target, quantize=None):
    """What can be said before building anything: the target's packages, a writable folder, a usable path."""
    if target == "onnx":
        require("onnx")
    elif target == "keras2":
        require("keras2")
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise DeployError(f"{out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DeployError(f"{out}: cannot write into the folder {folder} (read-only)")
    if target == "savedmodel":
        if out.exists() and not (out / "saved_model.pb").is_file() and (not out.is_dir() or any(out.iterdir())):
            raise DeployError(f"{out}: exists and is not a SavedModel folder; nothing exported")
    elif out.is_dir():
        raise DeployError(f"{out}: is a folder; the {target} export writes a file")


def export_target(project, build, out, target, quantize=None, log=None):
    """Export ``build.model`` to ``out`` for ``target``; returns the parity :class:`~.parity.Report`.

    Raises DeployError (bad request), UnsupportedLayer (named before anything is written), ParityError (the written
    file disagrees with Keras; nothing is left at ``out``)."""
    log = log or (lambda line: None)
    check_request(out, target, quantize)
    model = build.model
    data = parity.samples(project, model)
    if quantize == "int8" and data.train is None:
        raise DeployError(f"--quantize int8 calibrates on the project's training data, which did not load "
                          f"({data.source.split('did not load: ', 1)[-1].rstrip(')')}); nothing exported")
    payload, opset = _convert(model, target, quantize, data)
    if opset:
        log(f"ONNX opset {opset}")
    return _write_checked(payload, Path(out), target, model, data, quantize, project.graph)


def _convert(model, target, quantize, data):
    """In memory: the target's bytes (ONNX, TFLite), or the converted model (Keras 2); SavedModel: the model."""
    if target == "onnx":
        from . import onnx
        return onnx.convert(model)
    if target == "tflite":
        from . import tflite
        return tflite.convert(model, quantize, data.train), None
    if target == "keras2":
        from . import keras2
        return keras2.convert(model), None
    return model, None


def _write(payload, tmp, target):
    if target in ("onnx", "tflite"):
        with open(tmp, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
    elif target == "keras2":
        payload.save(str(tmp), save_format="h5")
    else:
        from . import savedmodel
        savedmodel.write(payload, tmp)


def _runner(target, path, model):
    import importlib
    mod = importlib.import_module(f".{target}", __package__)     # onnx, tflite, savedmodel, keras2
    return mod.Runner(path, model)


def _write_checked(payload, out, target, model, data, quantize, graph):
    tmp = _temporary(out, target)
    try:
        _write(payload, tmp, target)
        report = parity.check(LABELS[target], _runner(target, tmp, model), model, data, quantize, graph)
        bad = report.failed
        if bad:
            name, diff = max(bad, key=lambda t: t[1])
            raise ParityError(f"output '{name}' differs from Keras by {diff:.2e} on {data.source} (tolerance "
                              f"{report.tolerance:.2g}); nothing exported")
        _move(tmp, out)
    except BaseException:
        _remove(tmp)
        raise
    return report


def _temporary(out, target):
    if target == "savedmodel":
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmpdir", dir=str(out.parent)))
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp" + out.suffix, dir=str(out.parent))
    os.close(fd)
    return Path(tmp)


def _move(tmp, out):
    """``tmp`` to ``out``: a file replaces atomically; a SavedModel folder replaces the old one (moved aside)."""
    if not tmp.is_dir() or not out.exists():
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=str(out.parent)))
    os.replace(out, old / "previous")
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def _remove(tmp):
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        try:
            os.unlink(tmp)
        except OSError:
            pass
