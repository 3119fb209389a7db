"""``layerwise train`` past one device and one run: ``--workers HOST:PORT,... --rank I`` (or ``TF_CONFIG``) trains
one model across machines, ``--resume`` continues from the checkpoint every run writes, ``--no-checkpoint`` turns
the checkpoint off. ``--device all`` is a device setting (core.training.distribute).

The options do not appear in ``train``'s signature: they are kept in the click context (``options``) and read by
``prepare``, which the command calls once the project and its settings are loaded.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from core.errors import SettingsError

from .common import fail

KEY = "layerwise.distributed"
# options a worker other than 0 does not pass on to its child (it writes nothing)
CHIEF_ONLY = ("out", "tensorboard", "telemetry")
QUIET_FLAGS = ("--no-save", "--no-record")


def _keep(ctx, param, value):
    ctx.meta.setdefault(KEY, {})[param.name] = value
    return value


def _list_devices(ctx, param, value):
    if not value or ctx.resilient_parsing:
        return
    from core.training.devices import device_line, list_devices
    from .common import quiet_tf
    quiet_tf()
    for d in list_devices():
        click.echo(device_line(d))
    ctx.exit(0)


_OPTIONS = (
    click.option("--list-devices", is_flag=True, is_eager=True, expose_value=False, callback=_list_devices,
                 help="list this machine's devices (name, memory, why one cannot be used) and exit"),
    click.option("--workers", default=None, expose_value=False, callback=_keep,
                 help="train one model across machines: every worker's HOST:PORT, comma-separated, the same list "
                      "on every machine (also read from TF_CONFIG)"),
    click.option("--rank", type=int, default=None, expose_value=False, callback=_keep,
                 help="with --workers: this machine's index in the list (0 writes the result)"),
    click.option("--worker-timeout", type=float, default=None, expose_value=False, callback=_keep,
                 help="with --workers: seconds the other workers have to come up (default 120)"),
    click.option("--resume", is_flag=True, default=False, expose_value=False, callback=_keep,
                 help="continue from the checkpoint beside the project (PROJECT.checkpoint.npz) after a crash, "
                      "kill or lost worker"),
    click.option("--no-checkpoint", is_flag=True, default=False, expose_value=False, callback=_keep,
                 help="do not write PROJECT.checkpoint.npz after every epoch"),
)


def options(command):
    """The decorator that adds the options above to ``train``."""
    for opt in reversed(_OPTIONS):
        command = opt(command)
    return command


@dataclass
class Distributed:
    chief: bool = True          # this process writes the result (worker 0, or not multi-worker)
    checkpoint: object = None   # the checkpoint file's Path, or None
    resumed_from: int = 0       # the epoch the checkpoint had done (0: a fresh run)

    def finish(self, result, saved):
        """After a run that ended well: each worker of a multi-worker run says the digest of its final weights
        (the same on every worker: they trained one model); a run that saves nothing (--no-save) leaves no
        checkpoint either."""
        from core.training.distribute import cluster, weights_digest
        joined = cluster()
        if joined is not None and result.build is not None:
            click.echo(f"worker {joined[1]} of {joined[2]}: final weights digest {weights_digest(result.build.model)}"
                       f" (the same on every worker)")
        if self.checkpoint is None or not self.chief or result.error is not None or result.stopped or saved:
            return
        try:
            self.checkpoint.unlink()
        except OSError:
            pass

    def explain_error(self, err):
        """After a failed run: where it can continue from (a lost worker: every worker again, with --resume)."""
        from core.training.distribute import cluster
        multi = cluster() is not None
        if multi and any(w in str(err) for w in ("unhealthy", "Unavailable", "heartbeat", "Socket closed")):
            click.echo("a worker was lost (it stopped answering); the others stopped too", err=True)
        if multi:
            click.echo(f"the run can continue from its last checkpoint: start every worker again with --resume "
                       f"(each reads {self.checkpoint.name if self.checkpoint else 'PROJECT.checkpoint.npz'} beside "
                       f"its project: a shared folder, or a copy of worker 0's)", err=True)
        elif self.checkpoint is not None and self.checkpoint.exists():
            click.echo(f"the run can continue from its last checkpoint: run the same command with --resume "
                       f"({self.checkpoint})", err=True)


def start_worker():
    """Multi-worker (--workers/--rank or TF_CONFIG), in the first process: check the addresses, start the worker's
    child (which loads the project and trains) and exit with its status. Called before anything imports
    TensorFlow; nothing happens for a one-process run or in the child."""
    from core.training import distribute, multiworker
    if multiworker.is_worker_child():
        return
    ctx = click.get_current_context()
    o = ctx.meta.get(KEY, {})
    try:
        cluster = _cluster_request(o, multiworker, distribute)
    except SettingsError as e:
        fail(str(e))
    if cluster is not None:
        _run_worker_child(ctx, o, cluster, multiworker)   # exits


def prepare(project_path, p, cfg) -> Distributed:
    """Check --resume and the checkpoint; a worker's child joins its cluster here (blocks until every worker is
    up). Adds the checkpoint to ``cfg``."""
    from core.training import checkpoint, distribute, multiworker
    ctx = click.get_current_context()
    o = ctx.meta.get(KEY, {})
    backend = getattr(cfg, "backend", None) or "tensorflow"
    if backend != "tensorflow" and (o.get("workers") or o.get("rank") is not None):
        fail(f"--workers: only with the TensorFlow backend (this run: --backend {backend})")
    try:
        cluster = _cluster_request(o, multiworker, distribute) if backend == "tensorflow" else None
        path = checkpoint.checkpoint_path_for(p.path or project_path)
        resume = _resume(o, path, p, cfg, checkpoint) if o.get("resume") else None
    except SettingsError as e:
        fail(str(e))
    if cluster is not None:
        distribute.join_cluster(*cluster)
        multiworker.signal_ready()
    chief = distribute.is_chief()
    d = Distributed(chief=chief, checkpoint=None if o.get("no_checkpoint") else path,
                    resumed_from=resume.epoch if resume else 0)
    if resume is not None or d.checkpoint is not None:
        make = checkpoint.checkpoint_callback(path, p, cfg, resume=resume, write=chief and d.checkpoint is not None)
        cfg.extra_callbacks = list(cfg.extra_callbacks or ()) + [make]
    return d


def _cluster_request(o, multiworker, distribute):
    """(workers, rank) from --workers/--rank or TF_CONFIG, checked; None for a one-process run."""
    if o.get("workers") is not None:
        workers = multiworker.parse_workers(o["workers"])
        multiworker.check_rank(o.get("rank"), workers)
        rank = int(o["rank"])
    elif o.get("rank") is not None:
        raise SettingsError("--rank: only with --workers (or a TF_CONFIG environment variable)")
    else:
        found = distribute.read_tf_config()
        if found is None:
            return None
        workers, rank = found
    if not multiworker.is_worker_child():
        multiworker.check_own_address(workers[rank], rank)
    return workers, rank


def _resume(o, path, p, cfg, checkpoint):
    ckpt = checkpoint.load(path)
    checkpoint.check_fits(ckpt, p.graph, path)
    if ckpt.epoch >= cfg.epochs:
        raise SettingsError(f"--resume: {path} has {ckpt.epoch} of {cfg.epochs} epochs done already; ask for more "
                            f"with --epochs")
    cfg.initial_epoch = ckpt.epoch
    click.echo(f"resuming from {path}: {ckpt.epoch} epoch(s) done, {cfg.epochs - ckpt.epoch} to go", err=True)
    return ckpt


def _run_worker_child(ctx, o, cluster, multiworker):
    workers, rank = cluster
    others = ", ".join(w for i, w in enumerate(workers) if i != rank)
    click.echo(f"worker {rank} of {len(workers)} ({workers[rank]}): waiting for the other workers ({others})",
               err=True)
    timeout = o.get("worker_timeout") or multiworker.DEFAULT_TIMEOUT
    cmd = [sys.executable, "-m", "cli"] + child_argv(ctx, chief=rank == 0)
    try:
        code = multiworker.launch(cmd, timeout=timeout, others=f"the other worker(s) ({others})")
    except SettingsError as e:
        fail(str(e))
    sys.exit(code)


def child_argv(ctx, chief=True):
    """The command line of ``ctx``'s command again (``train PROJECT --epochs 8 ...``); a worker other than 0
    writes nothing (no --out / --tensorboard / --telemetry, --no-save, --no-record)."""
    meta = ctx.meta.get(KEY, {})
    args = [ctx.info_name]
    flags = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name) if param.expose_value else meta.get(param.name)
        if isinstance(param, click.Argument):
            args.append(str(value))
            continue
        if value is None or value is False or (not chief and param.name in CHIEF_ONLY):
            continue
        if getattr(param, "is_flag", False):
            flags.append(param.opts[0])
        elif value != param.default:
            flags += [param.opts[0], str(value)]
    if not chief:
        known = {o for prm in ctx.command.params for o in getattr(prm, "opts", ())}
        flags += [f for f in QUIET_FLAGS if f in known and f not in flags]
    return args + flags
