"""The inspector: the selected node's name, params (one editor per param kind), per-node training settings
(L2 override, global dropout, trainable), and its output shape, parameter count and problems.

Edits become undo commands; values the catalog refuses are not applied, and the reason is shown under the
editor and in the status bar. Changes from elsewhere (undo, canvas) update the editors with signals blocked.
"""
from __future__ import annotations

import copy
import json

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QPushButton, QScrollArea, QVBoxLayout, QWidget)

from core import catalog
from core.graph import NAME_RE
from core.infer import shape_text
from core.node_settings import GLOBAL_DROPOUT, L2, TRAINABLE, is_frozen

from .. import commands, icons, safe
from ..experiments import sweep_marks
from .param_editors import FloatSpin, align_label_columns, compact, label_for, make_editor


def _label(text, role=None, wrap=False):
    lab = QLabel(text)
    if role:
        lab.setProperty("role", role)
    lab.setWordWrap(wrap)
    return lab


TIPS = (("Double-click", "a layer in the palette adds it after the selection"),
        ("Drag a port", "connect; drag a connected input away to re-route"),
        ("Wheel", "zoom around the cursor"),
        ("Space + drag", "pan (or the middle mouse button)"),
        ("F", "fit the graph in the view"),
        ("Ctrl+L", "auto-layout (Ctrl+Shift+L: top to bottom)"),
        ("Ctrl+D", "duplicate the selection"),
        ("Ctrl+Z", "undo (Ctrl+Shift+Z: redo)"),
        ("Ctrl+F", "search the layers"))


def _op_call_text(node, n_inputs):
    """The op node's call as the inspector shows it (its inputs in port order when the node names none)."""
    from core.ops import PORT
    p = node.params
    args = p.get("args")
    if args is None:
        args = [{PORT: i} for i in range(n_inputs)]
    return json.dumps({"args": args, "kwargs": p.get("kwargs") or {}})


