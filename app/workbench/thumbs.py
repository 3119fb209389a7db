"""Thumbnails of image samples for list views (GUI thread only: QPixmap)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem

from .render import to_rgb8


def pixmap(sample, size=56, border=None):
    """A square pixmap of an image sample (H, W[, C]) scaled to ``size`` (nearest for tiny images)."""
    rgb = to_rgb8(sample)
    h, w, _ = rgb.shape
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    mode = Qt.FastTransformation if max(h, w) < size else Qt.SmoothTransformation
    pm = QPixmap.fromImage(img).scaled(size, size, Qt.KeepAspectRatio, mode)
    if border is not None:
        out = QPixmap(pm.width() + 4, pm.height() + 4)
        out.fill(QColor(border))
        p = QPainter(out)
        p.drawPixmap(2, 2, pm)
        p.end()
        return out
    return pm


class ThumbGrid(QListWidget):
    """A wrapping grid of labelled thumbnails (icon mode). ``fill(samples, labels, colors, tooltips)``."""

    def __init__(self, size=56, parent=None):
        super().__init__(parent)
        self.thumb = size
        self.setViewMode(QListView.IconMode)
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setWrapping(True)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(size + 4, size + 4))
        self.setGridSize(QSize(size + 26, size + 30))
        self.setSpacing(2)
        self.setSelectionMode(QListWidget.NoSelection)
        self.setWordWrap(True)

    def fill(self, samples, labels=None, borders=None, tooltips=None):
        self.clear()
        for i, s in enumerate(samples):
            item = QListWidgetItem(QIcon(pixmap(s, self.thumb, borders[i] if borders else None)),
                                   labels[i] if labels else "")
            item.setTextAlignment(Qt.AlignHCenter | Qt.AlignTop)
            if tooltips:
                item.setToolTip(tooltips[i])
            self.addItem(item)


def is_image_batch(x):
    x = np.asarray(x)
    return x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] >= 4 and x.shape[2] >= 4
