"""Text summaries of a checked graph, in the manner of Keras' ``model.summary()``."""
from __future__ import annotations

from core import catalog
from core.infer import shape_text
from core.node_settings import is_frozen


def _fmt(n):
    return f"{n:,}"


def summary_lines(project, res):
    """One row per node (name, id, type and key params, output shape, params, effective L2/dropout), then totals."""
    g = project.graph
    rows = []
    for k in res.order + [k for k in g.nodes if k not in res.order]:
        n = g.nodes[k]
        info = res.nodes.get(k)
        what = catalog.summary_text(n.type, n.params)
        extras = []
        if info is not None:
            if info.l2:
                extras.append(f"L2 {info.l2:g}")
            if info.dropout_after:
                extras.append(f"+dropout {info.dropout_after:g}")
            if is_frozen(n):
                extras.append("frozen")
        shape = shape_text(info.shape) if info else "?"
        if info is not None and info.error:
            shape = "!" + shape
        params = _fmt(info.params) if info else "?"
        rows.append((f"{n.name} ({k})", what, shape, params, ", ".join(extras)))
    heads = ("node", "layer", "output shape", "params", "regularization")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)]
    def line(cols):
        return "  ".join(c.ljust(w) if i != 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths))).rstrip()
    out = [f"Project: {project.name}", line(heads), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append("  ".join("-" * w for w in widths))
    out.append(f"Total params: {_fmt(res.total)}")
    out.append(f"Trainable params: {_fmt(res.trainable)}")
    out.append(f"Non-trainable params: {_fmt(res.non_trainable)}")
    reg = project.regularization
    out.append(f"Regularization: global L2 {float(reg.get('l2', 0) or 0):g} on kernels; "
               f"global dropout {float(reg.get('dropout', 0) or 0):g} after Dense/Conv blocks")
    return out
