"""``layerwise train PROJECT``: train on the project's dataset, save the weights beside it, export, test.

Exit codes: 0 trained; 1 the graph has problems or training failed (NaN loss, out of memory); 2 bad input (file,
setting, dataset); 130 stopped with Ctrl+C (the weights trained so far are kept and saved).
"""
from __future__ import annotations

import math
import signal
import sys
import threading
import time

import click

from core.errors import BuildError, DataError, LayerwiseError, SettingsError
from core.node_settings import PRETRAINED, is_frozen
from core.training import TrainState   # no Keras import at module level
from core.validate import MAX_BATCH_SIZE, MAX_EPOCHS

from .common import TRUST_HELP, fail, load, quiet_tf
from . import train_distributed as distributed
from .record_run import RECORD_HELP, RUN_WEIGHTS_HELP, finish_recording, guarded, start_recording


def _fmt(v):
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.4f}"
    return str(v)


def _duration(s):
    if s is None or not math.isfinite(s):
        return "?"
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _rate(v):
    return f"{v:.0f}" if isinstance(v, (int, float)) and math.isfinite(v) else "?"


def metrics_text(logs, skip=("lr", "time_s", "learning_rate")):
    """'loss 0.1234  accuracy 0.9650  val_loss ...': training values first, then validation."""
    keys = [k for k in logs if k not in skip]
    train = sorted((k for k in keys if not k.startswith("val_")), key=lambda k: (k != "loss", k))
    val = sorted((k for k in keys if k.startswith("val_")), key=lambda k: (k != "val_loss", k))
    return "  ".join(f"{k} {_fmt(logs[k])}" for k in train + val)


class CliState(TrainState):
    """Prints the run: device and sizes, a throttled progress bar on stderr, one line per epoch on stdout."""

    BAR = 24

    def __init__(self, epochs, out=None, err=None, bar=None):
        super().__init__()
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.epochs = epochs
        self.bar = self.err.isatty() if bar is None else bar
        self.bar_shown = False
        self.last_line = 0.0
        self.info = {}

    def _echo(self, text, err=False):
        f = self.err if err else self.out
        f.write(text + "\n")
        f.flush()

    def _clear_bar(self):
        if self.bar_shown:
            self.err.write("\r\x1b[2K")
            self.err.flush()
            self.bar_shown = False

    def on_start(self, info):
        self.info = info
        self.last_line = time.monotonic()
        for w in info.get("warnings", []):
            self._echo(f"warning: {w}", err=True)
        steps = info.get("steps_per_epoch")
        parts = [f"{info.get('samples', '?')} training samples"]
        if steps:
            parts.append(f"{steps} batches of {info.get('batch_size')}")
        if info.get("validation_samples"):
            parts.append(f"{info['validation_samples']} validation")
        if info.get("test_samples"):
            parts.append(f"{info['test_samples']} test")
        mp = ", mixed precision" if info.get("mixed_precision") else ""
        self._echo(f"device: {info.get('device')}{mp}")
        self._echo(f"training {self.epochs - info.get('initial_epoch', 0)} epoch(s): {', '.join(parts)}")

    def on_batch(self, epoch, step, logs, info):
        now = time.monotonic()
        steps = info.get("steps") or self.info.get("steps_per_epoch") or 0
        if self.bar:
            done = (step + 1) / steps if steps else 0
            fill = int(self.BAR * done)
            bar = "█" * fill + "·" * (self.BAR - fill)
            loss = logs.get("loss", float("nan"))
            extra = "".join(f"  {k} {_fmt(v)}" for k, v in logs.items() if k != "loss")
            self.err.write(f"\r\x1b[2Kepoch {epoch + 1}/{self.epochs} {bar} {step + 1}/{steps}  loss {_fmt(loss)}"
                           f"{extra}  {_rate(info.get('samples_per_s'))} samples/s  ETA {_duration(info.get('eta_s', 0))}")
            self.err.flush()
            self.bar_shown = True
        elif now - self.last_line >= 10.0 and step + 1 < steps:
            # not a terminal: a plain progress line at most every 10 s
            self.last_line = now
            self._echo(f"  epoch {epoch + 1}/{self.epochs} batch {step + 1}/{steps}  loss {_fmt(logs.get('loss', float('nan')))}"
                       f"  ETA {_duration(info.get('eta_s', 0))}", err=True)

    def on_epoch(self, epoch, logs):
        self._clear_bar()
        self.last_line = time.monotonic()
        self._echo(f"epoch {epoch + 1}/{self.epochs}  {metrics_text(logs)}  lr {_fmt(logs.get('lr', float('nan')))}"
                   f"  {logs.get('time_s', 0):.1f}s")

    def on_features(self, epoch, step, features):
        pass

    def on_error(self, error):
        self._clear_bar()

    def on_end(self, result):
        self._clear_bar()


