"""The cost overlay: cards coloured by their share of the model's MACs or memory, with the figure on each card, the
totals (and the budget) in the Summary panel, and View → Profile Model, whose per-node times join the figures.

Costs come from ``core.cost`` after every shape inference (nothing is built); the profile runs in a worker thread
on a copy of the project (``core.profile``). The window calls ``install(window)`` once; the canvas card calls
``paint_tint`` and ``paint_figure`` while its ``overlay`` is set.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QAction, QActionGroup, QColor

from core.cost import bytes_text, count_text, graph_cost
from core.cost.budget import budget_of, contributors, over_budget

from . import tasks

MODES = {"off": "Off", "macs": "MACs", "memory": "Memory (weights + activations)"}
HOT = (232, 89, 12)     # the colour of the largest share


def ms_text(ms):
    return f"{ms * 1000:.0f} µs" if ms < 1 else f"{ms:.3g} ms"


def card_text(cost, share, mode, ms=None):
    """The figure on a card: '591 k MACs · 61%' (memory: '8.2 KB · 3%'), with its measured time when profiled."""
    if mode == "memory":
        text = f"{bytes_text(cost.weight_bytes + cost.activation_bytes)} · {share:.0%}"
    else:
        text = f"{count_text(cost.macs)} MACs · {share:.0%}"
    return text + (f" · {ms_text(ms)}" if ms is not None else "")


def overlays(report, mode, times=None):
    """{node id: (share of the largest share, 0..1; text)} for every node of the report."""
    metric = "memory" if mode == "memory" else "macs"
    shares = {k: report.share(k, metric) for k in report.nodes}
    top = max(shares.values(), default=0.0) or 1.0
    times = times or {}
    return {k: (shares[k] / top, card_text(c, shares[k], mode, times.get(k))) for k, c in report.nodes.items()}


SHORT = {"max_params": "params", "max_macs": "MACs", "max_size_mb": "size", "max_latency_ms": "latency"}


def summary_html(report, budget, profile=None):
    """The Summary panel's cost lines: the totals, each exceeded budget limit in red with its top contributors,
    the training memory and the measured latency."""
    t = report.total
    lines = [f"<b>{count_text(t.macs)}</b> MACs · {bytes_text(t.weight_bytes)} weights"]
    for ex in over_budget(report, budget, latency_ms=profile.batch1_ms if profile else None):
        top = ", ".join(html.escape(c.name) for c in contributors(report, ex))
        value = ex.short[len(ex.what) + 1:]
        lines.append(f"<span style='color:#d93025'><b>over budget</b>: {SHORT[ex.key]} {html.escape(value)}"
                     + (f"<br>&nbsp;&nbsp;top: {top}" if top else "") + "</span>")
    lines.append(f"training {bytes_text(t.training_bytes)} (batch {t.batch_size}, {html.escape(t.optimizer)})")
    if profile is not None:
        lines.append(f"{ms_text(profile.batch1_ms)} at batch 1 · {ms_text(profile.batch_ms)} at {profile.batch_size}")
    return "<br>".join(lines)


def paint_tint(painter, item):
    """Under the card's text: a tint in the hot colour, stronger for a larger share, and a bar of the share."""
    rel, _text = item.overlay
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(*HOT, int(14 + 120 * rel)))
    painter.drawRoundedRect(QRectF(0, 0, item.w, item.h), 9.0, 9.0)
    painter.setBrush(QColor(*HOT))
    painter.drawRect(QRectF(6, item.h - 4, max((item.w - 12) * rel, 2.0), 3))


def paint_figure(painter, item, st, pos):
    """In place of the card's type line: the node's figure (its MACs or memory, share, measured time)."""
    _rel, text = item.overlay
    painter.setFont(st.small_font)
    painter.setPen(QColor(*HOT).darker(150) if not st.dark else QColor(*HOT).lighter(140))
    painter.drawText(pos, st.small_fm.elidedText(text, Qt.TextElideMode.ElideRight, item.w - pos.x() - 6))


