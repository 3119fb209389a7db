"""``layerwise check PROJECT``: every node's output shape and parameter count, the totals, and any problems.

Exit codes: 0 no problems; 1 the graph has problems (listed); 2 the file is not a usable project.
"""
from __future__ import annotations

import sys

import click

from .common import CUSTOM_CODE_HELP, TRUST_HELP, fail, load, quiet_tf


@click.command("check")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--trust", is_flag=True, help=TRUST_HELP)
@click.option("--cost", is_flag=True, help="print every node's MACs, parameters and memory, and the totals")
@click.option("--json", "as_json", is_flag=True, help="with --cost: one JSON object (nodes, total)")
@click.option("--custom-code", "custom_code", metavar="MODULE_OR_FILE", help=CUSTOM_CODE_HELP)
def check(project, trust, cost=False, as_json=False, custom_code=None):
    """Print every node's output shape and parameter count, then the totals and any problems."""
    if as_json and not cost:
        fail("--json goes with --cost (layerwise check PROJECT --cost --json)")
    quiet_tf()
    p = load(project, trust, custom_code=custom_code)
    from core.infer import check as run_check, weights_problems
    from .report import summary_lines
    if p.weights_error:   # the network is still checked; export and train refuse these weights
        click.echo(f"warning: {p.weights_error}: the weights were not loaded", err=True)
    res = run_check(p.graph, p.regularization)
    for w in weights_problems(p.graph, res):
        click.echo(f"warning: {p.weights_path}: {w}", err=True)
    if cost:   # the cost table (or JSON) instead of the shape summary; over budget exits 1
        from .cost import show_cost
        within = show_cost(p, res, as_json)
        if as_json or not res.problems:
            sys.exit(0 if within and not res.problems else 1)
    else:
        for line in summary_lines(p, res):
            click.echo(line)
    if res.problems:
        click.echo("")
        click.echo(f"{len(res.problems)} problem(s):")
        for prob in res.problems:
            click.echo(f"  {prob}")
        sys.exit(1)
