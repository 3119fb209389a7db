"""The search space of a sweep: --dim specs, paths resolved against a project, a trial's values applied, the
project file's sweep section, and bad input named. No TensorFlow, no Optuna."""
import json

import pytest

from core.experiments import space as sp
from core.experiments.sweep_section import section_problem, with_dimension
from core.errors import ProjectError
from core.project import Project, loads_project
from tests.core.helpers import chain


def mlp():
    g, ids = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 16, "activation": "relu"}, "hidden"),
                   ("Dropout", {"rate": 0.2}, "drop"), ("Dense", {"units": 3, "activation": "softmax"}, "head"),
                   ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    return p, ids


def test_specs_read_as_ranges_log_ranges_choices_and_fixed_values():
    assert sp.parse_spec("x", "1:10") == sp.Dimension("x", "int", 1, 10)
    assert sp.parse_spec("x", "1e-5:3e-1:log") == sp.Dimension("x", "float", 1e-5, 0.3, True)
    assert sp.parse_spec("x", "0.1:0.5") == sp.Dimension("x", "float", 0.1, 0.5)
    assert sp.parse_spec("x", "relu,tanh,none").choices == ("relu", "tanh", None)
    assert sp.parse_spec("x", "16,32").choices == (16, 32)
    assert sp.parse_spec("x", "true,false").choices == (True, False)
    assert sp.parse_spec("x", "64") == sp.Dimension("x", "fixed", value=64)
    assert sp.parse_spec("x", "optional").kind == "optional"


@pytest.mark.parametrize("spec, words", [
    ("5:5", "low must be below high, got 5:5"),
    ("0.3:0.1", "low must be below high"),
    ("0:0.1:log", "a log range must be above 0, got 0:0.1:log"),
    ("-1:1:log", "a log range must be above 0"),
    (",", "the list of choices is empty"),
    ("", "the list of choices is empty"),
    ("1:2:lin", "a range is LOW:HIGH or LOW:HIGH:log"),
    ("a:b", "low and high must be numbers"),
    ("nan:1", "low and high must be numbers"),
    ("3,3", "the choices repeat a value"),
])
def test_a_bad_spec_is_one_line_naming_the_dimension(spec, words):
    with pytest.raises(sp.SpaceError) as e:
        sp.parse_spec("compile.optimizer.learning_rate", spec)
    msg = str(e.value)
    assert msg.startswith("--dim compile.optimizer.learning_rate: ") and words in msg and "\n" not in msg


def test_paths_resolve_nodes_by_name_or_id_and_check_values_against_the_catalog_and_the_settings():
    p, ids = mlp()
    assert sp.parse_dim("hidden.units=8:64:log", p) == sp.Dimension(f"{ids[1]}.units", "int", 8, 64, True)
    assert sp.parse_dim(f"{ids[1]}.units=8:64", p).path == f"{ids[1]}.units"
    # a float param given whole numbers is a float range
    assert sp.parse_dim("regularization.l2=0:1", p) == sp.Dimension("regularization.l2", "float", 0.0, 1.0)
    assert sp.parse_dim("regularization.dropout=0.0:0.5", p).kind == "float"
    assert sp.parse_dim("drop=optional", p) == sp.Dimension(ids[2], "optional")
    bad = {"nosuch.units=1:4": "no node named 'nosuch'",
           "hidden.colour=1:4": "node 'hidden' (n2) (Dense) has no param 'colour'",
           "hidden.units=0:4": "0 is not allowed",
           "drop.rate=0:1": "1.0 is not allowed: must be < 1",
           "compile.optimizer.learning_rate=0.1:20": "20 is not allowed",
           "training.batch_size=0:8": "0 is not allowed",
           "data.validation_split=0.1:0.2": "the data settings cannot be swept",
           "features=optional": "is an Input: it cannot be left out",
           "hidden.units": "expected PATH=SPEC"}
    for text, words in bad.items():
        with pytest.raises(sp.SpaceError) as e:
            sp.parse_dim(text, p)
        assert words in str(e.value), (text, str(e.value))


