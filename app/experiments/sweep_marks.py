"""Dimensions marked on the canvas: the inspector's right-click menu on a param ("Sweep units…", "Stop sweeping
units", "Sweep: try without this node"), the project-settings paths too, each change one undo step
(``SetSweepSection``), and the badge a node card shows while one of its params is a dimension.

The marks live in the project file's ``sweep`` section (``core.experiments.sweep_section``); ``MARKS.changed``
tells the cards and the Sweep panel when it changes.
"""
from __future__ import annotations

import copy

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu

from core.errors import LayerwiseError
from core.experiments import space as sp
from core.experiments.sweep_section import section_of, with_dimension, without_dimension

HINT = ("A range LOW:HIGH (whole numbers: an integer range), LOW:HIGH:log, choices a,b,c, or one value.\n"
        "Examples: 16:128:log   0.1:0.5   relu,tanh,gelu")


class Marks(QObject):
    changed = Signal(object)     # the project whose sweep section changed


MARKS = Marks()


class _Follower(QObject):
    """Calls ``fn(project)`` on ``MARKS.changed`` for as long as its parent widget lives (a child QObject: the
    connection goes with it, so a closed window's panels are never called)."""

    def __init__(self, parent, fn):
        super().__init__(parent)
        self.fn = fn
        MARKS.changed.connect(self.changed)

    @Slot(object)
    def changed(self, project):
        self.fn(project)


def follow(parent, fn):
    """Call ``fn(project)`` whenever the sweep marks change, while ``parent`` (a QObject) exists."""
    return _Follower(parent, fn)


class SetSweepSection(QUndoCommand):
    """The project's sweep section replaced (a dimension marked or unmarked), as one undo step."""

    def __init__(self, project, section, text):
        super().__init__(text)
        self.project = project
        self.before = copy.deepcopy(project.extra.get("sweep"))
        self.after = copy.deepcopy(section)

    def _put(self, value):
        if value is None:
            self.project.extra.pop("sweep", None)
        else:
            self.project.extra["sweep"] = copy.deepcopy(value)
        MARKS.changed.emit(self.project)

    def redo(self):
        self._put(self.after)

    def undo(self):
        self._put(self.before)


def dimension_of(project, path):
    for d in section_of(project).get("dimensions", []):
        if d.get("path") == path:
            return sp.Dimension.from_dict(d)
    return None


def swept_params(project, node_id):
    """The names of the node's params that are dimensions ("optional" for the node itself)."""
    out = []
    for d in section_of(project).get("dimensions", []):
        head, _, rest = str(d.get("path", "")).partition(".")
        if head == node_id:
            out.append(rest or "optional")
    return out


def badge_for(project, node_id):
    """The text of a node card's sweep badge, or None."""
    names = swept_params(project, node_id) if project is not None else []
    return "sweep: " + ", ".join(names) if names else None


def spec_text(d):
    if d is None:
        return ""
    if d.kind in ("int", "float"):
        return f"{d.low}:{d.high}" + (":log" if d.log else "")
    if d.kind == "choice":
        return ",".join("null" if c is None else str(c).lower() if isinstance(c, bool) else str(c) for c in d.choices)
    return "optional" if d.kind == "optional" else str(d.value)


def ask_dimension(parent, project, path, title):
    """Ask for a SPEC for ``path``; the checked Dimension, None when cancelled. A bad SPEC is asked again with the
    reason shown."""
    current = spec_text(dimension_of(project, path))
    message = HINT
    while True:
        text, ok = QInputDialog.getText(parent, title, message, QLineEdit.EchoMode.Normal, current)
        if not ok:
            return None
        try:
            return sp.resolve(sp.parse_spec(path, text), project, path)
        except LayerwiseError as e:
            message, current = f"{e}\n\n{HINT}", text


def menu_for(parent, project, node, param, push):
    """The right-click menu of a param row: sweep it, stop sweeping it, or leave the node out in some trials."""
    menu = QMenu(parent)
    path = f"{node.id}.{param}"
    marked = dimension_of(project, path) is not None
    menu.addAction(f"Sweep {param}…", lambda: _mark(parent, project, path, f"Sweep {node.name}.{param}", push))
    if marked:
        menu.addAction(f"Stop sweeping {param}",
                       lambda: push(SetSweepSection(project, without_dimension(section_of(project), path),
                                                    f"Stop sweeping {node.name}.{param}")))
    if node.type not in ("Input", "Output") and len(project.graph.in_edges(node.id)) == 1:
        optional = dimension_of(project, node.id) is not None
        label = f"Always keep '{node.name}'" if optional else f"Sweep: try without '{node.name}'"
        section = (without_dimension(section_of(project), node.id) if optional else
                   with_dimension(section_of(project), sp.Dimension(node.id, "optional")))
        menu.addAction(label, lambda: push(SetSweepSection(project, section, label)))
    return menu


def _mark(parent, project, path, title, push):
    dim = ask_dimension(parent, project, path, title)
    if dim is not None:
        push(SetSweepSection(project, with_dimension(section_of(project), dim), title))


def attach(inspector, label, node, param):
    """Give a param's label in the inspector the sweep menu and show whether it is a dimension."""
    doc = inspector.doc
    label.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    label.customContextMenuRequested.connect(
        lambda pos: menu_for(inspector, doc.project, node, param, doc.undo_stack.push).exec(label.mapToGlobal(pos)))
    if dimension_of(doc.project, f"{node.id}.{param}") is not None:
        label.setText(label.text() + "  ⟷")
        label.setToolTip(f"{label.toolTip()}\nswept: {spec_text(dimension_of(doc.project, f'{node.id}.{param}'))}")


def paint_badge(painter, item, st):
    """A node card's sweep badge (top right, under the problem badge) while one of its params is a dimension."""
    doc = getattr(item.sc, "doc", None)
    text = badge_for(getattr(doc, "project", None), item.node_id)
    if not text:
        return
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor
    painter.setFont(st.small_font)
    fm = painter.fontMetrics()
    text = fm.elidedText(text, Qt.TextElideMode.ElideRight, int(item.w * 0.45))
    w = fm.horizontalAdvance(text) + 10
    right = item.w - (34 if item.error else 10)     # left of the problem badge
    rect = QRectF(right - w, 1, w, 12)   # above the name line
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(76, 155, 232, 60))
    painter.drawRoundedRect(rect, 6, 6)
    painter.setPen(QColor(76, 155, 232))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def repaint_cards(scene):
    """Repaint the canvas after the marks changed (``MARKS.changed``)."""
    if scene is not None:
        scene.update()
