"""``layerwise runs PROJECT``: the runs recorded for a project (``PROJECT.runs.sqlite``).

    layerwise runs net.layerwise                  a table: id, name, status, when, duration, final metrics, and
                                                  the settings that differ between the runs
    layerwise runs net.layerwise --json           a JSON list of run objects
    layerwise runs net.layerwise --diff 3 7       what differs between runs 3 and 7, one line per setting or node
    layerwise runs net.layerwise --export-csv F   one row per run: its values, final metrics and differing settings

Exit codes: 0 ok; 2 bad input (no such project or run, a runs database that is damaged or from a newer Layerwise).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import click

from core.errors import RunsError, short

from .common import fail

MAX_DIFF_COLUMNS = 4   # differing settings shown in the table (all of them are in --json and --export-csv)


@click.command("runs")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print the runs as a JSON list of objects")
@click.option("--diff", "diff", nargs=2, type=int, default=None, metavar="A B",
              help="print what differs between runs A and B (settings and graph nodes), one line each")
@click.option("--export-csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="write the runs to this CSV file")
def runs_cmd(project, as_json, diff, csv_path):
    """List the training runs recorded for PROJECT, compare two, or export them."""
    from core.experiments.runs import SUFFIX, RunStore, runs_path
    path = Path(project) if str(project).endswith(SUFFIX) else runs_path(project)
    if not Path(project).exists():
        fail(f"{project}: no such project file")
    if not path.exists():
        if diff:
            fail(f"{path}: no runs recorded for {project} yet")
        return _empty(project, as_json, csv_path)
    try:
        with RunStore(path) as store:
            if diff:
                return _print_diff(store, *diff)
            runs = store.list()
    except RunsError as e:
        fail(str(e))
    if csv_path is not None:
        _write_csv(runs, csv_path)
    if as_json:
        click.echo(json.dumps([_public(r) for r in runs], indent=1, allow_nan=False))
    elif csv_path is None:
        _print_table(runs)


def _empty(project, as_json, csv_path):
    if csv_path is not None:
        _write_csv([], csv_path)
    if as_json:
        click.echo("[]")
    elif csv_path is None:
        click.echo(f"no runs recorded for {project} yet (every layerwise train records one)")


def _public(run):
    """A run as ``--json`` gives it (the bookkeeping columns left out)."""
    return {k: v for k, v in run.items() if k not in ("host", "pid", "extra")}


def _print_diff(store, a, b):
    lines = store.diff(a, b)
    if not lines:
        click.echo(f"runs {a} and {b} have the same graph and settings")
    for line in lines:
        click.echo(line)


def _fmt(v):
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _duration(s):
    if not isinstance(s, (int, float)):
        return "-"
    s = int(round(s))
    return f"{s}s" if s < 60 else f"{s // 60}m{s % 60:02d}s" if s < 3600 else f"{s // 3600}h{s % 3600 // 60:02d}m"


def _print_table(runs):
    from core.experiments.table import differing, metric_names, setting_value
    if not runs:
        click.echo("no runs recorded yet")
        return
    paths = differing(runs)
    shown = paths[:MAX_DIFF_COLUMNS]
    metrics = metric_names(runs)
    head = ["id", "name", "status", "started", "time"] + [p.rsplit(".", 1)[-1] for p in shown] + metrics
    rows = [[str(r["id"]), short(r["name"] or "", 24).strip("'"), r["status"], (r["started"] or "")[:16],
             _duration(r["seconds"])] + [_fmt(setting_value(r, p)) for p in shown]
            + [_fmt(r["metrics"].get(m)) for m in metrics] for r in runs]
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    for row in [head] + rows:
        click.echo("  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip())
    if len(paths) > len(shown):
        click.echo(f"({len(paths) - len(shown)} more differing setting(s) in --json and --export-csv)")


def _write_csv(runs, csv_path):
    from core.experiments.table import csv_text
    from core.atomic import replacing
    try:
        with replacing(csv_path) as tmp:
            Path(tmp).write_text(csv_text(runs), encoding="utf-8")
    except OSError as e:
        fail(f"{csv_path}: cannot write ({e.strerror or e})")
    click.echo(f"wrote {len(runs)} run(s) to {csv_path}", err=True)
