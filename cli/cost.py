"""``layerwise check PROJECT --cost [--json]``: every node's MACs, parameters and memory, the totals, the budget."""
from __future__ import annotations

import json

import click

from core.cost import bytes_text, count_text, project_cost
from core.cost.budget import budget_of, contributors, over_budget


def cost_rows(report):
    rows = []
    for c in report.nodes.values():
        rows.append((f"{c.name} ({c.id})", c.type, count_text(c.macs) + ("" if c.counted else " ?"),
                     f"{c.params:,}", bytes_text(c.activation_bytes)))
    return rows


def cost_lines(project, report):
    """The table (node, type, MACs, params, activation memory per sample), the totals and the budget."""
    heads = ("node", "type", "MACs", "params", "activations")
    rows = cost_rows(report)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)]

    def line(cols):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths))).rstrip()
    rule = "  ".join("-" * w for w in widths)
    out = [f"Cost of {project.name} (per sample; MACs as TensorFlow's profiler counts them, FLOPs / 2)",
           line(heads), rule] + [line(r) for r in rows] + [rule]
    t = report.total
    out += [f"Total MACs per sample: {t.macs:,.0f} ({count_text(t.macs)})",
            f"Params: {t.params:,} ({t.trainable:,} trainable); weights {bytes_text(t.weight_bytes)}",
            f"Activations: {bytes_text(t.activation_bytes)} per sample, {bytes_text(t.activation_bytes * t.batch_size)}"
            f" at batch size {t.batch_size}",
            f"Training memory: {bytes_text(t.training_bytes)} (weights + {t.optimizer} state, {t.optimizer_slots} "
            f"slot(s) per trainable weight {bytes_text(t.optimizer_bytes)} + activations of one batch)"]
    if report.uncounted:
        out.append(f"No cost convention for: {', '.join(report.uncounted)} (counted as 0 MACs, marked ?)")
    return out


def budget_lines(project, report):
    """Red lines for every exceeded budget limit, each with its top contributors; [] within the budget."""
    out = []
    for ex in over_budget(report, budget_of(project.training)):
        top = ", ".join(f"{c.name} {count_text(c.macs if ex.key == 'max_macs' else c.params)}"
                        for c in contributors(report, ex))
        out.append(click.style(f"over budget: {ex.text}" + (f"; top contributors: {top}" if top else ""), fg="red"))
    return out


def cost_json(project, report, problems=()):
    d = report.to_dict()
    d["budget"] = {"limits": budget_of(project.training),
                   "exceeded": [{"key": e.key, "limit": e.limit, "value": e.value}
                                for e in over_budget(report, budget_of(project.training))]}
    if problems:
        d["problems"] = [str(p) for p in problems]
    return json.dumps(d, indent=1)


def show_cost(project, res, as_json):
    """Print the cost (table or JSON); returns whether the project is within its budget."""
    report = project_cost(project, res)
    if as_json:
        click.echo(cost_json(project, report, res.problems))
        return not over_budget(report, budget_of(project.training))
    for line in cost_lines(project, report):
        click.echo(line)
    over = budget_lines(project, report)
    for line in over:
        click.echo(line)
    return not over
