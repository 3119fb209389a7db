"""Keras-backend figures.

- ``backend_ratio_jax``, ``backend_ratio_torch``: samples/s of the training engine on that backend ÷ samples/s of
  plain ``model.fit(verbose=0)`` on the same backend, model, data and batch size, digits CNN, CPU. Both run in one
  child process started with ``KERAS_BACKEND`` set, as a ``--backend`` run's worker is; the engine reports to the
  worker's own listener (every event serialized to a JSON line, as it is sent to the window), feature maps of the
  conv layer every 50 batches. One warm-up round, then rounds alternating which goes first; in each round the
  median epoch period of each (training + validation; the first epoch of a run compiles and is left out) in CPU
  seconds of the process (all its threads): the figure is the median over rounds of plain ÷ engine. CPU seconds,
  because on a shared machine the wall clock measures the other processes (here: load 8-11 on 2 cores, wall
  ratios per round 0.2-2.1 while CPU seconds per epoch agreed within a few percent); the note gives the wall
  clock ratio too (best epochs) and both spreads.
"""
from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _child(backend, rounds, epochs, batch_size):
    """In the child (KERAS_BACKEND set): interleaved engine / plain fit rounds; prints one JSON line."""
    import time

    from core.tfload import import_keras
    keras = import_keras()
    assert keras.backend.backend() == backend, keras.backend.backend()
    from engine import DIGITS, _periods, epoch_clock   # benchmarks/engine.py
    from core.build import build_model, compile_model
    from core.datasets import arrays_for_model, load_dataset
    from core.keras_compat import set_random_seed
    from core.project import load_project
    from core.training import TrainConfig, run
    from core.training.backend_worker import StreamState

    p = load_project(DIGITS, load_weights=False)
    ds = load_dataset(p.data)
    conv = p.graph.by_name("conv2d").id
    x, y = arrays_for_model(ds, ds.train, p.graph)
    val = arrays_for_model(ds, ds.val, p.graph)

    def clock():   # (wall seconds, this process's CPU seconds: every thread's)
        return time.perf_counter(), time.process_time()

    def periods(ends):
        return {"wall": _periods([t for t, _ in ends]), "cpu": _periods([c for _, c in ends])}

    class Timed(StreamState):   # the worker's listener, into memory, with the epoch-end times
        def __init__(self):
            super().__init__(io.StringIO())
            self.ends = []

        def on_epoch(self, epoch, logs):
            super().on_epoch(epoch, logs)
            self.ends.append(clock())

    def engine():
        st = Timed()
        cfg = TrainConfig.from_project(p, epochs=epochs, batch_size=batch_size, feature_nodes=[conv],
                                       feature_every=50, backend=backend)
        res = run(p, data=ds, config=cfg, state=st)
        assert res.error is None and st.out.tell() > 0, res.error
        return periods(st.ends)

    def plain():
        keras.backend.clear_session(free_memory=False)
        set_random_seed(0)
        b = build_model(p, with_weights=False)
        compile_model(b, p)
        ends = epoch_clock(keras, clock)
        b.model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=val, verbose=0, callbacks=[ends])
        return periods(ends.ends)

    engine(), plain()   # warm-up
    rounds_out = []
    for i in range(rounds):
        order = (engine, plain) if i % 2 == 0 else (plain, engine)
        got = {fn: fn() for fn in order}
        rounds_out.append({"engine": got[engine], "plain": got[plain]})
    print(json.dumps({"rounds": rounds_out, "n": len(x)}), flush=True)


def backend_ratio(backend, rounds=6, epochs=8, batch_size=32):
    from core.training import backends
    label = backends.INFO[backend].label
    if backends.version_of(backend) is None:
        return float("nan"), "x", f"{label} is not installed here: not measured (the [{backend}] extra)"
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               JAX_PLATFORMS="cpu", PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]))
    out = subprocess.run([sys.executable, str(Path(__file__)), "--child", backend, str(rounds), str(epochs),
                          str(batch_size)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=800)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the {label} benchmark process failed (exit {out.returncode}): {tail}")
    r = json.loads(lines[-1])
    return _figure(label, backends.version_of(backend), r["rounds"], r["n"], batch_size)


def _figure(label, version, rounds, n, batch_size):
    """The median over rounds of (plain fit's CPU seconds per epoch ÷ the engine's), medians of each run's epochs:
    CPU seconds (every thread of the process) are what the engine adds, whatever else runs on a shared machine; the
    wall-clock ratio (best epochs, the ones least touched by other processes) and the spreads go in the note."""
    med = statistics.median
    cpu = [med(r["plain"]["cpu"]) / med(r["engine"]["cpu"]) for r in rounds]
    wall = [min(r["plain"]["wall"]) / min(r["engine"]["wall"]) for r in rounds]
    e_cpu = med([p for r in rounds for p in r["engine"]["cpu"]])
    k_cpu = med([p for r in rounds for p in r["plain"]["cpu"]])
    e_wall = min(p for r in rounds for p in r["engine"]["wall"])
    k_wall = min(p for r in rounds for p in r["plain"]["wall"])
    return med(cpu), "x", (f"{label} {version}, CPU: engine {n / e_cpu:.0f} vs model.fit {n / k_cpu:.0f} samples per "
                           f"CPU second; {len(rounds)} interleaved rounds {min(cpu):.2f}-{max(cpu):.2f}; wall clock "
                           f"(best epochs) {n / e_wall:.0f} vs {n / k_wall:.0f} samples/s, ratio {med(wall):.2f} "
                           f"(rounds {min(wall):.2f}-{max(wall):.2f}); digits CNN, batch {batch_size}, with "
                           f"validation, the worker's JSON events and feature maps every 50 batches")

FIGURES = {"backend_ratio_jax": lambda: backend_ratio("jax"), "backend_ratio_torch": lambda: backend_ratio("torch")}


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "--child":
    _child(sys.argv[2], *(int(a) for a in sys.argv[3:6]))
