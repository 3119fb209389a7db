"""Bad projects, settings and weights files answered calmly: one clear message naming the file and the field or
node, exit code 2 from the command line, never a traceback; sizes refused before work starts; stale temporary
files of killed saves cleaned; and property tests: any JSON value gives a Project or a ProjectError, any graph
of catalog nodes gives an inference Result."""
import copy
import json
import math
import os
import time

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from core import catalog
from core.errors import GraphError, ProjectError, WeightsError, short
from core.graph import Graph, MAX_EDGES, MAX_NAME, MAX_NODES, MAX_POS
from core.infer import Inference, Result, check
from core.project import (MAX_DEPTH, MAX_FILE_BYTES, Project, load_project, loads_project, project_from_dict,
                          save_project, weights_path_for, write_weights_file)
from core.validate import validate_settings
from tests.conftest import EXAMPLES
from tests.core.helpers import chain
from tests.corpus.bad_inputs import node, valid, with_   # the corpus' project builders


def refused(d, *words, path="p.layerwise"):
    """project_from_dict(d) raises one short ProjectError naming the file and every one of ``words``."""
    with pytest.raises(ProjectError) as exc:
        project_from_dict(d, path)
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 400, msg
    assert msg.startswith(f"{path}: "), msg
    for w in words:
        assert w.lower() in msg.lower(), (w, msg)
    return msg


def write(tmp_path, d, name="p.layerwise"):
    f = tmp_path / name
    f.write_text(json.dumps(d, allow_nan=True) if not isinstance(d, str) else d)
    return f


def run(*args, cwd=None):
    from cli.main import cli
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        r = CliRunner().invoke(cli, [str(a) for a in args], prog_name="layerwise")
    finally:
        os.chdir(old)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def one_error(r, *words, code=2):
    """Exit ``code``, exactly one ``error:`` line on stderr, no traceback, and the line names ``words``."""
    text = r.stdout + r.stderr
    assert "Traceback" not in text, text
    assert r.exit_code == code, (r.exit_code, text[-2000:])
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, r.stderr
    for w in words:
        assert w.lower() in errors[0].lower(), (w, errors[0])
    assert "Usage:" not in text
    return errors[0]


# -- 1. the loader ------------------------------------------------------------------------------------------------
def test_a_valid_project_loads():
    p = project_from_dict(valid())
    assert p.name == "t" and len(p.graph.nodes) == 4 and validate_settings(p) == []


@pytest.mark.parametrize("fmt", ["keras", 1, None, ""])
def test_unknown_format_is_refused(fmt):
    refused(with_("format", fmt), "format")


def test_negative_schema_version_is_refused():
    refused(with_("schema_version", -1), "schema_version", "-1")
    refused(with_("schema_version", True), "schema_version")


@pytest.mark.parametrize("pos", [[float("nan"), 0], [float("inf"), float("-inf")], [1e300, 1e300], [MAX_POS * 2, 0],
                                 [True, False], "0,0", [0, 0, 0], None])
def test_node_positions_must_be_two_finite_numbers_in_bounds(pos):
    refused(with_("graph.nodes.1.pos", pos), "node 'h' (n2)", '"pos"')


def test_graph_edits_clamp_positions_to_the_canvas():
    g = Graph()
    assert g.add_node("Dense", pos=(float("nan"), float("-inf"))).pos == (0.0, -MAX_POS)
    n = g.add_node("Dense", pos=(10, 10))
    g.move(n.id, (float("inf"), float("nan")))
    assert n.pos == (MAX_POS, 0.0)
    g.move(n.id, (1e300, -1e300))
    assert n.pos == (MAX_POS, -MAX_POS)
    with pytest.raises(GraphError, match="two numbers"):
        g.move(n.id, "here")
    assert all(math.isfinite(v) for v in g.to_dict()["nodes"][0]["pos"])


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000,
                                  '{"graph": ' + '{"a": ' * 50000 + "1" + "}" * 50000 + "}"])
def test_deeply_nested_json_is_a_project_error(tmp_path, text):
    with pytest.raises(ProjectError, match="nested too deeply"):
        loads_project(text, "p.layerwise")
    with pytest.raises(ProjectError, match="nested too deeply"):
        load_project(write(tmp_path, text))


