"""The layer palette: the catalog by category with colour icons, a search box (Ctrl+F), the catalog's
description as tooltip; drag a layer onto the canvas, or double-click to add it after the selected node."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag, QFont
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from core import catalog

from .. import icons
from ..editor.view import LAYER_MIME

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


class LayerTree(QTreeWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setIndentation(10)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAnimated(False)
        self.setExpandsOnDoubleClick(True)

    def startDrag(self, actions):
        item = self.currentItem()
        t = item.data(0, TYPE_ROLE) if item is not None else None
        if not t:
            return
        md = QMimeData()
        md.setData(LAYER_MIME, t.encode("utf-8"))
        md.setText(t)
        drag = QDrag(self)
        drag.setMimeData(md)
        drag.setPixmap(item.icon(0).pixmap(28, 28))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    activated = Signal(str)    # layer type (double-click / Enter)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 4)
        lay.setSpacing(6)
        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search layers  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icons.icon("search", "#8a919c"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._enter)
        self.tree = LayerTree(self)
        self.tree.itemActivated.connect(self._activated)
        lay.addWidget(self.search)
        lay.addWidget(self.tree, 1)
        self._cats = {}
        self.build()

    def build(self):
        self.tree.clear()
        bold = QFont(self.font())
        bold.setWeight(QFont.Weight.DemiBold)
        for cat in catalog.CATEGORIES:
            top = QTreeWidgetItem([cat])
            top.setFont(0, bold)
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            top.setIcon(0, icons.category_icon(cat))
            self.tree.addTopLevelItem(top)
            for spec in catalog.types_in(cat):
                it = QTreeWidgetItem([spec.type])
                it.setData(0, TYPE_ROLE, spec.type)
                it.setToolTip(0, f"<b>{spec.type}</b><br>{spec.description}")
                it.setIcon(0, icons.category_icon(cat))
                it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                top.addChild(it)
            top.setExpanded(True)
            self._cats[cat] = top

    def filter(self, text):
        words = text.lower().split()
        first = None
        for top in self._cats.values():
            shown = 0
            for i in range(top.childCount()):
                it = top.child(i)
                t = it.data(0, TYPE_ROLE)
                hay = f"{t} {catalog.CATALOG[t].description} {top.text(0)}".lower()
                ok = all(w in hay for w in words)
                it.setHidden(not ok)
                if ok:
                    shown += 1
                    first = first or it
            top.setHidden(shown == 0)
            if words and shown:
                top.setExpanded(True)
        if words and first is not None:
            self.tree.setCurrentItem(first)

    def focus_search(self):
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _enter(self):
        it = self.tree.currentItem()
        if it is not None and not it.isHidden() and it.data(0, TYPE_ROLE):
            self.activated.emit(it.data(0, TYPE_ROLE))

    def _activated(self, item, column=0):
        t = item.data(0, TYPE_ROLE)
        if t:
            self.activated.emit(t)

    def item_for(self, type_name):
        for top in self._cats.values():
            for i in range(top.childCount()):
                if top.child(i).data(0, TYPE_ROLE) == type_name:
                    return top.child(i)
        return None

    def refresh_icons(self):
        for cat, top in self._cats.items():
            top.setIcon(0, icons.category_icon(cat))
