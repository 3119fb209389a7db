"""Every Keras internal Layerwise relies on, in one place (checked on Keras 3.15.1).

Keras 3 keeps some things Layerwise needs outside its public API. They are reached only through this module, so
a Keras upgrade that moves one breaks here, and ``tests/core/test_keras_compat.py`` names what moved:

* ``StatelessScope``: shape inference builds layers without allocating variables (public as
  ``keras.StatelessScope``; the internal path is the fallback);
* ``SafeModeScope``: deserialize a layer config in (or out of) safe mode;
* ``is_default`` and ``pythonify_logs``: the training engine's callback list skips the per-batch conversion of
  the logs for callbacks that do not implement batch hooks;
* the ``keras.src.ops`` operation classes: a stored model that uses a ``keras.ops`` operation as a step;
* ``layer._inbound_nodes``: how many tensors one call of a layer returned;
* layer classes Keras ships and registers outside ``keras.layers`` (``keras.src.applications.convnext.LayerScale``):
  a stored model names them by their ``keras.src`` module, which Keras' own loader imports.

Nothing here imports Keras at module level (importing ``core`` stays cheap); each helper imports it when called.
"""
from __future__ import annotations

import importlib

KERAS_VERSION_CHECKED = "3.15.1"

# (module, name) of every internal this module imports: the compatibility test checks that each still exists
INTERNALS = (
    ("keras.src.backend.common.stateless_scope", "StatelessScope"),
    ("keras.src.saving.serialization_lib", "SafeModeScope"),
    ("keras.src.utils", "is_default"),
    ("keras.src.utils.python_utils", "pythonify_logs"),
    ("keras.src.ops.operation", "Operation"),
    ("keras.src.utils.module_utils", "tensorflow"),
)
# private attributes of Keras objects read here: (what has it, attribute)
PRIVATE_ATTRIBUTES = (("a called keras.layers.Layer", "_inbound_nodes"),
                      ("keras.callbacks.CallbackList", "callbacks"),
                      ("keras.src.utils.module_utils.tensorflow (a LazyModule)", "_available"))

# where Keras 3 keeps its operations (``keras.ops`` is the public face of ``keras.src.ops``)
OPS_PACKAGES = ("keras.src.ops", "keras.ops")
OPS_MODULES = ("numpy", "nn", "math", "core", "image", "linalg")
# the module a serialized nested Functional model names (``keras.Model.from_config`` of the same config)
FUNCTIONAL_MODULE = "keras.src.models.functional"


def _internal(module, name):
    return getattr(importlib.import_module(module), name)


# -- scopes ---------------------------------------------------------------------------------------------------------
def stateless_scope(**kwargs):
    """``keras.StatelessScope(**kwargs)``: layers built inside allocate no variables (initialize_variables=False)."""
    import keras
    cls = getattr(keras, "StatelessScope", None) or _internal(*INTERNALS[0])
    return cls(**kwargs)


def safe_mode_scope(safe_mode: bool):
    """A scope in which ``from_config`` deserializes in safe mode (``safe_mode=True``) or not."""
    return _internal(*INTERNALS[1])(bool(safe_mode))


# -- callbacks --------------------------------------------------------------------------------------------------------
def is_default(method) -> bool:
    """True when a callback's hook is Keras' own empty default (the callback does not implement it)."""
    return _internal(*INTERNALS[2])(method)


def pythonify_logs(logs):
    """Keras logs (tensors) as Python numbers, the way Keras' own callback list hands them to callbacks."""
    return _internal(*INTERNALS[3])(logs)


def raw_batch_callback_list(callbacks, raw, **kwargs):
    """A ``keras.callbacks.CallbackList`` whose train batch-end logs go to ``raw`` (one callback of ``callbacks``)
    as the tensors the fit loop made, with no conversion; only the other callbacks that really implement a batch
    hook (TensorBoard, say) get Python numbers. Keras' own list converts every batch's logs (one device sync
    each). ``kwargs`` go to ``CallbackList`` (add_history, add_progbar, model, verbose, epochs, steps)."""
    import keras

    class RawBatchCallbackList(keras.callbacks.CallbackList):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self._train_batch = [c for c in self.callbacks if c is not raw and not is_default(c.on_train_batch_end)]
            self._test_batch = [c for c in self.callbacks if not is_default(c.on_test_batch_end)]

        def on_train_batch_end(self, batch, logs=None):
            raw.on_train_batch_end(batch, logs)
            if self._train_batch:
                py = pythonify_logs(logs)
                for c in self._train_batch:
                    c.on_train_batch_end(batch, logs=py)

        def on_test_batch_end(self, batch, logs=None):
            if self._test_batch:
                py = pythonify_logs(logs)
                for c in self._test_batch:
                    c.on_test_batch_end(batch, logs=py)

    return RawBatchCallbackList(callbacks, **kwargs)


