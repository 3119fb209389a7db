"""Datasets Layerwise trains on, all offline: scikit-learn's bundled sets, generated sequence tasks, CSV, NPZ,
image folders and the classic Keras datasets (from Keras' own cache).

``load_dataset(project.data)`` returns a :class:`Dataset` with seeded train/validation/test splits. Feature values
stay raw (digits pixels 0-16, CSV numbers as written): normalisation belongs inside the model (``Rescaling`` or a
``Normalization`` layer adapted on the training split), so a trained model takes samples exactly as the data gives them.

Every problem with the input raises :class:`~core.errors.DataError` with one line naming the file, column, array or
setting. Keras/TensorFlow are imported only by the sources that need them (image folders, the fit check).

The package: ``records`` (Dataset, Split, the builtin names), ``splits`` (seeded stratified splits), ``validate``
(settings, paths, finite values), ``targets`` (raw targets to classes), ``fit`` (dataset ↔ graph: check_fit,
arrays_for_model), ``safe_pickle`` (numpy-only unpickling), and one module per source: ``builtin``, ``generated``,
``csv``, ``npz``, ``images``, ``keras_cache``.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from . import builtin, csv, generated, images, keras_cache, npz
from .fit import CLASS_LOSSES, arrays_for_model, check_fit, model_io, pair_names
from .images import IMAGE_EXTENSIONS, stream_error
from .keras_cache import KERAS_INFO, keras_cache_dirs
from .records import (GENERATED_TASKS, KERAS_SETS, SKLEARN_SETS, SOURCES, Dataset, Split, builtin_names, shape_str,
                      source_of)
from .splits import split_indices
from .validate import check_values

_LOADERS = {"builtin": builtin.load, "generated": generated.load, "csv": csv.load, "npz": npz.load,
            "image_folder": images.load, "keras": keras_cache.load}


def load_dataset(spec: dict, base_dir: Path | None = None, *, seed: int | None = None) -> Dataset:
    """Load the dataset described by ``spec`` (a project's ``data`` dict).

    Relative file paths are resolved against ``base_dir`` (the project's folder). The split seed is the spec's
    ``"seed"``, else ``seed``, else 0. Raises DataError naming the file/column/array/setting on bad input.
    """
    if not isinstance(spec, dict):
        raise DataError(f"data settings must be a mapping with a 'source', got {type(spec).__name__}")
    spec = dict(spec)
    source = spec.get("source")
    name = spec.get("name")
    if source is None and name is not None:
        source = source_of(name)
    if source == "builtin" and name in GENERATED_TASKS:
        source = "generated"
    if source == "builtin" and name in KERAS_SETS:
        source = "keras"
    split_seed = spec.get("seed", seed if seed is not None else 0)
    try:
        split_seed = int(split_seed)
    except (TypeError, ValueError):
        raise DataError(f"data setting 'seed' must be an integer, got {split_seed!r}") from None
    spec["seed"] = split_seed
    if source not in _LOADERS:
        raise DataError(f"data setting 'source' is {source!r}; expected one of {', '.join(SOURCES)}")
    return _LOADERS[source](spec, Path(base_dir) if base_dir is not None else None)


__all__ = ["load_dataset", "Dataset", "Split", "DataError", "check_fit", "arrays_for_model", "model_io", "pair_names",
           "shape_str", "builtin_names", "source_of", "split_indices", "check_values", "stream_error",
           "keras_cache_dirs", "SKLEARN_SETS", "GENERATED_TASKS", "KERAS_SETS", "SOURCES", "KERAS_INFO",
           "IMAGE_EXTENSIONS", "CLASS_LOSSES"]
