"""The deployment targets of ``layerwise export``: ``F.onnx``, ``F.tflite`` (``--quantize dynamic|int8``),
``--format savedmodel`` (a folder) and ``--keras2`` (an ``.h5`` for tf_keras), each with its parity report.

Exit codes: 0 written and checked; 1 the graph cannot be built, a layer the target cannot express, or the target's
outputs differ from Keras beyond the tolerance (nothing written); 2 bad input (a missing extra, int8 without data,
a read-only folder...)."""
from __future__ import annotations

import click

from core.errors import BuildError

from .common import export_failures, fail

KERAS_FORMATS = (".h5", ".keras", ".py")


def target_or_fail(out, fmt, keras2, quantize):
    """The deployment target the options ask for (None: a Keras format), or ``fail()`` with the reason."""
    import os
    from core.deploy import DeployError, target_of
    try:
        target = target_of(out, fmt, keras2, quantize)
    except DeployError as e:
        fail(str(e))
    ext = os.path.splitext(out)[1].lower()
    if target is None and ext not in KERAS_FORMATS:
        fail(f"{os.path.basename(out)}: unknown export format {ext or '(no extension)'!r}; use .h5, .keras, .py, "
             ".onnx, .tflite, --format savedmodel (a folder) or --keras2 (.h5)")
    return target


def export_to_target(p, project, out, target, quantize, no_weights):
    """Build, convert, write and check; print the parity report. Exits on every failure."""
    from core.build import build_model
    from core.deploy import ParityError, UnsupportedLayer, export_target
    from core.deploy.export import check_request
    with export_failures(p, project, out, cannot_export=(BuildError, UnsupportedLayer, ParityError)):
        check_request(out, target, quantize)   # a DeployError (bad request) is LayerwiseError: exit 2
        if p.weights_error and not no_weights:
            fail(f"{p.weights_error}; nothing exported (--no-weights exports the model with fresh weights)")
        strict = p.has_weights() and not no_weights
        build = build_model(p, with_weights=not no_weights, strict_weights=strict)
        report = export_target(p, build, out, target, quantize, log=click.echo)
    click.echo(f"wrote {out}")
    for line in report.lines():
        click.echo(line)
