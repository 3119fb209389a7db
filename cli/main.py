"""The ``layerwise`` command.

    layerwise [PROJECT]                 open the window (with PROJECT, or the digits example)
    layerwise check PROJECT             shapes, parameter counts and problems
    layerwise train PROJECT [...]       train on the project's dataset
    layerwise export PROJECT --out F    .h5 / .keras / .py
    layerwise import MODEL --out P      a Keras model file as an editable project
    layerwise catalog                   the layer catalog as a Markdown table
    layerwise runs PROJECT [...]        the training runs recorded for a project, compared or exported
    layerwise profile PROJECT [...]     measured latency of the model and of each node
    layerwise explain PROJECT --sample I --out F.png   why the network predicts what it does for a sample
    layerwise sweep PROJECT --trials N [--dim PATH=SPEC ...]   a hyperparameter sweep (Optuna), resumable

Exit codes: 0 ok; 1 the graph (or training) has problems; 2 bad input (file, setting); 130 interrupted.
"""
from __future__ import annotations

import os
import sys

import click

from core.errors import short

from .catalog import catalog_cmd
from .check import check
from .common import OneLineErrors, fail
from .export import export_cmd
from .explain import explain_cmd
from .importing import import_cmd
from .profile import profile_cmd
from .runs import runs_cmd
from .sweep import sweep_cmd
from .train import train

COMMANDS = {"check": check, "train": train, "export": export_cmd, "import": import_cmd, "catalog": catalog_cmd,
            "profile": profile_cmd, "runs": runs_cmd,
            "explain": explain_cmd, "sweep": sweep_cmd}
GROUP_OPTIONS = ("--help", "-h", "--version")


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="layerwise")
def cli():
    """Layerwise: design neural networks as graphs, train them, export them."""


for _name, _command in COMMANDS.items():
    cli.add_command(_command, _name)


def main(argv=None):
    """``layerwise ARGS``: a command, or (no command) the window with an optional project file."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in GROUP_OPTIONS or argv[0] in cli.commands):
        return cli.main(args=argv, prog_name="layerwise")
    if len(argv) > 1 or (argv and argv[0].startswith("-")) or (
            argv and not os.path.exists(argv[0]) and not os.path.splitext(argv[0])[1] and os.sep not in argv[0]):
        fail(f"unknown command {short(argv[0])}; commands: {', '.join(COMMANDS)} (or a project file to open)")
    sys.exit(open_window(argv[0] if argv else None))


def open_window(project=None):
    """Start the window (the only place the command line imports ``app``, so the commands run without Qt)."""
    try:
        from app.main import run_gui
    except ImportError as e:
        fail(f"the window cannot start: {e}. Install the app with pip install layerwise (PySide6, pyqtgraph)", 1)
    return run_gui(project)


if __name__ == "__main__":
    main()
