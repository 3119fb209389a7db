"""The Runs panel: the table of recorded runs with a filter, the actions on the selected runs (compare curves, show
what differs, diff on the canvas, restore, rename, tag, note, delete) and a box that says what differs or what
went wrong. It only shows and asks; ``controller.RunsController`` acts."""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit,
                               QPushButton, QSizePolicy, QSplitter, QTableView, QVBoxLayout, QWidget)

from .table import RunsModel


class RunsPanel(QWidget):
    """Signals carry the selected run ids (in table order)."""

    refresh_clicked = Signal()
    selection_changed = Signal(list)
    differ_clicked = Signal(list)
    canvas_clicked = Signal(list)
    restore_clicked = Signal(list)
    rename_clicked = Signal(list)
    tag_clicked = Signal(list)
    note_clicked = Signal(list)
    delete_clicked = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("runs_panel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addLayout(self._top_row())
        self.model = RunsModel(self)
        self.filter_text = ""
        self.table = self._make_table()
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setObjectName("runs_details")
        self.details.setPlaceholderText("Select two or more runs to overlay their curves in the plots; "
                                        "“What differs” lists only the settings and nodes that differ.")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self.legend = QLabel("")
        self.legend.setObjectName("runs_legend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.legend.hide()
        lay.addWidget(self.legend)
        lay.addLayout(self._button_row())
        self.filter.textChanged.connect(self._filter)
        self.table.selectionModel().selectionChanged.connect(self._selection)
        self._sync_buttons()

    def _top_row(self):
        row = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter runs: name, status, setting value, tag, note…")
        self.filter.setClearButtonEnabled(True)
        self.count = QLabel("")
        self.count.setObjectName("runs_count")
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.setToolTip("Read the runs database again (runs recorded by other processes appear)")
        self.refresh_btn.clicked.connect(self.refresh_clicked)
        row.addWidget(self.filter, 1)
        row.addWidget(self.count)
        row.addWidget(self.refresh_btn)
        return row

    def _make_table(self):
        t = QTableView()
        t.setObjectName("runs_table")
        t.setModel(self.model)
        t.setSortingEnabled(True)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setAlternatingRowColors(True)
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setDefaultSectionSize(22)
        t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)   # no per-row size hints
        h = t.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        h.setStretchLastSection(True)
        h.setDefaultSectionSize(90)
        t.setWordWrap(False)
        t.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        t.doubleClicked.connect(lambda _i: self.differ_clicked.emit(self.selected_ids()))
        return t

    def _button_row(self):
        row = QHBoxLayout()
        self.buttons = {}
        for key, text, tip, signal in (
                ("differ", "What differs", "List the settings and graph nodes that differ between the selected "
                 "runs (against the first selected)", self.differ_clicked),
                ("canvas", "Diff on canvas", "Colour the nodes added, removed and changed on the canvas: one run "
                 "against the current graph, or the second selected run against the first", self.canvas_clicked),
                ("restore", "Restore…", "Put this run's graph and settings back (one undo step)",
                 self.restore_clicked),
                ("rename", "Rename…", "Rename the run", self.rename_clicked),
                ("tag", "Tags…", "Set the run's tags (comma-separated)", self.tag_clicked),
                ("note", "Note…", "Write a note on the run", self.note_clicked),
                ("delete", "Delete", "Delete the selected runs from the runs database", self.delete_clicked)):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(lambda _c=False, s=signal: s.emit(self.selected_ids()))
            self.buttons[key] = b
            row.addWidget(b)
        row.addStretch(1)
        return row

    # -- contents ------------------------------------------------------------------------------------------
    def set_runs(self, runs, message=""):
        """Show ``runs``; the selection (by id) is kept when the runs are still there."""
        keep = set(self.selected_ids())
        self.table.setUpdatesEnabled(False)
        try:
            self.model.set_runs(runs)
            if self.model.sorted_by is None and self.model.columns:
                self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)     # newest first
            self._apply_filter()
            self._fit_columns()
            if keep:
                self.select_ids(keep)
        finally:
            self.table.setUpdatesEnabled(True)
        self._count(message)
        self._sync_buttons()

    def _fit_columns(self):
        titles = [c.title for c in self.model.columns]
        if titles == getattr(self, "_fitted", None):
            return      # the same columns: the widths the person set stay
        self._fitted = titles
        h = self.table.horizontalHeader()
        fm = self.table.fontMetrics()
        for i, col in enumerate(self.model.columns):
            h.resizeSection(i, max(60, min(220, fm.horizontalAdvance(col.title) + 28)))
        if self.model.columns:
            h.resizeSection(0, 140)
            h.resizeSection(1, 120)

    def _count(self, message=""):
        n, shown = self.model.rowCount(), len(self.visible_rows())
        text = message or (f"{n} run{'s' if n != 1 else ''}" if n == shown else f"{shown} of {n} runs")
        self.count.setText(text)

    def show_legend(self, colours):
        """``{label: colour}`` of the runs overlaid in the plots (hidden when empty)."""
        import html
        parts = [f"<span style='color:{c}'>■</span>&nbsp;{html.escape(label)}" for label, c in colours.items()]
        self.legend.setText("In the plots (validation dashed): " + "&nbsp;&nbsp;&nbsp;".join(parts))
        self.legend.setVisible(bool(colours))

    def show_text(self, text, error=False):
        self.details.setPlainText(text)
        self.details.setStyleSheet("color: #d93d42;" if error else "")

    def selected_ids(self):
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.runs[r]["id"] for r in rows if not self.table.isRowHidden(r)]

    def select_ids(self, ids):
        ids = set(ids)
        sel = self.table.selectionModel()
        sel.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for r, run in enumerate(self.model.runs):
            if run["id"] in ids and not self.table.isRowHidden(r):
                sel.select(self.model.index(r, 0), flags)

    def visible_rows(self):
        """The rows the filter lets through, in table order."""
        return [r for r in range(self.model.rowCount()) if not self.table.isRowHidden(r)]

    def _filter(self, text):
        self.filter_text = text.strip()
        self._apply_filter()
        self._count()
        self._sync_buttons()

    def _apply_filter(self):
        """Hide the rows that do not hold every word of the filter (name, settings, tags, note...)."""
        text = self.filter_text
        for r in range(self.model.rowCount()):
            hide = bool(text) and not self.model.matches(r, text)
            if self.table.isRowHidden(r) != hide:
                self.table.setRowHidden(r, hide)
        if text:
            sel = self.table.selectionModel()
            for i in sel.selectedRows():
                if self.table.isRowHidden(i.row()):
                    sel.select(i, sel.SelectionFlag.Deselect | sel.SelectionFlag.Rows)

    def _selection(self, *_):
        self._sync_buttons()
        self.selection_changed.emit(self.selected_ids())

    def _sync_buttons(self):
        n = len(self.selected_ids())
        for key, b in self.buttons.items():
            need = {"differ": n >= 1, "canvas": n in (1, 2), "restore": n == 1, "rename": n == 1}.get(key, n >= 1)
            b.setEnabled(need)
