"""Where the app finds its resources and keeps its own files (settings, recovery, log)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
EXAMPLES = RESOURCES / "examples"
ICONS = RESOURCES / "icons"
STYLE = RESOURCES / "style"
DEFAULT_EXAMPLE = EXAMPLES / "digits_cnn.layerwise"


def data_dir() -> Path:
    """The user's data folder for Layerwise (``LAYERWISE_DATA_DIR`` overrides it, e.g. in tests)."""
    env = os.environ.get("LAYERWISE_DATA_DIR")
    if env:
        d = Path(env)
    else:
        from platformdirs import user_data_dir
        d = Path(user_data_dir("Layerwise", appauthor=False))
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    return d


def settings():
    """The app's QSettings (an INI file in the data folder, so tests can isolate it)."""
    from PySide6.QtCore import QSettings
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.layerwise"))
