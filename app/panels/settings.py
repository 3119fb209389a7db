"""Project settings: name, optimizer and its params (from ``catalog.OPTIMIZERS``), learning-rate schedule
(``catalog.SCHEDULES``), global dropout and L2. Losses live on the Output nodes (listed here, one click
selects them). Every change is one undo step (``commands.SetProjectSetting``); the widgets follow the project's
settings events (``Document.settings_changed``), so undo and redo show the value they put back."""
from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QVBoxLayout,
                               QWidget)

from core import catalog

from .. import commands, safe
from .budget import build_budget
from .param_editors import FloatSpin, align_label_columns, compact, label_for, make_editor

SCHEDULE_LABELS = {"none": "Constant", "step": "Step decay", "cosine": "Cosine decay", "plateau": "Reduce on plateau"}


def _label(text, role=None, wrap=False):
    lab = QLabel(text)
    if role:
        lab.setProperty("role", role)
    lab.setWordWrap(wrap)
    return lab


def _mark(widget, bad, why=""):
    """Show that a field holds a default instead of the project's value (which was not usable)."""
    widget.setProperty("invalid", "true" if bad else "false")
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    if bad:
        widget.setToolTip(why)


def _choice_of(compile_settings, key, field, table, default):
    """(choice, settings dict, ok) for any value the project's compile[key] may hold: an object naming one of
    ``table``'s entries in ``field``, or (not ok) the entry's name alone, or anything else (the default)."""
    value = compile_settings.get(key) if isinstance(compile_settings, dict) else None
    if isinstance(value, str):   # "adam": the name alone
        return (value, {field: value}, False) if value in table else (default, {}, False)
    value, ok = safe.mapping(value)
    choice = value.get(field, default)
    if not isinstance(choice, str) or choice not in table:
        return default, value, False
    return choice, value, ok


def optimizer_of(compile_settings):
    """(name, settings dict, ok) for any value the project's compile.optimizer may hold."""
    return _choice_of(compile_settings, "optimizer", "name", catalog.OPTIMIZERS, "adam")


def schedule_of(compile_settings):
    """(kind, settings dict, ok) for any value the project's compile.schedule may hold."""
    return _choice_of(compile_settings, "schedule", "kind", catalog.SCHEDULES, "none")


def _shown(value):
    return safe.clip(repr(value), safe.SHOWN_CHARS)


def _grid():
    g = QGridLayout()
    g.setHorizontalSpacing(10)
    g.setVerticalSpacing(7)
    g.setColumnStretch(1, 1)
    return g


