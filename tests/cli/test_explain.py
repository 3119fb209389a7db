"""``layerwise explain`` (pictures and refusals) and ``layerwise train --telemetry`` (one JSON object per probe,
the warnings printed)."""
from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from cli.main import cli
from tests.conftest import EXAMPLES


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="layerwise")


def refused(r, *words):
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert r.exit_code == 2 and len(errors) == 1, r.output
    assert all(w in errors[0] for w in words), errors[0]
    assert "Traceback" not in r.output


def test_explain_writes_saliency_and_grad_cam_pictures(tmp_path):
    d = EXAMPLES / "digits_cnn.layerwise"
    r = invoke("explain", d, "--sample", 0, "--out", tmp_path / "sal.png")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "sal.png").read_bytes()[:4] == b"\x89PNG"
    assert "sample 0 of the test split" in r.stdout and "(input | saliency)" in r.stdout
    r = invoke("explain", d, "--sample", 3, "--layer", "conv2d_2", "--out", tmp_path / "cam.png")
    assert r.exit_code == 0, r.output
    assert "Grad-CAM of 'conv2d_2'" in r.stdout and (tmp_path / "cam.png").stat().st_size > 100


def test_explain_refuses_bad_requests_and_writes_nothing(tmp_path):
    d = EXAMPLES / "digits_cnn.layerwise"
    out = tmp_path / "x.png"
    refused(invoke("explain", d, "--sample", 999999, "--out", out), "sample 999999 is out of range", "270 samples")
    refused(invoke("explain", d, "--sample", 0, "--layer", "flatten", "--out", out), "'flatten'", "no spatial axes")
    refused(invoke("explain", d, "--sample", 0, "--layer", "nope", "--out", out), "no node named 'nope'")
    refused(invoke("explain", d, "--sample", 0, "--out", tmp_path / "x.jpg"), "x.jpg", "PNG")
    assert not list(tmp_path.iterdir())


def test_train_telemetry_writes_one_object_per_probe_and_prints_the_problems(tmp_path):
    p = tmp_path / "sig.layerwise"
    shutil.copy(EXAMPLES / "deep_sigmoid.layerwise", p)
    r = invoke("train", p, "--epochs", 2, "--no-save", "--telemetry", tmp_path / "t.jsonl")
    assert r.exit_code == 0, r.output
    lines = [json.loads(ln) for ln in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert len(lines) >= 2 and all("epoch" in ln and "step" in ln for ln in lines)
    names = {f"hidden_{i}" for i in range(1, 11)} | {"digit"}
    assert names <= set(lines[-1]["layers"])
    assert any(q["kind"] == "vanishing" and q["layer"] == "hidden_1" for q in lines[-1]["problems"])
    warnings = [ln for ln in r.stderr.splitlines() if "vanishing gradients at 'hidden_1'" in ln]
    assert len(warnings) == 1 and "batch normalisation" in warnings[0]
    refused(invoke("train", p, "--telemetry", tmp_path / "no" / "t.jsonl"), "--telemetry", "does not exist")
