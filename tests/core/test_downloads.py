"""Keras' download cache, shared by the Keras datasets and the ImageNet weights: where it is, the network probe."""
import socket
import time
from pathlib import Path

from core import downloads


def test_cache_folder_follows_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    dirs = downloads.cache_dirs()
    assert downloads.keras_home() == dirs[0] == tmp_path / "kh"
    assert Path("~").expanduser() / ".keras" in dirs and len(set(dirs)) == len(dirs)
    monkeypatch.delenv("KERAS_HOME")
    assert downloads.cache_dirs()[0] in (Path.home() / ".keras", Path("/tmp/.keras"))


def test_socket_timeout_is_restored_and_offline_switch(monkeypatch):
    before = socket.getdefaulttimeout()
    with downloads.socket_timeout(7):
        assert socket.getdefaulttimeout() == 7
    assert socket.getdefaulttimeout() == before
    monkeypatch.delenv("LAYERWISE_OFFLINE", raising=False)
    assert downloads.switched_off() is False
    monkeypatch.setenv("LAYERWISE_OFFLINE", "1")
    assert downloads.switched_off() is True


def test_probe_of_a_host_that_does_not_answer_returns_quickly():
    t = time.perf_counter()
    assert downloads.online("127.0.0.1", 9, timeout=1.0) is False     # the discard port: nothing listens
    assert time.perf_counter() - t < 3.0
