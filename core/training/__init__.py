"""The training engine: Qt-free, usable from any thread, reporting through a plain-Python listener.

    result = run(project, config=TrainConfig.from_project(project, epochs=5), state=MyState())

``run`` loads the project's dataset (or takes one), checks that it fits the graph, builds a fresh model,
adapts ``Normalization`` layers on the training split, compiles, trains, evaluates on the test split and
copies the trained weights into the graph's nodes (so ``save_project`` keeps them).

Reporting costs almost nothing: Keras' own fit loop converts every batch's logs to Python floats (one device
sync per batch); the engine hands Keras a callback list that skips that and converts the logs only at the
report cadence (``report_interval`` seconds, time based), so live plots get ~20 updates a second whatever the
batch time. Feature maps come from a sub-model built once (``keras.Model(model.inputs, [layer outputs])``)
and called through a traced ``tf.function`` every ``feature_every`` batches, never through ``predict()``.

Errors inside training (NaN/inf loss, out of memory, a dataset error mid-epoch) never escape ``run``: they end
the run with ``TrainResult.error`` (a ``TrainingError`` with ``kind`` "nan" | "oom" | "data" | "error") and
``state.on_error``. Bad input found before training starts raises ``DataError`` / ``SettingsError`` /
``BuildError``.

The package: ``config`` (TrainConfig, TrainState, TrainResult), ``devices`` (list_devices, pick_device),
``engine`` (run, step by step), ``callbacks`` (the reporter, the callback list that does not sync every batch,
early stopping / plateau / TensorBoard), ``cache`` (the compiled model kept between runs, the run lock),
``model`` (the fresh model, Normalization adapted), ``splits`` (the dataset as the model takes it), ``features``
(feature maps), ``evaluate`` (metrics, predictions), ``failures`` (errors mapped to
TrainingError). Importing it imports neither Keras nor TensorFlow.
"""
from __future__ import annotations

from .cache import release_models
from .config import TrainConfig, TrainResult, TrainState
from .devices import list_devices, pick_device
from .engine import run
from ..evaluate import confusion_matrix
from .evaluate import evaluate_split, predict
from .failures import training_error
from .features import feature_batch, features_fn

__all__ = ["TrainConfig", "TrainState", "TrainResult", "run", "list_devices", "pick_device", "predict",
           "release_models", "evaluate_split", "confusion_matrix", "feature_batch", "features_fn", "training_error"]
