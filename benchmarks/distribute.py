"""Figures of training past one device and one run.

- ``mirrored_ratio``: samples/s of ``core.training.run`` with ``device="all"`` on two logical CPU devices (so
  ``tf.distribute.MirroredStrategy`` over two replicas) ÷ samples/s of plain ``model.fit`` under a
  MirroredStrategy over the same two devices, same model, data and batch: one warm-up round, then rounds
  alternating which goes first; medians of epoch periods (the first epoch of each run, tracing, left out); the
  note gives the spread of the per-round ratios. Measured in a child process (logical devices must be set up
  before TensorFlow starts).
- ``resume_loss``: the epochs a run loses when it is killed (SIGKILL) mid-epoch and resumed with ``--resume``:
  the finished epochs that were trained again plus the part of the epoch in progress; the worst of three kills
  at different points of an epoch.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "resources" / "examples" / "digits_cnn.layerwise"
EPOCH_LINE = re.compile(r"^epoch (\d+)/\d+ .*\s([0-9.]+)s$", re.M)


def mirrored_ratio():
    out = subprocess.run([sys.executable, __file__, "mirrored"], capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"the measuring process printed nothing: {out.stderr.strip()[-300:]}")
    r = json.loads(lines[-1])
    return r["ratio"], "x", (f"engine {r['engine']:.0f} samples/s vs model.fit {r['plain']:.0f} samples/s under "
                             f"MirroredStrategy on 2 logical CPU devices (median epoch periods, {r['periods']} each); "
                             f"per-round ratios {min(r['rounds']):.2f}-{max(r['rounds']):.2f}; digits CNN, batch "
                             f"{r['batch']}")


def _measure_mirrored(rounds=5, epochs=5, batch_size=64):
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from engine import _keras, _listener, _periods, epoch_clock
    keras = _keras()
    from core.build import build_model, compile_model
    from core.datasets import arrays_for_model, load_dataset
    from core.project import load_project
    from core.training import TrainConfig, run

    p = load_project(DIGITS, load_weights=False)
    ds = load_dataset(p.data)
    x, y = arrays_for_model(ds, ds.train, p.graph)
    val = arrays_for_model(ds, ds.val, p.graph)
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]

    def engine():
        st = _listener()
        res = run(p, data=ds, config=TrainConfig.from_project(p, epochs=epochs, batch_size=batch_size, device="all"),
                  state=st)
        assert res.error is None and "MirroredStrategy" in res.device, (res.error, res.device)
        return _periods(st.ends)

    def plain():
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(0)
        strategy = tf.distribute.MirroredStrategy(devices)
        with strategy.scope():
            b = build_model(p, with_weights=False)
            compile_model(b, p)
            clock = epoch_clock(keras)
            b.model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=val, verbose=0,
                        callbacks=[clock])
        return _periods(clock.ends)

    engine(), plain()   # warm-up
    e, k, per_round = [], [], []
    for i in range(rounds):
        got = {}
        for fn in ((engine, plain) if i % 2 == 0 else (plain, engine)):
            got[fn.__name__] = fn()
        e += got["engine"]
        k += got["plain"]
        per_round.append(statistics.median(got["plain"]) / statistics.median(got["engine"]))
    n = len(x)
    me, mk = statistics.median(e), statistics.median(k)
    return {"ratio": mk / me, "engine": n / me, "plain": n / mk, "periods": len(e), "rounds": per_round,
            "batch": batch_size}


def resume_loss(points=(0.2, 0.5, 0.8), epochs=10, batch_size=8):
    work = Path(tempfile.mkdtemp(prefix="lw-resume-"))
    try:
        losses = [_kill_and_resume(work, i, at, epochs, batch_size) for i, at in enumerate(points)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    worst = max(x[0] for x in losses)
    return worst, "epochs", ("killed with SIGKILL " + ", ".join(
        f"{at:.0%} into epoch {ep + 1}: {lost:.2f} lost" for (lost, ep), at in zip(losses, points))
        + f"; digits example, batch {batch_size}")


def _kill_and_resume(work, i, at, epochs, batch_size):
    """(epochs lost, the epoch in progress) for one run killed ``at`` (a fraction) into its third epoch."""
    proj = work / f"r{i}.layerwise"
    shutil.copy(DIGITS, proj)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "cli", "train", str(proj), "--epochs", str(epochs), "--batch-size",
           str(batch_size), "--no-record"]
    log1 = work / f"r{i}.1.log"
    with open(log1, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(EPOCH_LINE.findall(log1.read_text())) < 3:
        time.sleep(0.02)
    t_last = time.monotonic()
    done = EPOCH_LINE.findall(log1.read_text())
    period = float(done[-1][1])
    time.sleep(at * period)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = EPOCH_LINE.findall(log1.read_text())
    in_progress = min((time.monotonic() - t_last) / period, 1.0)
    out = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    again = EPOCH_LINE.findall(out.stdout)
    if out.returncode != 0 or not again:
        raise RuntimeError(f"--resume failed: {(out.stderr or out.stdout).strip()[-300:]}")
    resumed_from = int(again[0][0]) - 1
    return len(done) - resumed_from + in_progress, len(done)


FIGURES = {"mirrored_ratio": mirrored_ratio, "resume_loss": resume_loss}

if __name__ == "__main__" and sys.argv[1:] == ["mirrored"]:
    print(json.dumps(_measure_mirrored()), flush=True)
