"""Start the window: ``run_gui(path)`` (what ``layerwise [PROJECT]`` calls).

The window shows before TensorFlow is imported (that happens in a background thread afterwards). An
unexpected exception is logged and shown in a dialog with copyable details; the app keeps running.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import time
import traceback

log = logging.getLogger("layerwise")
_T0 = time.time()
_TRACE = bool(os.environ.get("LAYERWISE_TRACE_STARTUP"))


def trace(label):
    """With LAYERWISE_TRACE_STARTUP=1, print how long after process start each start-up step ends."""
    if _TRACE:
        sys.stderr.write(f"[startup] {time.time() - _T0:6.3f} s  {label}\n")


def _display_problem():
    """A one-line reason when no window can be shown on this machine, else None."""
    if not sys.platform.startswith("linux"):
        return None
    plat = os.environ.get("QT_QPA_PLATFORM", "")
    if plat and not plat.startswith(("xcb", "wayland")):
        return None  # offscreen, vnc, eglfs...: the user chose
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return ("no display: DISPLAY and WAYLAND_DISPLAY are not set. Run Layerwise in a desktop session, "
                "or use the command line (layerwise check | train | export).")
    if (plat.startswith("xcb") or not os.environ.get("WAYLAND_DISPLAY")):
        import ctypes.util
        missing = [lib for lib in ("xcb-cursor", "xcb-icccm", "xcb-keysyms") if ctypes.util.find_library(lib) is None]
        if missing:
            pkgs = " ".join(f"lib{m}{'0' if m == 'xcb-cursor' else ('4' if m == 'xcb-icccm' else '1')}" for m in missing)
            return (f"Qt's X11 platform needs the system libraries {', '.join('lib' + m for m in missing)}; "
                    f"install them (Debian/Ubuntu: sudo apt-get install {pkgs})")
    return None


def setup_logging():
    from .paths import data_dir
    root = logging.getLogger()
    if any(getattr(h, "_layerwise", False) for h in root.handlers):
        return
    try:
        h = logging.handlers.RotatingFileHandler(data_dir() / "layerwise.log", maxBytes=1_000_000, backupCount=2,
                                                 encoding="utf-8")
    except OSError:
        h = logging.StreamHandler()
    h._layerwise = True
    h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(h)
    root.setLevel(logging.INFO)


_in_hook = False


def show_exception(exc_type, exc, tb, window=None):
    """Log an unexpected exception and show it in a dialog with copyable details (never exits)."""
    global _in_hook
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    log.error("unexpected error:\n%s", details)
    if _in_hook or os.environ.get("LAYERWISE_NO_DIALOGS"):
        sys.stderr.write(details)
        return
    from PySide6.QtWidgets import QApplication, QMessageBox
    app = QApplication.instance()
    if app is None or threading.current_thread() is not threading.main_thread():
        sys.stderr.write(details)
        return
    _in_hook = True
    try:
        box = QMessageBox(window or app.activeWindow())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Unexpected error")
        box.setText(f"Something went wrong: {exc_type.__name__}: {exc}")
        box.setInformativeText("Layerwise keeps running; your project is still open. The details below are also "
                               "in the log file; please include them when you report the problem.")
        box.setDetailedText(details)
        from PySide6.QtCore import Qt
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.exec()
    finally:
        _in_hook = False


def install_exception_hooks(get_window=lambda: None):
    sys.excepthook = lambda t, e, tb: show_exception(t, e, tb, get_window())

    def thread_hook(args):
        if args.exc_type is SystemExit:
            return
        log.error("error in thread %s:\n%s", getattr(args.thread, "name", "?"),
                  "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)))
    threading.excepthook = thread_hook


def _load(path):
    """(project, None) or (None, a message naming the file): whatever goes wrong while loading it."""
    from core.errors import LayerwiseError
    from core.project import load_project
    try:
        return load_project(path), None
    except LayerwiseError as e:
        text = str(e)
        return None, text if str(path) in text else f"{path}: {text}"
    except Exception as e:  # a bug or a resource limit: the window still starts
        log.exception("opening %s failed", path)
        return None, f"{path}: {type(e).__name__}: {e}"


def fallback_project():
    """The digits example, else an empty project (what the window shows when the file asked for fails)."""
    from .files import load_example, new_project
    from .paths import DEFAULT_EXAMPLE
    try:
        return load_example(DEFAULT_EXAMPLE), None
    except Exception as e:
        log.warning("the example %s did not open: %s", DEFAULT_EXAMPLE, e)
        return new_project(), str(e)


def initial_project(path, settings):
    """(project, error): the file asked for, else the last project, else the digits example."""
    error = None
    if path:
        project, error = _load(path)
        if project is not None:
            return project, None
    else:
        last = settings.value("last_project", "")
        if isinstance(last, str) and last and os.path.exists(last):
            project, why = _load(last)
            if project is not None:
                return project, None
            log.warning("last project %s not opened: %s", last, why)
    project, why = fallback_project()
    return project, error or why


def make_window(project, path=None):
    """(window, error): the main window showing ``project``; when building it fails on that project, the window
    shows the example (or an empty project) instead and ``error`` says why, naming the file."""
    from .main_window import MainWindow
    try:
        return MainWindow(project), None
    except Exception as e:
        log.exception("showing %s failed", path or project.name)
        where = path or getattr(project, "path", None) or project.name
        error = f"{where}: the project could not be shown ({type(e).__name__}: {e})"
    project, _why = fallback_project()
    try:
        return MainWindow(project), error
    except Exception:
        log.exception("showing the example failed")
        from .files import new_project
        return MainWindow(new_project()), error


def run_gui(path=None) -> int:
    """Open the main window (with ``path``, the last project, or the digits example); returns the exit code."""
    why = _display_problem()
    if why:
        sys.stderr.write(f"error: the window cannot start: {why}\n")
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName("Layerwise")
    QCoreApplication.setApplicationName("Layerwise")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    trace("Qt imported")
    app.setStyle("Fusion")
    trace("QApplication")
    setup_logging()
    from . import icons, paths, theme
    app.setWindowIcon(icons.app_icon())
    settings = paths.settings()
    theme.manager().set_mode(str(settings.value("theme", "system")))
    trace("theme applied")
    from . import main_window  # noqa: F401  (timed on its own)
    trace("main window module imported")
    project, error = initial_project(path, settings)
    trace("project loaded")
    window, build_error = make_window(project, path)
    error = error or build_error
    trace("main window built")
    window.files.ask_trust(window.project)   # a project with Python code runs it only if the person says so, now
    if window.project.path is not None:
        window.files.add_recent(window.project.path)   # remembered as the last project
    install_exception_hooks(lambda: window)
    geom = settings.value("window/geometry")
    if geom is not None:
        window.restoreGeometry(geom)
    else:
        scr = app.primaryScreen().availableGeometry()
        window.resize(min(1480, int(scr.width() * 0.92)), min(920, int(scr.height() * 0.9)))
        window.move(scr.center() - window.rect().center())
    window.restore_layout()

    shown_file = os.environ.get("LAYERWISE_SHOWN_FILE")

    class FirstPaint(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint:
                obj.removeEventFilter(self)
                trace("first paint of the canvas")
                if shown_file:
                    with open(shown_file, "w") as f:
                        f.write(f"{time.time():.6f}\n")
            return False

    watcher = FirstPaint(window)
    window.view.viewport().installEventFilter(watcher)
    window.show()
    trace("show() returned")
    if error and (path or build_error):
        QTimer.singleShot(0, lambda: window.show_error("Cannot open the project", error))
    QTimer.singleShot(400, window.files.offer_recovery)
    return app.exec()
