"""Every catalog entry survives a config round trip: catalog params → Keras layer → ``get_config`` → the same
node type again, with params that make the same layer (the path an imported model takes back into the catalog).

Keras writes some values in its own normal form (``activation=None`` as ``"linear"``, a pooling layer's
``strides=None`` as its pool size), so the params that come back are compared by the layer they build.
Four types come back from ``catalog_params`` as a ``KerasLayer`` node holding the config as it is (still an exact
layer): Keras writes their values in forms the catalog's params do not take (ZeroPadding2D/Cropping2D as nested
pairs, RandomRotation's factor as a [low, high] pair; Bidirectional's wrapped layer as a whole config, which the
import maps with ``bidirectional_params`` instead). An axis written as ``[-1]`` (Normalization) maps to ``-1``."""
from __future__ import annotations

import pytest

from core import catalog
from core.graph import Node

SPECIAL = {"Input", "Output", "KerasLayer", "Op"}   # not Keras layers of their own (KerasLayer holds any config
# as is; an Op node is a keras.ops function)
AS_KERAS_LAYER = {"ZeroPadding2D", "Cropping2D", "RandomRotation", "Bidirectional"}
TYPES = [t for t in catalog.CATALOG if t not in SPECIAL]


def config_of(type_name, params):
    from core.layers import make_layer
    from core.transfer.convert import jsonable
    layer = make_layer(Node("n1", type_name, "probe", dict(params)))
    cfg = jsonable(layer.get_config())
    cfg.pop("name", None)
    cfg.pop("trainable", None)
    return type(layer).__name__, cfg


@pytest.mark.parametrize("type_name", TYPES)
def test_catalog_params_survive_get_config(type_name):
    from core.layers import make_layer
    from core.transfer.convert import catalog_params
    params = catalog.CATALOG[type_name].defaults()
    cls, cfg = config_of(type_name, params)
    back_type, back_params = catalog_params(cls, cfg)
    if type_name in AS_KERAS_LAYER:
        assert back_type is None   # imported as KerasLayer(class_name, config): the same layer from its config
        import keras
        rebuilt = getattr(keras.layers, cls).from_config(dict(cfg, name="probe"))
        again = make_layer(Node("n1", "KerasLayer", "probe", {"class_name": cls, "config": dict(cfg)}))
        assert again.get_config() == rebuilt.get_config()
        return
    assert back_type == type_name, f"{type_name}: {cls} config comes back as {back_type}"
    assert set(back_params) >= set(params)
    assert config_of(back_type, back_params) == (cls, cfg)


def test_every_catalog_layer_type_is_checked():
    assert len(TYPES) == len(catalog.CATALOG) - len(SPECIAL) and len(TYPES) >= 50
