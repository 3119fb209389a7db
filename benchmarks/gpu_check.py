"""A GPU check anyone can run: ``python benchmarks/gpu_check.py``.

For every installed Keras backend (TensorFlow; JAX and PyTorch where their extras are installed) it asks that
backend, in a child process started with ``KERAS_BACKEND`` set, for its first GPU. On it, it trains the digits
and the sequence examples with and without mixed precision, through Layerwise's engine and through plain
``model.fit`` (same model, data, batch size, device and precision), and prints one line per run: throughput of
the engine ÷ plain fit (samples/s over the epochs after the first, which compiles) and the final test accuracies.

A backend that sees no GPU says so (and why, where it can tell: a CPU-only build, no CUDA driver); a machine
where no backend sees one prints that nothing was measured and exits 0. ``--cpu`` runs the same measurements on
the CPU (to check the script itself); ``--epochs N`` (default 6) and ``--backend NAME`` narrow it down.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
EXAMPLES = {"digits": ROOT / "resources" / "examples" / "digits_cnn.layerwise",
            "sequence": ROOT / "resources" / "examples" / "sequence_lstm.layerwise"}


# -- the child: one backend --------------------------------------------------------------------------------------
def first_gpu(backend):
    """(name of the first GPU this backend sees, None) or (None, why there is none)."""
    if backend == "tensorflow":
        import tensorflow as tf
        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            built = tf.test.is_built_with_cuda()
            return None, "TensorFlow sees no GPU" + ("" if built else " (this TensorFlow is built without CUDA)")
        details = tf.config.experimental.get_device_details(gpus[0])
        return details.get("device_name") or gpus[0].name, None
    if backend == "jax":
        import jax
        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        if not gpus:
            return None, f"JAX sees no GPU (devices: {', '.join(str(d) for d in jax.devices())}; a CUDA build is " \
                         f"pip install \"jax[cuda12]\")"
        return getattr(gpus[0], "device_kind", str(gpus[0])), None
    import torch
    if not torch.cuda.is_available():
        return None, f"PyTorch sees no GPU (CUDA build: {torch.version.cuda or 'no'})"
    return torch.cuda.get_device_name(0), None


def _plain_fit(keras, project, device, mixed, epochs):
    """samples/s and test accuracy of plain model.fit on the same model, data and device."""
    from core.build import build_model, compile_model
    from core.datasets import arrays_for_model, load_dataset
    from core.keras_compat import set_random_seed
    from core.training import neutral
    ds = load_dataset(project.data)
    x, y = arrays_for_model(ds, ds.train, project.graph)
    test = arrays_for_model(ds, ds.test, project.graph)
    bs = int(project.training.get("batch_size", 32))
    ends = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            ends.append(time.perf_counter())

    keras.backend.clear_session(free_memory=False)
    set_random_seed(0)
    before = keras.mixed_precision.global_policy().name
    if mixed:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with neutral.device_scope(keras, neutral.tensorflow(), device):
            b = build_model(project, with_weights=False)
            compile_model(b, project)
            b.model.fit(x, y, batch_size=bs, epochs=epochs, verbose=0, callbacks=[Clock()])
            acc = b.model.evaluate(test[0], test[1], verbose=0, return_dict=True).get("accuracy")
    finally:
        keras.mixed_precision.set_global_policy(before)
    n = len(x[0]) if isinstance(x, list) else len(x)
    return n * (len(ends) - 1) / max(ends[-1] - ends[0], 1e-9), acc


def _engine(project, device_request, mixed, epochs):
    from core.training import TrainConfig, run
    cfg = TrainConfig.from_project(project, epochs=epochs, device=device_request, mixed_precision=mixed)
    res = run(project, config=cfg)
    if res.error is not None:
        raise RuntimeError(str(res.error))
    return res.samples_per_s, (res.test_metrics or {}).get("accuracy"), res.device, res.warnings


def child(backend, use_cpu, epochs):
    from core.project import load_project
    from core.tfload import import_keras
    keras = import_keras()
    gpu, why = ("CPU", None) if use_cpu else first_gpu(backend)
    print(json.dumps({"backend": backend, "version": keras.__version__, "gpu": gpu, "why": why}), flush=True)
    if gpu is None:
        return
    request, device = ("cpu", "/CPU:0") if use_cpu else ("gpu:0", "/GPU:0")
    for name, path in EXAMPLES.items():
        for mixed in ((False,) if use_cpu else (False, True)):   # (mixed precision needs a GPU)
            p = load_project(path, load_weights=False)
            try:
                sps, acc, where, warns = _engine(p, request, mixed, epochs)
                k_sps, k_acc = _plain_fit(keras, p, device, mixed and not use_cpu, epochs)
                row = {"example": name, "mixed": mixed, "engine": sps, "plain": k_sps, "accuracy": acc,
                       "plain_accuracy": k_acc, "device": where, "warnings": warns}
            except Exception as e:  # noqa: BLE001 - one line per run, the others still run
                row = {"example": name, "mixed": mixed, "failed": f"{type(e).__name__}: {str(e)[:200]}"}
            print(json.dumps(row), flush=True)


# -- the parent: every installed backend --------------------------------------------------------------------------
def line_for(backend, row):
    mp = "mixed precision" if row["mixed"] else "float32"
    if "failed" in row:
        return f"{backend:10s} {row['example']:8s} {mp:15s}  failed: {row['failed']}"
    acc = lambda v: f"{v:.3f}" if isinstance(v, (int, float)) else "?"
    return (f"{backend:10s} {row['example']:8s} {mp:15s}  engine/fit {row['engine'] / max(row['plain'], 1e-9):.2f} "
            f"({row['engine']:.0f} vs {row['plain']:.0f} samples/s)  test accuracy {acc(row['accuracy'])} "
            f"(fit {acc(row['plain_accuracy'])})")


def check_backend(backend, use_cpu, epochs):
    """Run one backend's child; yields the lines to print; returns through ``found`` whether it had a GPU."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    args = [sys.executable, str(Path(__file__)), "--child", backend, "--epochs", str(epochs)] + \
        (["--cpu"] if use_cpu else [])
    proc = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    rows = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not rows:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return False, [f"{backend:10s} could not be checked (exit {proc.returncode}): {tail}"]
    head, runs = rows[0], rows[1:]
    if head["gpu"] is None:
        return False, [f"{backend:10s} no GPU: {head['why']}"]
    lines = [f"{backend:10s} {head['gpu']} (Keras {head['version']})"]
    return True, lines + [line_for(backend, r) for r in runs]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--cpu", action="store_true", help="measure on the CPU instead (checks the script itself)")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--backend", default=None, help="only this backend (tensorflow, jax or torch)")
    a = ap.parse_args(argv)
    if a.child:
        child(a.child, a.cpu, a.epochs)
        return 0
    from core.training import backends
    names = [a.backend] if a.backend else [b["name"] for b in backends.installed() if b["installed"]]
    missing = [b["label"] for b in backends.installed() if not b["installed"] and not a.backend]
    any_gpu = False
    for name in names:
        try:
            name = backends.check(name)
        except Exception as e:  # noqa: BLE001 - an unknown or missing backend: one line
            print(f"error: {e}", file=sys.stderr)
            return 2
        found, lines = check_backend(name, a.cpu, a.epochs)
        any_gpu |= found
        for ln in lines:
            print(ln, flush=True)
    for label in missing:
        print(f"{label:10s} not installed: not checked")
    if not any_gpu:
        print("no GPU was found by any installed backend on this machine: nothing was measured "
              "(python benchmarks/gpu_check.py --cpu runs the same check on the CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
