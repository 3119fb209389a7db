"""No code from a file ever runs without the person's trust, given in this session (issue 9).

Every route by which Python code stored in a file could run is tried with a payload that writes a marker file:
``layerwise check`` / ``train`` / ``export`` (.h5, .keras, .py) of a project imported with trust, group nodes
(expand / cut / collapse), pretrained bases from a file, and the import of a ``.keras`` model with a Lambda.
Without trust the marker never appears and the command says why in one line (no traceback); with ``--trust``
the same command works. The ``.py`` export writes everything from the project as data, so a hostile project
cannot smuggle code into the script.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


@pytest.fixture(scope="module")
def keras_loaded():
    from core.tfload import import_keras
    return import_keras()


def lambda_payload(marker):
    """A lambda that writes ``marker`` and doubles its input: the code a stranger's file could hold."""
    return eval("lambda x: (open(%r, 'w').write('ran'), x * 2.0)[1]" % str(marker))  # noqa: S307 (test payload)


def gone(marker):
    if Path(marker).exists():
        Path(marker).unlink()
    return marker


@pytest.fixture(scope="module")
def files(tmp_path_factory, keras_loaded):
    """lambda.keras (a Lambda among Dense layers), group.keras (the Lambda inside a nested model), and the
    projects `layerwise import --trust` makes of them (on iris-sized inputs, trained on iris)."""
    import keras
    d = tmp_path_factory.mktemp("trust")
    marker = d / "marker"
    i = keras.Input((4,), name="x")
    h = keras.layers.Dense(4, name="h")(i)
    y = keras.layers.Dense(3, activation="softmax", name="logits")(
        keras.layers.Lambda(lambda_payload(marker), name="twice")(h))
    keras.Model(i, y).save(d / "lambda.keras")
    bi = keras.Input((4,), name="bx")
    inner = keras.Model(bi, keras.layers.Lambda(lambda_payload(marker), name="inner_twice")(
        keras.layers.Dense(4, name="bh")(bi)), name="base")
    x = keras.Input((4,), name="x")
    keras.Model(x, keras.layers.Dense(3, activation="softmax", name="logits")(inner(x))).save(d / "group.keras")
    runner = CliRunner()
    from cli.main import cli
    for stem in ("lambda", "group"):
        r = runner.invoke(cli, ["import", str(d / f"{stem}.keras"), "--out", str(d / f"{stem}.layerwise"), "--trust"])
        assert r.exit_code == 0, r.output
        p = json.loads((d / f"{stem}.layerwise").read_text())
        p["data"] = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
        p["training"].update({"epochs": 1, "batch_size": 32, "device": "cpu"})
        (d / f"{stem}.layerwise").write_text(json.dumps(p, indent=1))
    gone(marker)
    return {"dir": d, "marker": marker, "lambda": d / "lambda.layerwise", "group": d / "group.layerwise",
            "lambda_model": d / "lambda.keras", "group_model": d / "group.keras"}


def invoke(*args):
    from cli.main import cli
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_refused(r, marker, code=(1,)):
    """Refused in plain words: the exit code, the hint to trust, no traceback, no marker."""
    assert r.exit_code in code, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    assert "it runs only if you trust this project: pass --trust" in r.output
    assert not Path(marker).exists(), "code from the file ran without trust"


# -- check ----------------------------------------------------------------------------------------------------------
def test_check_runs_no_code_without_trust_and_works_with_it(files):
    m = gone(files["marker"])
    r = invoke("check", files["lambda"])
    assert_refused(r, m)
    assert "node 'twice' (n3): holds Python code (Lambda) from the file" in r.output
    r = invoke("check", files["lambda"], "--trust")
    assert r.exit_code == 0, r.output
    assert m.exists()   # trusted: the Lambda was built and called (its shape inferred)


def test_the_file_cannot_carry_trust(files, tmp_path):
    """Whatever a project file says about trust, its code does not run: the flag is the session's only."""
    from core.project import load_project, save_project
    from core.trust import code_nodes, is_trusted, set_trusted
    p = json.loads(files["lambda"].read_text())
    p["trusted"] = True
    p["graph"]["trusted"] = True
    for nd in p["graph"]["nodes"]:
        nd.setdefault("settings", {}).update({"trusted_code": True, "trusted": True})
    bad = tmp_path / "claims_trust.layerwise"
    bad.write_text(json.dumps(p))
    (tmp_path / "claims_trust.layerwise.weights.h5").write_bytes(
        Path(str(files["lambda"]) + ".weights.h5").read_bytes())
    m = gone(files["marker"])
    assert_refused(invoke("check", bad), m)
    project = load_project(bad)
    assert not is_trusted(project) and [n.name for n, _ in code_nodes(project)] == ["twice"]
    clean = load_project(files["lambda"])
    set_trusted(clean)
    save_project(clean, tmp_path / "saved.layerwise")   # the session's trust is never written
    assert '"trusted' not in (tmp_path / "saved.layerwise").read_text()
    assert not is_trusted(load_project(tmp_path / "saved.layerwise"))


