"""Transfer figures: importing a Keras model file as an editable, laid-out graph, against Keras' own load."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path


def _keras():
    from core.tfload import import_keras
    return import_keras()


def _import_ratio(make, name):
    """``core.transfer.import_model`` of a keras.applications model's .h5 (weights=None: no network; load with Keras
    in safe mode, one node per layer with its weights, layered layout) plus the first shape inference of the editor
    (primed from the loaded model), divided by ``keras.models.load_model`` of the same file. One run each, Keras
    first, after a warm-up on a small model."""
    keras = _keras()
    from core.infer import Inference
    from core.transfer import import_model
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"{name}.h5"
        model = make(keras)
        want = model.count_params()
        model.save(src)
        small = Path(tmp) / "small.h5"
        x = keras.Input((4,))
        keras.Model(x, keras.layers.Dense(2)(x)).save(small)
        keras.models.load_model(small, compile=False)   # warm-up: first-call costs of Keras, for both sides
        import_model(small)
        t = time.perf_counter()
        keras.models.load_model(src, compile=False)
        t_keras = time.perf_counter() - t
        t = time.perf_counter()
        imported = import_model(src)
        res = imported.prime(Inference()).run(imported.project.graph)
        t_ours = time.perf_counter() - t
    assert res.ok and res.total == want, res.problems[:3]
    s, st = imported.seconds, imported.stats
    note = (f"import {t_ours:.2f} s (Keras load {s['load']:.2f}, convert {s['convert']:.2f}, layout {s['layout']:.3f}, "
            f"shapes {t_ours - s['total']:.2f}) vs load_model {t_keras:.2f} s; {st['nodes']} nodes "
            f"({st['catalog']} catalog, {st['ops']} op, {st['keras_layer']} KerasLayer)")
    return t_ours / t_keras, "x", note


def import_resnet50_ratio():
    """ResNet50 (25,636,712 params): see ``_import_ratio``."""
    return _import_ratio(lambda keras: keras.applications.ResNet50(weights=None), "resnet50")


def import_effnetb0_ratio():
    """EfficientNetB0 (5,330,571 params; squeeze-and-excitation blocks, Rescaling and Normalization): see
    ``_import_ratio``."""
    return _import_ratio(lambda keras: keras.applications.EfficientNetB0(weights=None), "efficientnetb0")


FIGURES = {"import_resnet50_ratio": import_resnet50_ratio, "import_effnetb0_ratio": import_effnetb0_ratio}
