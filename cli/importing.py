"""``layerwise import MODEL --out PROJECT``: a Keras model file as an editable project (with its weights)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from core.errors import LayerwiseError

from .common import fail, quiet_tf


@click.command("import")
@click.argument("model", type=click.Path(dir_okay=True))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="the project file to write (PROJECT.layerwise; weights go beside it)")
@click.option("--trust", is_flag=True,
              help="import even when the file has Lambda layers or custom classes (they can run code)")
@click.option("--custom-code", "custom_code", metavar="MODULE_OR_FILE",
              help="the Python module or .py file that defines the model's custom classes (needs --trust)")
def import_cmd(model, out, trust, custom_code):
    """Import a Keras model (.h5 or .keras) as a Layerwise project: one node per layer, with the weights."""
    out_path = Path(out)
    if out_path.suffix == "":
        out_path = out_path.with_suffix(".layerwise")
    if not out_path.parent.exists():
        fail(f"{out_path.parent}: no such folder for the project file")
    if custom_code and not trust:
        fail(f"--custom-code {custom_code}: runs Python code; pass --trust too, only for code you trust")
    quiet_tf()
    from core.project import save_project
    from core.transfer import import_model
    try:
        imported = import_model(model, trust=trust, custom_code=custom_code)
    except LayerwiseError as e:
        fail(str(e))
    try:
        save_project(imported.project, out_path)
    except OSError as e:
        fail(f"{out_path}: cannot write ({e.strerror or e})")
    s = imported.stats
    for w in imported.warnings:
        click.echo(f"warning: {w}", err=True)
    parts = [f"{s['catalog']} catalog layers"]
    if s["ops"]:
        parts.append(f"{s['ops']} keras.ops step(s) as op nodes")
    if s["keras_layer"]:
        parts.append(f"{s['keras_layer']} other Keras layers")
    if s["groups"]:
        parts.append(f"{s['groups']} nested model(s) as group nodes")
    if s["shared"]:
        parts.append(f"{s['shared']} repeated call(s) of shared layers")
    click.echo(f"imported {Path(model).name}: {s['layers']} layers ({', '.join(parts)}), "
               f"{s['inputs']} input(s), {s['outputs']} output(s), {s['params']:,} params "
               f"({s['non_trainable']:,} frozen) in {imported.seconds['total']:.1f} s")
    click.echo(imported.training)
    click.echo(f"wrote {out_path}" + (f" and {out_path.name}.weights.h5" if imported.project.has_weights() else ""))
    sys.exit(0)
