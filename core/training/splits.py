"""The dataset a run trains on, as the model takes it: its splits as (x, y) arrays in the model's input/output
order (or a tf.data dataset when a split is streamed), and their sizes."""
from __future__ import annotations

import math


def load_data(project):
    """The project's dataset (relative paths are relative to the project's folder)."""
    from ..datasets import load_dataset
    base = project.path.parent if getattr(project, "path", None) else None
    return load_dataset(project.data, base)


def split_arrays(dataset, split, graph):
    """(x, y) arrays ordered like the model's inputs/outputs, or a tf.data dataset for streamed splits."""
    from ..datasets import arrays_for_model
    if split is None:
        return None
    if getattr(split, "tf_dataset", None) is not None:
        return arrays_for_model(dataset, split, graph)[0]
    if split.x is None:
        return None
    return arrays_for_model(dataset, split, graph)


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def count(split, arrays):
    """How many samples a split holds (0 for none; a streamed split's own count)."""
    if split is None:
        return 0
    if getattr(split, "n", 0):
        return split.n
    if isinstance(arrays, tuple):
        return len(as_list(arrays[0])[0])
    return 0


def one(v):
    """A one-element list as its element (what Keras takes for a single input or output)."""
    return v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v


def take(arrays, idx):
    return [a[idx] for a in arrays]


def steps_for(n, batch_size):
    """Batches per epoch for ``n`` samples."""
    return max(1, math.ceil(n / batch_size))
