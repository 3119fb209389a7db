"""Sweep figures: ``sweep_overhead_ratio`` (trials per hour of ``layerwise sweep --workers 1`` ÷ a plain Optuna
script training the same graphs with ``model.fit`` in one process, same trials, sampler seed and epochs) and
``sweep_memory_growth`` (RSS growth of the worker from its first to its last of 20 trials of the digits example).
Both come from one pair of runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIALS, EPOCHS = 20, 2
LR = "compile.optimizer.learning_rate=1e-4:1e-1:log"

PLAIN = r'''
import sys, time, optuna
sys.path.insert(0, sys.argv[1])
from core.project import load_project
from core.build import build_model, compile_model
from core.training.splits import load_data, one, split_arrays
import keras
p = load_project(sys.argv[2]); trials, epochs = int(sys.argv[3]), int(sys.argv[4])
ds = load_data(p)
(x, y), (vx, vy) = split_arrays(ds, ds.train, p.graph), split_arrays(ds, ds.val, p.graph)
optuna.logging.set_verbosity(optuna.logging.WARNING)
def objective(trial):
    p.compile.set(("optimizer", "learning_rate"), trial.suggest_float("compile.optimizer.learning_rate", 1e-4, 1e-1, log=True))
    keras.utils.set_random_seed(0)
    b = build_model(p); compile_model(b, p)
    h = b.model.fit(one(x), one(y), validation_data=(one(vx), one(vy)), epochs=epochs, batch_size=p.training["batch_size"], verbose=0)
    return h.history["val_loss"][-1]
study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
study.optimize(objective, n_trials=trials)
print("best", study.best_value)
'''

_RESULT = {}


def _project(tmp):
    d = json.loads((ROOT / "resources/examples/digits_cnn.layerwise").read_text())
    d["name"] = "bench"
    path = Path(tmp) / "bench.layerwise"
    path.write_text(json.dumps(d))
    return path


def _measure():
    if _RESULT:
        return _RESULT
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        path = _project(tmp)
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "cli", "sweep", str(path), "--trials", str(TRIALS), "--epochs",
                            str(EPOCHS), "--workers", "1", "--seed", "0", "--no-pruning", "--study", "bench",
                            "--json", "--dim", LR], capture_output=True, text=True, cwd=ROOT, env=env)
        ours = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip().splitlines()[-1])
        rows = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith('{"trial"')]
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", PLAIN, str(ROOT), str(path), str(TRIALS), str(EPOCHS)],
                           capture_output=True, text=True, cwd=ROOT, env=env)
        plain = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(p.stderr.strip().splitlines()[-1])
    rss = [row["rss_mb"] for row in rows if "rss_mb" in row]
    _RESULT.update(ours=ours, plain=plain, growth=rss[-1] - rss[0], first=rss[0], n=len(rss))
    return _RESULT


def sweep_overhead_ratio():
    m = _measure()
    return m["plain"] / m["ours"], "×", (f"{TRIALS} trials × {EPOCHS} epochs of digits_cnn: layerwise sweep "
                                          f"{m['ours']:.1f} s, plain Optuna + model.fit {m['plain']:.1f} s")


def sweep_memory_growth():
    m = _measure()
    return m["growth"], "MB", f"worker RSS {m['first']:.0f} MB after trial 1, +{m['growth']:.1f} MB by trial {m['n']}"


FIGURES = {"sweep_overhead_ratio": sweep_overhead_ratio, "sweep_memory_growth": sweep_memory_growth}
