"""Runs as a table: the settings that differ between runs, the metric columns, and CSV text. Plain data only."""
from __future__ import annotations

import csv
import io
import json

from .diff import MISSING, differing_paths, flatten

BASE_COLUMNS = ("id", "name", "status", "started", "seconds", "samples_per_s", "device", "seed", "sweep", "trial",
                "tags", "note", "message")


def differing(runs, flats=None):
    """The setting paths (``compile.optimizer.learning_rate``...) whose values are not the same in all ``runs``
    (``flats``: the runs' flattened settings, when the caller has them)."""
    return differing_paths([r.get("settings") or {} for r in runs], flats)


def setting_value(run, path):
    """The value of one dotted setting path in a run (None when it has none)."""
    v = flatten(run.get("settings") or {}).get(path, MISSING)
    return None if v is MISSING else v


def metric_names(runs, kind="metrics"):
    """The final-metric names of ``runs``: ``loss`` first, training before validation, otherwise sorted."""
    names = {k for r in runs for k in (r.get(kind) or {})}
    return sorted(names, key=lambda k: (k.startswith("val_"), k.removeprefix("val_") != "loss", k))


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return v


def csv_text(runs):
    """One header row, then one row per run: its values, final metrics, test metrics, differing settings."""
    metrics, tests, paths = metric_names(runs), metric_names(runs, "test_metrics"), differing(runs)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(list(BASE_COLUMNS) + metrics + [f"test_{m}" for m in tests] + paths)
    for r in runs:
        flat = flatten(r.get("settings") or {})
        w.writerow([_cell(r.get(c)) for c in BASE_COLUMNS]
                   + [_cell((r.get("metrics") or {}).get(m)) for m in metrics]
                   + [_cell((r.get("test_metrics") or {}).get(m)) for m in tests]
                   + [_cell(None if flat.get(p, MISSING) is MISSING else flat[p]) for p in paths])
    return out.getvalue()