def test_deep_params_name_where_and_python_dicts_too():
    deep = 1
    for _ in range(MAX_DEPTH + 5):
        deep = {"a": deep}
    refused(with_("graph.nodes.1.params.units", deep), "nested too deeply", "units")
    very = []
    for _ in range(5000):
        very = [very]
    with pytest.raises(ProjectError, match="nested too deeply"):
        project_from_dict({"graph": {"nodes": [], "edges": []}, "x": very})


def test_a_huge_name_is_refused_quickly_and_echoed_short(tmp_path):
    t = time.perf_counter()
    msg = refused(with_("graph.nodes.1.name", "b" * 20_000_000), "name", "n2", "20,000,000 characters")
    assert time.perf_counter() - t < 5
    assert len(msg) < 300
    refused(with_("graph.nodes.1.name", "a" * (MAX_NAME + 1)), "name")
    project_from_dict(with_("graph.nodes.1.name", "a" * MAX_NAME))
    r = run("check", write(tmp_path, with_("graph.nodes.1.name", "c" * 5_000_000)))
    one_error(r, "name", "n2")
    assert len(r.stderr) < 500


def test_graph_rename_and_add_bound_names():
    g = Graph()
    n = g.add_node("Dense")
    for bad in ("x" * (MAX_NAME + 1), "1abc", "", "a b"):
        with pytest.raises(GraphError) as exc:
            g.rename(n.id, bad)
        assert len(str(exc.value)) < 250
        with pytest.raises(GraphError):
            g.add_node("Dense", name=bad)
    assert len(g.unique_name("y" * 1000)) <= MAX_NAME


def test_short_echoes_at_most_a_few_dozen_characters():
    assert len(short("z" * 10 ** 7)) < 100
    assert len(short(list(range(10 ** 5)))) < 80
    assert short(10 ** 5000) == "a number of over 4,000 digits"
    nested = []
    for _ in range(10000):
        nested = [nested]
    assert len(short(nested)) < 80
    assert short("h\u202eg\x00") == "'h\\u202eg\\x00'"


def test_node_faces_and_check_never_flood_with_a_value(tmp_path):
    assert len(catalog.summary_text("Dense", {"units": 8, "activation": "y" * 10 ** 7})) < 60
    r = run("check", write(tmp_path, with_("graph.nodes.1.params.activation", "z" * 3_000_000)))
    assert r.exit_code == 1 and len(r.stdout + r.stderr) < 6000 and "'h' (n2)" in r.stdout


def test_params_nested_too_deeply_in_memory_are_a_problem_not_an_exception():
    g, ids = chain(("Input", {"shape": [4]}), ("Dense", {"units": 2}), ("Output", {}))
    deep = 1
    for _ in range(5000):
        deep = [deep]
    g.nodes[ids[1]].params["units"] = deep
    assert not check(g).ok


def test_node_and_edge_counts_are_bounded():
    d = valid()
    d["graph"]["nodes"] += [node(f"m{i}", "Dense", f"d{i}", {"units": 2}) for i in range(MAX_NODES)]
    refused(d, "too many nodes", f"{MAX_NODES:,}")
    d = valid()
    d["graph"]["edges"] = d["graph"]["edges"] * (MAX_EDGES // 3 + 1)
    refused(d, "too many edges")
    refused(with_("graph.edges.0.port", 10 ** 30), "port")


def test_file_size_is_bounded(tmp_path):
    f = tmp_path / "big.layerwise"
    with open(f, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)   # sparse: nothing is written
    with pytest.raises(ProjectError, match="too large"):
        load_project(f)


def test_description_must_be_text():
    refused(with_("description", {"a": 1}), "description")
    refused(with_("description", 5), "description")
    assert project_from_dict(with_("description", "fine")).description == "fine"


def test_other_files_that_are_not_projects(tmp_path):
    with pytest.raises(ProjectError, match="folder"):
        load_project(tmp_path)
    with pytest.raises(ProjectError, match="4,300 digits"):
        loads_project('{"graph": {"nodes": [], "edges": []}, "x": ' + "7" * 5000 + "}")
    bom = tmp_path / "bom.layerwise"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(valid()).encode())
    assert load_project(bom).name == "t"   # a UTF-8 byte-order mark is fine


def test_a_warnings_key_in_the_file_is_not_taken_for_session_messages():
    p = project_from_dict(with_("_warnings", 5))
    assert "_warnings" not in p.extra


