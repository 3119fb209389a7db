"""The ``layerwise`` command.

    layerwise [PROJECT]                 open the window (with PROJECT, or the digits example)
    layerwise check PROJECT             shapes, parameter counts and problems
    layerwise train PROJECT [...]       train on the project's dataset
    layerwise export PROJECT --out F    .h5 / .keras / .py
    layerwise import MODEL --out P      a Keras model file as an editable project

Exit codes: 0 ok; 1 the graph (or training) has problems; 2 bad input (file, setting); 130 interrupted.
"""
from __future__ import annotations

import os
import sys

import click

from .errors import LayerwiseError, ProjectError, short

SUBCOMMANDS = ("check", "train", "export", "import", "catalog", "--help", "-h", "--version")


def _quiet_tf():
    from .tfload import import_keras
    import_keras()


def fail(msg, code=2):
    click.echo(f"error: {msg}", err=True)
    sys.exit(code)


TRUST_HELP = "run the Python code the project holds (Lambda layers, custom classes): only for a project you trust"


def _load(path, trust=False, load_weights=True):
    from .project import load_project
    try:
        p = load_project(path, load_weights=load_weights)
    except ProjectError as e:
        fail(str(e), 2)
    if trust:   # trust is given here, for this run only; a project file never carries it
        from .trust import set_trusted
        set_trusted(p)
    return p


class OneLineErrors(click.Group):
    """A command group whose command-line errors (a missing argument, an unknown option, a folder given for a
    file, a value that is not a number...) are one ``error:`` line and exit code 2, never click's usage block."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as e:
            fail(one_line_error(e), 2)
        except click.exceptions.Abort:
            fail("interrupted", 130)
        sys.exit(rv if isinstance(rv, int) else 0)


def one_line_error(e):
    ctx = getattr(e, "ctx", None)
    where = f"{ctx.command_path}: " if ctx is not None else ""
    text = " ".join(str(e.format_message()).split())
    if ctx is not None and isinstance(e, click.UsageError):
        text += f" (see {ctx.command_path} --help)"
    return where + text


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="layerwise")
def cli():
    """Layerwise: design neural networks as graphs, train them, export them."""


@cli.command()
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--trust", is_flag=True, help=TRUST_HELP)
def check(project, trust):
    """Print every node's output shape and parameter count, then the totals and any problems."""
    _quiet_tf()
    p = _load(project, trust)
    from .infer import check as run_check, weights_problems
    from .report import summary_lines
    if p.weights_error:   # the network is still checked; export and train refuse these weights
        click.echo(f"warning: {p.weights_error}: the weights were not loaded", err=True)
    res = run_check(p.graph, p.regularization)
    for w in weights_problems(p.graph, res):
        click.echo(f"warning: {p.weights_path}: {w}", err=True)
    for line in summary_lines(p, res):
        click.echo(line)
    if res.problems:
        click.echo("")
        click.echo(f"{len(res.problems)} problem(s):")
        for prob in res.problems:
            click.echo(f"  {prob}")
        sys.exit(1)


@cli.command("export")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="FILE.h5, FILE.keras or FILE.py")
@click.option("--no-weights", is_flag=True, help="export fresh (untrained) weights even when the project has weights")
@click.option("--trust", is_flag=True, help=TRUST_HELP)
def export_cmd(project, out, no_weights, trust):
    """Write the model as .h5 (Keras HDF5), .keras, or a standalone Python script (.py)."""
    _quiet_tf()
    p = _load(project, trust, load_weights=not no_weights)
    from .errors import BuildError, WeightsError
    from .export import export
    weighted = os.path.splitext(out)[1].lower() in (".h5", ".keras")   # a .py export holds no weights
    if p.weights_error and weighted:
        fail(f"{p.weights_error}; nothing exported (--no-weights exports the model with fresh weights)")
    if p.weights_error:
        click.echo(f"warning: {p.weights_error}: the weights were not loaded (a .py export holds none)", err=True)
    try:
        build = None
        if weighted and p.has_weights():   # weights that do not fit a layer are an error, not fresh weights
            from .build import build_model
            build = build_model(p, with_weights=True, strict_weights=True)
        path = export(p, out, with_weights=not no_weights, build=build)
    except WeightsError as e:
        fail(f"{p.weights_path}: {e}; nothing exported (--no-weights exports the model with fresh weights)")
    except BuildError as e:
        click.echo(f"error: cannot export {project}: {e}", err=True)
        sys.exit(1)
    except LayerwiseError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{out}: cannot write ({e.strerror or e})")
    click.echo(f"wrote {path}")


@cli.command("catalog")
def catalog_cmd():
    """Print the layer catalog as a Markdown table."""
    from .catalog import markdown_table
    click.echo(markdown_table())


def _register_optional():
    """Commands whose modules are added by other parts of the core (training, transfer)."""
    try:
        from .train_cli import train  # noqa: F401
        cli.add_command(train)
    except ImportError:
        pass
    try:
        from .import_cli import import_cmd
        cli.add_command(import_cmd, "import")
    except ImportError:
        pass


_register_optional()


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in cli.commands):
        return cli.main(args=argv, prog_name="layerwise")
    # GUI: `layerwise` or `layerwise PROJECT`
    if len(argv) > 1 or (argv and argv[0].startswith("-")) or (
            argv and not os.path.exists(argv[0]) and not os.path.splitext(argv[0])[1] and os.sep not in argv[0]):
        fail(f"unknown command {short(argv[0])}; commands: check, train, export, import, catalog "
             f"(or a project file to open)")
    try:
        from app.main import run_gui
    except ImportError as e:
        fail(f"the window cannot start: {e}. Install the app with pip install layerwise (PySide6, pyqtgraph)", 1)
    sys.exit(run_gui(argv[0] if argv else None))


if __name__ == "__main__":
    main()
