"""The main window: wires the document, the canvas and the panels together (the panels own their work).

The API the installed parts (workbench, transfer) use is written down in ``app.contracts`` (``WorkbenchHost``,
``TransferHost``); the window provides all of it.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QScrollArea, QTabBar, QTabWidget, QUndoView, QWidget

from . import cost_overlay, experiments, icons, paths, safe, theme, transfer_ui, workbench
from .workbench import gradients
from .workbench.gc_tuning import collect_on_gui_thread
from .actions import Actions
from .document import Document
from .editor.canvas import CanvasWidget
from .editor.controller import EditorController
from .files import FileController
from .panels.inspector import Inspector
from .panels.palette import Palette
from .panels.problems import ProblemsPanel
from .panels.settings import ProjectSettings
from .panels.summary import SummaryPanel

log = logging.getLogger(__name__)
# the parts installed after the first paint, each by its install(window) (see app.contracts); keyed by name in
# ``window.plugins``
PLUGINS = (("app.workbench", workbench.install), ("app.transfer_ui", transfer_ui.install),
           ("app.experiments", experiments.install), ("app.workbench.gradients", gradients.install))
STATE_VERSION = 5   # bumped when the set of docks changes (4: Runs, Sweep, Gradients, Explain; 5: layouts saved
#                     by a window closed before its panels came, which misplaced them, are dropped once)
MAX_PANEL_MIN = (360, 160)   # larger minimum sizes scroll inside their dock


class MainWindow(QMainWindow):
    project_changed = Signal(object)
    inference_updated = Signal(object)
    selection_changed = Signal(list)
    keras_ready = Signal()

    def __init__(self, project=None, *, plugins=True, start_keras=True, parent=None):
        super().__init__(parent)
        collect_on_gui_thread()   # a worker thread must never free this window's widgets
        self.setObjectName("LayerwiseMainWindow")
        self.setWindowIcon(icons.app_icon())
        self.setDockNestingEnabled(True)
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self.setDocumentMode(True)
        self.document = Document(project, self)
        self.undo_stack = self.document.undo_stack
        self.editor = EditorController(self.document, self)
        self.scene, self.view = self.editor.scene, self.editor.view
        self.canvas = CanvasWidget(self.view, self)
        self.setCentralWidget(self.canvas)
        self.files = FileController(self)
        self._docks = []
        self._build_panels()
        self.actions_ = Actions(self)
        self.actions_.build_menus()
        self.actions_.build_toolbar()
        self.cost_overlay = cost_overlay.install(self)   # View → Cost Overlay, Profile Model; Summary cost lines
        self._build_status()
        self._connect()
        self.scene.snap = paths.settings().value("snap", True, type=bool)
        self.actions_.snap.setChecked(self.scene.snap)
        self.update_title()
        self._fitted = False
        self.last_error = None
        self.plugins = {}
        self._after_paint = []
        if plugins:
            self._after_paint.append(self.install_plugins)
        if start_keras:
            self._after_paint.append(self.document.start_keras_import)
        if self.document.is_keras_ready():
            QTimer.singleShot(0, self.keras_ready.emit)
        # heavy start-up work (plugins import pyqtgraph, TensorFlow) waits until the canvas has painted once,
        # so the window shows first; a window that is never shown still gets it after a moment
        self.view.viewport().installEventFilter(self)
        QTimer.singleShot(1500, self._run_after_paint)

    # -- building -------------------------------------------------------------------------------------------------
    def _build_panels(self):
        doc = self.document
        self.palette = Palette(self)
        self.palette.activated.connect(self.editor.add_layer_after_selected)
        self.summary = SummaryPanel(doc, self)
        self.inspector = Inspector(doc, self)
        self.settings_panel = ProjectSettings(doc, self)
        self.settings_panel.select_node.connect(self.select_node)
        self.problems = ProblemsPanel(doc, self)
        self.problems.node_clicked.connect(self.select_node)
        self.history = QUndoView(doc.undo_stack, self)
        self.history.setEmptyLabel("Opened")
        L, R, B = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.palette_dock = self.add_panel(self.palette, "Layers", L)
        self.summary_dock = self.add_panel(self.summary, "Summary", L)
        self.inspector_dock = self.add_panel(self.inspector, "Inspector", R)
        self.settings_dock = self.add_panel(self.settings_panel, "Project", R)
        self.problems_dock = self.add_panel(self.problems, "Problems", B)
        self.history_dock = self.add_panel(self.history, "History", B)
        self.splitDockWidget(self.palette_dock, self.summary_dock, Qt.Orientation.Vertical)
        self.inspector_dock.raise_()
        self.problems_dock.raise_()
        self.default_layout()

    def default_layout(self):
        """Dock sizes that leave most of the window to the canvas."""
        self.resizeDocks([self.palette_dock, self.inspector_dock], [240, 380], Qt.Orientation.Horizontal)
        self.resizeDocks([self.palette_dock, self.summary_dock], [620, 150], Qt.Orientation.Vertical)
        self.resizeDocks([self.problems_dock], [190], Qt.Orientation.Vertical)
        # tab groups side by side along the bottom share its width evenly
        B = Qt.DockWidgetArea.BottomDockWidgetArea
        reps, seen = [], set()
        for d in self._docks:
            if self.dockWidgetArea(d) != B or d.isFloating() or d.isHidden() or d in seen:
                continue
            group = [d] + self.tabifiedDockWidgets(d)
            seen.update(group)
            reps.append(d)
        if len(reps) > 1:
            total = max(self.width(), 800)
            self.resizeDocks(reps, [total // len(reps)] * len(reps), Qt.Orientation.Horizontal)

    def _build_status(self):
        sb = self.statusBar()
        sb.setSizeGripEnabled(False)
        self.keras_label = QLabel("Loading TensorFlow…" if not self.document.is_keras_ready() else "")
        self.params_label = QLabel("")
        self.zoom_label = QLabel("")
        sb.addPermanentWidget(self.keras_label)
        sb.addPermanentWidget(self.params_label)

    def _connect(self):
        doc = self.document
        doc.project_changed.connect(self._project_changed)
        doc.inference_updated.connect(self.inference_updated.emit)
        doc.inference_updated.connect(self._show_totals)
        doc.keras_ready.connect(self._keras_ready)
        doc.keras_failed.connect(lambda e: self.keras_label.setText("TensorFlow unavailable"))
        doc.dirty_changed.connect(lambda _d: self.update_title())
        doc.settings_changed.connect(lambda path: path == ("name",) and self.update_title())
        doc.locked_changed.connect(self.canvas.set_locked)
        doc.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.scene.selection_ids_changed.connect(self._selection)
        self.view.context_requested.connect(self.actions_.context_menu)
        self.problems.count_changed.connect(self._problem_count)
        theme.manager().changed.connect(self._theme_changed)

    # -- API ---------------------------------------------------------------------------------------------------------
    @property
    def project(self):
        return self.document.project

    def add_panel(self, widget, title, area=Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Dock ``widget`` under ``title``; panels sharing an area are tabbed together."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.replace(' ', '_').lower()}")
        widget.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)   # panels paint their background
        hint = widget.minimumSizeHint()
        if hint.width() > MAX_PANEL_MIN[0] or hint.height() > MAX_PANEL_MIN[1]:
            # a panel that wants more room than a dock can spare scrolls instead of pushing the window
            # past the screen's edge
            box = QScrollArea(dock)
            box.setObjectName("panelScroll")
            box.setFrameShape(QScrollArea.Shape.NoFrame)
            box.setWidgetResizable(True)
            box.setWidget(widget)
            box.setMinimumSize(min(hint.width(), MAX_PANEL_MIN[0]), min(hint.height(), MAX_PANEL_MIN[1]))
            dock.setWidget(box)
        else:
            dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        first = next((d for d in self._docks if self.dockWidgetArea(d) == area and not d.isFloating()), None)
        self.addDockWidget(area, dock)
        if first is not None and area != Qt.DockWidgetArea.LeftDockWidgetArea:
            self.tabifyDockWidget(first, dock)
        self._docks.append(dock)
        dock.dockLocationChanged.connect(self._dock_titles_later)
        dock.topLevelChanged.connect(self._dock_titles_later)
        self._dock_titles_later()
        return dock

    def _dock_titles_later(self, *_):
        if not getattr(self, "_titles_pending", False):
            self._titles_pending = True
            QTimer.singleShot(0, self.refresh_dock_titles)

    def refresh_dock_titles(self):
        """Docks in a tab group show only their tab (no second title bar under it); tab names are never
        elided (the tab bar scrolls instead)."""
        self._titles_pending = False
        for bar in self.findChildren(QTabBar):
            if bar.parent() is self:
                bar.setElideMode(Qt.TextElideMode.ElideNone)
                bar.setUsesScrollButtons(True)
                bar.setExpanding(False)
        for d in self._docks:
            tabbed = bool(self.tabifiedDockWidgets(d)) and not d.isFloating()
            has_blank = d.titleBarWidget() is not None
            if tabbed and not has_blank:
                d.setTitleBarWidget(QWidget(d))
            elif not tabbed and has_blank:
                d.setTitleBarWidget(None)

    def docks(self):
        return list(self._docks)

    def select_node(self, node_id):
        """Select ``node_id`` and centre it on the canvas."""
        self.editor.select_node(node_id)

    def selected_node_ids(self):
        return self.scene.selected_node_ids()

    def set_editing_locked(self, locked: bool, reason: str = ""):
        self.document.set_locked(locked, reason)

    def is_keras_ready(self):
        return self.document.is_keras_ready()

    def last_inference(self):
        """The latest shape inference of the graph (core.infer.Result), None before the first one."""
        return self.document.result

    def mark_dirty(self):
        self.document.mark_dirty()

    def push_edit(self, command):
        return self.document.push(command)

    def show_error(self, title, message, details=None):
        log.warning("%s: %s", title, message)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(message)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if details:
            box.setDetailedText(details)
        self.statusBar().showMessage(message.splitlines()[0], 10000)
        self.last_error = (title, message, details)
        if dialogs_enabled():
            box.exec()

    def update_title(self):
        self.setWindowTitle(f"{safe.clip(self.project.name or 'untitled')}[*] — Layerwise")
        self.setWindowModified(self.document.dirty)

    def set_theme(self, mode):
        theme.manager().set_mode(mode)
        paths.settings().setValue("theme", mode)
        a = self.actions_.themes.get(mode)
        if a is not None:
            a.setChecked(True)

    # -- plugins ------------------------------------------------------------------------------------------------------
    def install_plugins(self):
        """Let the workbench and transfer parts add their panels and actions (failures are logged, never fatal).
        ``plugins`` maps each part's name to what its install returned, or to the exception it raised."""
        for name, install in PLUGINS:
            if name in self.plugins:
                continue
            try:
                self.plugins[name] = install(self)
            except Exception as e:
                log.exception("%s.install(window) failed", name)
                self.plugins[name] = e
                self.statusBar().showMessage(f"{name} could not be loaded: {e}", 10000)
        bar = self.menuBar()
        help_action = self.actions_.help_menu.menuAction()
        bar.removeAction(help_action)
        bar.addAction(help_action)   # Help stays last after menus the plugins added
        self.inspector_dock.raise_()
        self.problems_dock.raise_()
        if not self.restore_layout():
            self.default_layout()

    # -- state ----------------------------------------------------------------------------------------------------------
    def restore_layout(self):
        s = paths.settings()
        state = s.value("window/state")
        if state is not None and s.value("window/state_version", 0, type=int) == STATE_VERSION:
            return self.restoreState(state, STATE_VERSION)
        return False

    def save_layout(self):
        s = paths.settings()
        s.setValue("window/geometry", self.saveGeometry())
        if not self.plugins:
            # closed before the panels of the workbench, runs, sweeps... were added (they come after the first
            # paint): a state without them would put them side by side next time; the last full one stays
            return
        s.setValue("window/state", self.saveState(STATE_VERSION))
        s.setValue("window/state_version", STATE_VERSION)

    # -- slots ------------------------------------------------------------------------------------------------------------
    def _project_changed(self, project):
        self.update_title()
        self.inspector.show_nodes([])
        self.project_changed.emit(project)

    def _selection(self, ids):
        self.inspector.show_nodes(ids)
        if len(ids) == 1:
            self.inspector_dock.raise_()
        self.selection_changed.emit(ids)

    def _show_totals(self, result):
        self.params_label.setText(f"{result.total:,} params")

    def _problem_count(self, n):
        self.problems_dock.setWindowTitle(f"Problems ({n})" if n else "Problems")

    def _keras_ready(self):
        self.keras_label.setText("")
        self.keras_label.hide()
        self.keras_ready.emit()

    def _theme_changed(self, tokens):
        self.scene.set_style()
        self.view.viewport().update()
        self.actions_.refresh_icons()
        self.canvas.pill.refresh_icons()
        self.palette.refresh_icons()
        self.problems.show_result(self.document.result)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj is self.view.viewport() and self._after_paint:
            QTimer.singleShot(0, self._run_after_paint)
        return False

    def _run_after_paint(self):
        todo, self._after_paint = self._after_paint, []
        for fn in todo:
            fn()

    def showEvent(self, event):
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            self.editor.fit()
            QTimer.singleShot(0, self.editor.fit)

    def closeEvent(self, event):
        if not self.files.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.files.clear_recovery()
        self.files.autosave_timer.stop()
        event.accept()


def dialogs_enabled():
    """Modal error dialogs are skipped when LAYERWISE_NO_DIALOGS is set (tests, benchmarks)."""
    import os
    return not os.environ.get("LAYERWISE_NO_DIALOGS")
