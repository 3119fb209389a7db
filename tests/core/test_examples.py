"""The example projects: in sync with make_examples.py, pass the check, fit their datasets, train one epoch,
and the README names each one."""
import importlib.util

import pytest

from core.datasets import check_fit, load_dataset
from core.infer import check
from core.project import dumps_project, load_project
from core.training import TrainConfig, run
from tests.conftest import EXAMPLES

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.layerwise"))


def make_examples():
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_at_least_five_examples_and_the_required_kinds():
    assert len(NAMES) >= 5
    for name in ("digits_cnn", "tabular_mlp", "sequence_lstm", "attention"):
        assert name in NAMES
    types = {name: {n.type for n in load_project(EXAMPLES / f"{name}.layerwise").graph.nodes.values()}
             for name in NAMES}
    assert {"LSTM", "GRU"} & types["sequence_lstm"]
    assert "MultiHeadAttention" in types["attention"]
    assert {"Normalization", "Dense"} <= types["tabular_mlp"]
    multi = [n for n in NAMES if sum(1 for t in load_project(EXAMPLES / f"{n}.layerwise").graph.nodes.values()
                                     if t.type in ("Input", "Output")) > 2]
    assert multi, "a multi-input or multi-output example"


@pytest.mark.parametrize("name", NAMES)
def test_file_is_what_make_examples_writes(name):
    mod = make_examples()
    assert name in mod.EXAMPLES
    assert (EXAMPLES / f"{name}.layerwise").read_text(encoding="utf-8") == dumps_project(mod.EXAMPLES[name]())


@pytest.mark.parametrize("name", NAMES)
def test_example_checks_fits_and_trains_one_epoch(name):
    p = load_project(EXAMPLES / f"{name}.layerwise", load_weights=False)
    assert check(p.graph, p.regularization).ok
    ds = load_dataset(p.data)
    assert check_fit(ds, p.graph) == []
    res = run(p, data=ds, config=TrainConfig.from_project(p, epochs=1))
    assert res.error is None and res.epochs_done == 1
    assert res.test_metrics and all(v == v for v in res.test_metrics.values())  # no NaN


def test_readme_has_one_line_per_example():
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"`{name}.layerwise`" in text
