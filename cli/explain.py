"""``layerwise explain PROJECT --sample I [--layer NAME] --out F.png``: why the network predicts what it does for
one sample of the test split (else validation, else training): the saliency map (gradient of the class score with
respect to the input), Grad-CAM on a convolution node (``--layer``), per-step attribution for sequences.

Exit codes: 0 written; 1 the graph has problems; 2 bad input (file, option, sample out of range, a node Grad-CAM
cannot use)."""
from __future__ import annotations

from pathlib import Path

import click

from .common import TRUST_HELP, fail, load, quiet_tf


@click.command("explain")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--sample", "sample", type=int, required=True, help="the sample's index in the split")
@click.option("--layer", "layer", default=None, help="a convolution node's name: add its Grad-CAM map")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="the picture to write (.png)")
@click.option("--class", "class_index", type=int, default=None, help="the class to explain (default: the predicted one)")
@click.option("--output", "output", default=None, help="the Output node to explain (default: the first)")
@click.option("--split", "split", type=click.Choice(["test", "validation", "train"]), default=None,
              help="the split the sample is taken from (default: test, else validation, else train)")
@click.option("--method", "method", type=click.Choice(["integrated_gradients", "grad_x_input"]),
              default="integrated_gradients", help="per-step attribution of a sequence")
@click.option("--trust", is_flag=True, help=TRUST_HELP)
def explain_cmd(project, sample, layer, out, class_index, output, split, method, trust=False):
    """Write a picture of why PROJECT's network predicts what it does for one sample."""
    if Path(out).suffix.lower() != ".png":
        fail(f"--out {out}: the picture is written as PNG; use a .png file name")
    if not Path(out).resolve().parent.exists():
        fail(f"--out {out}: the folder {Path(out).resolve().parent} does not exist")
    quiet_tf()
    p = load(project, trust)
    if not p.has_weights():
        click.echo(f"note: {project} has no trained weights: this explains an untrained network", err=True)
    build, data = _build_and_data(project, p)
    ex = _explain(p, build, data, sample, layer, class_index, output, split, method)
    from core.explain_png import render, write_png
    try:
        write_png(render(ex), out)
    except OSError as e:
        fail(f"{out}: cannot write ({e.strerror or e})")
    _say(ex, layer, out)


def _build_and_data(project, p):
    from core.build import build_model
    from core.datasets import check_fit
    from core.errors import BuildError, DataError, LayerwiseError
    from core.training.splits import load_data
    try:
        build = build_model(p)
    except BuildError as e:
        click.echo(f"error: cannot build {project}: {e}", err=True)
        raise SystemExit(1)
    except LayerwiseError as e:
        fail(str(e))
    try:
        data = load_data(p)
        problems = check_fit(data, p.graph)
    except (DataError, LayerwiseError) as e:
        fail(str(e))
    if problems:
        fail("; ".join(problems))
    return build, data


def _explain(p, build, data, sample, layer, class_index, output, split, method):
    from core.explain import ExplainError, explain_sample, sample_of
    try:
        xs, label, split_name = sample_of(data, p.graph, sample, split)
        ex = explain_sample(build, p.graph, xs, output=output, class_index=class_index, layer=layer, method=method)
    except ExplainError as e:
        fail(f"--layer {layer}: {e}" if layer and str(e).startswith(("node", "no node")) else str(e))
    ex.split, ex.index, ex.label = split_name, sample, label
    return ex


def _say(ex, layer, out):
    label = ex.label
    try:
        label = int(label.reshape(-1).argmax()) if label.size > 1 else label.reshape(-1)[0].item()
    except Exception:
        pass
    what = f"class {ex.class_index} ({ex.score:.3f})" if ex.class_index is not None else f"{ex.score:.4g}"
    click.echo(f"sample {ex.index} of the {ex.split} split, output '{ex.output}': predicted {what}, label {label}")
    panels = ["input", "saliency"] if ex.kind != "sequence" else ["input", "saliency", ex.method or "attribution"]
    if ex.cam_layer:
        panels.append(f"Grad-CAM of '{ex.cam_layer}'")
    click.echo(f"wrote {out} ({' | '.join(panels)})")