def test_apply_sets_node_params_and_settings_on_a_copy_and_leaves_out_an_optional_node():
    p, ids = mlp()
    dims = [sp.parse_dim(t, p) for t in ("hidden.units=8:64", "compile.optimizer.learning_rate=1e-4:1e-1:log",
                                          "drop=optional", "training.batch_size=8,16")]
    q = sp.apply(p, {dims[0].path: 32, dims[1].path: 0.01, dims[2].path: False, dims[3].path: 16}, dims)
    assert q.graph.nodes[ids[1]].params["units"] == 32 and p.graph.nodes[ids[1]].params["units"] == 16
    assert q.compile["optimizer"]["learning_rate"] == 0.01 and q.training["batch_size"] == 16
    assert ids[2] not in q.graph.nodes and ids[2] in p.graph.nodes
    assert q.graph.inputs_of(ids[3]) == [ids[1]]     # the dropout's input now feeds its consumer
    kept = sp.apply(p, {dims[2].path: True}, dims)
    assert ids[2] in kept.graph.nodes
    assert sp.labels(p, dims)[dims[0].path] == "hidden.units"


def test_suggest_asks_optuna_for_each_kind():
    optuna = pytest.importorskip("optuna")
    p, ids = mlp()
    dims = [sp.parse_dim(t, p) for t in ("hidden.units=8:64:log", "compile.optimizer.learning_rate=1e-4:1e-1:log",
                                          "drop=optional", "hidden.activation=relu,tanh", "training.epochs=2")]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        values = sp.suggest(study.ask(), dims)
        assert 8 <= values[dims[0].path] <= 64 and isinstance(values[dims[0].path], int)
        assert 1e-4 <= values[dims[1].path] <= 0.1
        assert values[dims[2].path] in (True, False) and values[dims[3].path] in ("relu", "tanh")
        assert values["training.epochs"] == 2


def test_the_fingerprint_ignores_order_and_tells_spaces_apart():
    a, b = sp.parse_spec("x", "1:4"), sp.parse_spec("y", "a,b")
    assert sp.fingerprint([a, b]) == sp.fingerprint([b, a])
    assert sp.fingerprint([a]) != sp.fingerprint([sp.parse_spec("x", "1:5")])


def test_the_sweep_section_round_trips_through_the_project_file_and_a_bad_one_names_its_field():
    p, ids = mlp()
    sec = with_dimension({}, sp.parse_dim("hidden.units=8:64:log", p))
    sec = with_dimension(sec, sp.parse_dim("compile.optimizer.learning_rate=1e-4:1e-1:log", p))
    d = p.to_dict()
    d["sweep"] = dict(sec, trials=12, objective="val_accuracy")
    q = loads_project(json.dumps(d), "p.layerwise")
    assert q.extra["sweep"]["dimensions"][0] == {"path": f"{ids[1]}.units", "kind": "int", "low": 8, "high": 64,
                                                 "log": True}
    assert json.loads(json.dumps(q.to_dict()))["sweep"]["trials"] == 12
    cases = [("x", '"sweep" must be an object'),
             ({"version": 9}, '"sweep.version" is 9: the sweep section was saved by a newer Layerwise'),
             ({"dimensions": [{"path": "a", "kind": "float", "low": 1, "high": 1}]},
              '"sweep.dimensions[0]": low must be below high'),
             ({"dimensions": [{"path": "a", "kind": "float", "low": 0, "high": 1, "log": True}]},
              "a log range must be above 0"),
             ({"dimensions": [{"path": "a", "kind": "choice", "choices": []}]}, "the list of choices is empty"),
             ({"trials": 0}, '"sweep.trials" must be a whole number of at least 1'),
             ({"colour": 1}, "unknown key 'colour'"),
             ({"pruner": "asha"}, '"sweep.pruner" must be "median" or "hyperband"')]
    for value, words in cases:
        assert words in (section_problem(value) or ""), (value, section_problem(value))
    d["sweep"] = {"dimensions": [{"path": "a", "kind": "int", "low": 3, "high": 1}]}
    with pytest.raises(ProjectError) as e:
        loads_project(json.dumps(d), "p.layerwise")
    assert str(e.value).startswith("p.layerwise: \"sweep.dimensions[0]\": low must be below high")
