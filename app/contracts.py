"""What the parts installed into the main window (the workbench, the transfer part) use of it: the window API.

``MainWindow`` provides all of it; the parts call it directly (no probing with ``getattr``/``hasattr``). The
workbench needs only ``WorkbenchHost``, so a small stand-in window (a QMainWindow with these signals and methods,
as the workbench tests use) can carry it; the transfer part edits the document and needs ``TransferHost``.

Each part is installed by an ``install(window)`` function listed in ``app.main_window.PLUGINS``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtCore import SignalInstance
    from PySide6.QtGui import QUndoCommand
    from PySide6.QtWidgets import QDockWidget, QMenuBar, QStatusBar, QWidget

    from core.infer import Result
    from core.project import Project

    from .document import Document
    from .editor.controller import EditorController
    from .files import FileController


@runtime_checkable
class WorkbenchHost(Protocol):
    """The window API the workbench uses. The window is a QMainWindow: its dock arrangement (``addDockWidget``,
    ``tabifyDockWidget``, ``resizeDocks``), ``menuBar()``, ``statusBar()``, ``close()`` and event filters are
    used as Qt defines them."""

    project_changed: SignalInstance     # (Project): another project is shown (New, Open, Import)
    inference_updated: SignalInstance   # (core.infer.Result): shapes and problems of the current graph
    selection_changed: SignalInstance   # (list of node ids) selected on the canvas
    keras_ready: SignalInstance         # TensorFlow has loaded

    @property
    def project(self) -> Project:
        """The project shown."""

    def add_panel(self, widget: QWidget, title: str, area: Any = ...) -> QDockWidget:
        """Dock ``widget`` under ``title`` in ``area`` (a Qt.DockWidgetArea); returns its dock."""

    def set_editing_locked(self, locked: bool, reason: str = "") -> None:
        """Lock (or unlock) editing of the graph, with the reason shown (a training run)."""

    def is_keras_ready(self) -> bool:
        """Whether TensorFlow has loaded (``keras_ready`` was emitted)."""

    def last_inference(self) -> Result | None:
        """The latest shape inference of the graph (None before the first one)."""

    def mark_dirty(self) -> None:
        """The project changed outside the undo history (trained weights): it has unsaved changes."""

    def push_edit(self, command: QUndoCommand) -> bool:
        """Apply an edit of the project (a QUndoCommand from ``app.commands``, e.g. a training or data setting) as
        one undo step; False (nothing changed) while editing is locked. A window without an undo history applies
        it (``command.redo()``) and has unsaved changes."""

    def select_node(self, node_id: str) -> None:
        """Select ``node_id`` on the canvas (``selection_changed`` follows)."""

    def show_error(self, title: str, message: str, details: str | None = None) -> None:
        """Tell the user about a failure (a dialog unless dialogs are off; the status bar)."""

    def statusBar(self) -> QStatusBar: ...

    def menuBar(self) -> QMenuBar: ...


@runtime_checkable
class TransferHost(WorkbenchHost, Protocol):
    """The window API the transfer part uses: the workbench's, plus the document it edits (undo steps, messages,
    shape inference), the file controller (unsaved changes before an import replaces the project) and the canvas
    (fit the imported graph into view)."""

    document: Document
    files: FileController
    editor: EditorController

    def selected_node_ids(self) -> list[str]:
        """The ids of the nodes selected on the canvas."""