# -- seeds ------------------------------------------------------------------------------------------------------------
def set_random_seed(seed):
    """``keras.utils.set_random_seed(seed)``; under JAX or PyTorch, while TensorFlow is not loaded, without importing
    it (Keras seeds ``tf.random`` whenever TensorFlow can be imported, which costs a JAX run seconds and memory)."""
    import sys

    import keras
    lazy = _internal("keras.src.utils.module_utils", "tensorflow")
    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules or lazy._available is not None:
        keras.utils.set_random_seed(seed)
        return
    lazy._available = False
    try:
        keras.utils.set_random_seed(seed)
    finally:
        lazy._available = None


# -- multi-worker training --------------------------------------------------------------------------------------------
# what ``patch_multi_worker`` replaces (checked by tests/core/test_distribute.py)
MULTI_WORKER_INTERNALS = (("keras.src.backend.tensorflow.trainer", "reduce_per_replica"),
                          ("keras.src.backend.tensorflow.trainer", "_collective_all_reduce_multi_worker"),
                          ("keras.src.backend.tensorflow.trainer", "TensorFlowTrainer"))


def patch_multi_worker():
    """Make Keras 3's ``model.fit`` work under ``tf.distribute.MultiWorkerMirroredStrategy`` (it does not out of the
    box on Keras 3.15): (1) the symbolic build before the first epoch reduces a data batch of ``PerReplica`` values
    with ``strategy.reduce``, which cannot convert them to a tensor — it takes the first local batch instead (only
    its shapes matter); (2) metric results are 0-d, and the multi-worker "mean" reduction asks for ``axis=0`` —
    a 0-d value is reduced with ``axis=None``. Idempotent; a process that never joins a cluster never calls it."""
    import tensorflow as tf
    from keras import tree
    trainer = importlib.import_module(MULTI_WORKER_INTERNALS[0][0])
    if getattr(trainer, "_layerwise_multi_worker", False):
        return
    original = trainer.reduce_per_replica
    multi_worker = trainer._collective_all_reduce_multi_worker

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("mean", "auto") or not multi_worker(strategy):
            return original(values, strategy, reduction)

        def one(v):
            local = v.values[0] if isinstance(v, tf.distribute.DistributedValues) else v
            if len(getattr(local, "shape", ())) == 0:
                return strategy.reduce("MEAN", v, axis=None)
            return original(v, strategy, reduction)
        return tree.map_structure(one, values)

    def first_local(strategy, v):
        return strategy.experimental_local_results(v)[0] if isinstance(v, tf.distribute.DistributedValues) else v

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if strategy is None:
            return
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tree.map_structure(lambda v: first_local(strategy, v), next(it))
                break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    trainer.reduce_per_replica = reduce_per_replica
    trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    trainer._layerwise_multi_worker = True


# -- operations and layer calls -------------------------------------------------------------------------------------
def is_ops_module(module) -> bool:
    """True for the module a serialized ``keras.ops`` operation names (``keras.src.ops.numpy``, ``keras.ops``)."""
    return bool(module) and module.startswith(OPS_PACKAGES)


def is_op_class(name) -> bool:
    """True when ``name`` is a ``keras.ops`` operation class (and not a layer): what legacy .h5 configs store
    for an operation used as a step, without a module."""
    import keras
    if isinstance(getattr(keras.layers, name, None), type):
        return False
    operation = _internal(*INTERNALS[4])
    for mod in OPS_MODULES:
        try:
            cls = getattr(importlib.import_module(f"{OPS_PACKAGES[0]}.{mod}"), name, None)
        except ImportError:
            continue
        if isinstance(cls, type) and issubclass(cls, operation):
            return True
    return False


def call_outputs(layer, index) -> int | None:
    """How many tensors the layer's call number ``index`` returned (None when Keras does not say)."""
    try:
        return len(layer._inbound_nodes[index].outputs)
    except (AttributeError, IndexError, TypeError):
        return None



def keras_layer_class(module, class_name):
    """The layer class that Keras itself ships in its package ``module`` (``keras.layers`` or one of its own
    ``keras.src`` modules, e.g. the layer-scale layer of ``keras.applications``' ConvNeXt), or None. Only Keras' own
    modules are imported (what Keras' loader does in safe mode); a keras.ops module never names a layer."""
    if (not isinstance(module, str) or not isinstance(class_name, str) or is_ops_module(module)
            or not (module == "keras" or module.startswith("keras."))):
        return None
    import keras
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    cls = vars(mod).get(class_name)
    return cls if isinstance(cls, type) and issubclass(cls, keras.layers.Layer) else None