def test_inference_cache_follows_the_session_trust(files):
    """The editor keeps one Inference: trusting later re-infers the code nodes (no stale problem, nothing cached
    across the change)."""
    from core.infer import Inference
    from core.project import load_project
    from core.trust import set_trusted
    m = gone(files["marker"])
    p = load_project(files["lambda"])
    inf = Inference()
    res = inf.run(p.graph, p.regularization)
    assert [x.node_name for x in res.problems] == ["twice"] and not m.exists()
    set_trusted(p)
    res = inf.run(p.graph, p.regularization)
    assert res.ok and res.nodes["n3"].shape == (None, 4) and m.exists()
    gone(m)
    set_trusted(p, False)
    assert not inf.run(p.graph, p.regularization).ok and not m.exists()


# -- train ----------------------------------------------------------------------------------------------------------
def test_train_runs_no_code_without_trust_and_trains_with_it(files):
    m = gone(files["marker"])
    r = invoke("train", files["lambda"], "--epochs", "1", "--no-save")
    assert_refused(r, m, code=(1, 2))
    assert sum(1 for ln in r.output.splitlines() if ln.startswith("error:")) == 1
    r = invoke("train", files["lambda"], "--epochs", "1", "--no-save", "--trust")
    assert r.exit_code == 0, r.output
    assert "trained 1 epoch(s)" in r.output and m.exists()


def test_training_in_a_background_thread_keeps_the_session_trust(files):
    """The window trains in a worker thread on the open project: the trust is on the graph, not the thread."""
    import threading
    from core.project import load_project
    from core.training import TrainConfig, run
    from core.trust import set_trusted
    m = gone(files["marker"])
    p = load_project(files["lambda"])
    out = {}

    def work():
        out["result"] = run(p, config=TrainConfig.from_project(p, epochs=1, device="cpu"))
    set_trusted(p)
    t = threading.Thread(target=work)
    t.start()
    t.join(300)
    assert out["result"].error is None and out["result"].epochs_done == 1 and m.exists()


# -- export ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".h5", ".keras", ".py"])
def test_export_runs_no_code_without_trust(files, tmp_path, ext):
    m = gone(files["marker"])
    out = tmp_path / f"m{ext}"
    r = invoke("export", files["lambda"], "--out", out)
    assert_refused(r, m, code=(1, 2))
    assert sum(1 for ln in r.output.splitlines() if ln.startswith("error:")) == 1
    assert not out.exists() and not any(tmp_path.iterdir())
    r = invoke("export", files["lambda"], "--out", out, "--trust")
    assert r.exit_code == 0, r.output
    assert out.exists()
    if ext == ".py":   # trusted: the script says where it runs the project's code, and parses
        text = out.read_text()
        ast.parse(text)
        assert "# twice: runs Python code from the project ('Lambda'); exported with trust" in text
        assert text.count("safe_mode=False") == 1


# -- group nodes ----------------------------------------------------------------------------------------------------
def test_group_node_with_code_needs_trust_to_build_expand_or_cut(files):
    from core.errors import GraphError
    from core.groups import collapse_group, expand_group, cut_group, inner_layers
    from core.infer import check
    from core.project import load_project
    from core.trust import set_trusted
    m = gone(files["marker"])
    assert_refused(invoke("check", files["group"]), m)
    p = load_project(files["group"])
    g = p.graph
    base = g.by_name("base")
    res = check(g)
    assert [str(x) for x in res.problems] == [
        "node 'base' (n2): holds Python code (Lambda layer 'inner_twice' inside the nested model) from the file; it "
        "runs only if you trust this project: pass --trust (in the window: open it again and choose to trust it)"]
    with pytest.raises(GraphError, match="node 'base' \\(n2\\): holds Python code"):
        expand_group(g, base.id)
    with pytest.raises(GraphError, match="holds Python code"):
        cut_group(g, base.id, inner_layers(base)[0]["name"])
    assert not m.exists() and "base" in [n.name for n in g.nodes.values()]
    set_trusted(p)
    ids = expand_group(g, base.id)
    assert m.exists() and g.nodes[[k for k in ids if g.nodes[k].name == "inner_twice"][0]].settings["code"] is True
    gone(m)
    node = collapse_group(g, "base")   # built back into one nested model: the session's trust again
    assert check(g).ok and node.name == "base"
    set_trusted(p, False)
    assert not check(g).ok


