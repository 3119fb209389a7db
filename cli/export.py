"""``layerwise export PROJECT --out FILE``: the model as .h5 (Keras HDF5), .keras, or a standalone .py script;
.onnx, .tflite, ``--format savedmodel`` and ``--keras2`` are in export_targets.py.

Exit codes: 0 written; 1 the graph cannot be built; 2 bad input (file, weights that do not fit, unwritable out).
"""
from __future__ import annotations

import os

import click

from .common import CUSTOM_CODE_HELP, TRUST_HELP, export_failures, fail, load, quiet_tf
from .export_targets import export_to_target, target_or_fail


@click.command("export")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(),
              help="FILE.h5, FILE.keras, FILE.py, FILE.onnx, FILE.tflite, or a folder with --format savedmodel")
@click.option("--format", "fmt", type=click.Choice(["savedmodel"]), help="savedmodel: a SavedModel folder (TF Serving)")
@click.option("--quantize", type=click.Choice(["dynamic", "int8"]), help="a quantized .tflite (int8 calibrates on the training data)")
@click.option("--keras2", is_flag=True, help="an .h5 that Keras 2 (tf_keras) loads")
@click.option("--no-weights", is_flag=True, help="export fresh (untrained) weights even when the project has weights")
@click.option("--trust", is_flag=True, help=TRUST_HELP)
@click.option("--custom-code", "custom_code", metavar="MODULE_OR_FILE", help=CUSTOM_CODE_HELP)
def export_cmd(project, out, fmt, quantize, keras2, no_weights, trust, custom_code=None):
    """Write the model as .h5 (Keras HDF5), .keras, a standalone Python script (.py), or for a runtime: .onnx,
    .tflite, a SavedModel folder (--format savedmodel), a Keras 2 .h5 (--keras2); those are checked against Keras."""
    quiet_tf()
    target = target_or_fail(out, fmt, keras2, quantize)
    p = load(project, trust, load_weights=not no_weights, custom_code=custom_code)
    if target is not None:
        return export_to_target(p, project, out, target, quantize, no_weights)
    if os.path.isdir(out):
        fail(f"{out}: is a folder; give a file name (or --format savedmodel)")
    from core.export import export
    weighted = os.path.splitext(out)[1].lower() in (".h5", ".keras")   # a .py export holds no weights
    if p.weights_error and weighted:
        fail(f"{p.weights_error}; nothing exported (--no-weights exports the model with fresh weights)")
    if p.weights_error:
        click.echo(f"warning: {p.weights_error}: the weights were not loaded (a .py export holds none)", err=True)
    with export_failures(p, project, out):
        build = None
        if weighted and p.has_weights():   # weights that do not fit a layer are an error, not fresh weights
            from core.build import build_model
            build = build_model(p, with_weights=True, strict_weights=True)
        path = export(p, out, with_weights=not no_weights, build=build)
    click.echo(f"wrote {path}")
