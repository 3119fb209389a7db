"""A project's cost budget (``training.budget`` in the project file) and what exceeds it.

``{"max_params": 1000000, "max_macs": 5e8, "max_size_mb": 4, "max_latency_ms": 10}``: every key is optional;
the file's values are checked on load by ``core.validate`` (a negative value or one that is not a number is refused,
naming the field).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..validate import BUDGET_KEYS
from . import bytes_text, count_text

MB = 1e6


@dataclass
class Excess:
    key: str          # the budget key, e.g. "max_macs"
    what: str         # in words: "MACs per sample"
    limit: float
    value: float
    text: str         # "MACs per sample 3.88 G over the budget of 1 G"
    short: str = ""   # "MACs per sample 3.88 G > 1 G"


def budget_of(training) -> dict:
    """The budget's set limits (keys of ``BUDGET_KEYS`` with a number), from the training settings."""
    import math
    b = training.get("budget") if isinstance(training, dict) else None
    if not isinstance(b, dict):
        return {}
    return {k: float(b[k]) for k in BUDGET_KEYS if isinstance(b.get(k), (int, float)) and not isinstance(b[k], bool)
            and math.isfinite(b[k]) and b[k] >= 0}


def _values(report, latency_ms):
    t = report.total
    return {"max_params": (t.params, count_text), "max_macs": (t.macs, count_text),
            "max_size_mb": (t.weight_bytes / MB, lambda v: bytes_text(v * MB)),
            "max_latency_ms": (latency_ms, lambda v: f"{v:.3g} ms")}


def over_budget(report, budget, latency_ms=None) -> list:
    """Every limit of ``budget`` that the report's totals (and a measured batch-1 latency) exceed."""
    out = []
    values = _values(report, latency_ms)
    for key, limit in budget.items():
        value, fmt = values[key]
        if value is not None and value > limit:
            what = BUDGET_KEYS[key]
            out.append(Excess(key, what, limit, value, f"{what} {fmt(value)} over the budget of {fmt(limit)}",
                              f"{what} {fmt(value)} > {fmt(limit)}"))
    return out


def contributors(report, excess, n=3) -> list:
    """The nodes that contribute most to an exceeded limit (by MACs, parameters or weight bytes)."""
    metric = {"max_macs": "macs", "max_params": "params", "max_size_mb": "weight_bytes"}.get(excess.key, "macs")
    return report.top(metric, n)