# -- 2. settings ---------------------------------------------------------------------------------------------------
SETTINGS = [
    ("compile.optimizer", "adam", '"compile.optimizer" must be an object like {"name": "adam", '
                                  '"learning_rate": 0.001}, got \'adam\''),
    ("compile.optimizer.name", "superopt", "expected one of sgd, adam, adamw"),
    ("compile.optimizer.name", 1, "compile.optimizer.name"),
    ("compile.optimizer.learning_rate", "fast", "compile.optimizer.learning_rate"),
    ("compile.optimizer.learning_rate", float("nan"), "learning_rate"),
    ("compile.optimizer.learning_rate", float("inf"), "learning_rate"),
    ("compile.optimizer.learning_rate", 0, "learning_rate"),
    ("compile.optimizer.learning_rate", -0.1, "learning_rate"),
    ("compile.optimizer.learning_rate", 11, "learning_rate"),
    ("compile.optimizer.learning_rate", True, "learning_rate"),
    ("compile.optimizer.x=1)or(__import__('os')", 1, "not a setting name"),
    ("compile.optimizer.momentum", 0.9, "adam optimizer has no setting 'momentum'"),
    ("compile.optimizer.beta_1", 1.5, "compile.optimizer.beta_1"),
    ("compile.optimizer.clipnorm", -1, "clipnorm"),
    ("compile.schedule", "cosine", "compile.schedule"),
    ("compile.schedule.kind", "chaos", "unknown learning-rate schedule 'chaos'"),
    ("compile.schedule.decay_steps", 5, "the none schedule has no setting"),
    ("regularization.l2", -0.1, "regularization.l2"),
    ("regularization.l2", float("nan"), "regularization.l2"),
    ("regularization.l2", float("inf"), "regularization.l2"),
    ("regularization.l2", 2, "regularization.l2"),
    ("regularization.l2", "high", "regularization.l2"),
    ("regularization.dropout", 1.5, "regularization.dropout"),
    ("regularization.dropout", 1.0, "regularization.dropout"),
    ("regularization.dropout", -0.2, "regularization.dropout"),
    ("regularization.dropout", True, "regularization.dropout"),
    ("training.epochs", 0, "training.epochs"),
    ("training.epochs", 1e12, "training.epochs"),
    ("training.epochs", 10 ** 12, "training.epochs"),
    ("training.epochs", 2.5, "training.epochs"),
    ("training.epochs", True, "training.epochs"),
    ("training.epochs", float("nan"), "training.epochs"),
    ("training.epochs", "ten", "training.epochs"),
    ("training.batch_size", 0, "training.batch_size"),
    ("training.batch_size", 10 ** 7, "training.batch_size"),
    ("training.seed", "lucky", "training.seed"),
    ("training.seed", 0.5, "training.seed"),
    ("training.seed", False, "training.seed"),
    ("training.device", "tpu", "training.device"),
    ("training.device", 0, "training.device"),
    ("training.mixed_precision", "yes", "training.mixed_precision"),
    ("training.early_stopping", "yes", "training.early_stopping"),
    ("training.early_stopping", {"enabled": True, "patience": -1}, "patience"),
    ("training.early_stopping", {"enabled": "on"}, "early_stopping.enabled"),
    ("training.early_stopping", {"patience": 1.5}, "patience"),
    ("training.early_stopping", {"monitor": 3}, "monitor"),
    ("data.validation_split", 1.5, "data.validation_split"),
    ("data.validation_split", -0.1, "data.validation_split"),
    ("data.validation_split", "20%", "data.validation_split"),
    ("data.test_split", 0.9, "add up to 1.1"),
    ("data.seed", "x", "data.seed"),
    ("graph.nodes.1.settings", {"l2": "lots"}, "settings.l2"),
    ("graph.nodes.1.settings", {"l2": -1}, "settings.l2"),
    ("graph.nodes.1.settings", {"l2": float("nan")}, "settings.l2"),
    ("graph.nodes.1.settings", {"dropout": 3}, "settings.dropout"),
    ("graph.nodes.1.settings", {"trainable": "no"}, "settings.trainable"),
    ("graph.nodes.1.settings", {"global_dropout": 1}, "settings.global_dropout"),
]


