"""The Runs table's model: one row per run — name, when, status, duration, the settings that differ between the
runs, the final metrics, tags — sorted by value (numbers as numbers, in Python: the model sorts itself, a proxy would
ask Qt for every key through Python) and matched against filter words (the panel hides the other rows)."""
from __future__ import annotations

import json
import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from core.experiments.diff import MISSING, flatten
from core.experiments.table import differing, metric_names

from .. import safe

MAX_SETTING_COLUMNS = 8
SORT_ROLE = Qt.ItemDataRole.UserRole
RUN_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_COLOURS = {"finished": "#1f9d55", "early-stopped": "#1f9d55", "running": "#2f6fed", "stopped": "#b7791f",
                  "pruned": "#69707d", "nan": "#d93d42", "error": "#d93d42", "failed": "#d93d42"}


def duration_text(s):
    if not isinstance(s, (int, float)) or not math.isfinite(s):
        return ""
    s = int(round(s))
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60:02d} s" if s < 3600 else f"{s // 3600} h {s % 3600 // 60:02d} min"


def value_text(v):
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v).lower()
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (dict, list)):
        return safe.clip(json.dumps(v, sort_keys=True), 60)
    return safe.clip(str(v), 60)


def when_text(iso):
    return (iso or "").replace("T", " ")[:16]


def _sort_key(v):
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else math.inf
    return "" if v is None else str(v).lower()


class Column:
    def __init__(self, title, get, text=value_text, tip=None):
        self.title, self.get, self.text, self.tip = title, get, text, tip


class RunsModel(QAbstractTableModel):
    """Runs (plain dicts from ``RunStore.list()``) as rows; ``set_runs`` rebuilds the columns."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs = []
        self.columns = []
        self.setting_paths = []
        self._search = []
        self.cells = []
        self.sorted_by = None

    def set_runs(self, runs):
        self.beginResetModel()
        self.runs = list(runs)
        flat_list = [flatten(r.get("settings") or {}) for r in self.runs]
        self.setting_paths = differing(self.runs, flat_list)[:MAX_SETTING_COLUMNS]
        flats = {id(r): f for r, f in zip(self.runs, flat_list)}

        def setting(r, p):
            v = flats[id(r)].get(p, MISSING)
            return None if v is MISSING else v

        cols = [Column("Name", lambda r: r.get("name") or f"run {r['id']}", safe.clip),
                Column("When", lambda r: r.get("started"), when_text),
                Column("Status", lambda r: r.get("status"), str),
                Column("Duration", lambda r: r.get("seconds"), duration_text)]
        for p in self.setting_paths:
            cols.append(Column(p.rsplit(".", 1)[-1], lambda r, p=p: setting(r, p), tip=p))
        for m in metric_names(self.runs):
            cols.append(Column(m, lambda r, m=m: (r.get("metrics") or {}).get(m), tip=f"final {m}"))
        cols.append(Column("Tags", lambda r: ", ".join(r.get("tags") or []), str))
        self.columns = cols
        # every cell once: (value, text, sort key); Qt asks for them many times (painting, sorting)
        self.cells = []
        self._search = []
        for r in self.runs:
            values = [c.get(r) for c in cols]
            texts = [c.text(v) for c, v in zip(cols, values)]
            self.cells.append([(v, t, _sort_key(v)) for v, t in zip(values, texts)])
            extra = [r.get("note") or "", r.get("message") or "", json.dumps(r.get("sweep") or "")]
            self._search.append(" ".join(texts + extra).lower())
        if self.sorted_by is not None and self.sorted_by[0] < len(cols):
            self._order(*self.sorted_by)
        self.endResetModel()

    def matches(self, row, text):
        return all(word in self._search[row] for word in text.lower().split())

    # -- Qt's model API ------------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, col = self.runs[index.row()], self.columns[index.column()]
        value, text, key = self.cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == SORT_ROLE:
            return key
        if role == RUN_ROLE:
            return r["id"]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(r, col)
        if role == Qt.ItemDataRole.ForegroundRole and col.title == "Status":
            return QColor(STATUS_COLOURS.get(r.get("status"), "#69707d"))
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _tip(self, r, col):
        lines = [safe.clip(r.get("message") or "", 400)] if col.title == "Status" and r.get("message") else []
        if r.get("note"):
            lines.append("Note: " + safe.clip(r["note"], 400))
        if r.get("sweep") is not None:
            lines.append(f"Sweep {value_text(r['sweep'])}, trial {value_text(r.get('trial'))}")
        return "\n".join(lines) or None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section].tip
        return None


    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        """Sort the rows by one column's values (empty cells last either way); selections follow their runs."""
        if not 0 <= column < len(self.columns):
            return
        self.sorted_by = (column, order)
        self.layoutAboutToBeChanged.emit()
        old_ids = [r["id"] for r in self.runs]
        self._order(column, order)
        new = {r["id"]: i for i, r in enumerate(self.runs)}
        persistent = self.persistentIndexList()
        self.changePersistentIndexList(persistent, [self.index(new[old_ids[i.row()]], i.column()) for i in persistent])
        self.layoutChanged.emit()

    def _order(self, column, order):
        desc = order == Qt.SortOrder.DescendingOrder

        def key(row):
            k = row[1][column][2]
            empty = k == "" or k == math.inf
            return (empty != desc, k if isinstance(k, float) else math.inf, k if isinstance(k, str) else "")

        rows = sorted(zip(self.runs, self.cells, self._search), key=key, reverse=desc)
        self.runs, self.cells, self._search = ([list(t) for t in zip(*rows)] if rows else ([], [], []))