class CostOverlay(QObject):
    """Keeps the report of the latest inference, paints it on the cards when on, and runs the profile."""

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.mode = "off"
        self.report = None
        self.profile = None       # core.profile.Profile of the latest run (dropped when another project opens)
        self.task = None
        doc = window.document
        doc.inference_updated.connect(self.update)
        doc.project_changed.connect(self._project_changed)
        doc.settings_changed.connect(lambda _path: self.update(doc.result))   # batch size, optimizer, budget
        self._build_actions()
        self.update(doc.result)

    # -- actions ------------------------------------------------------------------------------------------------
    def _build_actions(self):
        view = next((a.menu() for a in self.w.menuBar().actions() if a.text().replace("&", "") == "View"), None)
        menu = (view or self.w.menuBar()).addMenu("Cost &Overlay")
        group = QActionGroup(self)
        self.mode_actions = {}
        for key, label in MODES.items():
            a = QAction(label, self, checkable=True)
            a.setChecked(key == self.mode)
            a.triggered.connect(lambda _on=False, key=key: self.set_mode(key))
            group.addAction(a)
            menu.addAction(a)
            self.mode_actions[key] = a
        self.profile_action = QAction("&Profile Model", self)
        self.profile_action.setToolTip("time the built model at batch 1 and at the batch size, and each node")
        self.profile_action.triggered.connect(self.run_profile)
        (view or self.w.menuBar()).addAction(self.profile_action)

    def set_mode(self, mode):
        """"off", "macs" or "memory": what the cards are coloured by."""
        self.mode = mode if mode in MODES else "off"
        self.mode_actions[self.mode].setChecked(True)
        self.apply()

    # -- data ---------------------------------------------------------------------------------------------------
    def _project_changed(self, _project):
        self.profile = None
        self.report = None

    def update(self, result):
        """Costs of the new inference result, on the cards and in the Summary panel."""
        p = self.w.project
        self.report = None
        if result is not None:
            from core.trust import is_trusted
            self.report = graph_cost(p.graph, result, p.training, p.compile, is_trusted(p.graph))
        self.apply()

    def times(self):
        return dict(self.profile.nodes) if self.profile is not None else {}

    def apply(self):
        scene = self.w.scene
        marks = overlays(self.report, self.mode, self.times()) if self.report and self.mode != "off" else {}
        for k, item in scene.nodes.items():
            new = marks.get(k)
            if getattr(item, "overlay", None) != new:
                item.overlay = new
                item.update()
        text = summary_html(self.report, budget_of(self.w.project.training), self.profile) if self.report else ""
        self.w.summary.show_cost(text)

    # -- profile ------------------------------------------------------------------------------------------------
    def run_profile(self):
        """Time the model in a worker thread (a copy of the project: editing goes on meanwhile)."""
        if not self.w.is_keras_ready():
            self.w.statusBar().showMessage("TensorFlow is still loading; profile once it is ready", 6000)
            return None
        if self.task is not None and self.task.running:
            return self.task
        from core.profile import profile_project
        from .files import copy_project
        project = copy_project(self.w.project)
        self.profile_action.setEnabled(False)
        self.w.statusBar().showMessage("Profiling the model…")
        self.task = tasks.run_task(lambda: profile_project(project), self._profiled, self._failed, name="profile",
                                   on_finished=lambda _t: self.profile_action.setEnabled(True))
        return self.task

    def _profiled(self, prof):
        self.profile = prof
        if self.mode == "off":
            self.set_mode("macs")
        self.apply()
        note = " (under 5 ms: per-call dispatch dominates)" if prof.dispatch_dominates else ""
        self.w.statusBar().showMessage(f"Profiled: {ms_text(prof.batch1_ms)} at batch 1, {ms_text(prof.batch_ms)} at "
                                       f"batch {prof.batch_size} on {prof.device}{note}", 10000)

    def _failed(self, exc):
        self.w.show_error("Profile failed", f"The model could not be profiled: {exc}")


def install(window):
    """Add View → Cost Overlay and View → Profile Model to the window; returns the overlay."""
    return CostOverlay(window)
