"""The Runs panel's controller: reads the project's runs database (``core.experiments.runs``), fills the panel,
and carries out its actions. A database that cannot be read (damaged, from a newer Layerwise) is said in the
panel, naming the file; the window goes on and the file is left as it is. A project that was never saved has no
runs yet."""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from core.errors import LayerwiseError, RunsError
from core.experiments.diff import graph_diff
from core.experiments.runs import RunStore, runs_path, weights_file

from .marks import CanvasDiff, CurveOverlay
from .restore import RestoreRun

log = logging.getLogger(__name__)


def _dialogs():
    from app.main_window import dialogs_enabled
    return dialogs_enabled()


def comparable(run_settings, current):
    """The run's settings without the training values that only lived on its command line (initial_epoch...) and
    that the project's own section does not hold: what a project can be compared with."""
    from core.experiments.record import CONFIG_FIELDS
    from core.settings import DEFAULTS
    out = dict(run_settings or {})
    t, cur = out.get("training"), current.get("training")
    if isinstance(t, dict) and isinstance(cur, dict):
        out["training"] = {k: v for k, v in t.items()
                           if k not in CONFIG_FIELDS or k in cur or k in DEFAULTS["training"]}
    return out


class RunsController(QObject):
    def __init__(self, window, panel, plots=None):
        super().__init__(panel)
        self.window, self.panel = window, panel
        self.store = None
        self.store_path = None
        self.runs = []
        self.error = None
        self.canvas = CanvasDiff(window.scene)
        self.overlay = CurveOverlay(plots) if plots is not None else None
        self.dock = None            # the Runs dock (set by install)
        self._sized = False
        self.plots_dock = None      # set by install: the dock of the plots, brought forward to show overlays
        self._watched = None
        p = panel
        p.refresh_clicked.connect(self.refresh)
        p.selection_changed.connect(self.compare)
        p.differ_clicked.connect(self.show_differences)
        p.canvas_clicked.connect(self.diff_on_canvas)
        p.restore_clicked.connect(lambda ids: self.restore(ids[0], ask=True) if ids else None)
        p.rename_clicked.connect(self._ask_rename)
        p.tag_clicked.connect(self._ask_tags)
        p.note_clicked.connect(self._ask_note)
        p.delete_clicked.connect(lambda ids: self.delete(ids, ask=True))
        window.project_changed.connect(lambda _p: self.refresh())
        # Save As moves the project, and its runs file with it
        window.document.dirty_changed.connect(lambda _d: self.refresh() if self.path() != self.store_path else None)
        self._watch_graph()

    # -- reading ---------------------------------------------------------------------------------------------
    def path(self):
        p = self.window.project.path
        return runs_path(p) if p else None

    def _open(self):
        """The store for the current project (None when it has no runs file yet); RunsError when unreadable."""
        path = self.path()
        if path != self.store_path:
            if self.store is not None:
                self.store.close()
            self.store, self.store_path = None, path
        if self.store is None and path is not None and Path(path).exists():
            self.store = RunStore(path)
        return self.store

    def refresh(self):
        """Read the runs again and show them."""
        self._watch_graph()
        try:
            store = self._open()
            self.runs = store.list() if store is not None else []
            self.error = None
        except RunsError as e:
            self.store, self.runs, self.error = None, [], str(e)
            self.panel.set_runs([], message="runs database unreadable")
            self.panel.show_text(f"{e}\n\nNew trainings are not recorded until the file is moved away.", error=True)
            return self.runs
        if self.path() is None:
            message = "save the project to keep its runs"
        elif not self.runs:
            message = "no runs yet: every training is recorded"
        else:
            message = ""
        self.panel.set_runs(self.runs, message=message)
        return self.runs

    def run(self, run_id):
        return self._open().get(run_id)

    # -- comparing ---------------------------------------------------------------------------------------------
    def compare(self, ids):
        """Two or more runs selected: their epoch curves overlaid in the plots, and what differs in the box."""
        if self.overlay is None:
            return
        if len(ids) < 2:
            self.overlay.clear()
            self.panel.show_legend({})
            return
        ids = sorted(ids)
        store = self._open()
        shown = [(self._label(i), store.curves(i)) for i in ids[:8]]
        self.panel.show_legend(self.overlay.show(shown))
        self.panel.show_text(self._differences(ids))
        self._bring_plots_forward()

    def _bring_plots_forward(self):
        """The plots to the front, unless they share a tab with the Runs panel (that would hide the table)."""
        plots = self.plots_dock
        dock = self.dock
        if plots is not None and dock is not None and plots not in self.window.tabifiedDockWidgets(dock):
            plots.raise_()
            if not self._sized and not plots.isFloating() and plots.height() < self.window.height() * 0.4:
                self._sized = True      # room for the curves, once (the person's own sizing wins afterwards)
                self.window.resizeDocks([plots], [int(self.window.height() * 0.45)], Qt.Orientation.Vertical)

    def _label(self, run_id):
        r = next((r for r in self.runs if r["id"] == run_id), None)
        return (r.get("name") if r else None) or f"run {run_id}"

    def _differences(self, ids):
        store = self._open()
        ids = sorted(ids)       # the oldest selected run is the one the others are compared with
        base = ids[0]
        out = []
        for other in ids[1:]:
            lines = store.diff(base, other)
            out.append(f"{self._label(other)} against {self._label(base)}:")
            out += [f"  {ln}" for ln in lines] or ["  the same graph and settings"]
        return "\n".join(out)

    def show_differences(self, ids):
        if not ids:
            return
        if len(ids) == 1:
            r = self.run(ids[0])
            text = self._one_run_text(r)
        else:
            text = self._differences(ids)
        self.panel.show_text(text)
        return text

    def _one_run_text(self, r):
        from core.experiments.diff import diff_lines
        from core.experiments.record import snapshot
        cur = snapshot(self.window.project)
        lines = diff_lines(comparable(r["settings"], cur["settings"]), cur["settings"], r["graph"], cur["graph"])
        head = f"{r['name']}: {r['status']}" + (f" — {r['message']}" if r.get("message") else "")
        return head + "\n\nThe current project against this run:\n" + (
            "\n".join(f"  {ln}" for ln in lines) or "  the same graph and settings")

    def diff_on_canvas(self, ids):
        """One run: the current graph against it; two: the second against the first. Returns the diff."""
        if not ids:
            return None
        ids = sorted(ids)
        a = self.run(ids[0])
        if len(ids) >= 2:
            b = self.run(ids[1])
            target, title = b["graph"], f"{b['name']} against {a['name']}"
        else:
            target, title = self.window.project.graph.to_dict(), f"the current graph against {a['name']}"
        diff = graph_diff(a["graph"], target)
        ghosts = {}
        for g in (a["graph"], target):
            for n in (g or {}).get("nodes", []):
                pos = n.get("pos") or (0, 0)
                ghosts.setdefault(n["id"], (float(pos[0]), float(pos[1]), f"{n.get('name')} ({n.get('type')})"))
        notes = {k: "; ".join(v) for k, v in diff["changed"].items()}
        count = self.canvas.show(diff, ghosts, notes)
        self.panel.show_text(f"On the canvas: {title} — {len(diff['added'])} added (green), {len(diff['removed'])} "
                             f"removed (red, dashed), {len(diff['changed'])} changed (amber). The marks go away "
                             f"at the next edit." if count else f"{title}: no nodes differ.")
        return diff

    def _watch_graph(self):
        g = self.window.project.graph
        if self._watched is g:
            return
        for event in ("changed", "node_moved"):
            if self._watched is not None:
                getattr(self._watched.events, event).disconnect(self._clear_marks)
            getattr(g.events, event).connect(self._clear_marks)
        self._watched = g

    def _clear_marks(self, *_):
        try:
            self.canvas.clear()
        except RuntimeError:     # the canvas is gone (the window closed)
            pass

    # -- editing ---------------------------------------------------------------------------------------------
    def restore(self, run_id, ask=False):
        """Put the run's graph and settings back as one undo step. Returns True when it was applied."""
        r = self.run(run_id)
        if ask and _dialogs() and QMessageBox.question(
                self.window, "Restore run", f"Replace the graph and settings with those of {r['name']}? "
                "(Undo puts them back.)") != QMessageBox.StandardButton.Yes:
            return False
        try:
            kept = weights_file(self.store.path, r.get("weights_path"))
            cmd = RestoreRun(self.window.project, r, kept if kept is not None and kept.is_file() else None)
        except (LayerwiseError, ValueError) as e:
            self.panel.show_text(f"{r['name']} cannot be restored: {e}", error=True)
            return False
        if not self.window.push_edit(cmd):
            self.panel.show_text("Editing is locked (a training is running): restore it when the run ends.",
                                 error=True)
            return False
        if cmd.error is not None:
            self.panel.show_text(f"{r['name']} cannot be restored: {cmd.error}", error=True)
            return False
        kept = " and trained weights" if cmd.weights is not None else ""
        self.panel.show_text(f"Restored the graph{kept} and settings of {r['name']} (Edit → Undo puts them back).")
        return True

    def _edit(self, fn, *args):
        try:
            fn(*args)
        except RunsError as e:
            self.panel.show_text(str(e), error=True)
        self.refresh()

    def rename(self, run_id, name):
        self._edit(self._open().rename, run_id, name)

    def tag(self, run_id, tags):
        self._edit(self._open().tag, run_id, tags)

    def note(self, run_id, text):
        self._edit(self._open().note, run_id, text)

    def delete(self, ids, ask=False):
        if not ids:
            return
        if ask and _dialogs() and QMessageBox.question(
                self.window, "Delete runs", f"Delete {len(ids)} run(s) and their curves? This cannot be undone."
        ) != QMessageBox.StandardButton.Yes:
            return
        store = self._open()
        for i in ids:
            self._edit(store.delete, i)
        if self.overlay is not None:
            self.overlay.clear()

    def _ask_text(self, title, label, value):
        if not _dialogs():
            return None
        text, ok = QInputDialog.getText(self.window, title, label, text=value or "")
        return text if ok else None

    def _ask_rename(self, ids):
        if ids:
            r = self.run(ids[0])
            text = self._ask_text("Rename run", "Name:", r["name"])
            if text is not None and text.strip():
                self.rename(ids[0], text.strip())

    def _ask_tags(self, ids):
        if ids:
            r = self.run(ids[0])
            text = self._ask_text("Tags", "Tags (comma-separated):", ", ".join(r["tags"]))
            if text is not None:
                for i in ids:
                    self.tag(i, [t for t in text.split(",") if t.strip()])

    def _ask_note(self, ids):
        if ids:
            r = self.run(ids[0])
            if _dialogs():
                text, ok = QInputDialog.getMultiLineText(self.window, "Note", "Note:", r.get("note") or "")
                if ok:
                    for i in ids:
                        self.note(i, text)

    def shutdown(self):
        if self.store is not None:
            self.store.close()
            self.store = None

