"""The Problems panel: every problem the latest inference found; clicking one selects and centres its node."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from .. import icons, safe, theme

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_LISTED = 500   # a graph with thousands of problems lists the first ones (a list of 100 000 rows freezes)


class ProblemsPanel(QWidget):
    node_clicked = Signal(str)
    count_changed = Signal(int)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.doc = document
        self.training_rows = []   # [(node id, text)]: problems the gradient view found while training
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        self.empty = QLabel("", self)
        self.empty.setProperty("role", "muted")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.empty, 1)
        document.inference_updated.connect(self.show_result)
        document.project_changed.connect(lambda _p: self.show_result(None))
        self.show_result(document.result)

    def show_result(self, result):
        self.list.clear()
        if result is None:
            loading = not self.doc.is_keras_ready()
            self.empty.setText("Checking the graph once TensorFlow has loaded…" if loading else "")
            self.list.hide()
            self.empty.show()
            self.count_changed.emit(0)
            return
        warn = icons.icon("error", theme.current()["error"])
        for p in result.problems[:MAX_LISTED]:
            msg = safe.clip(p.message, safe.TIP_CHARS)
            text = f"{safe.clip(p.node_name)}: {msg}" if p.node_id else f"Graph: {msg}"
            it = QListWidgetItem(warn, text)
            it.setData(NODE_ROLE, p.node_id)
            it.setToolTip(safe.clip(str(p), safe.TIP_CHARS))
            self.list.addItem(it)
        if len(result.problems) > MAX_LISTED:
            self.list.addItem(QListWidgetItem(f"… and {len(result.problems) - MAX_LISTED:,} more"))
        n = len(result.problems) + self._add_training_rows()
        if n:
            self.empty.hide()
            self.list.show()
        else:
            self.empty.setText("No problems: every shape fits.")
            self.list.hide()
            self.empty.show()
        self.count_changed.emit(n)

    def show_training_problems(self, rows):
        """Show ``rows`` [(node id, text)] (from training) after the graph's problems."""
        self.training_rows = list(rows)
        self.show_result(self.doc.result)

    def _add_training_rows(self):
        warn = icons.icon("error", theme.current()["warn"])
        names = self.doc.project.graph.nodes if self.doc.project is not None else {}
        for k, text in self.training_rows[:MAX_LISTED]:
            name = names[k].name if k in names else k
            it = QListWidgetItem(warn, f"{safe.clip(name)} (training): {safe.clip(text, safe.TIP_CHARS)}")
            it.setData(NODE_ROLE, k)
            it.setToolTip(safe.clip(text, safe.TIP_CHARS))
            self.list.addItem(it)
        return len(self.training_rows)

    def _clicked(self, item):
        k = item.data(NODE_ROLE)
        if k:
            self.node_clicked.emit(k)

    def items(self):
        return [self.list.item(i).text() for i in range(self.list.count())]
