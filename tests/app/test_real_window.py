"""Smoke test of the real window: `layerwise` under Xvfb with Qt's xcb platform; a screenshot is saved and must
not be blank. Skipped where xvfb-run (or xdotool) is missing."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not (shutil.which("xvfb-run") and shutil.which("xdotool")),
                                reason="needs xvfb-run and xdotool")

PROBE = r'''
import os, subprocess, sys, time
shot, lw = sys.argv[1], sys.argv[2:]
app = subprocess.Popen(lw, stdout=open(shot + ".log", "w"), stderr=subprocess.STDOUT)
t0 = time.time()
seen = None
try:
    while time.time() - t0 < 60 and app.poll() is None:
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "Layerwise"], capture_output=True)
        if r.returncode == 0:
            seen = time.time() - t0
            break
        time.sleep(0.05)
    from PySide6.QtWidgets import QApplication
    qa = QApplication(["probe"])
    t1 = time.time()
    while True:   # wait until the window has painted (a slow machine may take a while after mapping it)
        time.sleep(0.5)
        img = qa.primaryScreen().grabWindow(0).toImage()
        px = [img.pixel(x, y) for x in range(0, img.width(), 9) for y in range(0, img.height(), 9)]
        if sum(1 for p in px if p & 0xFFFFFF) > 0.6 * len(px) or time.time() - t1 > 30:
            break
    time.sleep(1.0)
    qa.primaryScreen().grabWindow(0).save(shot)
    print(f"visible={seen}")
finally:
    app.terminate()
    try:
        app.wait(10)
    except subprocess.TimeoutExpired:
        app.kill()
'''


def _layerwise():
    exe = Path(sys.executable).with_name("layerwise")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from cli.main import main; main()"]


def test_real_window_under_xvfb(tmp_path):
    shot = tmp_path / "window.png"
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", LAYERWISE_DATA_DIR=str(tmp_path / "data"),
               LAYERWISE_NO_DIALOGS="1", TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, str(probe), str(shot),
                        *_layerwise()], env=env, capture_output=True, text=True, timeout=180)
    log = (tmp_path / "window.png.log").read_text() if (tmp_path / "window.png.log").exists() else ""
    assert "visible=" in r.stdout and "visible=None" not in r.stdout, (r.stdout, r.stderr[-2000:], log[-2000:])
    assert shot.exists() and shot.stat().st_size > 10_000
    from PySide6.QtGui import QImage
    img = QImage(str(shot))
    assert img.width() >= 800 and img.height() >= 600
    pixels = [img.pixel(x, y) for x in range(0, img.width(), 5) for y in range(0, img.height(), 5)]
    assert len(set(pixels)) > 30, "the screenshot is blank"
    black = sum(1 for p in pixels if p & 0xFFFFFF == 0)
    assert black < 0.5 * len(pixels), "the window does not cover the screen"
    keep = os.environ.get("LAYERWISE_SHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "real-window.png")
    assert "Traceback" not in log, log[-3000:]
