"""``layerwise profile PROJECT [--batch N] [--device D]``: measured latency of the model and of each node."""
from __future__ import annotations

import click

from .common import TRUST_HELP, fail, load, quiet_tf


def ms_text(ms):
    return f"{ms * 1000:.0f} µs" if ms < 1 else f"{ms:.3g} ms"


def profile_lines(project, prof, report=None):
    """The whole-model times, one row per node (its time, its share of the node sum, its MACs), the note."""
    out = [f"Profile of {project.name} on {prof.device} (median of {prof.repeats} calls after {prof.warmup} warm-up)",
           f"Batch 1: {ms_text(prof.batch1_ms)} per call",
           f"Batch {prof.batch_size}: {ms_text(prof.batch_ms)} per call ({ms_text(prof.batch_ms / prof.batch_size)} "
           f"per sample)",
           f"Empty call (subtracted from each node): {ms_text(prof.empty_ms)}"]
    g = project.graph
    rows = [(f"{g.nodes[k].name} ({k})", g.nodes[k].type, ms_text(t)) for k, t in prof.nodes.items()]
    if rows:
        w = [max(len(r[i]) for r in rows) for i in range(3)]
        out += [f"  {a.ljust(w[0])}  {b.ljust(w[1])}  {c.rjust(w[2])}" for a, b, c in rows]
        out.append(f"Sum of the nodes: {ms_text(prof.node_sum_ms)} ({prof.node_sum_ms / max(prof.batch1_ms, 1e-9):.0%}"
                   f" of the batch-1 call)")
    if prof.dispatch_dominates:
        out.append(f"note: the whole batch-1 call takes under 5 ms: the fixed cost of each call (dispatch) dominates, "
                   f"so the per-node times do not add up to it")
    return out


@click.command("profile")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--batch", type=click.IntRange(1, 1_000_000), default=None,
              help="the batch size to time besides batch 1 (default: the project's training batch size)")
@click.option("--device", default=None, help="auto, cpu, gpu or gpu:N (default: the project's device)")
@click.option("--trust", is_flag=True, help=TRUST_HELP)
def profile_cmd(project, batch, device, trust):
    """Time the built model at batch 1 and at the batch size, and each node's own call."""
    quiet_tf()
    p = load(project, trust)
    from core.cost.budget import budget_of, over_budget
    from core.cost import project_cost
    from core.errors import BuildError, SettingsError
    from core.profile import profile_project
    try:
        prof = profile_project(p, batch=batch, device=device or p.training.get("device", "auto"))
    except SettingsError as e:
        fail(str(e), 2)
    except BuildError as e:
        fail(f"the network cannot be built: {e}", 1)
    for line in profile_lines(p, prof):
        click.echo(line)
    over = over_budget(project_cost(p), budget_of(p.training), latency_ms=prof.batch1_ms)
    for ex in over:
        click.echo(click.style(f"over budget: {ex.text}", fg="red"))
    raise SystemExit(1 if over else 0)
