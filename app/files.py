"""Files: New, Open, Save, Save As, recent files, examples, export (model files in a background thread,
pictures of the graph), the unsaved-changes prompt, and autosave with recovery after a crash."""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.errors import LayerwiseError, ProjectError
from core.graph import Graph
from core.atomic import atomic_write
from core.project import EXTENSION, Project, dumps_project, load_project, loads_project, save_project

from . import paths
from .export_targets import BY_EXTENSION as TARGET_EXTENSIONS, FILTERS as TARGET_FILTERS, TargetExport
from .export_targets import chosen as chosen_target
from .tasks import run_task

log = logging.getLogger(__name__)
AUTOSAVE_MS = 60_000
MAX_RECENT = 10
PROJECT_FILTER = "Layerwise projects (*.layerwise);;All files (*)"
EXPORT_FILTERS = {
    ".h5": "Keras HDF5 model (*.h5)", ".keras": "Keras model (*.keras)", ".py": "Python script (*.py)",
    ".png": "PNG picture of the graph (*.png)", ".svg": "SVG picture of the graph (*.svg)",
}


def new_project() -> Project:
    """A fresh project: an Input and an Output waiting for layers in between."""
    p = Project(name="untitled")
    p.graph.add_node("Input", {"shape": [28, 28, 1]}, name="input", pos=(0.0, 0.0))
    p.graph.add_node("Output", None, name="output", pos=(520.0, 0.0))
    return p


def load_example(path) -> Project:
    """An example opens as an untitled copy (saving never overwrites the bundled file)."""
    p = load_project(path)
    p.path = None
    return p


