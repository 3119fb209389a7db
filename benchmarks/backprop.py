"""Gradient-view figures.

- ``telemetry_overhead_ratio``: training throughput with the gradient view on at its default cadence ÷ the same
  training with it off, through ``core.training.run`` both times, for the digits CNN and the sequence (LSTM)
  example side by side in one process. Many short rounds interleaved (off, on, on, off, ...); per example the
  ratio of the median epoch periods of all its off and on runs (the first epoch of a run, which traces, left
  out), in CPU seconds of the process (on this shared 2-core machine wall-clock epochs swing by 2x with other
  processes' load; the work an epoch takes does not); the wall-clock ratio is in the note. The figure is the
  lower of the two examples' ratios; the note gives both and the spread of single rounds' ratios.
- ``explain_latency``: saliency + Grad-CAM (on the last convolution) for one sample of the digits CNN, warm
  (the traced functions made once): the median of 30 calls, in ms.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"


def _keras():
    from core.tfload import import_keras
    return import_keras()


def _rounds(name, rounds, epochs):
    from core.datasets import load_dataset
    from core.project import load_project
    from core.telemetry import telemetry_callback
    from core.training import TrainConfig, TrainState, run

    p = load_project(EXAMPLES / f"{name}.layerwise", load_weights=False)
    ds = load_dataset(p.data)
    probes = []

    class Clock(TrainState):
        def __init__(self):
            super().__init__()
            self.ends, self.cpu = [], []

        def on_epoch(self, epoch, logs):
            self.ends.append(time.perf_counter())
            self.cpu.append(time.process_time())

    def once(on):
        st = Clock()
        cfg = TrainConfig.from_project(p, epochs=epochs)
        if on:
            cfg.extra_callbacks = [telemetry_callback(p, probes.append)]
        res = run(p, data=ds, config=cfg, state=st)
        assert res.error is None, res.error
        return ([b - a for a, b in zip(st.ends, st.ends[1:])], [b - a for a, b in zip(st.cpu, st.cpu[1:])])

    once(False), once(True)   # warm-up: the model, its traces and the probe are made once
    probes.clear()
    wall, cpu, ratios = {False: [], True: []}, {False: [], True: []}, []
    for i in range(rounds):
        order = (False, True) if i % 2 == 0 else (True, False)
        got = {on: once(on) for on in order}
        for on in (False, True):
            wall[on] += got[on][0]
            cpu[on] += got[on][1]
        ratios.append(statistics.median(got[False][1]) / statistics.median(got[True][1]))
    med = statistics.median
    return (med(cpu[False]) / med(cpu[True]), min(ratios), max(ratios), len(probes) / (rounds * epochs),
            med(wall[False]) / med(wall[True]))


def telemetry_overhead_ratio(rounds=8, epochs=4):
    _keras()
    res = {name: _rounds(name, rounds, epochs) for name in ("digits_cnn", "sequence_lstm")}
    value = min(r[0] for r in res.values())
    note = "; ".join(f"{name}: {m:.3f} (single rounds {lo:.2f}-{hi:.2f}; wall clock {w:.3f}), {pr:.1f} probes "
                     f"per epoch" for name, (m, lo, hi, pr, w) in res.items())
    return value, "x", f"{note}; {rounds} interleaved rounds of {epochs} epochs each"


def explain_latency(calls=30):
    _keras()
    from core.build import build_model
    from core.datasets import load_dataset
    from core.explain import explain_sample, sample_of
    from core.project import load_project

    p = load_project(EXAMPLES / "digits_cnn.layerwise", load_weights=False)
    b = build_model(p)
    xs, _, _ = sample_of(load_dataset(p.data), p.graph, 0)
    conv = [n.name for n in p.graph.nodes.values() if n.type == "Conv2D"][-1]
    explain_sample(b, p.graph, xs, layer=conv)   # warm: traced once
    times = []
    for i in range(calls):
        t0 = time.perf_counter()
        explain_sample(b, p.graph, xs, layer=conv)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), "ms", (f"saliency + Grad-CAM of '{conv}', digits CNN, one sample; "
                                            f"{calls} calls from {times[0]:.1f} to {times[-1]:.1f} ms")


FIGURES = {"telemetry_overhead_ratio": telemetry_overhead_ratio, "explain_latency": explain_latency}
