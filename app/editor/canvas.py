"""The canvas as a widget: the view, a banner while editing is locked, and a floating zoom control."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from .. import icons


class ZoomPill(QFrame):
    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.setObjectName("zoomPill")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.setSpacing(0)
        self.out_btn = QToolButton(self)
        self.in_btn = QToolButton(self)
        self.fit_btn = QToolButton(self)
        self.label = QLabel("100%", self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("3000%") + 8)
        self.out_btn.setToolTip("Zoom out")
        self.in_btn.setToolTip("Zoom in")
        self.fit_btn.setToolTip("Fit to view (F)")
        self.out_btn.clicked.connect(view.zoom_out)
        self.in_btn.clicked.connect(view.zoom_in)
        self.fit_btn.clicked.connect(lambda: view.fit())
        for w in (self.out_btn, self.label, self.in_btn, self.fit_btn):
            lay.addWidget(w)
        view.zoom_changed.connect(self.show_zoom)
        self.refresh_icons()

    def refresh_icons(self):
        self.out_btn.setIcon(icons.icon("zoom-out"))
        self.in_btn.setIcon(icons.icon("zoom-in"))
        self.fit_btn.setIcon(icons.icon("fit"))

    def show_zoom(self, z):
        self.label.setText(f"{z * 100:.0f}%")


class CanvasWidget(QWidget):
    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.banner = QLabel(self)
        self.banner.setObjectName("canvasBanner")
        self.banner.setContentsMargins(12, 6, 12, 6)
        self.banner.hide()
        lay.addWidget(self.banner)
        lay.addWidget(view, 1)
        self.pill = ZoomPill(view, view)
        self.pill.adjustSize()

    def set_locked(self, locked, reason=""):
        self.banner.setText(f"Editing is locked — {reason}" if reason else "Editing is locked")
        self.banner.setVisible(bool(locked))

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place_pill()

    def showEvent(self, event):
        super().showEvent(event)
        self._place_pill()

    def _place_pill(self):
        self.pill.adjustSize()
        vp = self.view.viewport().geometry()
        self.pill.move(vp.right() - self.pill.width() - 12, vp.bottom() - self.pill.height() - 12)
        self.pill.raise_()
