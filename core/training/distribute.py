"""Where a run trains when one device is not the whole story: every local GPU (``tf.distribute.MirroredStrategy``,
``device="all"``) or one model across machines (``tf.distribute.MultiWorkerMirroredStrategy``, after
``join_cluster``). Layerwise builds no distribution of its own; this module only chooses the strategy and works
around what Keras 3's ``model.fit`` needs under it (``keras_compat.patch_multi_worker``).

The batch size is the global batch (what ``model.fit`` is given): each of the N replicas computes its gradients on
batch / N samples and the strategy all-reduces them, so one step of N replicas is one step of one device on the
whole batch.

Facts this module is built around (Keras 3.15, TensorFlow 2.21):

* ``keras.backend.clear_session()`` inside a strategy's scope silently drops the strategy (each worker then trains
  alone): the session is cleared here, before the scope is entered, and the engine skips its own clear.
* The multi-worker strategy's constructor blocks (holding the interpreter lock) until every worker is up, and
  TensorFlow catches SIGTERM once it runs: ``core.training.multiworker`` runs it in a child process and enforces
  the "worker never came up" timeout from the parent.
* Only one multi-worker strategy may exist per process: ``join_cluster`` makes it once, and every later run of the
  process trains in it.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass

from ..errors import SettingsError

_CLUSTER = {"strategy": None, "rank": 0, "workers": 1}


@dataclass
class Placement:
    """Where a run trains: the same fields as the engine's single device, with the strategy and its replicas."""
    tf_name: str
    name: str
    kind: str                 # "cpu" | "gpu"
    mixed: bool
    strategy: object = None   # a tf.distribute strategy, or None for one device
    replicas: int = 1
    rank: int = 0             # this worker's index (multi-worker); 0 otherwise
    workers: int = 1


# -- multi-worker ---------------------------------------------------------------------------------------------------
def tf_config_of(workers, rank) -> dict:
    """The ``TF_CONFIG`` of worker ``rank`` in a cluster of ``workers`` ("host:port" strings)."""
    return {"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": int(rank)}}


def read_tf_config(text=None):
    """(workers, rank) from a ``TF_CONFIG`` value (the environment's when not given); SettingsError when malformed;
    None when there is none."""
    text = os.environ.get("TF_CONFIG") if text is None else text
    if not text or not text.strip():
        return None
    try:
        d = json.loads(text)
        workers = [str(w) for w in d["cluster"]["worker"]]
        task = d.get("task", {})
        rank = int(task.get("index", 0))
        kind = task.get("type", "worker")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SettingsError('TF_CONFIG: expected JSON like {"cluster": {"worker": ["host:port", ...]}, '
                            '"task": {"type": "worker", "index": 0}}') from None
    if kind not in ("worker", "chief"):
        raise SettingsError(f"TF_CONFIG: task type {kind!r} is not supported; Layerwise runs workers only")
    if not workers or not 0 <= rank < len(workers):
        raise SettingsError(f"TF_CONFIG: task index {rank} is not one of the {len(workers)} worker(s)")
    return workers, rank


def join_cluster(workers, rank):
    """Make this process worker ``rank`` of ``workers``: sets ``TF_CONFIG`` and creates the process's
    ``MultiWorkerMirroredStrategy``. Blocks until every worker has joined. Returns the strategy."""
    if _CLUSTER["strategy"] is not None:
        return _CLUSTER["strategy"]
    os.environ["TF_CONFIG"] = json.dumps(tf_config_of(workers, rank))
    from ..keras_compat import patch_multi_worker
    from ..tfload import import_keras
    import_keras()
    import tensorflow as tf
    patch_multi_worker()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    _CLUSTER.update(strategy=strategy, rank=int(rank), workers=len(workers))
    return strategy


def cluster():
    """(strategy, rank, workers) of the cluster this process joined, or None."""
    if _CLUSTER["strategy"] is None:
        return None
    return _CLUSTER["strategy"], _CLUSTER["rank"], _CLUSTER["workers"]


