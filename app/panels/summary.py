"""The parameter summary: total, trainable and non-trainable parameters of the whole graph."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget


class SummaryPanel(QWidget):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.doc = document
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 8)
        card = QFrame(self)
        card.setProperty("role", "card")
        grid = QGridLayout(card)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(2)
        self.values = {}
        total = QLabel("…", card)
        total.setProperty("role", "big")
        total.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        cap = QLabel("parameters", card)
        cap.setProperty("role", "muted")
        grid.addWidget(total, 0, 0, 1, 2)
        grid.addWidget(cap, 1, 0, 1, 2)
        self.values["total"] = total
        for row, (key, label) in enumerate((("trainable", "Trainable"), ("non_trainable", "Non-trainable")), start=2):
            lab = QLabel(label, card)
            lab.setProperty("role", "muted")
            v = QLabel("…", card)
            v.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(lab, row, 0)
            grid.addWidget(v, row, 1)
            self.values[key] = v
        grid.setRowMinimumHeight(2, 22)
        grid.setColumnStretch(0, 1)
        self.layers = QLabel("", self)
        self.layers.setProperty("role", "muted")
        self.cost = QLabel("", self)   # the cost totals and the budget (app.cost_overlay)
        self.cost.setProperty("role", "muted")
        self.cost.setWordWrap(False)   # short lines: the panel's minimum height then holds them all
        self.cost.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(card)
        lay.addWidget(self.layers)
        lay.addWidget(self.cost)
        document.inference_updated.connect(self.show_result)
        document.project_changed.connect(lambda _p: self.show_result(None))
        self.show_result(document.result)

    def show_result(self, result):
        g = self.doc.project.graph
        n = len(g.nodes)
        self.layers.setText(f"{n} node{'s' if n != 1 else ''}, {len(g.edges)} connection{'s' if len(g.edges) != 1 else ''}")
        if result is None:
            for v in self.values.values():
                v.setText("…")
            return
        self.values["total"].setText(f"{result.total:,}")
        self.values["trainable"].setText(f"{result.trainable:,}")
        self.values["non_trainable"].setText(f"{result.non_trainable:,}")

    def show_cost(self, html_text):
        self.cost.setText(html_text)
        self.cost.setVisible(bool(html_text))

    def text(self):
        return {k: v.text() for k, v in self.values.items()}
