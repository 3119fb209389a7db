"""The compiled model kept between runs, and the lock that keeps runs one at a time."""
from __future__ import annotations

import threading

from . import features

# one training at a time per process: Keras' global state (seed, dtype policy, name counters) is shared
RUN_LOCK = threading.RLock()


class ModelCache:
    """The last compiled model, reused when the same network trains again with the same settings.

    TensorFlow never frees what it traces for a model (the train/test functions' graphs hold each other through
    C++ references; plain ``model.fit`` on a fresh model grows RSS by ~8 MB per training here), so rebuilding and
    retracing on every run — what the GUI does on each Train click — grows memory run after run. When the graph,
    compile settings, regularization, device and precision are unchanged, the engine keeps the compiled model and
    gives it the fresh model's initial variables (weights and dropout seed states, seeded like a new model) and the
    optimizer's initial state, so a reused run starts exactly where a new one would, without retracing.
    """

    def __init__(self):
        self.key = None
        self.build = None
        self.opt_state = None
        self.features = {}

    @staticmethod
    def _key(project, fresh, extra):
        import hashlib
        import json
        g = project.graph.to_dict()
        for n in g.get("nodes", []):
            n.pop("pos", None)
        h = hashlib.sha1()
        h.update(json.dumps({"graph": g, "compile": _without_plain_lr(project.compile), "reg": project.regularization,
                             "extra": list(extra)}, sort_keys=True, default=str).encode())
        # layers that turn their variables into constants when traced (adapted Normalization): their values count
        for layer in fresh.layers.values():
            if callable(getattr(layer, "finalize_state", None)):
                for w in layer.get_weights():
                    h.update(memoryview(w.tobytes()))
        return h.hexdigest()

    def take(self, keras, project, fresh, extra, steps):
        """The model to train: the cached one given ``fresh``'s initial state when the network is unchanged, else
        ``fresh`` compiled (and kept for the next run)."""
        key = self._key(project, fresh, extra)
        if key == self.key and self.build is not None:
            model = self.build.model
            src = fresh.model.variables
            dst = model.variables
            if len(src) == len(dst) and all(tuple(a.shape) == tuple(b.shape) for a, b in zip(src, dst)):
                for a, b in zip(dst, src):
                    a.assign(b)
                for v, value in zip(model.optimizer.variables, self.opt_state):
                    v.assign(value)
                lr = _plain_lr(project.compile)
                if lr is not None:   # (a learning rate without a schedule is a variable: no retrace for a new one)
                    model.optimizer.learning_rate = lr
                model.stop_training = False
                self.build.warnings = list(fresh.warnings)
                return self.build
        from ..build import compile_model
        self.key, self.build, self.opt_state, self.features = None, None, None, {}
        compile_model(fresh, project, steps)
        opt = fresh.model.optimizer
        if not opt.built:
            opt.build(fresh.model.trainable_variables)
        self.key, self.build = key, fresh
        self.opt_state = [v.numpy() for v in opt.variables]
        return fresh

    def features_fn(self, keras, build, graph, node_ids):
        """The traced feature function of ``build`` (kept with the cached model: TensorFlow never frees a trace)."""
        if build is not self.build:
            return features.features_fn(keras, build, graph, node_ids)
        k = tuple(node_ids)
        if k not in self.features:
            self.features[k] = features.features_fn(keras, build, graph, node_ids)
        return self.features[k]

    def clear(self):
        self.__init__()


def _plain_lr(compile_settings):
    """The learning rate when it is a plain number the optimizer keeps in a variable (no step/cosine schedule)."""
    c = dict(compile_settings or {})
    if dict(c.get("schedule") or {}).get("kind", "none") not in ("none", "plateau"):
        return None
    lr = dict(c.get("optimizer") or {}).get("learning_rate")
    return float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None


def _without_plain_lr(compile_settings):
    """The compile settings without such a learning rate: a sweep over it reuses the traced model (TensorFlow
    never frees a trace, so retracing per trial grows memory)."""
    c = {k: dict(v) if isinstance(v, dict) else v for k, v in dict(compile_settings or {}).items()}
    if _plain_lr(c) is not None:
        c["optimizer"].pop("learning_rate", None)
    return c


MODELS = ModelCache()


def release_models():
    """Forget the compiled model kept for the next run (e.g. when a project is closed)."""
    with RUN_LOCK:
        MODELS.clear()