@pytest.mark.parametrize("path,value,words", SETTINGS, ids=[f"{p}={v!r}"[:60] for p, v, _ in SETTINGS])
def test_bad_settings_refuse_to_load_naming_the_field(path, value, words):
    msg = refused(with_(path, value), words)
    if path.startswith("graph.nodes"):
        assert "node 'h' (n2)" in msg


def test_good_settings_load():
    for path, value in (("compile.optimizer", {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}),
                        ("compile.optimizer", {"name": "Adam", "learning_rate": 0.01, "clipnorm": 1.0}),
                        ("compile.schedule", {"kind": "cosine", "decay_steps": 100, "alpha": 0.1}),
                        ("training.epochs", 10.0), ("training.device", "gpu:1"), ("regularization.dropout", None),
                        ("training.early_stopping", {"enabled": True, "monitor": "val_accuracy", "patience": 3}),
                        ("data.validation_split", None), ("graph.nodes.1.settings", {"l2": 0.01, "trainable": False})):
        project_from_dict(with_(path, value))


def test_a_whole_number_learning_rate_builds_an_optimizer():
    """JSON has no float 1: Keras refuses learning_rate=1 (an int) with a raw traceback; it is a fine setting."""
    from core.build import make_optimizer
    p = project_from_dict(with_("compile.optimizer", {"name": "sgd", "learning_rate": 1, "momentum": 0}))
    opt = make_optimizer(p.compile)
    assert float(opt.learning_rate.numpy()) == 1.0


def test_validate_settings_after_edits():
    p = project_from_dict(valid())
    p.regularization["dropout"] = 1.7
    p.compile.set(("optimizer", "learning_rate"), float("nan"))
    p.training["epochs"] = True
    p.graph.set_setting("n2", "l2", -3)
    problems = validate_settings(p)
    assert len(problems) == 4
    text = "\n".join(problems)
    for w in ('"regularization.dropout"', '"compile.optimizer.learning_rate"', '"training.epochs"',
              "node 'h' (n2): \"settings.l2\""):
        assert w in text


def test_cli_check_and_train_on_bad_settings_exit_2_with_one_line(tmp_path):
    f = write(tmp_path, with_("regularization.dropout", 1.7))
    one_error(run("check", f), "dropout", str(f))
    one_error(run("train", f, "--epochs", "1", "--no-save"), "dropout")
    f = write(tmp_path, with_("compile.optimizer", "adam"))
    one_error(run("train", f, "--epochs", "1", "--no-save"), "compile.optimizer")
    f = write(tmp_path, with_("training.epochs", 1e12))
    one_error(run("train", f, "--no-save"), "training.epochs")


def test_settings_problems_are_not_memoised_away():
    """The window keeps one Inference; a bad setting after a good run is still a problem (and vice versa)."""
    g, ids = chain(("Input", {"shape": [4]}), ("Dense", {"units": 8}), ("Dense", {"units": 2}), ("Output", {}))
    inf = Inference()
    assert inf.run(g, {"l2": 0.0, "dropout": 0.0}).ok
    g.set_setting(ids[1], "l2", float("nan"))
    res = inf.run(g, {"l2": 0.0, "dropout": 1.7})
    text = "\n".join(str(p) for p in res.problems)
    assert f"node 'dense' ({ids[1]}): \"settings.l2\"" in text and '"regularization.dropout"' in text
    assert [str(p) for p in check(g, {"l2": 0.0, "dropout": 1.7}).problems] == [str(p) for p in res.problems]
    g.set_setting(ids[1], "l2", "lots")   # a string: a problem, never a ValueError
    assert not inf.run(g, {"l2": "x"}).ok
    g.set_setting(ids[1], "l2", None)
    assert inf.run(g, {"l2": 0.0, "dropout": 0.2}).ok


# -- 3. sizes ------------------------------------------------------------------------------------------------------
def test_enormous_shapes_and_parameter_counts_are_problems():
    g, ids = chain(("Input", {"shape": [10 ** 9, 10 ** 9, 3]}), ("Dense", {"units": 8}), ("Output", {}))
    res = check(g)
    assert any(p.node_id == ids[0] and "values" in p.message and "EB" in p.message for p in res.problems)
    g, ids = chain(("Input", {"shape": [100000, 3]}), ("Flatten",), ("Dense", {"units": 100000}), ("Output", {}))
    msgs = [str(p) for p in check(g).problems]
    assert msgs == [f"node 'dense' ({ids[2]}): 3e+10 parameters would need 120 GB of memory; the limit is 2e+10 "
                    f"parameters: use fewer units, filters or a smaller input"]
    g, ids = chain(("Input", {"shape": [100]}), ("Embedding", {"input_dim": 10 ** 12, "output_dim": 64}), ("Output", {}))
    assert any("parameters would need" in p.message for p in check(g).problems)