def copy_project(project: Project) -> Project:
    """An independent copy (with weights) for work in another thread."""
    from core.project import project_from_dict
    c = project_from_dict(json.loads(dumps_project(project)), project.path)
    c.graph.trusted = project.graph.trusted   # the session's trust in its code is not in the file: carry it over
    for k, n in project.graph.nodes.items():
        if n.weights is not None and k in c.graph.nodes:
            c.graph.nodes[k].weights = [w.copy() if hasattr(w, "copy") else w for w in n.weights]
    return c


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class FileController(QObject):
    exported = Signal(str, str)   # path, error ("" when it worked)

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.doc = window.document
        self.settings = paths.settings()
        self.recovery_dir = paths.data_dir() / "recovery"
        self.recovery_file = self.recovery_dir / f"autosave-{os.getpid()}{EXTENSION}"
        self._exporting = False
        self.targets = TargetExport(self)   # .onnx, .tflite, SavedModel, Keras 2: checked against Keras
        self.confirm_unsaved = None   # replaceable: () -> "save" | "discard" | "cancel" (tests, scripts)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    @property
    def project(self):
        return self.doc.project

    # -- prompts ---------------------------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to go on (saved or discarded)."""
        if not self.doc.dirty:
            return True
        if self.confirm_unsaved is not None or os.environ.get("LAYERWISE_NO_DIALOGS"):
            answer = self.confirm_unsaved() if self.confirm_unsaved is not None else "discard"
            return self.save() if answer == "save" else answer == "discard"
        box = QMessageBox(self.w)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save the changes to “{self.project.name}”?")
        box.setInformativeText("Your changes will be lost if you don't save them.")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        r = box.exec()
        if r == QMessageBox.StandardButton.Save:
            return self.save()
        return r == QMessageBox.StandardButton.Discard

    def ask_trust(self, project) -> bool:
        """A project that holds Python code (Lambda layers, custom classes) runs it only when the person trusts it,
        now, for this session (core.trust; the file never says so). Default and without dialogs: not trusted."""
        from core.trust import code_nodes, is_trusted, set_trusted, summary
        if is_trusted(project) or not code_nodes(project):
            return is_trusted(project)
        name = Path(project.path).name if project.path else project.name
        yes = False
        if not os.environ.get("LAYERWISE_NO_DIALOGS"):
            r = QMessageBox.question(
                self.w, "Run this project's code?",
                f"“{name}” holds Python code: {summary(project)}.\n\nCode in a file can do anything your user "
                "account can. Trust this project and run its code in this session, or open it without running it "
                "(those layers then show a problem)?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            yes = r == QMessageBox.StandardButton.Yes
        set_trusted(project, yes)
        if not yes:
            self.doc.message.emit(f"{name}: its Python code does not run (not trusted); open it again to trust it")
        if project is self.doc.project:
            self.doc.schedule_inference()
        return yes

    # -- new / open ------------------------------------------------------------------------------------------------
    def new(self):
        if not self.maybe_save():
            return False
        self.doc.set_project(new_project())
        self.w.editor.fit()
        return True

    def open(self, path=None, example=False, ask=True) -> bool:
        """Open a project file (or an example as an untitled copy). A broken file leaves the current project open."""
        if ask and not self.maybe_save():
            return False
        if path is None:
            start = str(self.project.path.parent) if self.project.path else str(Path.home())
            path, _ = QFileDialog.getOpenFileName(self.w, "Open project", start, PROJECT_FILTER)
            if not path:
                return False
        try:
            project = load_example(path) if example else load_project(path)
        except LayerwiseError as e:
            self.w.show_error("Cannot open the project", str(e))
            return False
        except Exception as e:  # unexpected: say so, keep the current project
            log.exception("opening %s failed", path)
            self.w.show_error("Cannot open the project", f"{path}: {type(e).__name__}: {e}")
            return False
        self.ask_trust(project)
        if not self.show_project(project, path):
            return False
        warnings = project.extra.pop("_warnings", [])
        if not example:
            self.add_recent(path)
        self.w.editor.fit()
        self.doc.message.emit(f"Opened {Path(path).name}" + (" (example: Save As to keep your changes)" if example else ""))
        for warning in warnings:   # after "Opened": a weights file that was not loaded must not go unseen
            if project.weights_error:
                self.w.show_error("The trained weights were not loaded", warning)
            else:
                self.doc.message.emit(warning)
        return True

    def show_project(self, project, path) -> bool:
        """Show a loaded project; when a panel fails on it, say so naming the file (the current project stays)."""
        from .document import ShowError
        try:
            self.doc.set_project(project, strict=True)
        except ShowError as e:
            self.w.show_error("Cannot open the project",
                              f"{path}: the project could not be shown ({e}).\n\nThe current project is still open.")
            return False
        return True

    def open_recent(self, path):
        if not Path(path).exists():
            self.w.show_error("Cannot open the project", f"{path}: no such file (it was moved or deleted)")
            self.remove_recent(path)
            return False
        return self.open(path)

    # -- save -----------------------------------------------------------------------------------------------------
    def save(self) -> bool:
        if self.project.path is None:
            return self.save_as()
        return self.save_to(self.project.path)

    def save_as(self) -> bool:
        p = self.project
        start = str(p.path) if p.path else str(Path.home() / f"{p.name or 'untitled'}{EXTENSION}")
        path, _ = QFileDialog.getSaveFileName(self.w, "Save project as", start, PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(EXTENSION) and "." not in Path(path).name:
            path += EXTENSION
        if p.name in ("untitled", ""):
            p.name = Path(path).stem
        return self.save_to(path)

    def save_to(self, path) -> bool:
        """Save atomically; on failure say why and keep the project dirty (the old file stays intact)."""
        path = Path(path)
        try:
            save_project(self.project, path)
        except (OSError, LayerwiseError) as e:
            reason = getattr(e, "strerror", None) or str(e)
            self.w.show_error("Could not save the project",
                              f"{path}: {reason}.\n\nThe project is still open with its unsaved changes; "
                              "the file on disk was not changed. Try Save As… with another folder.")
            return False
        except Exception as e:
            log.exception("saving %s failed", path)
            self.w.show_error("Could not save the project", f"{path}: {type(e).__name__}: {e}")
            return False
        self.doc.mark_clean()
        self.add_recent(path)
        self.clear_recovery()
        self.w.update_title()
        self.doc.message.emit(f"Saved {path.name}")
        return True

    # -- recent files -------------------------------------------------------------------------------------------------
    def recent(self):
        v = self.settings.value("recent", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])]

    def add_recent(self, path):
        path = str(Path(path).resolve())
        items = [path] + [p for p in self.recent() if p != path]
        self.settings.setValue("recent", items[:MAX_RECENT])
        self.settings.setValue("last_project", path)

    def remove_recent(self, path):
        self.settings.setValue("recent", [p for p in self.recent() if p != str(path)])

    def clear_recent(self):
        self.settings.setValue("recent", [])

    # -- export ---------------------------------------------------------------------------------------------------------
    def export_dialog(self, kind=None):
        kinds = [kind] if kind else list(EXPORT_FILTERS)
        p = self.project
        base = (p.path.with_suffix("") if p.path else Path.home() / (p.name or "model"))
        filters = [EXPORT_FILTERS[k] for k in kinds] + (list(TARGET_FILTERS) if kind is None else [])
        path, flt = QFileDialog.getSaveFileName(self.w, "Export", f"{base}{kinds[0]}", ";;".join(filters))
        if not path:
            return False
        target = chosen_target(path, flt)
        if target:
            return self.targets.start(*target)
        ext = Path(path).suffix.lower()
        if ext not in EXPORT_FILTERS:
            for k, f in EXPORT_FILTERS.items():
                if f == flt:
                    path, ext = path + k, k
                    break
        return self.export(path)

    def ready_to_export(self, busy) -> bool:
        """Whether a model export may start now (``busy``: one of that kind runs); else say why and return False."""
        if not self.doc.is_keras_ready():
            self.w.show_error("Cannot export yet", "TensorFlow is still loading; try again in a few seconds.")
            return False
        if busy:
            self.doc.message.emit("An export is already running")
            return False
        res = self.doc.result
        if res is not None and res.problems:
            self.w.show_error("Cannot export the model", f"The graph has {len(res.problems)} problem(s); fix them "
                              f"first (see the Problems panel).\n\n{res.problems[0]}")
            return False
        return True

    def export(self, path) -> bool:
        ext = Path(path).suffix.lower()
        if ext in (".png", ".svg"):
            try:
                self.w.editor.export_image(path)
            except OSError as e:
                self.w.show_error("Could not export the picture", str(e))
                return False
            self.doc.message.emit(f"Wrote {Path(path).name}")
            self.exported.emit(str(path), "")
            return True
        if ext in TARGET_EXTENSIONS:
            return self.targets.start(path, TARGET_EXTENSIONS[ext])
        if ext not in (".h5", ".keras", ".py"):
            self.w.show_error("Cannot export", f"{Path(path).name}: unknown format; use .h5, .keras, .py, .onnx, "
                              ".tflite, .png or .svg")
            return False
        if not self.ready_to_export(self._exporting):
            return False
        snapshot = copy_project(self.project)
        self._exporting = True
        self.doc.message.emit(f"Exporting {Path(path).name}…")

        def work():
            from core.export import export
            export(snapshot, path)

        def failed(e):
            if isinstance(e, (LayerwiseError, OSError)):
                self._export_done(str(path), str(e))
            else:  # Keras errors: report, never crash
                log.error("export failed", exc_info=e)
                self._export_done(str(path), f"{type(e).__name__}: {e}")

        run_task(work, lambda _r: self._export_done(str(path), ""), failed, name="export")
        return True

    def _export_done(self, path, error):
        self._exporting = False
        if error:
            self.w.show_error("Export failed", f"{Path(path).name}: {error}")
        else:
            self.doc.message.emit(f"Exported {Path(path).name}")
        self.exported.emit(path, error)

    # -- autosave and recovery ----------------------------------------------------------------------------------------------
    def autosave(self):
        """Write the unsaved project to a recovery file (at most a minute of work is lost in a crash)."""
        if not self.doc.dirty:
            return False
        try:
            self.recovery_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(self.recovery_file, dumps_project(self.project))
            meta = {"path": str(self.project.path) if self.project.path else None, "time": time.time(),
                    "name": self.project.name}
            atomic_write(self.recovery_file.with_suffix(".json"), json.dumps(meta))
            return True
        except OSError as e:
            log.warning("autosave failed: %s", e)
            return False

    def clear_recovery(self):
        for f in (self.recovery_file, self.recovery_file.with_suffix(".json")):
            try:
                f.unlink()
            except OSError:
                pass

    def pending_recovery(self):
        """The newest recovery file left by a Layerwise that did not close properly, or None."""
        best = None
        try:
            files = list(self.recovery_dir.glob(f"autosave-*{EXTENSION}"))
        except OSError:
            return None
        for f in files:
            try:
                pid = int(f.stem.split("-", 1)[1])
            except (IndexError, ValueError):
                continue
            if pid == os.getpid() or _pid_alive(pid):
                continue
            try:
                meta = json.loads(f.with_suffix(".json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {"time": f.stat().st_mtime}
            if best is None or meta.get("time", 0) > best[1].get("time", 0):
                best = (f, meta)
        return best

    def offer_recovery(self, ask=True):
        found = self.pending_recovery()
        if not found:
            return False
        f, meta = found
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(meta.get("time", 0)))
        name = meta.get("name") or "untitled"
        if ask:
            r = QMessageBox.question(self.w, "Recover unsaved work?",
                                     f"Layerwise did not close properly. Recover the unsaved changes to “{name}” "
                                     f"from {when}?",
                                     QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            if r != QMessageBox.StandardButton.Yes:
                self._drop(f)
                return False
        try:
            project = loads_project(f.read_text(encoding="utf-8"), meta.get("path"))
        except (OSError, ProjectError) as e:
            self.w.show_error("Cannot recover", f"{f}: {e}")
            self._drop(f)
            return False
        project.path = Path(meta["path"]) if meta.get("path") else None
        self.ask_trust(project)
        self.doc.set_project(project)
        self.doc.mark_dirty()
        self._drop(f)
        self.autosave()
        self.w.editor.fit()
        self.doc.message.emit(f"Recovered unsaved work from {when}")
        return True

    def _drop(self, f):
        for x in (f, f.with_suffix(".json")):
            try:
                x.unlink()
            except OSError:
                pass


__all__ = ["FileController", "new_project", "load_example", "copy_project", "Graph"]
