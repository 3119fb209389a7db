"""What every command shares: ``fail()`` (one ``error:`` line and an exit code), loading the project a command
names, and the command group whose usage errors are one line too.

Exit codes: 0 ok; 1 the graph (or training) has problems; 2 bad input (file, setting); 130 interrupted.
"""
from __future__ import annotations

import contextlib
import sys

import click

from core.errors import BuildError, LayerwiseError, ProjectError, WeightsError

TRUST_HELP = "run the Python code the project holds (Lambda layers, custom classes): only for a project you trust"
CUSTOM_CODE_HELP = ("the Python module or .py file that defines the project's custom classes (needs --trust; "
                    "by default the one recorded at import)")


def fail(msg, code=2):
    """Print ``error: msg`` on stderr and exit with ``code`` (2: bad input)."""
    click.echo(f"error: {msg}", err=True)
    sys.exit(code)


@contextlib.contextmanager
def export_failures(p, project, out, cannot_export=(BuildError,)):
    """How ``export`` says a failure: weights that do not fit, bad input or an unwritable ``out`` exit 2;
    ``cannot_export`` (a graph that cannot be built, ...) exits 1."""
    try:
        yield
    except WeightsError as e:
        fail(f"{p.weights_path}: {e}; nothing exported (--no-weights exports the model with fresh weights)")
    except cannot_export as e:
        click.echo(f"error: cannot export {project}: {e}", err=True)
        sys.exit(1)
    except LayerwiseError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{out}: cannot write ({e.strerror or e})")


def quiet_tf():
    """Import TensorFlow and Keras now, with their start-up chatter silenced."""
    from core.tfload import import_keras
    import_keras()


def load(path, trust=False, load_weights=True, custom_code=None):
    """The project at ``path``; a file that is not a project is ``fail()`` (exit 2). ``trust`` is given for this
    run only: a project file never carries it. ``custom_code``: a module or file defining the project's custom
    classes, loaded now (only with trust)."""
    from core.project import load_project
    if custom_code and not trust:
        fail(f"--custom-code {custom_code}: runs Python code; pass --trust too, only for code you trust")
    try:
        p = load_project(path, load_weights=load_weights)
    except ProjectError as e:
        fail(str(e), 2)
    if trust:
        from core.trust import set_trusted
        set_trusted(p)
    if custom_code:
        from core.custom_code import CustomCodeError, load as load_code
        try:
            load_code(custom_code, trusted=True)
        except CustomCodeError as e:
            fail(str(e), 2)
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
    """A click error as one line: ``layerwise train: No such option: --epoch (see layerwise train --help)``."""
    ctx = getattr(e, "ctx", None)
    where = f"{ctx.command_path}: " if ctx is not None else ""
    text = " ".join(str(e.format_message()).split())
    if ctx is not None and isinstance(e, click.UsageError):
        text += f" (see {ctx.command_path} --help)"
    return where + text
