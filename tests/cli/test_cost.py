"""``layerwise check --cost [--json]`` and ``layerwise profile``: the table, the JSON object, the budget in red
with its top contributors, a bad budget (exit 2, naming the field) and the measured latency."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner

from cli.main import cli
from tests.conftest import EXAMPLES

DIGITS = EXAMPLES / "digits_cnn.layerwise"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="layerwise")


def with_budget(tmp_path, budget):
    d = json.loads(DIGITS.read_text())
    d["training"]["budget"] = budget
    path = tmp_path / "budget.layerwise"
    path.write_text(json.dumps(d))
    return path


def test_check_cost_prints_the_table_and_totals():
    r = invoke("check", DIGITS, "--cost")
    assert r.exit_code == 0, r.output
    assert re.search(r"conv2d_1 \(n4\)\s+Conv2D\s+591 k\s+9,248\s+8.19 KB", r.output)
    assert "Total MACs per sample: 973,054" in r.output
    assert "Training memory:" in r.output and "adam state, 2 slot(s)" in r.output


def test_check_cost_json_is_one_object_with_nodes_and_totals():
    r = invoke("check", DIGITS, "--cost", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert {"id", "name", "macs", "params", "activation_bytes"} <= set(d["nodes"][0])
    conv = next(n for n in d["nodes"] if n["id"] == "n4")
    assert (conv["name"], conv["macs"], conv["params"], conv["activation_bytes"]) == ("conv2d_1", 590848, 9248, 8192)
    t = d["total"]
    assert (t["macs"], t["params"], t["weight_bytes"]) == (973054, 94314, 4 * 94314)
    assert t["training_bytes"] == t["weight_bytes"] * 3 + t["activation_bytes"] * t["batch_size"]


def test_over_budget_is_red_with_top_contributors_and_exit_1(tmp_path):
    path = with_budget(tmp_path, {"max_macs": 100000, "max_params": 10 ** 7})
    r = CliRunner().invoke(cli, ["check", str(path), "--cost"], prog_name="layerwise", color=True)
    assert r.exit_code == 1, r.output
    line = next(ln for ln in r.output.splitlines() if "over budget" in ln)
    assert "\x1b[31m" in line   # red
    assert "MACs per sample 973 k over the budget of 100 k; top contributors: conv2d_1 591 k, conv2d_2 295 k" in line
    d = json.loads(invoke("check", path, "--cost", "--json").stdout)
    assert d["budget"]["exceeded"] == [{"key": "max_macs", "limit": 100000.0, "value": 973054.0}]


def test_bad_budget_is_one_line_naming_the_field_exit_2(tmp_path):
    for budget, words in (({"max_params": -5}, '"training.budget.max_params" must be at least 0, got -5'),
                          ({"max_latency_ms": "fast"}, '"training.budget.max_latency_ms" must be a number')):
        path = with_budget(tmp_path, budget)
        before = sorted(p.name for p in tmp_path.iterdir())
        r = invoke("check", path, "--cost")
        assert r.exit_code == 2, r.output
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 and words in errors[0], r.stderr
        assert "Traceback" not in r.output
        assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_profile_times_the_model_and_each_node():
    r = invoke("profile", DIGITS, "--batch", "4")
    assert r.exit_code == 0, r.output
    assert re.search(r"Batch 1: [0-9.]+ (ms|µs) per call", r.output)
    assert re.search(r"Batch 4: [0-9.]+ (ms|µs) per call", r.output)
    assert re.search(r"conv2d_1 \(n4\)\s+Conv2D\s+[0-9.]+ (ms|µs)", r.output)
    assert "Sum of the nodes:" in r.output


def test_profile_on_a_device_that_is_not_there_is_exit_2():
    r = invoke("profile", DIGITS, "--device", "gpu:99")
    assert r.exit_code == 2, r.output
    assert "gpu:99" in r.stderr and "Traceback" not in r.output


def test_json_without_cost_and_a_graph_with_problems(tmp_path):
    r = invoke("check", DIGITS, "--json")
    assert r.exit_code == 2 and "--json goes with --cost" in r.stderr
    d = json.loads(DIGITS.read_text())
    d["graph"]["nodes"][3]["params"]["filters"] = -3
    path = tmp_path / "broken.layerwise"
    path.write_text(json.dumps(d))
    r = invoke("check", path, "--cost", "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["problems"] == ["node 'conv2d_1' (n4): filters must be >= 1, got -3"]
    assert out["total"]["macs"] == out["nodes"][2]["macs"] + out["nodes"][1]["macs"]   # what could be inferred