# -- pretrained bases from a file ---------------------------------------------------------------------------------
def test_base_from_a_file_with_code_needs_trust_and_keeps_it_for_this_session_only(files, tmp_path):
    from core.bases import add_base_from_file
    from core.errors import ModelFileError
    from core.graph import Graph
    from core.infer import check
    from core.project import Project, load_project, save_project
    from core.trust import is_trusted
    m = gone(files["marker"])
    g = Graph()
    with pytest.raises(ModelFileError, match="layer 'twice' is a Lambda layer, which runs Python code"):
        add_base_from_file(g, files["lambda_model"])
    assert not m.exists() and not g.nodes and not is_trusted(g)
    out = add_base_from_file(g, files["lambda_model"], trust=True)
    assert is_trusted(g)   # the person trusted that file just now
    g.connect(out["base"], g.add_node("Output", None, name="out").id)
    assert check(g).ok
    p = Project(graph=g, name="with_base")
    save_project(p, tmp_path / "base.layerwise")
    gone(m)
    again = load_project(tmp_path / "base.layerwise")
    assert not is_trusted(again)
    assert [x.node_name for x in check(again.graph).problems] == [g.nodes[out["base"]].name] and not m.exists()


# -- model import -----------------------------------------------------------------------------------------------------
def test_keras_model_with_lambda_is_not_imported_without_trust(files, tmp_path):
    from core.errors import ModelFileError
    from core.transfer import import_model
    m = gone(files["marker"])
    with pytest.raises(ModelFileError, match="If you trust the file, import it with --trust"):
        import_model(files["lambda_model"])
    r = invoke("import", files["lambda_model"], "--out", tmp_path / "p.layerwise")
    assert r.exit_code == 2 and "Traceback" not in r.output and "import it with --trust" in r.output
    assert not (tmp_path / "p.layerwise").exists() and not m.exists()
    from core.bases import add_base_from_file
    from core.graph import Graph
    with pytest.raises(ModelFileError):
        add_base_from_file(Graph(), files["group_model"])
    assert not m.exists()


def test_real_command_without_trust_runs_nothing(files):
    m = gone(files["marker"])
    r = subprocess.run([sys.executable, "-m", "cli", "check", str(files["lambda"])], capture_output=True,
                       text=True, timeout=300, cwd=ROOT, env=ENV)
    assert r.returncode == 1, r.stderr[-2000:]
    assert "Traceback" not in r.stdout + r.stderr and "holds Python code (Lambda)" in r.stdout
    assert not m.exists()


# -- the .py export writes the project as data ----------------------------------------------------------------------
def _project(name="t", hidden=None, shape=(4,)):
    """A small project (Input, hidden layer(s), Dense, Output) as a core Project."""
    from core.project import project_from_dict
    nodes = [{"id": "n1", "type": "Input", "name": "x", "params": {"shape": list(shape), "dtype": "float32"},
              "pos": [0, 0]}]
    nodes += hidden or [{"id": "n2", "type": "Dense", "name": "h", "params": {"units": 4}, "pos": [200, 0]}]
    nodes += [{"id": "n9", "type": "Dense", "name": "logits", "params": {"units": 3, "activation": "softmax"},
               "pos": [400, 0]},
              {"id": "n10", "type": "Output", "name": "out", "params": {"loss": "sparse_categorical_crossentropy"},
               "pos": [600, 0]}]
    edges = [{"src": a["id"], "dst": b["id"], "port": 0} for a, b in zip(nodes, nodes[1:])]
    return project_from_dict({"format": "layerwise", "schema_version": 1, "name": name,
                              "graph": {"nodes": nodes, "edges": edges},
                              "compile": {"optimizer": {"name": "adam", "learning_rate": 0.001},
                                          "schedule": {"kind": "none"}}})


def _code(marker):
    """Code that writes the marker (by its name: the scripts run in its folder; project names are short)."""
    return f"__import__('pathlib').Path({Path(marker).name!r}).write_text('ran')"


