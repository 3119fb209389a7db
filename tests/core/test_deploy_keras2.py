"""The Keras 2 export: every example project becomes an .h5 that tf_keras loads with its own load_model and that
predicts what the Keras 3 model predicts; a layer Keras 2 has no class or setting for is refused with the reason."""
from __future__ import annotations

import numpy as np
import pytest

from core.build import build_model
from core.deploy import UnsupportedLayer
from core.deploy import keras2
from core.deploy.parity import random_batch
from core.project import load_project
from tests.conftest import EXAMPLES

PROJECTS = sorted(EXAMPLES.glob("*.layerwise"))


@pytest.mark.parametrize("path", PROJECTS, ids=lambda p: p.stem)
def test_every_example_reloads_in_tf_keras_with_the_same_predictions(path, tmp_path):
    import tf_keras
    model = build_model(load_project(path), with_weights=False).model
    keras2.write(model, tmp_path / "k2.h5")
    m2 = tf_keras.models.load_model(str(tmp_path / "k2.h5"))
    xs = random_batch(model, 4)
    want = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    got = m2.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    for w, g in zip(want if isinstance(want, list) else [want], got if isinstance(got, list) else [got]):
        np.testing.assert_allclose(g, w, atol=1e-5)


def test_a_layer_keras_2_has_no_class_for_is_refused_by_name():
    import keras
    x = keras.Input((6,), name="x")
    m = keras.Model(x, keras.layers.RMSNormalization(name="rms")(keras.layers.Dense(4, name="d")(x)))
    with pytest.raises(UnsupportedLayer, match=r"node 'rms' \(RMSNormalization\): Keras 2 cannot express it"):
        keras2.convert(m)


def test_a_setting_keras_2_does_not_have_is_refused_when_set():
    import keras
    x = keras.Input((6,), name="x")
    m = keras.Model(x, keras.layers.Dense(4, name="d", lora_rank=2)(x))
    with pytest.raises(UnsupportedLayer, match=r"node 'd' \(Dense\): Keras 2 cannot express it .*'lora_rank'"):
        keras2.convert(m)
