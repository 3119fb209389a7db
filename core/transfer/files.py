"""Reading a Keras model file (``.h5`` or ``.keras``) without running anything: its stored architecture and
training config, which classes it uses (a ``Lambda`` or a custom class is refused unless trusted), and loading
it with Keras once it is checked. Every bad file is a ``ModelFileError`` with a one-line message."""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelFileError
from ..keras_compat import is_op_class, is_ops_module, keras_layer_class
from ..trust import MODEL_CLASSES, UNSAFE_CLASSES

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@dataclass
class ModelFile:
    path: Path
    format: str           # "h5" | "keras"
    config: dict          # the architecture as stored in the file (not yet deserialized)
    compile: dict | None  # training config: loss, metrics, optimizer (None when the model was not compiled)


def inspect_model_file(path) -> ModelFile:
    """Read the architecture stored in a model file, without building anything. ModelFileError on bad files."""
    p = Path(os.path.expanduser(str(path)))
    name = p.name
    if not p.exists():
        raise ModelFileError(f"{p}: no such file")
    if p.is_dir():
        if (p / "saved_model.pb").exists():
            raise ModelFileError(f"{name}: a TensorFlow SavedModel folder cannot be imported; "
                                 f"save the model as .keras or .h5 (model.save('model.keras'))")
        raise ModelFileError(f"{p}: is a folder, not a model file (.h5 or .keras)")
    try:
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise ModelFileError(f"{p}: cannot be read ({e.strerror or e})") from None
    if not head:
        raise ModelFileError(f"{name}: the file is empty")
    if head == HDF5_SIGNATURE:
        return _inspect_h5(p)
    if zipfile.is_zipfile(p):
        return _inspect_zip(p)
    if head[:2] == b"PK":
        raise ModelFileError(f"{name}: not a readable .keras file (the zip archive is corrupt or truncated)")
    raise ModelFileError(f"{name}: not a Keras model file (neither HDF5 .h5 nor a .keras zip; "
                         f"the file may be corrupt or truncated)")


def _inspect_h5(p):
    import h5py
    try:
        f = h5py.File(p, "r")
    except OSError as e:
        why = str(e).split("(", 1)[-1].rstrip(")") if "(" in str(e) else str(e)
        raise ModelFileError(f"{p.name}: not a readable HDF5 file (corrupt or truncated: {why.strip()})") from None
    with f:
        raw = f.attrs.get("model_config")
        if raw is None:
            if "layer_names" in f.attrs or ("layers" in f and "vars" in f) or "model_weights" in f:
                raise ModelFileError(
                    f"{p.name}: holds only weights, no model architecture; import needs a whole model saved with "
                    f"model.save(...). Use a weights file as the weights of a pretrained base instead")
            raise ModelFileError(f"{p.name}: an HDF5 file, but not a Keras model (it has no model_config)")
        training = f.attrs.get("training_config")
        if "model_weights" not in f:
            raise ModelFileError(f"{p.name}: the file has a model architecture but no weights (model_weights missing)")
    config = _json_attr(raw, p.name, "model_config")
    comp = _json_attr(training, p.name, "training_config") if training is not None else None
    return ModelFile(p, "h5", config, comp)


def _json_attr(raw, name, what):
    if hasattr(raw, "decode"):
        raw = raw.decode("utf-8", "replace")
    try:
        d = json.loads(raw)
    except (TypeError, ValueError):
        raise ModelFileError(f"{name}: the {what} stored in the file is not valid JSON (corrupt file)") from None
    if not isinstance(d, dict):
        raise ModelFileError(f"{name}: the {what} stored in the file is not a Keras model description")
    return d


def _inspect_zip(p):
    try:
        with zipfile.ZipFile(p) as z:
            names = set(z.namelist())
            if "config.json" not in names:
                raise ModelFileError(f"{p.name}: a zip file, but not a Keras model (.keras files hold config.json)")
            raw = z.read("config.json")
            if not any(n.startswith("model.weights") for n in names):
                raise ModelFileError(f"{p.name}: the .keras file has no weights (model.weights.h5 missing)")
    except zipfile.BadZipFile as e:
        raise ModelFileError(f"{p.name}: not a readable .keras file (corrupt zip: {e})") from None
    config = _json_attr(raw, p.name, "config.json")
    return ModelFile(p, "keras", config, config.get("compile_config") or None)