def hostile(marker):
    """name -> (a project with text a stranger wrote, what the .py export must say: None = it exports, as data).
    The projects are changed after loading, so the exporter is tried even where the loader would refuse them."""
    c = _code(marker)
    out = {}

    def case(name, refusal, change, **kw):
        p = _project(**kw)
        change(p)
        out[name] = (p, refusal)
    case("name", None, lambda p: setattr(p, "name", f'"""\nimport os; {c}\n"""\n# '))
    case("name_quotes", None, lambda p: setattr(p, "name", f"\'\'\'\n{c}\"\"\" \\\n{c}\u2028{c}\r{c}"))
    case("param_key", 'node \'h\' (n2): parameter name "x=1)or',
         lambda p: p.graph.nodes["n2"].params.update({f"x=1)or {c} or(": 1}))
    case("class_name", "node 'h' (n2): class_name",
         lambda p: p.graph.nodes["n2"].params.update(class_name=f"Dense.from_config({{}})or {c} or layers.Dense"),
         hidden=[{"id": "n2", "type": "KerasLayer", "name": "h", "pos": [200, 0],
                  "params": {"class_name": "Dense", "config": {"units": 4}}}])
    case("optimizer_key", "optimizer adam: unknown setting", lambda p: p.compile.set(("optimizer", f"x={c}"), 1))
    case("optimizer_name", "unknown optimizer", lambda p: p.compile.set(("optimizer", "name"), f"Adam({c})"))
    case("call_kwarg", "node 'h' (n2): call keyword name",
         lambda p: p.graph.nodes["n2"].settings.update(call={"args": [{"__port__": 0}],
                                                             "kwargs": {f"training={c},x": False}}))
    case("bidirectional", "node 'h' (n2): layer must be one of LSTM, GRU, SimpleRNN",
         lambda p: p.graph.nodes["n2"].params.update(layer=f"LSTM(4)) or {c} or (layers.LSTM"),
         hidden=[{"id": "n2", "type": "Bidirectional", "name": "h", "pos": [200, 0], "params": {"units": 4}}],
         shape=(5, 4))
    case("dtype", None, lambda p: p.graph.nodes["n1"].params.update(dtype=f"float32'), {c}, ('"))
    return out


def test_hostile_projects_export_only_data_to_the_py_script(keras_loaded, tmp_path):
    from core.errors import SettingsError
    from core.export import python_source
    from core.project import dumps_project
    marker = tmp_path / "py_marker"
    written = []
    for name, (project, refusal) in hostile(marker).items():
        if refusal is None:
            text = python_source(project)
            ast.parse(text)
            assert _code(marker) not in [ln.strip() for ln in text.splitlines()]
            path = tmp_path / f"{name}.py"
            path.write_text(text)
            written.append(path)
        else:
            with pytest.raises(SettingsError) as e:
                python_source(project)
            assert refusal in str(e.value) and "\n" not in str(e.value), (name, str(e.value))
        # the same project from a file, through the command: refused (by the loader or the exporter) or data
        (tmp_path / f"{name}.layerwise").write_text(dumps_project(project))
        out = tmp_path / f"cli_{name}.py"
        r = invoke("export", tmp_path / f"{name}.layerwise", "--out", out)
        assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit))
        if r.exit_code == 0:
            assert refusal is None, (name, r.output)
            ast.parse(out.read_text())
            written.append(out)
        else:
            assert r.exit_code == 2 and r.output.startswith("error: "), (name, r.output)
            assert not out.exists()
    # run every script that was written, both ways an exported script runs (imported, and as the main program)
    code = ("import runpy, sys\n"
            "for p in sys.argv[1:]:\n"
            "    for how in ('layerwise_export', '__main__'):\n"
            "        try:\n"
            "            runpy.run_path(p, run_name=how)\n"
            "        except Exception as e:\n"
            "            print(p, how, type(e).__name__)\n")
    r = subprocess.run([sys.executable, "-c", code] + [str(p) for p in written], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path, env=ENV)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not marker.exists(), "text from a project ran as code in the exported script"
    assert len(written) >= 3


def test_py_export_names_are_data(keras_loaded, tmp_path):
    """The project's name is a comment (its ascii form), not text inside the docstring."""
    from core.export import python_source
    p = _project(name='my """model"""\nwith lines')
    text = python_source(p)
    assert "# project: 'my \"\"\"model\"\"\"\\nwith lines'" in text.splitlines()
    assert ast.get_docstring(ast.parse(text)).startswith("Generated by Layerwise")
