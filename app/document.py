"""The open project as the window sees it: the core Project, its undo stack, and live shape inference.

Edits reach the graph and the project's settings only through QUndoCommands pushed with ``push`` (see
``app/commands.py``); the graph's events tell the views what changed, the project's settings events come out as
``settings_changed((section, *path))``, and a coalesced (0 ms) timer re-runs the incremental ``Inference`` once
per burst of changes, then emits ``inference_updated(result)``.

TensorFlow is imported in a background thread (``start_keras_import``); until it is ready there is no
result and the canvas shows "…" for shapes.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import threading

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from core.graph import Graph
from core.project import Project
from core.tfload import quiet_stderr

from .tasks import run_task

log = logging.getLogger(__name__)


class ShowError(Exception):
    """A view raised while it showed a project (``Document.set_project(..., strict=True)``); ``errors`` holds
    the exceptions. The previous project is open again."""

    def __init__(self, errors):
        self.errors = list(errors)
        e = self.errors[0]
        super().__init__(f"{type(e).__name__}: {e}")


@contextlib.contextmanager
def collect_slot_errors(errors: list):
    """Collect the exceptions that Qt slots raise in the GUI thread while the block runs (PySide hands them to
    ``sys.excepthook`` instead of to the code that emitted the signal)."""
    if threading.current_thread() is not threading.main_thread():
        yield errors
        return
    saved = sys.excepthook

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
            saved(exc_type, exc, tb)
            return
        log.error("error while showing the project", exc_info=(exc_type, exc, tb))
        errors.append(exc)

    sys.excepthook = hook
    try:
        yield errors
    finally:
        sys.excepthook = saved


class Document(QObject):
    project_changed = Signal(object)      # the new Project (New/Open)
    inference_updated = Signal(object)    # core.infer.Result
    keras_ready = Signal()
    keras_failed = Signal(str)
    dirty_changed = Signal(bool)
    locked_changed = Signal(bool, str)
    settings_changed = Signal(tuple)      # a project setting changed: (section, *key path), from the project's events
    direction_changed = Signal(str)       # "LR" | "TB": how the canvas lays out nodes and ports
    message = Signal(str)                 # a short note for the status bar (e.g. why an edit was refused)

    def __init__(self, project: Project | None = None, parent=None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.project = None
        self.result = None
        self.inference = None
        self.locked = False
        self.locked_reason = ""
        self._extra_dirty = False
        self._keras_ready = False
        self._import_started = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.infer_now)
        self.set_project(project or Project())
        self._check_keras_already_loaded()

    # -- project -----------------------------------------------------------------------------------------
    @property
    def graph(self):
        return self.project.graph

    def _clean_changed(self, _clean):
        try:
            self.dirty_changed.emit(self.dirty)
        except RuntimeError:   # the stack is being destroyed with the window
            pass

    def set_project(self, project: Project, strict: bool = False):
        """Replace the open project (New/Open); the undo history starts afresh.

        With ``strict``, an exception a view raises while it shows ``project`` puts the previous project back
        (with its undo history and unsaved changes) and raises ``ShowError``."""
        old, old_result = self.project, self.result
        self._swap_graph(old, project)
        self.project = project
        self.result = None
        from core.infer import Inference
        self.inference = Inference() if self.inference is None else self.inference
        errors = []
        with collect_slot_errors(errors) if (strict and old is not None) else contextlib.nullcontext():
            self.project_changed.emit(project)
            self.direction_changed.emit(self.direction)
        if errors:
            self._swap_graph(project, old)
            self.project, self.result = old, old_result
            again = []
            with collect_slot_errors(again):
                self.project_changed.emit(old)
                self.direction_changed.emit(self.direction)
            self.dirty_changed.emit(self.dirty)
            self.schedule_inference()
            raise ShowError(errors)
        # the old history goes only now: a failed show above keeps it
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._extra_dirty = False
        self.dirty_changed.emit(False)
        self.schedule_inference()

    def _swap_graph(self, old, new):
        if old is not None:
            old.graph.events.changed.disconnect(self._graph_changed)
            old.events.settings_changed.disconnect(self._settings_event)
        if new is not None:
            new.graph.events.changed.connect(self._graph_changed)
            new.events.settings_changed.connect(self._settings_event)

    @property
    def direction(self):
        ed = self.project.extra.get("editor") if self.project else None
        d = ed.get("direction") if isinstance(ed, dict) else None
        return d if d in ("LR", "TB") else "LR"

    def raw_direction(self):
        """The direction as stored in the project (None when the project does not say)."""
        ed = self.project.extra.get("editor")
        return ed.get("direction") if isinstance(ed, dict) else None

    def set_direction(self, direction):
        """Store the layout direction in the project ("LR", "TB", or None to forget it)."""
        old = self.direction
        ed = self.project.extra.get("editor")
        if direction is None:
            if isinstance(ed, dict):
                ed.pop("direction", None)
                if not ed:
                    self.project.extra.pop("editor", None)
        else:
            if not isinstance(ed, dict):
                ed = self.project.extra["editor"] = {}
            ed["direction"] = direction
        if self.direction != old:
            self.direction_changed.emit(self.direction)

    # -- editing --------------------------------------------------------------------------------------------
    def push(self, command) -> bool:
        """Apply an edit through the undo stack; refused (with a message) while editing is locked."""
        if self._refused_while_locked():
            return False
        self.undo_stack.push(command)
        return True

    def push_all(self, text, commands) -> bool:
        """Apply several edits as one undo step named ``text``; refused like ``push``."""
        if self._refused_while_locked():
            return False
        self.undo_stack.beginMacro(text)
        for command in commands:
            self.undo_stack.push(command)
        self.undo_stack.endMacro()
        return True

    def _refused_while_locked(self) -> bool:
        if self.locked:
            self.message.emit(f"Editing is locked: {self.locked_reason}" if self.locked_reason else "Editing is locked")
        return self.locked

    def set_locked(self, locked: bool, reason: str = ""):
        self.locked = bool(locked)
        self.locked_reason = reason if locked else ""
        self.undo_stack.setActive(not self.locked)
        self.locked_changed.emit(self.locked, self.locked_reason)

    @property
    def dirty(self):
        return self._extra_dirty or not self.undo_stack.isClean()

    def mark_dirty(self):
        """Something outside the undo history changed (e.g. trained weights)."""
        if not self._extra_dirty:
            self._extra_dirty = True
            self.dirty_changed.emit(True)

    def mark_clean(self):
        self._extra_dirty = False
        self.undo_stack.setClean()
        self.dirty_changed.emit(False)

    def _settings_event(self, section, path):
        """The project's settings changed (an undo command, or core, wrote them): tell the views."""
        self.settings_changed.emit((section, *path))
        if section == "regularization":
            self.schedule_inference()

    # -- inference ------------------------------------------------------------------------------------------
    def _graph_changed(self):
        self.schedule_inference()

    def schedule_inference(self):
        if self._keras_ready and not self._timer.isActive():
            self._timer.start()

    def infer_now(self):
        """Re-infer shapes and problems now (incremental) and emit ``inference_updated``."""
        self._timer.stop()
        if not self._keras_ready:
            return None
        try:
            res = self.inference.run(self.project.graph, self.project.regularization)
        except Exception as e:  # a bug in inference must not take the editor down
            log.exception("shape inference failed")
            self.message.emit(f"Shape inference failed: {type(e).__name__}: {e}")
            return None
        self.result = res
        self.inference_updated.emit(res)
        return res

    def is_keras_ready(self):
        return self._keras_ready

    def _check_keras_already_loaded(self):
        try:
            from core import tfload
            if tfload.is_loaded():
                self._keras_ready = True
                self._import_started = True
                self.schedule_inference()
        except Exception:
            pass

    def start_keras_import(self):
        """Import TensorFlow/Keras in a background thread and warm shape inference up on a copy of the graph."""
        if self._import_started:
            return
        self._import_started = True
        snapshot = self.project.graph.to_dict()
        reg = dict(self.project.regularization)

        def work():
            from core.infer import Inference
            try:
                with quiet_stderr():
                    from core.tfload import import_keras
                    import_keras()
            except Exception as e:
                log.exception("TensorFlow import failed")
                return None, f"{type(e).__name__}: {e}"
            inf = Inference()
            try:
                with quiet_stderr():
                    inf.run(Graph.from_dict(snapshot), reg)
            except Exception:
                log.exception("warm-up inference failed")
                inf = None
            return inf, None

        run_task(work, lambda r: self._on_warm_done(*r), name="keras-import")

    def _on_warm_done(self, inf, error):
        if error:
            self.keras_failed.emit(error)
            self.message.emit(f"TensorFlow could not be loaded ({error}); shapes and training are unavailable")
            return
        if inf is not None:
            self.inference = inf
        self._keras_ready = True
        self.keras_ready.emit()
        self.infer_now()
