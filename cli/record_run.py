"""Recording a ``layerwise train`` as a run in the project's runs database (``<project>.runs.sqlite``); see
``core.experiments``. A database that cannot be opened (damaged, from a newer Layerwise) is bad input: one line
naming it, exit 2, before anything trains."""
from __future__ import annotations

import contextlib

import click

from core.errors import RunsError

from .common import fail

RECORD_HELP = "do not record this training in the project's runs database (PROJECT.runs.sqlite)"
RUN_WEIGHTS_HELP = "keep this run's trained weights with its record (PROJECT.runs/run-ID.weights.h5)"


def start_recording(project_file, project, cfg, enabled=True):
    """A RunRecorder whose callback is added to ``cfg``, or None when recording is off."""
    if not enabled:
        return None
    from core.experiments.record import RunRecorder
    try:
        rec = RunRecorder(project_file, project, cfg, lazy=True)
    except RunsError as e:
        fail(f"{e}; or train with --no-record")
    cfg.extra_callbacks = [*(cfg.extra_callbacks or ()), rec.callback]
    return rec


@contextlib.contextmanager
def guarded(rec):
    """Around the training: an exception that ends it (bad data, a graph that does not build, a second Ctrl+C)
    is recorded as the run's end, then goes on."""
    if rec is None:
        yield
        return
    try:
        yield
    except KeyboardInterrupt as e:
        _quietly(rec.fail, e, status="stopped")
        raise
    except BaseException as e:
        _quietly(rec.fail, e)
        raise


def finish_recording(rec, result, keep_weights=False):
    """Record how ``result`` ended; say where, and whether recording broke off."""
    if rec is None:
        return
    if rec.run_id is None:
        if rec.broken:      # the database could not be created (a read-only folder): trained, unrecorded
            click.echo(f"warning: the run was not recorded: {rec.broken}", err=True)
        return
    try:
        try:
            status = rec.finish(result, keep_weights=keep_weights)
        except OSError as e:
            click.echo(f"warning: the run's weights were not kept: {e.strerror or e}", err=True)
            status = rec.finish(result)
    except RunsError as e:
        click.echo(f"warning: the run was not recorded: {e}", err=True)
        return
    if rec.broken:
        click.echo(f"warning: the run's curves were recorded only in part: {rec.broken}", err=True)
    click.echo(f"recorded run {rec.run_id} ({status}) in {rec.store.path}", err=True)


def _quietly(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except RunsError:
        pass
