"""The bad-input corpus through the command line: every case in this process (click's runner), a sample through
real processes. Each ends with its documented exit code, one clear line naming the file, node or field, no
traceback, and nothing changed on disk."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from .bad_inputs import cases, snapshot, write_case

CASES = cases()
BY_ID = {c.id: c for c in CASES}
# a sample for real processes: one of each kind of input
PROCESS_SAMPLE = ["json-array", "pos-nan", "optimizer-string-train", "dropout-1.5-check", "npz-nan", "image-corrupt",
                  "weights-garbage-export", "model-lambda-untrusted", "check-folder", "train-epochs-zero"]


def test_corpus_is_large_and_varied():
    assert len(CASES) >= 150
    kinds = {t for c in CASES for t in c.tags}
    assert kinds >= {"project", "graph", "data", "weights", "model", "cli"}
    assert set(PROCESS_SAMPLE) <= set(BY_ID)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout("the command ran past 60 s: bad input must be refused before work starts")


def check_answer(case, code, out, err):
    """The shared verdict for a case's exit code and output."""
    text = out + err
    assert "Traceback" not in text, f"{case.id}: a traceback\n{text[-2000:]}"
    assert code in case.codes, f"{case.id}: exit {code}, expected {case.codes}\n{text[-1500:]}"
    assert len(text) < 6000, f"{case.id}: {len(text)} characters of output (a flood)"
    if code == 2:
        errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, f"{case.id}: expected one error: line on stderr, got\n{err[-1500:]}"
        where = errors[0]
    else:
        where = text
    assert any(w.lower() in where.lower() for w in case.words), \
        f"{case.id}: the message names none of {case.words}: {where[:400]!r}"
    assert max((len(ln) for ln in text.splitlines()), default=0) < 1000, f"{case.id}: a line over 1000 characters"


@pytest.mark.parametrize("cid", [c.id for c in CASES])
def test_case_in_process(cid, tmp_path, monkeypatch):
    from cli.main import cli
    case = BY_ID[cid]
    folder = tmp_path / "case"
    write_case(case, folder)
    before = snapshot(folder)
    monkeypatch.chdir(folder)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        result = CliRunner().invoke(cli, case.args, prog_name="layerwise")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback
        raise AssertionError(f"{cid}: an exception escaped: "
                             + "".join(traceback.format_exception(result.exception))[-3000:])
    check_answer(case, result.exit_code, result.stdout, result.stderr)
    assert snapshot(folder) == before, f"{cid}: files changed on disk"


def _layerwise():
    exe = Path(sys.executable).with_name("layerwise")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("layerwise")
    assert found, "no layerwise command: install the project (pip install -e .)"
    return [found]


@pytest.mark.parametrize("cid", PROCESS_SAMPLE)
def test_case_in_a_real_process(cid, tmp_path):
    case = BY_ID[cid]
    folder = tmp_path / "case"
    write_case(case, folder)
    before = snapshot(folder)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(_layerwise() + case.args, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL)
    assert proc.returncode >= 0, f"{cid}: killed by signal {-proc.returncode}"
    check_answer(case, proc.returncode, proc.stdout, proc.stderr)
    assert snapshot(folder) == before, f"{cid}: files changed on disk"
