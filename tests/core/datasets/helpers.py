"""Shared by the dataset tests: a small Input → Flatten → Dense → Output graph, a generated task, whole arrays."""
import numpy as np

from core.datasets import load_dataset
from tests.core.helpers import chain


def mlp(shape, units, loss="sparse_categorical_crossentropy", in_name="pixels", out_name="digit_out", act="softmax"):
    g, ids = chain(("Input", {"shape": list(shape)}, in_name), ("Flatten", {}), ("Dense", {"units": units, "activation": act}),
                   ("Output", {"loss": loss, "metrics": ["accuracy"]}, out_name))
    return g


def gen(name, **kw):
    return load_dataset(dict({"source": "generated", "name": name, "samples": 600}, **kw))


def all_of(ds, k=0, which="x"):
    """Array ``k`` of the inputs (``which="x"``) or targets ("y") over every split."""
    return np.concatenate([getattr(s, which)[k] for _, s in ds.splits])
