"""core.atomic: one way to write a file whole or not at all (project files, weights sidecars, exported models)."""
import os

import pytest

from core.atomic import atomic_write, replacing
from core.tfload import quiet_stderr


def test_replacing_swaps_in_the_new_file_only_on_success(tmp_path):
    target = tmp_path / "m.h5"
    target.write_bytes(b"old")
    with replacing(target, suffix=".h5") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".h5" and tmp.exists()
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new" and [f.name for f in tmp_path.iterdir()] == ["m.h5"]
    with pytest.raises(RuntimeError):
        with replacing(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"new" and [f.name for f in tmp_path.iterdir()] == ["m.h5"]


def test_atomic_write_text_and_stale_leftovers(tmp_path):
    target = tmp_path / "p.layerwise"
    stale = tmp_path / ".p.layerwise.ab12cd_9.tmp"
    stale.write_text("x")
    os.utime(stale, (0, 0))
    atomic_write(target, "ü\n")
    assert target.read_text(encoding="utf-8") == "ü\n" and not stale.exists()


def test_quiet_stderr_restores_descriptor_2(capfd):
    with quiet_stderr():
        os.write(2, b"chatter\n")
    os.write(2, b"after\n")
    err = capfd.readouterr().err
    assert "chatter" not in err and "after" in err
