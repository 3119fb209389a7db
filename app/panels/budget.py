"""The Budget section of the Project settings panel: a limit per line (parameters, MACs, model size, latency);
empty means no limit. Each edit is one undo step of ``training.budget``; a value that is not a number of 0 or more
is refused with the same message loading the file would give."""
from __future__ import annotations

from PySide6.QtCore import QObject, QSignalBlocker
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit

from core.validate import BUDGET_KEYS, budget_problems

from .. import commands, safe

LABELS = {"max_params": "Max parameters", "max_macs": "Max MACs", "max_size_mb": "Max size (MB)",
          "max_latency_ms": "Max latency (ms)"}


def budget_dict(project):
    training, _ok = safe.mapping(project.training)   # a section being edited may hold any JSON value
    b = training.get("budget")
    return dict(b) if isinstance(b, dict) else {}


def shown(v):
    if v is None:
        return ""
    return f"{v:g}" if isinstance(v, float) else safe.clip(str(v), safe.SHOWN_CHARS)


def parse(text):
    """'' -> None (no limit); '5e8' -> 5e8; '1000' -> 1000; anything else -> the text (refused by the check)."""
    t = text.strip().replace(",", "").replace("_", "")
    if not t:
        return None
    try:
        v = float(t)
    except ValueError:
        return text
    return int(v) if v.is_integer() and abs(v) < 2 ** 53 else v


class BudgetEditors(QObject):
    """The line edits of the budget, kept in step with the project (undo, another view) while they exist."""

    def __init__(self, panel, grid):
        super().__init__(panel)
        self.panel = panel
        self.edits = {}
        for row, key in enumerate(BUDGET_KEYS):
            ed = QLineEdit()
            ed.setPlaceholderText("no limit")
            ed.setToolTip(f"{BUDGET_KEYS[key]}: over it, the cost total turns red (empty: no limit)")
            ed.editingFinished.connect(lambda key=key: self.commit(key))
            lab = QLabel(LABELS[key])
            lab.setProperty("role", "muted")
            grid.addWidget(lab, row, 0)
            grid.addWidget(ed, row, 1)
            self.edits[key] = ed
        panel.doc.settings_changed.connect(self.changed)
        self.show()

    def show(self):
        b = budget_dict(self.panel.project)
        for key, ed in self.edits.items():
            with QSignalBlocker(ed):
                ed.setText(shown(b.get(key)))

    def changed(self, path):
        if path[:1] == ("training",) and (len(path) == 1 or path[1] == "budget"):
            self.show()

    def commit(self, key):
        p = self.panel.project
        b = budget_dict(p)
        value = parse(self.edits[key].text())
        if b.get(key) == value:
            return
        if value is None:
            b.pop(key, None)
        else:
            b[key] = value
        problems = budget_problems(b)
        if problems:
            self.panel.error.setText(problems[0])
            self.panel.error.show()
            self.panel.doc.message.emit(problems[0])
            self.show()
            return
        self.panel.error.hide()
        self.panel.doc.push(commands.SetProjectSetting(p, "training", ("budget",), b, f"Set {LABELS[key].lower()}"))


def build_budget(panel, project):
    """The section's grid (for ``ProjectSettings.rebuild``)."""
    g = QGridLayout()
    g.setHorizontalSpacing(10)
    g.setVerticalSpacing(7)
    g.setColumnStretch(1, 1)
    old = getattr(panel, "budget_editors", None)
    if old is not None:   # the panel was rebuilt: the old editors go with their widgets
        panel.doc.settings_changed.disconnect(old.changed)
        old.deleteLater()
    panel.budget_editors = BudgetEditors(panel, g)
    return g