# -- safety: which classes does the file use? ---------------------------------------------------------------------
def scan_layers(config):
    """Every layer entry of a stored architecture, nested models and wrapped layers included:
    a list of (path, class_name, module, registered_name)."""
    out = []

    def layer(entry, prefix):
        if not isinstance(entry, dict):
            return
        cfg = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        name = entry.get("name") or cfg.get("name") or "?"
        path = f"{prefix}{name}"
        out.append((path, str(entry.get("class_name")), entry.get("module"), entry.get("registered_name")))
        if isinstance(cfg.get("layers"), list):
            for e in cfg["layers"]:
                layer(e, path + "/")
        for key in ("layer", "forward_layer", "backward_layer", "cell"):
            if isinstance(cfg.get(key), dict) and "class_name" in cfg[key]:
                layer(cfg[key], path + "/")
        if isinstance(cfg.get("cells"), list):
            for e in cfg["cells"]:
                layer(e, path + "/")

    top = config.get("config") if isinstance(config.get("config"), dict) else {}
    for e in top.get("layers", []) if isinstance(top.get("layers"), list) else []:
        layer(e, "")
    return out


def classify(class_name, module=None, registered_name=None):
    """'builtin' | 'model' | 'unsafe' | 'op' | 'custom' for one stored layer entry."""
    if class_name in MODEL_CLASSES:
        return "model"
    if class_name in UNSAFE_CLASSES:
        return "unsafe"
    if is_ops_module(module):
        return "op"
    if not module and is_op_class(class_name):  # legacy .h5 configs name no module
        return "op"
    if module and not (module == "keras" or module.startswith("keras.")):
        return "custom"
    if registered_name and registered_name != class_name:
        return "custom"
    import keras
    cls = getattr(keras.layers, class_name, None)
    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        return "builtin"
    if keras_layer_class(module, class_name) is not None:   # a layer Keras ships and registers outside keras.layers
        return "builtin"
    return "custom"


def op_message(where, name, cls):
    return (f"{where}: '{name}' is a keras.ops operation ({cls}) used as a step of the network, not a layer; "
            f"Layerwise graphs hold layers only (wrap it in a layer and save the model again)")


def check_safety(mf: ModelFile, trust=False):
    """Refuse Lambda layers and custom classes unless trusted. (Built-in keras.ops operations are safe to load;
    the conversion refuses those that are more than the masks Keras computes by itself.)"""
    for path, cls, module, reg in scan_layers(mf.config):
        kind = classify(cls, module, reg)
        if trust or kind == "op":
            continue
        if kind == "unsafe":
            raise ModelFileError(f"{mf.path.name}: layer '{path}' is a {cls} layer, which runs Python code stored "
                                 f"in the file; not imported. If you trust the file, import it with --trust")
        if kind == "custom":
            what = reg or (f"{module}.{cls}" if module else cls)
            raise ModelFileError(f"{mf.path.name}: layer '{path}' has the custom class '{what}', which is not a "
                                 f"built-in Keras layer; not imported. If you trust the file and its code is "
                                 f"importable, import it with --trust")


def load_keras_model(path, trust=False, mf: ModelFile | None = None):
    """The checked file loaded with Keras (compile=False, safe mode unless trusted)."""
    mf = mf or inspect_model_file(path)
    check_safety(mf, trust)
    from ..tfload import import_keras
    keras = import_keras()
    want = ".h5" if mf.format == "h5" else ".keras"
    src, tmpdir = mf.path, None
    if mf.path.suffix.lower() not in ((".h5", ".hdf5") if mf.format == "h5" else (".keras",)):
        tmpdir = tempfile.mkdtemp(prefix="layerwise-import-")  # Keras picks the format by the extension
        src = Path(tmpdir) / ("model" + want)
        try:
            os.symlink(mf.path.resolve(), src)
        except OSError:
            import shutil
            shutil.copyfile(mf.path, src)
    try:
        model = keras.models.load_model(str(src), compile=False, safe_mode=not trust)
    except Exception as e:  # Keras' own reason, in one line
        from ..layers import plain_error
        raise ModelFileError(f"{mf.path.name}: Keras cannot load this model: {plain_error(e)}") from None
    finally:
        if tmpdir:
            import shutil
            shutil.rmtree(tmpdir, ignore_errors=True)
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"{mf.path.name}: holds a {type(model).__name__}, not a Keras model")
    return model