@click.command("train")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--epochs", type=int, default=None, help="number of epochs (default: the project's setting)")
@click.option("--batch-size", type=int, default=None, help="samples per batch (default: the project's setting)")
@click.option("--device", default=None,
              help="auto (a GPU where there is one), cpu, gpu, gpu:N, or all (every local GPU, data-parallel; the "
                   "batch size is split between them); --list-devices shows them")
@click.option("--backend", default=None,
              help="Keras backend: tensorflow (default), jax or torch (the [jax] / [torch] extra); JAX and PyTorch "
                   "train in a child process")
@click.option("--mixed-precision", is_flag=True, default=None, help="float16 compute on a GPU (ignored on the CPU)")
@click.option("--seed", type=int, default=None, help="random seed (default: the project's setting)")
@click.option("--keep-weights", is_flag=True, help="start from the weights saved with the project instead of fresh ones")
@click.option("--fresh-weights", is_flag=True,
              help="ignore the weights saved with the project, even for frozen and pretrained layers (e.g. when "
                   "the weights file is damaged)")
@click.option("--tensorboard", "tensorboard", type=click.Path(file_okay=False), default=None,
              help="also write TensorBoard logs to this folder")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="export the trained model: MODEL.h5, MODEL.keras or MODEL.py")
@click.option("--no-save", is_flag=True, help="do not save the trained weights beside the project")
@distributed.options
@click.option("--trust", is_flag=True, help=TRUST_HELP)
@click.option("--no-record", is_flag=True, help=RECORD_HELP)
@click.option("--run-weights", is_flag=True, help=RUN_WEIGHTS_HELP)
@click.option("--telemetry", "telemetry", type=click.Path(dir_okay=False), default=None,
              help="write per-layer gradient statistics to FILE.jsonl (one JSON object per probe) and print the "
                   "problems they show")
def train(project, epochs, batch_size, device, mixed_precision, seed, keep_weights, tensorboard, out, no_save,
          trust=False, fresh_weights=False, no_record=False, run_weights=False, telemetry=None, backend=None):
    """Train PROJECT's network on its dataset; save the weights beside it (PROJECT.weights.h5)."""
    _check_options(out, fresh_weights, keep_weights, epochs, batch_size)
    distributed.start_worker()   # --workers / TF_CONFIG: the training runs in a child process; exits
    quiet_tf()
    p = load(project, trust, load_weights=not fresh_weights)   # trust: for this run only
    from core.training import TrainConfig
    try:
        cfg = TrainConfig.from_project(p, epochs=epochs, batch_size=batch_size, device=device,
                                       mixed_precision=mixed_precision, seed=seed, keep_weights=keep_weights or None,
                                       tensorboard_dir=tensorboard, report_interval=0.1, backend=backend)
        from core.training.backends import check
        cfg.backend = check(cfg.backend)   # installed (else: which extra to install)
    except SettingsError as e:
        fail(_flagged(str(e)))
    _check_start_weights(p, cfg.keep_weights)
    dist = distributed.prepare(project, p, cfg)   # --workers / TF_CONFIG (a worker process), --resume, checkpoints
    state = CliState(cfg.epochs)
    if telemetry is not None:
        from .telemetry_out import attach_telemetry
        attach_telemetry(telemetry, p, cfg)
    if p.has_weights() and not cfg.keep_weights:
        click.echo("note: training starts from fresh weights (frozen layers keep theirs); the weights saved with "
                   "the project are replaced at the end. Use --keep-weights to continue from them.", err=True)
    recorder = start_recording(project, p, cfg, enabled=not no_record)
    result = _run_with_ctrl_c(project, p, cfg, state, recorder)
    finish_recording(recorder, result, keep_weights=run_weights)
    if result.error is not None:
        err = result.error
        click.echo(f"error: {err}", err=True)
        dist.explain_error(err)
        click.echo("the project's saved weights are unchanged", err=True)
        sys.exit(2 if err.kind == "data" else 1)
    _say_how_it_ended(result, cfg)
    if not no_save:
        _save_weights(p)
    dist.finish(result, saved=not no_save)
    if out is not None:
        _export_trained(p, out, result)
    click.echo(f"trained {result.epochs_done} epoch(s) in {_duration(result.seconds)} on {result.device}")
    if result.stopped:
        sys.exit(130)