class Inspector(QWidget):
    refused = Signal(str)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.doc = document
        self.node_id = None
        self.editors = {}
        self._graph = None
        self.info = self.problems = self.error = None
        self.trainable = self.l2_box = self.l2_spin = self.drop_box = self.config_edit = None
        self.call_edit = None
        self.name_edit = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.scroll)
        self.body = None
        document.project_changed.connect(self._project_changed)
        document.inference_updated.connect(self._update_info)
        document.locked_changed.connect(lambda locked, _r: self.body and self.body.setEnabled(not locked))
        self._project_changed(document.project)
        sweep_marks.follow(self, lambda _p: self.node_id and self.show_nodes([self.node_id]))

    # -- wiring ---------------------------------------------------------------------------------------------------
    def _project_changed(self, project):
        if self._graph is not None:
            ev = self._graph.events
            ev.param_changed.disconnect(self._param_changed)
            ev.node_renamed.disconnect(self._renamed)
            ev.settings_changed.disconnect(self._settings_changed)
            ev.node_removed.disconnect(self._removed)
            ev.edge_added.disconnect(self._edges_changed)
            ev.edge_removed.disconnect(self._edges_changed)
        self._graph = project.graph
        ev = self._graph.events
        ev.param_changed.connect(self._param_changed)
        ev.node_renamed.connect(self._renamed)
        ev.settings_changed.connect(self._settings_changed)
        ev.node_removed.connect(self._removed)
        ev.edge_added.connect(self._edges_changed)
        ev.edge_removed.connect(self._edges_changed)
        self.show_nodes([])

    def show_nodes(self, ids):
        """Show the single selected node, or a note for none / several."""
        ids = list(ids)
        self.node_id = ids[0] if len(ids) == 1 and ids[0] in self._graph.nodes else None
        self.editors = {}
        self.info = self.problems = self.error = None
        self.trainable = self.l2_box = self.l2_spin = self.drop_box = self.config_edit = None
        self.call_edit = None
        self.name_edit = None
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(14, 12, 14, 14)
        lay.setSpacing(6)
        if self.node_id is None:
            self._empty(lay, len(ids))
        else:
            self._build(lay, self._graph.nodes[self.node_id])
        lay.addStretch(1)
        align_label_columns(body)
        body.setEnabled(not self.doc.locked)
        self.scroll.setWidget(body)
        self.body = body
        self._update_info(self.doc.result)

    def _empty(self, lay, n):
        title = "Nothing selected" if n == 0 else f"{n} nodes selected"
        lay.addWidget(_label(title, "title"))
        hint = ("Select a node on the canvas to edit its parameters. Drag layers from the palette onto the "
                "canvas, and connect them by dragging from an output port to an input port."
                if n == 0 else "Select a single node to edit its parameters.")
        lay.addWidget(_label(hint, "muted", wrap=True))
        if n == 0:
            lay.addWidget(_label("Shortcuts", "section"))
            grid = QGridLayout()
            grid.setHorizontalSpacing(12)
            grid.setVerticalSpacing(5)
            for r, (keys, what) in enumerate(TIPS):
                k = _label(keys)
                k.setProperty("role", "chip")
                grid.addWidget(k, r, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                grid.addWidget(_label(what, "muted", wrap=True), r, 1)
            grid.setColumnStretch(1, 1)
            lay.addLayout(grid)

    # -- building the form ---------------------------------------------------------------------------------------
    def _build(self, lay, node):
        spec = node.spec
        head = QHBoxLayout()
        head.setSpacing(8)
        chip = QLabel()
        chip.setPixmap(icons.category_icon(spec.category).pixmap(28, 28))
        head.addWidget(chip, 0, Qt.AlignmentFlag.AlignTop)
        tl = QVBoxLayout()
        tl.setSpacing(0)
        tl.addWidget(_label(node.type, "title"))
        tl.addWidget(_label(spec.category, "muted"))
        head.addLayout(tl, 1)
        lay.addLayout(head)
        lay.addWidget(_label(spec.description, "muted", wrap=True))

        # output info
        self.info = _label("", "chip")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.info, 0, Qt.AlignmentFlag.AlignLeft)
        self.problems = _label("", "error", wrap=True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.problems)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(7)
        grid.setColumnStretch(1, 1)
        row = 0
        lay.addWidget(_label("Layer", "section"))
        self.name_edit = compact(QLineEdit(safe.clip(node.name, safe.EDIT_CHARS)))
        self.name_edit.editingFinished.connect(self._rename)
        grid.addWidget(_label("Name", "muted"), row, 0)
        grid.addWidget(self.name_edit, row, 1)
        row += 1
        lay.addLayout(grid)

        params = [p for p in spec.params if not (node.type == "KerasLayer" and p.name == "class_name")]
        if node.type == "KerasLayer":
            self._keras_layer(lay, node)
        elif params:
            lay.addWidget(_label("Loss and metrics" if node.type == "Output" else "Parameters", "section"))
            pg = QGridLayout()
            pg.setHorizontalSpacing(10)
            pg.setVerticalSpacing(7)
            pg.setColumnStretch(1, 1)
            for i, p in enumerate(params):
                lab = _label(label_for(p.name), "muted")
                lab.setToolTip(p.doc or p.name)
                sweep_marks.attach(self, lab, node, p.name)   # right-click: sweep this param
                ed = make_editor(p)
                ed.set_value(node.params.get(p.name, p.default))
                ed.committed.connect(lambda v, key=p.name: self._commit_param(key, v))
                pg.addWidget(lab, i, 0, Qt.AlignmentFlag.AlignLeft | (Qt.AlignmentFlag.AlignTop if ed.tall else Qt.AlignmentFlag.AlignVCenter))
                pg.addWidget(ed, i, 1)
                self.editors[p.name] = ed
            lay.addLayout(pg)
            if node.type == "Op":
                self._op_call(lay, node)
        if node.type not in ("Input", "Output"):
            self._settings_form(lay, node)
        self.error = _label("", "error", wrap=True)
        self.error.hide()
        lay.addWidget(self.error)

    def _settings_form(self, lay, node):
        spec = node.spec
        lay.addWidget(_label("Training", "section"))
        self.trainable = QCheckBox("Trainable")
        self.trainable.setToolTip("Uncheck to freeze this layer's weights while training")
        self.trainable.setChecked(not is_frozen(node))
        self.trainable.toggled.connect(lambda on: self._commit_setting(TRAINABLE, None if on else False))
        lay.addWidget(self.trainable)
        weighted = spec.weighted or (node.type == "KerasLayer" and node.params.get("class_name") in catalog.WEIGHTED_KERAS)
        self.l2_box = self.l2_spin = self.drop_box = None
        if weighted:
            row = QHBoxLayout()
            self.l2_box = QCheckBox("Own L2 factor")
            self.l2_box.setToolTip("Override the project's global L2 regularization for this layer's kernel")
            self.l2_spin = compact(FloatSpin())
            self.l2_spin.setRange(0.0, 10.0)
            self.l2_box.toggled.connect(self._l2_toggled)
            self.l2_spin.editingFinished.connect(lambda: self.l2_box.isChecked() and self._commit_setting(L2, float(self.l2_spin.value())))
            row.addWidget(self.l2_box)
            row.addWidget(self.l2_spin, 1)
            lay.addLayout(row)
        if spec.block:
            self.drop_box = QCheckBox("Global dropout after this layer")
            self.drop_box.setToolTip("The project's global dropout is inserted after Dense/Conv blocks; uncheck to skip it here")
            self.drop_box.toggled.connect(lambda on: self._commit_setting(GLOBAL_DROPOUT, None if on else False))
            lay.addWidget(self.drop_box)
        self._settings_changed(node)

    def _keras_layer(self, lay, node):
        lay.addWidget(_label("Keras layer", "section"))
        lay.addWidget(_label(f"class: {safe.clip(node.params.get('class_name', '?'))}", "muted"))
        self.config_edit = QPlainTextEdit(json.dumps(node.params.get("config", {}), indent=1))
        self.config_edit.setMinimumHeight(160)
        lay.addWidget(self.config_edit)
        apply = QPushButton("Apply config")
        apply.clicked.connect(self._apply_config)
        lay.addWidget(apply, 0, Qt.AlignmentFlag.AlignRight)

    def _op_call(self, lay, node):
        """How an op node calls its function, editable: positional ``args`` and keyword ``kwargs``, with
        ``{"__port__": i}`` for input i and JSON values for the constants (``ops.multiply(x, 0.5)``)."""
        lay.addWidget(_label("Call", "section"))
        hint = _label('Arguments as JSON: {"__port__": 0} is the first input, other values are constants', "muted",
                      wrap=True)
        lay.addWidget(hint)
        self.call_edit = QPlainTextEdit(_op_call_text(node, len(self._graph.in_edges(node.id))))
        self.call_edit.setMinimumHeight(110)
        lay.addWidget(self.call_edit)
        apply = QPushButton("Apply call")
        apply.clicked.connect(self._apply_op_call)
        lay.addWidget(apply, 0, Qt.AlignmentFlag.AlignRight)

    def _apply_op_call(self):
        from core.ops import op_problem, ports_used
        node = self._node()
        if node is None:
            return
        try:
            call = json.loads(self.call_edit.toPlainText())
        except ValueError as e:
            self._refuse(f"{node.name}: the call is not valid JSON: {e}")
            return
        if not isinstance(call, dict) or set(call) - {"args", "kwargs"}:
            self._refuse(f'{node.name}: the call must be a JSON object with "args" (a list) and "kwargs" (an object)')
            return
        trial = copy.copy(node)
        trial.params = dict(node.params, args=call.get("args", []), kwargs=call.get("kwargs", {}))
        why = op_problem(trial)
        n_in = len(self._graph.in_edges(node.id))
        bad = [i for i in ports_used(trial) if not isinstance(i, int) or not 0 <= i < n_in]
        if why is None and bad:
            why = f"input port {bad[0]} is not connected ({n_in} input(s))"
        if why:
            self._refuse(f"{node.name}: {why}")
            return
        self._clear_error()
        self.doc.push_all(f"Change {node.name} call", [commands.SetParam(self._graph, node.id, key, trial.params[key])
                                                        for key in ("args", "kwargs")])

    # -- commits --------------------------------------------------------------------------------------------------
    def _node(self):
        return self._graph.nodes.get(self.node_id) if self.node_id else None

    def _refuse(self, msg, key=None):
        if self.error is not None:
            self.error.setText(msg)
            self.error.show()
        ed = self.editors.get(key)
        node = self._node()
        if ed is not None and node is not None:
            ed.set_value(node.params.get(key))
        self.refused.emit(msg)
        self.doc.message.emit(msg)

    def _clear_error(self):
        if self.error is not None:
            self.error.hide()

    def _commit_param(self, key, value):
        node = self._node()
        if node is None:
            return
        p = node.spec.param(key)
        err = p.value_error(value) if p is not None else None
        if err:
            self._refuse(f"{label_for(key)} {err}", key)
            return
        self._clear_error()
        if node.params.get(key) == value:
            return
        self.doc.push(commands.SetParam(self._graph, node.id, key, value))

    def _commit_setting(self, key, value):
        node = self._node()
        if node is None or node.settings.get(key) == value:
            return
        self.doc.push(commands.SetSetting(self._graph, node.id, key, value))

    def _l2_toggled(self, on):
        self.l2_spin.setEnabled(on)
        self._commit_setting(L2, float(self.l2_spin.value()) if on else None)

    def _rename(self):
        node = self._node()
        if node is None:
            return
        shown = safe.clip(node.name, safe.EDIT_CHARS)
        name = self.name_edit.text().strip()
        if name in (node.name, shown):   # a long name is shown shortened: leaving the field is no rename
            return
        if not NAME_RE.match(name):
            self._refuse(f"Invalid name {safe.clip(repr(name))}: use letters, digits, '_', '-' or '.', "
                         "starting with a letter")
            self.name_edit.setText(shown)
            return
        if self._graph.by_name(name) is not None:
            self._refuse(f"A node named {safe.clip(repr(name))} already exists")
            self.name_edit.setText(shown)
            return
        self._clear_error()
        self.doc.push(commands.Rename(self._graph, node.id, name))

    def _apply_config(self):
        node = self._node()
        try:
            cfg = json.loads(self.config_edit.toPlainText())
        except ValueError as e:
            self._refuse(f"The config is not valid JSON: {e}")
            return
        if not isinstance(cfg, dict):
            self._refuse("The config must be a JSON object")
            return
        self._clear_error()
        self.doc.push(commands.SetParam(self._graph, node.id, "config", cfg))

    # -- model → editors -----------------------------------------------------------------------------------------------
    def _param_changed(self, node, key):
        if node.id != self.node_id:
            return
        ed = self.editors.get(key)
        if ed is not None:
            ed.set_value(node.params.get(key))
        elif key == "config" and self.config_edit is not None:
            self.config_edit.setPlainText(json.dumps(node.params.get("config", {}), indent=1))
        elif key in ("args", "kwargs") and self.call_edit is not None:
            self.call_edit.setPlainText(_op_call_text(node, len(self._graph.in_edges(node.id))))

    def _renamed(self, node):
        if node.id == self.node_id and self.name_edit is not None:
            with QSignalBlocker(self.name_edit):
                self.name_edit.setText(safe.clip(node.name, safe.EDIT_CHARS))

    def _settings_changed(self, node):
        if node.id != self.node_id or self.trainable is None:
            return
        s = node.settings
        with QSignalBlocker(self.trainable):
            self.trainable.setChecked(not is_frozen(node))
        if self.l2_box is not None:
            with QSignalBlocker(self.l2_box):
                self.l2_box.setChecked(s.get(L2) is not None)
            with QSignalBlocker(self.l2_spin):
                self.l2_spin.setValue(float(s.get(L2) or self.doc.project.regularization.get("l2", 0.0) or 0.0))
            self.l2_spin.setEnabled(s.get(L2) is not None)
        if self.drop_box is not None:
            with QSignalBlocker(self.drop_box):
                self.drop_box.setChecked(s.get(GLOBAL_DROPOUT, True) is not False)

    def _removed(self, node):
        if node.id == self.node_id:
            self.show_nodes([])

    def _edges_changed(self, edge):
        if self.node_id in (edge.src, edge.dst):
            self._update_info(self.doc.result)

    def _update_info(self, result):
        if self.node_id is None or self.info is None:
            return
        info = result.nodes.get(self.node_id) if result is not None else None
        if result is None:
            self.info.setText("Output shape: …  (TensorFlow is loading)")
            self.problems.hide()
            return
        if info is None:
            self.info.setText("Output shape: ?")
            self.problems.hide()
            return
        shape = info.shape
        node = self._node()
        if shape is None and node is not None and node.type == "Input":   # its own shape, connected or not
            own = node.params.get("shape")
            if isinstance(own, (list, tuple)) and all(d is None or (isinstance(d, int) and not isinstance(d, bool))
                                                      for d in own):
                shape = (None, *own)
        txt = f"Output {safe.clip(shape_text(shape), safe.SHOWN_CHARS) if shape is not None else '—'}"
        if info.params:
            txt += f"  ·  {info.params:,} params"
            if info.non_trainable:
                txt += f" ({info.non_trainable:,} non-trainable)"
        if info.dropout_after:
            txt += f"  ·  dropout {info.dropout_after:g} after"
        self.info.setText(txt)
        probs = result.problems_for(self.node_id)
        if probs:
            self.problems.setText("\n".join(f"⚠ {safe.clip(p.message, safe.TIP_CHARS)}" for p in probs[:20])
                                  + (f"\n… and {len(probs) - 20} more" if len(probs) > 20 else ""))
            self.problems.show()
        else:
            self.problems.hide()


__all__ = ["Inspector", "QFrame"]
