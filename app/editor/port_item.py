"""Ports: where a node's input and output ports sit, and which port lies under a point.

Ports are painted by the node item itself (one item per node keeps a 500-node canvas fast); this module
holds their geometry. LR: inputs on the left edge, output on the right. TB: inputs on top, output below.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF

from .style import PORT_STEP


@dataclass(frozen=True)
class PortRef:
    node_id: str
    side: str        # "in" | "out"
    index: int = 0


def input_pos(w, h, n, i, direction="LR") -> QPointF:
    if direction == "TB":
        step = min(PORT_STEP * 2.2, (w - 24) / max(n, 1))
        return QPointF(w / 2 + (i - (n - 1) / 2) * step, 0.0)
    return QPointF(0.0, h / 2 + (i - (n - 1) / 2) * PORT_STEP)


def output_pos(w, h, direction="LR", n=1, i=0) -> QPointF:
    """Where output port ``i`` of ``n`` sits (a layer that returns several tensors has one port each)."""
    if direction == "TB":
        step = min(PORT_STEP * 2.2, (w - 24) / max(n, 1))
        return QPointF(w / 2 + (i - (n - 1) / 2) * step, h)
    return QPointF(w, h / 2 + (i - (n - 1) / 2) * PORT_STEP)


def port_at(local: QPointF, w, h, n_in, has_out, direction="LR", radius=10.0):
    """("in", i) or ("out", 0) for the port within ``radius`` of ``local`` (node coordinates), else None."""
    best, best_d = None, radius * radius
    for i in range(n_in):
        p = input_pos(w, h, n_in, i, direction)
        d = (p.x() - local.x()) ** 2 + (p.y() - local.y()) ** 2
        if d <= best_d:
            best, best_d = ("in", i), d
    if has_out:
        p = output_pos(w, h, direction)
        d = (p.x() - local.x()) ** 2 + (p.y() - local.y()) ** 2
        if d <= best_d:
            best = ("out", 0)
    return best