def test_input_dims_are_bounded():
    g, ids = chain(("Input", {"shape": [2 ** 40]}), ("Output", {}))
    assert any("at most 2,147,483,647" in p.message for p in check(g).problems)
    assert catalog.CATALOG["Input"].param("shape").value_error([0]) is not None


def test_many_unconnected_ports_are_listed_briefly():
    d = with_("graph.nodes.2", node("n3", "Concatenate", "cat", {}, 400))
    d["graph"]["edges"][1] = {"src": "n2", "dst": "n3", "port": 5000}
    res = check(project_from_dict(d).graph)
    text = "\n".join(str(p) for p in res.problems)
    assert "more" in text and len(text) < 1000


# -- 4. the weights sidecar ----------------------------------------------------------------------------------------
def _sidecar(tmp_path, kind):
    f = write(tmp_path, valid())
    wp = weights_path_for(f)
    if kind == "folder":
        wp.mkdir()
    elif kind == "garbage":
        wp.write_bytes(b"garbage, not HDF5")
    elif kind == "hdf5-noise":
        wp.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 12)
    elif kind == "empty":
        wp.write_bytes(b"")
    elif kind == "truncated":
        p = load_project(f)
        p.graph.nodes["n2"].weights = [np.ones((4, 8), "float32"), np.zeros(8, "float32")]
        write_weights_file(p.graph, wp)
        wp.write_bytes(wp.read_bytes()[:1500])
    elif kind == "wrong-shape":
        g = Graph()
        g.add_node("Dense", name="h").weights = [np.zeros((5, 5), "float32"), np.zeros(5, "float32")]
        write_weights_file(g, wp)
    return f, wp


BROKEN = ["folder", "garbage", "hdf5-noise", "empty", "truncated"]


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_sidecar_opens_the_project_with_a_warning(tmp_path, kind):
    f, wp = _sidecar(tmp_path, kind)
    p = load_project(f)
    assert p.weights_error and str(wp) in p.weights_error and not p.has_weights()
    assert any(str(wp) in w for w in p.extra["_warnings"])
    assert "_warnings" not in json.loads(open(save_project(p, tmp_path / "copy.layerwise")).read())


@pytest.mark.parametrize("kind", BROKEN)
def test_export_and_train_refuse_a_broken_sidecar_check_warns(tmp_path, kind):
    f, wp = _sidecar(tmp_path, kind)
    one_error(run("export", f, "--out", tmp_path / "m.h5"), wp.name, "--no-weights")
    assert not (tmp_path / "m.h5").exists()
    one_error(run("train", f, "--keep-weights", "--no-save"), wp.name, "--fresh-weights")
    r = run("check", f)
    assert r.exit_code == 0 and f"warning: {wp}" in r.stderr
    r = run("export", f, "--out", tmp_path / "m.h5", "--no-weights")
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "m.h5").exists()
    r = run("export", f, "--out", tmp_path / "m.py")   # a script holds no weights: written, with a warning
    assert r.exit_code == 0 and f"warning: {wp}" in r.stderr, r.stderr


def test_weights_that_do_not_fit_are_named_by_node(tmp_path):
    from core.build import build_model
    f, wp = _sidecar(tmp_path, "wrong-shape")
    p = load_project(f)
    assert p.weights_error is None and p.graph.nodes["n2"].weights is not None
    with pytest.raises(WeightsError, match=r"node 'h' \(n2\).*shape \(5, 5\).*\(4, 8\)"):
        build_model(p, strict_weights=True)
    assert any("node 'h' (n2)" in w for w in build_model(p).warnings)   # the window's build: fresh weights, said
    one_error(run("export", f, "--out", tmp_path / "m.h5"), wp.name, "'h'", "shape")
    one_error(run("train", f, "--keep-weights", "--no-save"), wp.name, "'h'")
    r = run("check", f)
    assert r.exit_code == 0 and "node 'h' (n2): the saved weights hold 30 values" in r.stderr


