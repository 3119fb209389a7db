"""A trained model on data: loss and metrics of a split, predictions (the confusion matrix is core.evaluate's)."""
from __future__ import annotations

from .callbacks import floats
from .splits import one


def evaluate_split(build, split_arrays, batch_size=256) -> dict:
    """Loss and metrics of the compiled model on (x, y) arrays or a tf.data dataset."""
    model = build.model
    if isinstance(split_arrays, tuple):
        x, y = split_arrays
        logs = model.evaluate(one(x), one(y), batch_size=max(int(batch_size), 1), verbose=0, return_dict=True)
    else:
        logs = model.evaluate(split_arrays, verbose=0, return_dict=True)
    return floats(logs)


def predict(build, x, batch_size=256):
    """Model outputs for ``x`` (one array or a list, one per input) as numpy (a list when several outputs)."""
    import numpy as np
    model = build.model if hasattr(build, "model") else build
    out = model.predict(one(list(x)) if isinstance(x, (list, tuple)) else x, batch_size=batch_size, verbose=0)
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    return np.asarray(out)