def _check_options(out, fresh_weights, keep_weights, epochs, batch_size):
    from pathlib import Path
    if out is not None and Path(out).suffix.lower() not in (".h5", ".keras", ".py"):
        fail(f"--out {out}: unknown export format {Path(out).suffix or '(no extension)'!r}; use .h5, .keras or .py")
    if fresh_weights and keep_weights:
        fail("--fresh-weights and --keep-weights: choose one")
    for flag, v, most in (("--epochs", epochs, MAX_EPOCHS), ("--batch-size", batch_size, MAX_BATCH_SIZE)):
        if v is not None and v > most:   # (too small: TrainConfig says so)
            fail(f"{flag}: {flag[2:].replace('-', ' ')} must be at most {most:,}, got {v:,}")


def _run_with_ctrl_c(project, p, cfg, state, recorder=None):
    """The run; Ctrl+C stops at the end of the current batch and keeps the weights, a second Ctrl+C quits at once."""
    from core.training.worker_client import run_with_backend
    previous = None
    interrupted = {"n": 0}

    def on_sigint(signum, frame):
        interrupted["n"] += 1
        if interrupted["n"] > 1:
            raise KeyboardInterrupt
        state.request_stop()
        state._clear_bar()
        click.echo("stopping at the end of this batch (Ctrl+C again to quit at once)…", err=True)

    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with guarded(recorder):
            return run_with_backend(p, cfg, state)   # in a child process for JAX / PyTorch
    except BuildError as e:
        click.echo(f"error: cannot train {project}: {e}", err=True)
        sys.exit(1)
    except (DataError, SettingsError) as e:
        fail(_flagged(str(e)))
    except LayerwiseError as e:
        fail(str(e))
    except KeyboardInterrupt:
        click.echo("interrupted: nothing saved", err=True)
        sys.exit(130)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _say_how_it_ended(result, cfg):
    if result.stopped:
        ep, st = result.stopped_at or (result.epochs_done, -1)
        where = f"epoch {ep + 1}, batch {st + 1}" if st is not None and st >= 0 else f"epoch {ep + 1}"
        click.echo(f"stopped at {where}: the weights trained so far are kept", err=True)
    if result.early_stopped:
        es = cfg.early_stopping or {}
        best = " (the best epoch's weights restored)" if es.get("restore_best_weights", True) else ""
        click.echo(f"early stopping after epoch {result.epochs_done}: {es.get('monitor', 'val_loss')} did not improve "
                   f"for {max(int(es.get('patience', 5)), 1)} epoch(s){best}")
    if result.test_metrics:
        click.echo(f"test: {metrics_text(result.test_metrics)}")


def _save_weights(p):
    from core.project import weights_path_for, write_weights_file
    wp = weights_path_for(p.path)
    try:
        write_weights_file(p.graph, wp)   # the sidecar only: the project file itself is left as it is
    except OSError as e:
        fail(f"{wp}: cannot write the trained weights ({e.strerror or e})")
    click.echo(f"saved trained weights to {wp}")


def _export_trained(p, out, result):
    from core.export import export
    try:
        path = export(p, out, build=result.build)
    except LayerwiseError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{out}: cannot write ({e.strerror or e})")
    click.echo(f"wrote {path}")


def _check_start_weights(p, keep_weights):
    """Refuse (exit 2) to start from saved weights that cannot be read or do not fit their layers: with
    --keep-weights every layer starts from them, else frozen and pretrained layers do."""
    used = [n for n in p.graph.nodes.values()
            if keep_weights or is_frozen(n) or n.settings.get(PRETRAINED)]
    hint = "--fresh-weights trains from fresh weights instead"
    if p.weights_error:
        if used:
            fail(f"{p.weights_error}; training would start from these weights ({hint})")
        click.echo(f"warning: {p.weights_error}: the weights were not loaded; training starts from fresh weights",
                   err=True)
        return
    ids = {n.id for n in used if n.weights is not None}
    if ids:
        from core.infer import check, weights_problems
        bad = [w for w in weights_problems(p.graph, check(p.graph, p.regularization)) if w.node_id in ids]
        if bad:
            fail(f"{p.weights_path}: {bad[0]}; training would start from these weights ({hint})")


def _flagged(msg):
    """Name the command-line option where the message is about one."""
    for setting, flag in (("epochs ", "--epochs"), ("batch size ", "--batch-size"), ("device ", "--device"),
                          ("seed ", "--seed"), ("backend ", "--backend")):
        if msg.startswith(setting):
            return f"{flag}: {msg}"
    return msg