def test_weights_that_fit_still_export(tmp_path):
    f = write(tmp_path, valid())
    p = load_project(f)
    p.graph.nodes["n2"].weights = [np.full((4, 8), 0.5, "float32"), np.zeros(8, "float32")]
    write_weights_file(p.graph, weights_path_for(f))
    r = run("export", f, "--out", tmp_path / "m.h5")
    assert r.exit_code == 0, r.stderr
    import keras
    m = keras.models.load_model(tmp_path / "m.h5", compile=False)
    np.testing.assert_array_equal(m.get_layer("h").get_weights()[0], np.full((4, 8), 0.5, "float32"))


# -- 5. stale temporary files --------------------------------------------------------------------------------------
def test_the_next_save_cleans_what_a_killed_save_left(tmp_path):
    p = load_project(EXAMPLES / "tabular_mlp.layerwise")
    target = tmp_path / "p.layerwise"
    old = time.time() - 3600
    stale = [tmp_path / ".p.layerwise.ab12cd_9.tmp", tmp_path / ".p.layerwise.weights.h5.zz99yy88.tmp"]
    keep = [tmp_path / ".p.layerwise.fresh123.tmp",          # a save in progress (young)
            tmp_path / ".p.layerwise.x.ab12cd_9.tmp",        # not our exact pattern
            tmp_path / ".other.layerwise.ab12cd_9.tmp", tmp_path / "notes.tmp"]
    for f in stale + keep:
        f.write_text("x")
    for f in stale + keep[1:]:
        os.utime(f, (old, old))
    p.graph.nodes["n3"].weights = [np.zeros((30, 32), "float32"), np.zeros(32, "float32")]
    save_project(p, target)
    assert not any(f.exists() for f in stale)
    assert all(f.exists() for f in keep)
    assert target.exists() and weights_path_for(target).exists()


# -- 6. command-line arguments -------------------------------------------------------------------------------------
def test_argument_errors_are_one_line(tmp_path):
    f = write(tmp_path, valid())
    (tmp_path / "folder").mkdir()
    one_error(run("check", tmp_path / "folder"), "folder")
    one_error(run("train", tmp_path / "folder"), "folder")
    one_error(run("export", tmp_path / "folder", "--out", tmp_path / "m.h5"), "folder")
    one_error(run("check"), "PROJECT")
    one_error(run("export", f), "--out")
    one_error(run("train", f, "--epochs", "0"), "--epochs")
    one_error(run("train", f, "--epochs", "1000000000000"), "--epochs")
    one_error(run("train", f, "--epochs", "many"), "--epochs", "many")
    one_error(run("train", f, "--batch-size", "0"), "--batch-size")
    one_error(run("train", f, "--turbo"), "--turbo")
    one_error(run("train", f, "--keep-weights", "--fresh-weights"), "--fresh-weights")
    one_error(run("frobnicate"), "frobnicate")
    r = run("--help")
    assert r.exit_code == 0 and "Usage:" in r.stdout


# -- property tests ------------------------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)

EXAMPLE = json.loads((EXAMPLES / "digits_cnn.layerwise").read_text())


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(EXAMPLE) if p]
KEYS = ["format", "schema_version", "name", "description", "graph", "compile", "regularization", "data", "training",
        "id", "type", "params", "pos", "settings", "src", "dst", "port", "nodes", "edges", "l2", "dropout",
        "optimizer", "learning_rate", "epochs", "units", "shape"]


def _loads_or_refuses(d):
    try:
        p = project_from_dict(d, "p.layerwise")
    except ProjectError as e:
        assert str(e).startswith("p.layerwise: ") and len(str(e)) < 1000
        return None
    assert isinstance(p, Project)
    assert validate_settings(p) == []
    return p


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(json_values)
def test_any_json_value_is_a_project_or_a_project_error(value):
    _loads_or_refuses(value)
    _loads_or_refuses({"graph": value})
    _loads_or_refuses({"graph": {"nodes": value, "edges": []}})


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_any_mutation_of_an_example_is_a_project_or_a_project_error(data):
    d = copy.deepcopy(EXAMPLE)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(PATHS))
        cur = d
        try:
            for k in path[:-1]:
                cur = cur[k]
            last = path[-1]
            cur[last]
        except (KeyError, IndexError, TypeError):
            continue
        op = data.draw(st.sampled_from(["replace", "delete", "wrap", "key"]))
        if op == "replace":
            cur[last] = data.draw(json_values)
        elif op == "delete":
            del cur[last]
        elif op == "wrap":
            cur[last] = [cur[last]]
        elif isinstance(cur[last], dict):
            cur[last][data.draw(st.sampled_from(KEYS))] = data.draw(json_values)
    p = _loads_or_refuses(json.loads(json.dumps(d, allow_nan=True)))
    if p is not None:
        assert p.to_dict()["graph"]["nodes"] is not None


