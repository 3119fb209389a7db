"""Training-engine figures.

- ``train_overhead_ratio``: samples/s of ``core.training.run`` with its reporting on (batch logs at the default
  cadence, kept by a listener as the GUI would; feature maps of one conv layer every 50 batches) ÷ samples/s of
  plain ``model.fit(verbose=0)`` on the same model, data and batch size, measured side by side in one process:
  one warm-up round, then rounds alternating which goes first; medians of epoch periods (training + validation),
  the first epoch of each run (tracing) left out.
- ``train_memory_growth``: RSS growth (MB) over 10 consecutive trainings of the digits example in one process,
  after one warm-up training (TensorFlow's runtime and kernel caches are allocated once per process).
"""
from __future__ import annotations

import gc
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "resources" / "examples" / "digits_cnn.layerwise"


def _keras():
    from core.tfload import import_keras
    return import_keras()


def _rss_mb():
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:  # not Linux: peak RSS is the best the standard library offers
        import resource
        import sys
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r / 2 ** 20 if sys.platform == "darwin" else r / 1024


def _listener():
    from core.training import TrainState

    class Keep(TrainState):
        """Keeps what a GUI would plot, and when each epoch ended."""

        def __init__(self):
            super().__init__()
            self.points, self.epochs, self.maps, self.ends = [], [], 0, []

        def on_batch(self, epoch, step, logs, info):
            self.points.append((epoch, step, logs.get("loss")))

        def on_epoch(self, epoch, logs):
            self.epochs.append(logs)
            self.ends.append(time.perf_counter())

        def on_features(self, epoch, step, features):
            self.maps += 1
    return Keep()


def epoch_clock(keras, clock=time.perf_counter):
    """A Keras callback that notes ``clock()`` at every epoch end (``.ends``); epoch hooks only: nothing runs per
    batch."""
    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_epoch_end(self, epoch, logs=None):
            self.ends.append(clock())
    return EpochClock()


def _periods(ends):
    """Epoch periods from consecutive epoch-end times, without the first epoch (it traces the model)."""
    return [b - a for a, b in zip(ends, ends[1:])]


def train_overhead_ratio(rounds=6, epochs=8, batch_size=32):
    """Median epoch period of plain fit ÷ median epoch period of the engine (= ratio of samples/s).

    An epoch period runs from one epoch's end to the next: training, validation and everything the engine does
    (batch reports, feature maps every 50 batches and at the epoch end). Epoch periods rather than whole runs,
    because this machine is shared: medians over many short periods, alternating engine and plain fit, shrug
    off bursts of load from other processes."""
    keras = _keras()
    from core.build import build_model, compile_model
    from core.datasets import arrays_for_model, load_dataset
    from core.project import load_project
    from core.training import TrainConfig, run

    p = load_project(DIGITS, load_weights=False)
    ds = load_dataset(p.data)
    conv = p.graph.by_name("conv2d").id
    x, y = arrays_for_model(ds, ds.train, p.graph)
    val = arrays_for_model(ds, ds.val, p.graph)
    n = len(x)
    counts = {}

    def engine():
        st = _listener()
        cfg = TrainConfig.from_project(p, epochs=epochs, batch_size=batch_size, feature_nodes=[conv],
                                       feature_every=50)
        res = run(p, data=ds, config=cfg, state=st)
        assert res.error is None and st.points and st.maps, (res.error, len(st.points), st.maps)
        counts["reports"] = len(st.points) / epochs
        counts["maps"] = st.maps / epochs
        return _periods(st.ends)

    def plain():
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(0)
        b = build_model(p, with_weights=False)
        compile_model(b, p)
        clock = epoch_clock(keras)
        b.model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=val, verbose=0, callbacks=[clock])
        return _periods(clock.ends)

    engine(), plain()  # warm-up
    e, k = [], []
    for i in range(rounds):
        order = (engine, plain) if i % 2 == 0 else (plain, engine)
        for fn in order:
            (e if fn is engine else k).extend(fn())
    me, mk = statistics.median(e), statistics.median(k)
    return mk / me, "x", (f"engine {n / me:.0f} samples/s vs model.fit {n / mk:.0f} samples/s (median epoch periods, "
                          f"{len(e)} each); digits CNN, batch {batch_size}, with validation; engine reporting "
                          f"{counts['reports']:.0f} batch logs and {counts['maps']:.1f} feature maps per epoch")


def train_memory_growth(trainings=10, epochs=3):
    _keras()
    from core.project import load_project
    from core.training import TrainConfig, run

    p = load_project(DIGITS, load_weights=False)

    def once():
        st = _listener()
        res = run(p, config=TrainConfig.from_project(p, epochs=epochs, feature_nodes=[p.graph.by_name("conv2d").id]),
                  state=st)
        assert res.error is None, res.error
        del res, st
        gc.collect()

    once()  # warm-up: TensorFlow allocates its runtime once per process
    base = _rss_mb()
    samples = []
    for _ in range(trainings):
        once()
        samples.append(_rss_mb())
    growth = samples[-1] - base
    return growth, "MB", (f"RSS {base:.0f} MB after a warm-up training, {samples[-1]:.0f} MB after {trainings} more "
                          f"(digits example, {epochs} epochs each; per training: "
                          f"{', '.join(f'{s - base:+.0f}' for s in samples)})")


FIGURES = {"train_overhead_ratio": train_overhead_ratio, "train_memory_growth": train_memory_growth}
