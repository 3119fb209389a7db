"""Pens, brushes, fonts and sizes the canvas paints with, built once per theme (no allocation per paint)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPen

from .. import theme

NODE_W = 176.0           # node card width (scene units = pixels at 100 % zoom)
NODE_H = 72.0            # card height with one input port
HEAD_H = 50.0            # header (name and type) height
FOOT_H = 22.0            # footer (shape and parameter count) height
PORT_R = 5.5             # port radius
PORT_STEP = 20.0         # distance between input ports
RADIUS = 9.0             # card corner radius
GRID = 20.0              # snapping and minor grid step
LOD_TEXT = 0.62          # below this zoom the node shows only its name, in a font that stays readable
LOD_SIMPLE = 0.28        # below this zoom a node is one filled rectangle (its name would not fit legibly)
OVERVIEW_PX = 10.5       # on-screen size of the name in the overview level


def _font(px, weight=QFont.Weight.Normal, family=None):
    f = QFont(family) if family else QFont()
    f.setPixelSize(px)
    f.setWeight(weight)
    f.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return f


class CanvasStyle:
    def __init__(self, tokens=None):
        t = tokens or theme.current()
        self.tokens = t
        c = lambda k: QColor(t[k])  # noqa: E731
        self.dark = t["name"] == "dark"
        self.canvas = c("canvas")
        self.grid_pen = QPen(c("grid"), 0)
        self.grid_major_pen = QPen(c("grid_major"), 0)
        self.card_brush = QBrush(c("card"))
        self.card_pen = QPen(c("card_border"), 1.0)
        self.shadow_brush = QBrush(QColor(0, 0, 0, 70 if self.dark else 22))
        self.sel_pen = QPen(c("accent"), 2.2)
        self.err_pen = QPen(c("error"), 1.6)
        self.err_sel_pen = QPen(c("error"), 2.6)
        self.error = c("error")
        self.error_soft = QBrush(c("error_soft"))
        self.text = c("text")
        self.muted = c("muted")
        self.faint = c("faint")
        self.shape = c("shape")
        self.divider_pen = QPen(c("card_border"), 1.0)
        self.port_brush = QBrush(c("port"))
        self.port_pen = QPen(c("port_border"), 1.5)
        self.port_hot_pen = QPen(c("accent"), 2.0)
        self.port_hot_brush = QBrush(c("accent"))
        self.port_bad_brush = QBrush(c("error"))
        self.edge_pen = QPen(c("edge"), 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        self.edge_hover_pen = QPen(c("edge_selected"), 2.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        self.edge_sel_pen = QPen(c("edge_selected"), 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        self.edge_low_pen = QPen(c("edge"), 0)   # cosmetic 1 px line when zoomed far out
        self.temp_pen = QPen(c("accent"), 2.0, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        self.temp_bad_pen = QPen(c("error"), 2.0, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        self.frozen = c("faint")
        self.title_font = _font(13, QFont.Weight.DemiBold)
        self.body_font = _font(11)
        self.shape_font = _font(11, QFont.Weight.DemiBold)
        self.small_font = _font(10)
        self.title_fm = QFontMetricsF(self.title_font)
        self.body_fm = QFontMetricsF(self.body_font)
        self.shape_fm = QFontMetricsF(self.shape_font)
        self.small_fm = QFontMetricsF(self.small_font)
        self._overview = {}
        self.category = {k: QColor(v) for k, v in theme.CATEGORY_COLORS.items()}
        self.category_brush = {k: QBrush(v) for k, v in self.category.items()}
        self.category_soft = {}
        for k, v in self.category.items():
            s = QColor(v)
            s.setAlpha(60 if self.dark else 38)
            self.category_soft[k] = QBrush(s)

    def overview_font(self, lod):
        """(font, metrics) for the name in the overview level: OVERVIEW_PX on screen, in 1 px steps."""
        px = max(12, min(48, int(round(OVERVIEW_PX / max(lod, 0.05)))))
        hit = self._overview.get(px)
        if hit is None:
            f = _font(px, QFont.Weight.DemiBold)
            f.setStretch(QFont.Stretch.SemiCondensed)
            hit = self._overview[px] = (f, QFontMetricsF(f), px)
        return hit

    def cat(self, category):
        return self.category.get(category) or self.category["Other"]