TYPES = sorted(t for t in catalog.CATALOG if t not in ("Input", "Output", "KerasLayer"))


def _param_value(p, draw):
    k = p.kind
    small = st.integers(-3, 40)
    choices = {
        "int": small | st.sampled_from([10 ** 6, 10 ** 12]),
        "optint": st.none() | small,
        "float": st.floats(-2, 5) | st.sampled_from([float("nan"), float("inf")]),
        "optfloat": st.none() | st.floats(-2, 5),
        "bool": st.booleans(),
        "ints": st.lists(st.integers(-1, 6), min_size=1, max_size=3) | st.integers(0, 6),
        "optints": st.none() | st.lists(st.integers(0, 6), min_size=1, max_size=3),
        "shape": st.lists(st.integers(-2, 12), min_size=0, max_size=4),
        "choice": st.sampled_from(list(p.choices) or ["x"]) | st.text(max_size=5),
        "multichoice": st.lists(st.sampled_from(list(p.choices) or ["x"]), max_size=3),
        "str": st.text(max_size=5),
    }
    base = choices.get(k, json_values)
    return draw(json_values if draw(st.integers(0, 9)) == 0 else base)   # now and then any JSON value at all


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_shape_inference_of_any_catalog_graph_is_a_result(data):
    draw = data.draw
    g = Graph()
    shape = draw(st.lists(st.integers(1, 12), min_size=1, max_size=4) | st.sampled_from([[10 ** 9, 10 ** 9, 3], [0]]))
    ids = [g.add_node("Input", {"shape": shape, "dtype": draw(st.sampled_from(["float32", "int32"]))}).id]
    for _ in range(draw(st.integers(1, 5))):
        spec = catalog.CATALOG[draw(st.sampled_from(TYPES))]
        params = {p.name: _param_value(p, draw) for p in spec.params if draw(st.booleans())}
        n = g.add_node(spec.type)
        for k, v in params.items():
            n.params[k] = v   # directly: the graph's set_param would refuse values of the wrong type
        lo, hi = spec.inputs
        for _ in range(max(lo, 1) if hi != 0 else 0):
            src = draw(st.sampled_from(ids))
            try:
                g.connect(src, n.id)
            except GraphError:
                pass
        ids.append(n.id)
    out = g.add_node("Output")
    try:
        g.connect(ids[-1], out.id)
    except GraphError:
        pass
    if draw(st.booleans()):
        g.set_setting(ids[-1], "l2", draw(json_values))
    reg = draw(st.none() | st.fixed_dictionaries({"l2": json_values, "dropout": json_values}))
    res = check(g, reg)
    assert isinstance(res, Result)
    for p in res.problems:
        assert len(str(p)) < 1500 and isinstance(p.message, str)


SETTING_KEYS = ["optimizer", "schedule", "l2", "dropout", "epochs", "batch_size", "seed", "device", "mixed_precision",
                "early_stopping", "validation_split", "test_split", "source", "name", "path"]
section_values = json_values | st.dictionaries(
    st.sampled_from(SETTING_KEYS), json_values | st.dictionaries(st.sampled_from(KEYS + ["name", "kind"]), json_values))


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(["compile", "regularization", "training", "data"]), section_values),
       st.dictionaries(st.sampled_from(["l2", "dropout", "trainable", "global_dropout", "shares", "call"]), json_values))
def test_validate_settings_of_any_values_is_a_list_of_lines(sections, node_settings):
    """The window calls validate_settings on whatever an edit (or an in-memory project) holds."""
    p = Project()
    for k, v in sections.items():
        setattr(p, k, v)
    p.graph.add_node("Dense").settings = node_settings
    problems = validate_settings(p)
    assert isinstance(problems, list) and all(isinstance(m, str) and "\n" not in m for m in problems)
    assert all(len(m) < 600 for m in problems)
