"""The ``layerwise`` command line, one command at a time: its help, exit codes 0 / 1 / 2 and one ``error:`` line
for a usage error; ``python -m cli``, the entry point, and the window fallback (without opening a window)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli.main import COMMANDS, cli, main
from core.project import Project, save_project
from tests.conftest import EXAMPLES, ROOT
from tests.core.helpers import chain

DIGITS = EXAMPLES / "digits_cnn.layerwise"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="layerwise")


def error_lines(result):
    return [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]


def assert_exit_2(result, *words):
    assert result.exit_code == 2, result.output
    errors = error_lines(result)
    assert len(errors) == 1, result.stderr
    assert all(w in errors[0] for w in words), errors[0]
    assert "Traceback" not in result.output and "Usage:" not in result.output


def broken_project(tmp_path):
    """A project that loads but whose graph has a problem (a Dense layer with -3 units)."""
    g, ids = chain(("Input", {"shape": [4]}), ("Dense", {"units": -3}), ("Output", {}))
    return save_project(Project(graph=g, name="broken"), tmp_path / "broken.layerwise"), ids


def not_json(tmp_path):
    bad = tmp_path / "bad.layerwise"
    bad.write_text("{ nope")
    return bad


# -- the group -----------------------------------------------------------------------------------------------
def test_help_lists_every_command():
    r = invoke("--help")
    assert r.exit_code == 0, r.output
    for name in ("check", "train", "export", "import", "catalog"):
        assert name in COMMANDS
        assert f"  {name} " in r.output
    assert set(cli.commands) == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name):
    r = invoke(name, "--help")
    assert r.exit_code == 0, r.output
    assert f"layerwise {name}" in r.output


def test_version():
    r = invoke("--version")
    assert r.exit_code == 0 and "layerwise" in r.output.lower()


@pytest.mark.parametrize("args, words", [
    (("check",), ("layerwise check:", "PROJECT", "--help")),                       # a missing argument
    (("check", DIGITS, "--no-such-option"), ("layerwise check:", "--no-such-option")),
    (("train", DIGITS, "--epochs", "many"), ("layerwise train:", "many")),          # not a number
    (("export", DIGITS), ("layerwise export:", "--out")),                           # a required option
    (("import",), ("layerwise import:", "MODEL")),
    (("catalog", "extra"), ("layerwise catalog:", "extra")),
    (("check", ROOT / "resources"), ("layerwise check:", "directory")),            # a folder given for a file
])
def test_a_usage_error_is_one_error_line_and_exit_2(args, words):
    assert_exit_2(invoke(*args), *words)


def test_an_unknown_command_is_one_error_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown command 'frobnicate'") and err.count("error:") == 1
    assert all(name in err for name in COMMANDS)


def test_no_command_opens_the_window_with_the_project(monkeypatch):
    import cli.main as cli_main
    opened = []
    monkeypatch.setattr(cli_main, "open_window", lambda project=None: opened.append(project) or 0)
    for argv, want in (([], None), ([str(DIGITS)], str(DIGITS))):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
        assert opened.pop() == want


# -- check -----------------------------------------------------------------------------------------------------
def test_check_exit_0_prints_the_summary():
    r = invoke("check", DIGITS)
    assert r.exit_code == 0, r.output
    assert "Total params: 94,314" in r.stdout and not error_lines(r)


def test_check_exit_1_lists_the_problems(tmp_path):
    f, ids = broken_project(tmp_path)
    r = invoke("check", f)
    assert r.exit_code == 1, r.output
    assert "1 problem(s):" in r.stdout and f"node 'dense' ({ids[1]}): units must be >= 1, got -3" in r.stdout


def test_check_exit_2_for_a_file_that_is_not_a_project(tmp_path):
    assert_exit_2(invoke("check", not_json(tmp_path)), "bad.layerwise", "not valid JSON")
    assert_exit_2(invoke("check", tmp_path / "missing.layerwise"), "missing.layerwise", "no such file")


# -- export ----------------------------------------------------------------------------------------------------
def test_export_exit_0_writes_the_file(tmp_path):
    out = tmp_path / "digits.py"
    r = invoke("export", DIGITS, "--out", out)
    assert r.exit_code == 0, r.output
    assert f"wrote {out}" in r.stdout and out.stat().st_size > 0


def test_export_exit_1_when_the_graph_cannot_be_built(tmp_path):
    f, _ = broken_project(tmp_path)
    r = invoke("export", f, "--out", tmp_path / "broken.h5")
    assert r.exit_code == 1, r.output
    assert error_lines(r) and "cannot export" in error_lines(r)[0]
    assert not (tmp_path / "broken.h5").exists()


def test_export_exit_2_for_bad_input(tmp_path):
    assert_exit_2(invoke("export", not_json(tmp_path), "--out", tmp_path / "x.h5"), "not valid JSON")
    assert_exit_2(invoke("export", DIGITS, "--out", tmp_path / "x.pb"), "x.pb", ".onnx", ".tflite")
    assert_exit_2(invoke("export", DIGITS, "--out", tmp_path / "no" / "such" / "x.py"), "x.py")


# -- train -----------------------------------------------------------------------------------------------------
def tiny_iris(tmp_path, stray=False):
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 8, "activation": "relu"}),
                 ("Dense", {"units": 3, "activation": "softmax"}), ("Output", {}, "species"))
    if stray:
        g.add_node("Dense", {"units": 3}, name="stray")
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.training.update({"epochs": 1, "batch_size": 32, "device": "cpu"})
    return save_project(p, tmp_path / "iris.layerwise")


def test_train_exit_0_trains_and_saves_the_weights(tmp_path):
    src = tiny_iris(tmp_path)
    r = invoke("train", src)
    assert r.exit_code == 0, r.output
    assert "epoch 1/1" in r.stdout and "saved trained weights" in r.stdout
    assert (tmp_path / "iris.layerwise.weights.h5").exists()


def test_train_exit_1_for_a_graph_problem(tmp_path):
    r = invoke("train", tiny_iris(tmp_path, stray=True), "--no-save")
    assert r.exit_code == 1, r.output
    assert "cannot train" in r.stderr and "node 'stray'" in r.stderr and "is not connected" in r.stderr


def test_train_exit_2_for_bad_input(tmp_path):
    src = tiny_iris(tmp_path)
    assert_exit_2(invoke("train", src, "--epochs", 0), "--epochs")
    assert_exit_2(invoke("train", src, "--keep-weights", "--fresh-weights"), "choose one")
    assert_exit_2(invoke("train", not_json(tmp_path)), "not valid JSON")
    assert not (tmp_path / "iris.layerwise.weights.h5").exists()


# -- import ----------------------------------------------------------------------------------------------------
def test_import_exit_0_writes_an_editable_project(tmp_path):
    import keras
    x = keras.Input((3,), name="x")
    keras.Model(x, keras.layers.Dense(2, name="d")(x)).save(tmp_path / "m.keras")
    r = invoke("import", tmp_path / "m.keras", "--out", tmp_path / "m")
    assert r.exit_code == 0, r.output
    assert "imported m.keras" in r.stdout
    assert json.loads((tmp_path / "m.layerwise").read_text())["format"] == "layerwise"
    assert (tmp_path / "m.layerwise.weights.h5").exists()


def test_import_exit_2_for_bad_input(tmp_path):
    assert_exit_2(invoke("import", tmp_path / "missing.h5", "--out", tmp_path / "p.layerwise"), "missing.h5")
    assert_exit_2(invoke("import", tmp_path / "missing.h5", "--out", tmp_path / "no" / "p.layerwise"),
                  "no such folder")
    (tmp_path / "junk.keras").write_bytes(b"not a model")
    assert_exit_2(invoke("import", tmp_path / "junk.keras", "--out", tmp_path / "p.layerwise"), "junk.keras")
    assert not (tmp_path / "p.layerwise").exists()


# -- catalog ---------------------------------------------------------------------------------------------------
def test_catalog_exit_0_prints_the_table():
    r = invoke("catalog")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("| category | layer |") and "| Dense |" in r.stdout


# -- as a process ----------------------------------------------------------------------------------------------
def run(args, **kw):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, **kw)


def test_python_dash_m_cli_is_layerwise():
    r = run([sys.executable, "-m", "cli", "--help"])
    assert r.returncode == 0, r.stderr
    assert all(f"  {name} " in r.stdout for name in COMMANDS)
    r = run([sys.executable, "-m", "cli", "check"])
    assert r.returncode == 2 and r.stderr.count("error:") == 1 and "Traceback" not in r.stderr


def test_the_commands_import_no_window_code():
    code = ("import sys, cli.main; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('app', 'PySide6', 'pyqtgraph', 'shiboken6')); print(bad); sys.exit(1 if bad else 0)")
    r = run([sys.executable, "-c", code])
    assert r.returncode == 0, r.stdout + r.stderr
