"""The parity check every export runs: one batch of real samples (the project's test split when its data loads,
else random inputs of the right shape) through Keras and through the target runtime, the largest absolute
difference per output, the batch-1 latency of both, and for a quantized export the test-split metric of the
quantized model next to the float one."""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import numpy as np

TOLERANCE = 1e-4                                # float exports: largest absolute difference
QUANT_TOLERANCE = {"dynamic": 0.05, "int8": 0.15}   # quantized: x max(1, largest |Keras output| on the batch)
BATCH = 8
CLASS_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


@dataclass
class Samples:
    xs: list                        # the parity batch, one array per model input
    source: str                     # "8 test samples of digits" / "8 random inputs (...)"
    train: list | None = None       # training inputs (int8 calibration), when the data loaded
    test: tuple | None = None       # (xs, ys) of the test split, when the data loaded


@dataclass
class Report:
    target: str
    source: str
    diffs: dict                     # output name -> largest absolute difference
    tolerance: float
    keras_ms: float
    target_ms: float
    metrics: list = field(default_factory=list)   # (output, metric, Keras float value, target value)
    notes: list = field(default_factory=list)

    @property
    def max_diff(self):
        return max(self.diffs.values(), default=0.0)

    @property
    def failed(self):
        return [(n, d) for n, d in self.diffs.items() if not d <= self.tolerance]

    def lines(self):
        out = [f"parity on {self.source}:"]
        out += [f"  {n}: largest difference {d:.2e} (tolerance {self.tolerance:.2g})" for n, d in self.diffs.items()]
        out.append(f"  batch-1 latency: Keras {self.keras_ms:.3f} ms, {self.target} {self.target_ms:.3f} ms")
        out += [f"  test {m} of {n}: Keras {a:.4f}, {self.target} {b:.4f}" for n, m, a, b in self.metrics]
        return out + [f"  {t}" for t in self.notes]


def _cast(xs, model):
    return [np.asarray(x).astype(str(i.dtype)) for x, i in zip(xs, model.inputs)]


def random_batch(model, n=BATCH, seed=0):
    rng = np.random.default_rng(seed)
    xs = []
    for i in model.inputs:
        shape = (n,) + tuple(d or 8 for d in i.shape[1:])
        xs.append(rng.integers(0, 10, size=shape) if "int" in str(i.dtype) else rng.uniform(0, 1, size=shape))
    return _cast(xs, model)


def samples(project, model, n=BATCH):
    """The parity batch: the project's test split (else training split) when its data loads, else random."""
    try:
        return _data_samples(project, model, n)
    except Exception as e:      # any data problem: fall back to random inputs, and say why
        why = " ".join(str(e).split())[:160] or type(e).__name__
        return Samples(random_batch(model, n), f"{n} random inputs (the project's data did not load: {why})")


def _data_samples(project, model, n):
    from ..training.splits import as_list, load_data, split_arrays
    ds = load_data(project)
    if ds.streamed:
        x, _ = next(iter(ds.train.tf_dataset))
        xs = _cast([np.asarray(v) for v in as_list(x)], model)
        return Samples([x[:n] for x in xs], f"{min(n, len(xs[0]))} training samples of {ds.name}", train=xs)
    train = split_arrays(ds, ds.train, project.graph)
    test = split_arrays(ds, ds.test, project.graph) if ds.test is not None else None
    txs = _cast(as_list(train[0]), model)
    pick, which = (test, "test") if test is not None else (train, "training")
    xs = _cast(as_list(pick[0]), model)
    test = (_cast(as_list(test[0]), model), as_list(test[1])) if test is not None else None
    return Samples([x[:n] for x in xs], f"{min(n, len(xs[0]))} {which} samples of {ds.name}", train=txs, test=test)


def latency_ms(fn, xs, budget_s=0.25, at_most=200):
    """Median wall time of ``fn(xs)`` at batch 1, after a warm-up, in milliseconds."""
    one = [x[:1] for x in xs]
    for _ in range(3):
        fn(one)
    times, t_end = [], time.perf_counter() + budget_s
    while len(times) < 5 or (time.perf_counter() < t_end and len(times) < at_most):
        t = time.perf_counter()
        fn(one)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def keras_runner(model):
    """The model's own serving function (a ``tf.function``): ``runner(xs)`` -> {output name: array}."""
    from .graph import serving_function
    serve = serving_function(model)

    def run(xs):
        return {k: v.numpy() for k, v in serve(*xs).items()}
    return run


def check(target, runner, model, data: Samples, quantize=None, graph=None):
    """Compare ``runner`` (``runner(xs)`` -> {output name: array}) with Keras on ``data``: a Report."""
    ref = keras_runner(model)
    want, got = ref(data.xs), runner(data.xs)
    diffs = {}
    for name, w in want.items():
        g = np.asarray(got[name]) if name in got else None
        diffs[name] = float(np.abs(g.reshape(w.shape) - w).max()) if g is not None and g.size == w.size else float("inf")
    tol = TOLERANCE
    if quantize:
        tol = QUANT_TOLERANCE[quantize] * max(1.0, max(float(np.abs(w).max()) for w in want.values()))
    rep = Report(target, data.source, diffs, tol, latency_ms(ref, data.xs), latency_ms(runner, data.xs))
    if quantize and data.test is not None:
        rep.metrics = _metrics(model, graph, ref, runner, data.test)
    elif quantize:
        rep.notes.append("no test split: the quantized metric was not measured")
    return rep


def _metrics(model, graph, ref, runner, test):
    xs, ys = test
    a, b = ref(xs), runner(xs)
    losses = _losses(model, graph)
    rows = []
    for name, y in zip(model.output_names, ys):
        loss = losses.get(name)
        rows.append((name, *_metric(loss, y, a[name]), _metric(loss, y, b[name])[1]))
    return rows


def _losses(model, graph):
    """Output name -> its loss (from the project's Output nodes, in the model's output order)."""
    if graph is None:
        return {}
    outs = [n for n in graph.nodes.values() if n.type == "Output"]
    return {name: n.params.get("loss") for name, n in zip(model.output_names, outs)}


def _metric(loss, y, pred):
    y, pred = np.asarray(y), np.asarray(pred)
    if loss == "sparse_categorical_crossentropy":
        return "accuracy", float(np.mean(pred.argmax(-1).reshape(-1) == y.reshape(-1)))
    if loss == "categorical_crossentropy":
        return "accuracy", float(np.mean(pred.argmax(-1) == y.argmax(-1)))
    if loss == "binary_crossentropy":
        return "accuracy", float(np.mean((pred.reshape(-1) > 0.5) == (y.reshape(-1) > 0.5)))
    return "mean absolute error", float(np.mean(np.abs(pred.reshape(y.shape) - y))) if pred.size == y.size else float("nan")
