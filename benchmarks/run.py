"""Run Layerwise's figures: ``python benchmarks/run.py [NAME ...]``.

Each module ``benchmarks/<group>.py`` defines ``FIGURES = {"name": function}``; a function returns
``(value, unit)`` or ``(value, unit, note)``. One line per figure is printed as ``NAME: VALUE UNIT``.
Figures are ratios against plain Keras measured side by side in one run, or medians; never timed tests.
"""
from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

GROUPS = ["core_figures", "engine", "editor", "workbench", "transfer", "cost", "deploy", "backprop", "sweeps", "runs",
          "backends", "distribute"]


def all_figures():
    figs = {}
    for g in GROUPS:
        if not (HERE / f"{g}.py").exists():
            continue
        mod = importlib.import_module(g)
        for name, fn in mod.FIGURES.items():
            figs[name] = fn
    return figs


def main(argv):
    figs = all_figures()
    wanted = argv or list(figs)
    unknown = [w for w in wanted if w not in figs]
    if unknown:
        print(f"unknown figure(s): {', '.join(unknown)}; known: {', '.join(figs)}", file=sys.stderr)
        return 2
    rc = 0
    for name in wanted:
        t0 = time.time()
        try:
            out = figs[name]()
        except Exception as e:  # a broken figure must not hide the others
            print(f"# {name} failed: {type(e).__name__}: {e}", file=sys.stderr)
            rc = 1
            continue
        value, unit = out[0], out[1]
        note = f"  # {out[2]}" if len(out) > 2 and out[2] else ""
        print(f"{name}: {value:.4g} {unit}{note}", flush=True)
        print(f"# {name} took {time.time() - t0:.1f} s", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
