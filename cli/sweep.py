"""``layerwise sweep PROJECT --trials N [--dim PATH=SPEC ...]``: a hyperparameter sweep, headless.

One line per ended trial (``--json``: one JSON object per line with ``trial``, ``params``, ``value``, ``status``),
then the best (``{"best": {...}}``). ``--trials N`` is the number of finished trials the study ends with, counting
those of earlier runs of the same study (a sweep killed and started again continues it). Exit codes: 0 the study
has N finished trials; 1 it stopped before (time budget, workers dying); 2 bad input; 130 Ctrl+C.
"""
from __future__ import annotations

import json
import math
import signal
import sys
import threading

import click

from core.errors import LayerwiseError, ProjectError

from .common import fail


def _value(v):
    if isinstance(v, float) and math.isfinite(v):
        return f"{v:.6g}"
    return str(v)


def _line(row):
    params = "  ".join(f"{k}={_value(v)}" for k, v in row.get("params", {}).items())
    value = _value(row["value"]) if row.get("value") is not None else "-"
    extra = f"  ({row['message']})" if row.get("message") and row.get("status") != "finished" else ""
    secs = f"  {row['seconds']:.1f}s" if isinstance(row.get("seconds"), (int, float)) else ""
    return f"trial {row.get('trial')}  {row.get('status')}  value {value}  {params}{secs}{extra}"


class Printer:
    """Prints the sweep's events: ended trials on stdout, the rest on stderr."""

    def __init__(self, as_json):
        self.as_json = as_json
        self.lock = threading.Lock()

    def __call__(self, ev):
        kind = ev.get("event")
        with self.lock:
            if kind == "ended":
                row = {k: v for k, v in ev.items() if k != "event"}
                click.echo(json.dumps(row) if self.as_json else _line(row))
            elif kind == "worker_died":
                click.echo(f"warning: {ev.get('message')}; trial {ev.get('trial')} is failed and its values "
                           f"retried", err=True)
            elif kind == "timeout":
                click.echo(f"time budget of {ev.get('seconds')} s reached: no new trials", err=True)
            elif kind == "exit" and ev.get("reason") == "error":
                click.echo(f"error: {ev.get('message')}", err=True)


@click.command("sweep")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--trials", type=int, default=None, help="finished trials the study ends with (default: the "
              "project's sweep section, else 20)")
@click.option("--dim", "dims", multiple=True, metavar="PATH=SPEC",
              help="a dimension: NODE.PARAM or a settings path (compile.optimizer.learning_rate, "
                   "training.batch_size, regularization.dropout) = LOW:HIGH, LOW:HIGH:log, a,b,c, a value, or "
                   "NODE=optional")
@click.option("--epochs", type=int, default=None, help="epochs per trial (default: the project's setting)")
@click.option("--workers", type=int, default=None, help="worker processes on this machine (default 1)")
@click.option("--timeout", type=float, default=None, help="time budget in seconds: no new trial after it")
@click.option("--storage", default=None, help="database URL of the study (default: PROJECT.sweeps.sqlite "
              "beside the project); postgresql://user@host/db lets workers on other machines join")
@click.option("--study", default=None, help="study name (default: PROJECT-NAME-sweep)")
@click.option("--objective", default=None, metavar="METRIC[:min|max]",
              help="the logged metric to optimise (default: val_loss)")
@click.option("--second", default=None, metavar="params|samples_per_s[:min|max]",
              help="a second objective (NSGA-II; the best is the Pareto front)")
@click.option("--no-pruning", is_flag=True, help="train every trial to its last epoch")
@click.option("--pruner", type=click.Choice(["median", "hyperband"]), default=None,
              help="how bad trials are stopped early (default: median of earlier trials at the same epoch)")
@click.option("--seed", type=int, default=None, help="seed of the sampler (default: random)")
@click.option("--device", default=None, help="auto, cpu, gpu or gpu:N for every trial")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def sweep_cmd(project, trials, dims, epochs, workers, timeout, storage, study, objective, second, no_pruning, seed,
              device, as_json, pruner=None):
    """Sweep PROJECT's search space with Optuna; every trial is also a run (layerwise runs PROJECT)."""
    from core.experiments.sweep import Sweep, prepare
    try:
        spec = prepare(project, dims, trials=trials, workers=workers, epochs=epochs, timeout=timeout,
                       storage=storage, study=study, objective=objective, second=second,
                       pruning=False if no_pruning else None, seed=seed, device=device, pruner=pruner)
    except (ProjectError, LayerwiseError) as e:
        fail(str(e))
    click.echo(f"study {spec['study']}: {spec['trials']} finished trials wanted, {spec['workers']} worker(s), "
               f"objective {spec['objective']['metric']} ({spec['objective']['direction']})", err=True)
    sw = Sweep(spec, on_event=Printer(as_json))
    summary = _run(sw)
    _print_best(summary, as_json)
    if summary["error"]:
        fail(summary["error"], 1)
    if summary["finished"] < summary["trials"]:
        click.echo(f"the study has {summary['finished']} of {summary['trials']} finished trials; run the same "
                   f"command again to continue it", err=True)
        sys.exit(1)


def _run(sw):
    previous = None

    def on_sigint(signum, frame):
        click.echo("stopping: the running trials are failed and retried when the sweep starts again", err=True)
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return sw.run()
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _print_best(summary, as_json):
    best = summary["best"]
    if not best:
        click.echo(json.dumps({"best": None}) if as_json else "no finished trial")
        return
    if as_json:
        out = {"best": best[0]}
        if len(best) > 1 or "values" in best[0]:
            out["pareto"] = best
        click.echo(json.dumps(out))
        return
    click.echo("best: " + _line(best[0]))
    for row in best[1:]:
        click.echo("pareto: " + _line(row))