def weights_digest(model) -> str:
    """A short digest of the model's weights (read locally on each worker): equal digests on every worker show
    that they trained one model together."""
    import hashlib

    import numpy as np
    h = hashlib.sha1()
    for v in model.weights:
        h.update(np.ascontiguousarray(v.numpy()).tobytes())
    return h.hexdigest()[:12]


def is_chief() -> bool:
    """True unless this process is a multi-worker run's worker other than 0 (which writes nothing)."""
    return _CLUSTER["strategy"] is None or _CLUSTER["rank"] == 0


# -- choosing -------------------------------------------------------------------------------------------------------
def place(cfg, warnings):
    """The Placement of a run that trains under a strategy (a joined cluster, or ``device="all"``), else None (the
    engine picks its one device)."""
    joined = cluster()
    if joined is not None:
        strategy, rank, workers = joined
        kind = "gpu" if _local_gpus() else "cpu"
        n = strategy.num_replicas_in_sync
        name = (f"worker {rank} of {workers} (MultiWorkerMirroredStrategy, {n} replicas in sync, "
                f"{_per_replica(cfg.batch_size, n)} samples per replica per batch)")
        return Placement("", name, kind, _mixed(cfg, kind, warnings), strategy, n, rank, workers)
    if str(cfg.device).lower() != "all":
        return None
    return _all_local(cfg, warnings)


def _local_gpus():
    from .devices import list_devices
    return [d for d in list_devices() if d["kind"] == "gpu" and d["usable"]]


def _all_local(cfg, warnings):
    """Every usable local GPU (several: MirroredStrategy), else the logical CPU devices when there are several
    (set up with ``tf.config.set_logical_device_configuration``), else the one device there is."""
    import tensorflow as tf
    gpus = _local_gpus()
    if len(gpus) == 1:
        return Placement(gpus[0]["tf_name"], gpus[0]["name"], "gpu", _mixed(cfg, "gpu", warnings))
    if gpus:
        names, kind = [g["tf_name"] for g in gpus], "gpu"
    else:
        names, kind = [d.name for d in tf.config.list_logical_devices("CPU")], "cpu"
        if len(names) < 2:
            warnings.append("--device all: there is no GPU, so training runs on the CPU")
            return Placement("/CPU:0", "CPU", "cpu", _mixed(cfg, "cpu", warnings))
    strategy = tf.distribute.MirroredStrategy(names)
    n = strategy.num_replicas_in_sync
    short = ", ".join(x.replace("/device:", "").lstrip("/") for x in names)
    name = (f"all {n} {'GPUs' if kind == 'gpu' else 'CPU devices'} ({short}; MirroredStrategy, "
            f"{_per_replica(cfg.batch_size, n)} samples per replica per batch)")
    return Placement("", name, kind, _mixed(cfg, kind, warnings), strategy, n)


def _per_replica(batch, replicas):
    return f"{batch / replicas:g}" if batch % replicas else str(batch // replicas)


def _mixed(cfg, kind, warnings):
    if cfg.mixed_precision and kind != "gpu":
        warnings.append("mixed precision needs a GPU; training on the CPU in float32")
        return False
    return bool(cfg.mixed_precision)


# -- the run's scope ------------------------------------------------------------------------------------------------
def enter(keras, device):
    """Enter the strategy's scope for the run (after clearing Keras' session: a clear inside the scope drops the
    strategy). Returns an ExitStack to close when the run ends; nothing is entered for one device."""
    stack = contextlib.ExitStack()
    strategy = getattr(device, "strategy", None)
    if strategy is not None:
        keras.backend.clear_session(free_memory=False)
        stack.enter_context(strategy.scope())
    return stack


def compile_fresh(fresh, project, steps):
    """A model trained under a strategy is compiled in its scope and never cached (the cache's model belongs to
    another strategy, or none)."""
    from ..build import compile_model
    compile_model(fresh, project, steps)
    return fresh