class ProjectSettings(QWidget):
    select_node = Signal(str)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.doc = document
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.scroll)
        self._graph = None
        document.project_changed.connect(self._project_changed)
        document.settings_changed.connect(self._settings_changed)
        document.locked_changed.connect(lambda locked, _r: self.scroll.widget() and self.scroll.widget().setEnabled(not locked))
        self._project_changed(document.project)

    @property
    def project(self):
        return self.doc.project

    def _project_changed(self, project):
        if self._graph is not None:
            for ev in (self._graph.events.node_added, self._graph.events.node_removed):
                ev.disconnect(self._outputs_changed)
            self._graph.events.param_changed.disconnect(self._param_changed)
            self._graph.events.node_renamed.disconnect(self._outputs_changed)
        self._graph = project.graph
        for ev in (self._graph.events.node_added, self._graph.events.node_removed):
            ev.connect(self._outputs_changed)
        self._graph.events.param_changed.connect(self._param_changed)
        self._graph.events.node_renamed.connect(self._outputs_changed)
        self.rebuild()

    def rebuild(self):
        p = self.project
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(14, 12, 14, 14)
        lay.setSpacing(6)
        for title, build in (("Project", self._build_project), ("Optimizer", self._build_optimizer),
                             ("Learning-rate schedule", self._build_schedule), ("Regularization", self._build_regularization),
                             ("Budget", lambda p: build_budget(self, p))):
            lay.addWidget(_label(title, "section"))
            lay.addLayout(build(p))
        lay.addWidget(_label("Losses", "section"))
        self.outputs_box = QVBoxLayout()
        self.outputs_box.setSpacing(4)
        lay.addLayout(self.outputs_box)
        self._fill_outputs()
        self.error = _label("", "error", wrap=True)
        self.error.hide()
        lay.addWidget(self.error)
        lay.addStretch(1)
        align_label_columns(body)
        body.setEnabled(not self.doc.locked)
        self.scroll.setWidget(body)

    def _build_project(self, p):
        g = _grid()
        self.name_edit = compact(QLineEdit(safe.clip(p.name, safe.EDIT_CHARS)))
        self.name_edit.editingFinished.connect(self._name)
        g.addWidget(_label("Name", "muted"), 0, 0)
        g.addWidget(self.name_edit, 0, 1)
        self.desc_edit = compact(QLineEdit(safe.clip(p.description, safe.EDIT_CHARS)))
        self.desc_edit.setPlaceholderText("what this network is for")
        self.desc_edit.setCursorPosition(0)
        self.desc_edit.setToolTip(safe.clip(p.description, safe.TIP_CHARS))
        self.desc_edit.editingFinished.connect(self._description)
        g.addWidget(_label("Description", "muted"), 1, 0)
        g.addWidget(self.desc_edit, 1, 1)
        return g

    def _build_optimizer(self, p):
        opt_name, opt, opt_ok = optimizer_of(p.compile)
        g = _grid()
        self.opt_combo = compact(QComboBox())
        for key, (label, _params) in catalog.OPTIMIZERS.items():
            self.opt_combo.addItem(label, key)
        i = self.opt_combo.findData(opt_name)
        self.opt_combo.setCurrentIndex(max(i, 0))
        self.opt_combo.activated.connect(self._optimizer_kind)
        if not opt_ok:
            _mark(self.opt_combo, True, f"The project's optimizer setting is not usable "
                                        f"({_shown(safe.mapping(p.compile)[0].get('optimizer'))}); pick one to replace it")
        g.addWidget(_label("Algorithm", "muted"), 0, 0)
        g.addWidget(self.opt_combo, 0, 1)
        params = catalog.OPTIMIZERS.get(opt_name, ("", ()))[1]
        self.opt_editors = {}
        for row, prm in enumerate(params, start=1):
            ed = make_editor(prm)
            ed.set_value(opt.get(prm.name, prm.default))
            ed.committed.connect(lambda v, k=prm.name, prm=prm: self._optimizer_param(prm, k, v))
            g.addWidget(_label(label_for(prm.name), "muted"), row, 0)
            g.addWidget(ed, row, 1)
            self.opt_editors[prm.name] = ed
        return g

    def _build_schedule(self, p):
        sch_kind, sch, sch_ok = schedule_of(p.compile)
        g = _grid()
        self.sch_combo = compact(QComboBox())
        for key in catalog.SCHEDULES:
            self.sch_combo.addItem(SCHEDULE_LABELS.get(key, key), key)
        self.sch_combo.setCurrentIndex(max(self.sch_combo.findData(sch_kind), 0))
        self.sch_combo.activated.connect(self._schedule_kind)
        if not sch_ok:
            _mark(self.sch_combo, True, f"The project's learning-rate schedule is not usable "
                                        f"({_shown(safe.mapping(p.compile)[0].get('schedule'))}); pick one to replace it")
        g.addWidget(_label("Schedule", "muted"), 0, 0)
        g.addWidget(self.sch_combo, 0, 1)
        self.sch_editors = {}
        for row, prm in enumerate(catalog.SCHEDULES.get(sch_kind, ()), start=1):
            ed = make_editor(prm)
            self.sch_editors[prm.name] = ed
            ed.set_value(sch.get(prm.name, prm.default))
            ed.committed.connect(lambda v, k=prm.name, prm=prm: self._schedule_param(prm, k, v))
            g.addWidget(_label(label_for(prm.name), "muted"), row, 0)
            g.addWidget(ed, row, 1)
        return g

    def _build_regularization(self, p):
        g = _grid()
        self.dropout = compact(FloatSpin())
        self.dropout.setRange(0.0, 0.95)
        self._show_reg("dropout", self.dropout)
        self.dropout.editingFinished.connect(lambda: self._reg("dropout", float(self.dropout.value())))
        g.addWidget(_label("Global dropout", "muted"), 0, 0)
        g.addWidget(self.dropout, 0, 1)
        self.l2 = compact(FloatSpin())
        self.l2.setRange(0.0, 10.0)
        self.l2.setToolTip("L2 penalty on the kernels of weighted layers; a layer can set its own in the inspector")
        self._show_reg("l2", self.l2)
        self.l2.editingFinished.connect(lambda: self._reg("l2", float(self.l2.value())))
        g.addWidget(_label("Global L2", "muted"), 1, 0)
        g.addWidget(self.l2, 1, 1)
        return g

    REG_TIPS = {"dropout": "Dropout inserted after every Dense/Conv block (not before an Output); a layer can opt "
                           "out in the inspector",
                "l2": "L2 penalty on the kernels of weighted layers; a layer can set its own in the inspector"}

    def _show_reg(self, key, spin):
        """The global dropout / L2 in its spin box; a value that is not a number in range shows as invalid."""
        reg, _ok = safe.mapping(self.project.regularization)
        raw = reg.get(key, 0.0)
        v, ok = safe.number(0.0 if raw is None else raw, 0.0, spin.minimum(), spin.maximum())
        with QSignalBlocker(spin):
            spin.setValue(float(v))
        _mark(spin, not ok, f"The project's value {_shown(raw)} is not usable; showing {v:g}")
        if ok:
            spin.setToolTip(self.REG_TIPS[key])

    def _fill_outputs(self):
        while self.outputs_box.count():
            w = self.outputs_box.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        outs = self.project.graph.output_nodes()
        if not outs:
            self.outputs_box.addWidget(_label("No Output node yet: add one from the palette (Input / Output).", "muted", True))
            return
        self.outputs_box.addWidget(_label("Each Output node has its own loss; click to edit it.", "muted", True))
        for n in outs:
            loss = n.params.get("loss", "?")
            loss = loss.replace("_", " ") if isinstance(loss, str) else "?"
            b = QPushButton(f"{safe.clip(n.name)}:  {safe.clip(loss)}")
            b.setStyleSheet("text-align: left;")
            b.setToolTip(f"Select {safe.clip(n.name)} to change its loss, weight and metrics")
            b.clicked.connect(lambda _=False, k=n.id: self.select_node.emit(k))
            self.outputs_box.addWidget(b)

    # -- commits ---------------------------------------------------------------------------------------------------
    def _push(self, path, value, text):
        """One undo step; the panel shows the new value when the project's settings event comes back."""
        self.doc.push(commands.SetProjectSetting(self.project, path[0], path[1:], value, text))

    def _refuse(self, msg):
        self.error.setText(msg)
        self.error.show()
        self.doc.message.emit(msg)

    def _name(self):
        if self.name_edit.text() == safe.clip(self.project.name, safe.EDIT_CHARS):
            return   # unchanged (a long name is shown shortened: that is no rename)
        name = self.name_edit.text().strip()
        if not name:
            self._refuse("The project name cannot be empty")
            self.name_edit.setText(safe.clip(self.project.name, safe.EDIT_CHARS))
            return
        if name != self.project.name:
            self._push(("name",), name, f"Rename project to {safe.clip(name)}")

    def _description(self):
        d = self.desc_edit.text()
        if d == safe.clip(self.project.description, safe.EDIT_CHARS):
            return
        if d != self.project.description:
            self._push(("description",), d, "Change description")

    def _optimizer_kind(self, i):
        key = self.opt_combo.itemData(i)
        _name, old, ok = optimizer_of(self.project.compile)
        if ok and key == old.get("name"):
            return
        new = {"name": key}
        for prm in catalog.OPTIMIZERS[key][1]:
            keep = prm.name == "learning_rate" and prm.value_error(old.get(prm.name, prm.default)) is None
            new[prm.name] = old.get(prm.name, prm.default) if keep else prm.default
        self._push(("compile", "optimizer"), new, f"Optimizer {catalog.OPTIMIZERS[key][0]}")

    def _optimizer_param(self, prm, key, value):
        err = prm.value_error(value)
        if err:
            self._refuse(f"{label_for(key)} {err}")
            self.opt_editors[key].set_value(optimizer_of(self.project.compile)[1].get(key, prm.default))
            return
        self.error.hide()
        name, opt, ok = optimizer_of(self.project.compile)
        if not isinstance(safe.mapping(self.project.compile)[0].get("optimizer"), dict) or not ok:
            # the stored value is not a settings object: replace it whole (undo brings the old value back)
            new = {k: v for k, v in opt.items() if k != "name"}
            new = {"name": name, **new, key: value}
            self._push(("compile", "optimizer"), new, f"Change {label_for(key).lower()}")
            return
        self._push(("compile", "optimizer", key), value, f"Change {label_for(key).lower()}")

    def _schedule_kind(self, i):
        key = self.sch_combo.itemData(i)
        kind, _old, ok = schedule_of(self.project.compile)
        if ok and key == kind:
            return
        new = {"kind": key}
        for prm in catalog.SCHEDULES[key]:
            new[prm.name] = prm.default
        self._push(("compile", "schedule"), new, f"Schedule {SCHEDULE_LABELS.get(key, key).lower()}")

    def _schedule_param(self, prm, key, value):
        err = prm.value_error(value)
        if err:
            self._refuse(f"{label_for(key)} {err}")
            self.sch_editors[key].set_value(schedule_of(self.project.compile)[1].get(key, prm.default))
            return
        self.error.hide()
        kind, sch, ok = schedule_of(self.project.compile)
        if not isinstance(safe.mapping(self.project.compile)[0].get("schedule"), dict) or not ok:
            new = {k: v for k, v in sch.items() if k != "kind"}
            new = {"kind": kind, **new, key: value}
            self._push(("compile", "schedule"), new, f"Change {label_for(key).lower()}")
            return
        self._push(("compile", "schedule", key), value, f"Change {label_for(key).lower()}")

    def _reg(self, key, value):
        reg, _ok = safe.mapping(self.project.regularization)
        cur, ok = safe.number(reg.get(key, 0.0), 0.0)
        if ok and cur == value:
            return
        self._push(("regularization", key), value, f"Global {'dropout' if key == 'dropout' else 'L2'} {value:g}")

    # -- model → widgets ---------------------------------------------------------------------------------------------
    def _settings_changed(self, path):
        """Follow a change (an edit here, undo/redo, another panel, core) without rebuilding under the user's cursor.
        ``path`` is (section, *keys) from the project's settings events; a whole section replaced is (section,)."""
        p = self.project
        if path == ("name",):
            with QSignalBlocker(self.name_edit):
                self.name_edit.setText(safe.clip(p.name, safe.EDIT_CHARS))
        elif path == ("description",):
            with QSignalBlocker(self.desc_edit):
                self.desc_edit.setText(safe.clip(p.description, safe.EDIT_CHARS))
                self.desc_edit.setCursorPosition(0)
        elif path[:1] == ("regularization",):
            self._show_reg("dropout", self.dropout)
            self._show_reg("l2", self.l2)
        elif len(path) == 3 and path[:2] == ("compile", "optimizer") and path[2] in self.opt_editors:
            self.opt_editors[path[2]].set_value(optimizer_of(p.compile)[1].get(path[2]))
        elif len(path) == 3 and path[:2] == ("compile", "schedule") and path[2] in self.sch_editors:
            self.sch_editors[path[2]].set_value(schedule_of(p.compile)[1].get(path[2]))
        elif path[:1] == ("compile",):
            QTimer.singleShot(0, self.rebuild)

    def _outputs_changed(self, *_):
        self._fill_outputs()

    def _param_changed(self, node, key):
        if node.type == "Output" and key == "loss":
            self._fill_outputs()


__all__ = ["ProjectSettings", "QSignalBlocker"]
