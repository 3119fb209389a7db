"""Transfer learning in the window: File → Import Model…, and a Transfer menu and panel.

``install(window)`` (called by the main window at start-up) adds:

* File → Import Model… — a Keras ``.h5``/``.keras`` file as a new project (``core.transfer.import_model``); a
  file with Lambda layers or custom classes asks before it is trusted;
* Transfer → Add Pretrained Base… — a ``keras.applications`` architecture (ImageNet weights from Keras' cache,
  a local weights file or random weights; offline and not cached, the dialog offers the choice) or a model
  file, added as one group node after the selected node (or after a new Input);
* Transfer → Expand Group / Collapse Group / Cut at Layer… / Freeze / Unfreeze / Trainable From Layer… /
  Fine-tune Phase… on the selected group node, the selected expanded group, or the selected nodes;
* a "Transfer" panel listing the layers of the selection with their trainable state and the trainable vs
  frozen parameter counts.

Every edit is one undo step (``commands.GraphEdit``: a snapshot of the graph and compile settings before and
after). All the work is done by core (core.transfer, core.groups, core.bases); this module only asks and shows.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QInputDialog, QLabel, QMessageBox, QPushButton,
                               QSpinBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from .commands import GraphEdit
from .tasks import TaskSlots

log = logging.getLogger(__name__)
MODEL_FILTER = "Keras models (*.h5 *.hdf5 *.keras);;All files (*)"
WEIGHTS_FILTER = "Keras weights (*.h5 *.weights.h5);;All files (*)"


# -- what the selection means -------------------------------------------------------------------------------------------------
def target_of(graph, ids):
    """(target for core.groups, label): a group node, an expanded group, the selected nodes, or the whole graph."""
    from core.groups import is_group
    ids = [k for k in ids if k in graph.nodes]
    if len(ids) == 1:
        n = graph.nodes[ids[0]]
        if is_group(n):
            return n.id, f"base '{n.name}'"
        if n.settings.get("group"):
            return n.settings["group"], f"expanded group '{n.settings['group']}'"
    layers = [k for k in ids if graph.nodes[k].type not in ("Input", "Output")]
    if len(layers) > 1:
        return layers, f"{len(layers)} selected layers"
    return None, "the whole network"


# -- dialogs --------------------------------------------------------------------------------------------------------------------
class BaseDialog(QDialog):
    """Add Pretrained Base: an architecture (with weights from ImageNet, a file, or random) or a model file."""

    def __init__(self, parent=None, default_shape=None):
        super().__init__(parent)
        from core.bases import ARCHITECTURES
        self.setWindowTitle("Add Pretrained Base")
        lay = QFormLayout(self)
        self.source = QComboBox()
        for name, a in ARCHITECTURES.items():
            self.source.addItem(f"{name} — {a.description}", name)
        self.source.addItem("A Keras model file (.h5 / .keras)…", "file")
        lay.addRow("Base", self.source)
        self.weights = QComboBox()
        self.weights.addItem("ImageNet (Keras' cache, or download)", "imagenet")
        self.weights.addItem("A local weights file…", "file")
        self.weights.addItem("Random weights", "random")
        lay.addRow("Weights", self.weights)
        self.size = QSpinBox()
        self.size.setRange(32, 1024)
        self.size.setValue(int(default_shape[0]) if default_shape else 224)
        lay.addRow("Input size (px)", self.size)
        self.alpha = QComboBox()
        for a in ("1.0", "0.75", "0.5", "0.35"):
            self.alpha.addItem(a)
        lay.addRow("Width (alpha, MobileNet)", self.alpha)
        self.top = QCheckBox("Keep the ImageNet classifier top (1000 classes)")
        lay.addRow(self.top)
        self.frozen = QCheckBox("Frozen (train only the new head)")
        self.frozen.setChecked(True)
        lay.addRow(self.frozen)
        self.preprocess = QCheckBox("Add the base's input preprocessing (pixels 0-255)")
        self.preprocess.setChecked(True)
        lay.addRow(self.preprocess)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addRow(buttons)
        self.source.currentIndexChanged.connect(self._enable)
        self._enable()

    def _enable(self):
        arch = self.source.currentData() != "file"
        for w in (self.weights, self.size, self.top, self.preprocess):
            w.setEnabled(arch)
        self.alpha.setEnabled(self.source.currentData() in ("MobileNetV2", "MobileNetV3Small"))

    def choice(self):
        return {"source": self.source.currentData(), "weights": self.weights.currentData(),
                "size": self.size.value(), "alpha": float(self.alpha.currentText()) if self.alpha.isEnabled() else None,
                "include_top": self.top.isChecked(), "frozen": self.frozen.isChecked(),
                "preprocessing": self.preprocess.isChecked()}


class FineTuneDialog(QDialog):
    def __init__(self, n_layers, lr, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Fine-tune Phase")
        lay = QFormLayout(self)
        lay.addRow(QLabel("Unfreeze the top layers of the base and continue training with a lower learning rate."))
        self.top = QSpinBox()
        self.top.setRange(0, n_layers)
        self.top.setValue(max(1, n_layers // 5))
        lay.addRow(f"Unfreeze the top … of {n_layers} layers", self.top)
        self.factor = QDoubleSpinBox()
        self.factor.setDecimals(3)
        self.factor.setRange(0.001, 1.0)
        self.factor.setSingleStep(0.05)
        self.factor.setValue(0.1)
        lay.addRow(f"Learning rate × (now {lr:g})", self.factor)
        self.keep_bn = QCheckBox("Keep BatchNormalization layers frozen (recommended)")
        self.keep_bn.setChecked(True)
        lay.addRow(self.keep_bn)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addRow(buttons)


# -- the panel --------------------------------------------------------------------------------------------------------------------
class TransferPanel(QWidget):
    """The layers of the selected base / group / nodes: trainable or frozen, and the parameter counts."""

    def __init__(self, ui, parent=None):
        super().__init__(parent)
        self.ui = ui
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.counts = QLabel("")
        lay.addWidget(self.title)
        lay.addWidget(self.counts)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["#", "layer", "class", "trainable"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        lay.addWidget(self.tree, 1)
        row = QHBoxLayout()
        self.cut_btn = QPushButton("Cut here")
        self.cut_btn.setToolTip("Keep the base up to the selected layer (drop the layers after it)")
        self.from_btn = QPushButton("Trainable from here")
        self.from_btn.setToolTip("Freeze the layers before the selected one, train it and the ones after")
        for b in (self.cut_btn, self.from_btn):
            row.addWidget(b)
        lay.addLayout(row)
        self.cut_btn.clicked.connect(lambda: self.ui.cut(self.selected_layer()))
        self.from_btn.clicked.connect(lambda: self.ui.trainable_from(self.selected_layer()))

    def selected_layer(self):
        items = self.tree.selectedItems()
        return items[0].data(1, Qt.ItemDataRole.UserRole) if items else None

    def show_target(self, graph, ids, result):
        from core.groups import rows
        target, label = target_of(graph, ids)
        self.tree.clear()
        try:
            rs = rows(graph, target)
        except Exception:  # a stale selection: show nothing
            rs = []
        self.title.setText(f"<b>{label}</b>: {len(rs)} layers")
        items = []
        for r in rs:
            it = QTreeWidgetItem([str(r["index"]), r["name"], str(r["class_name"]), "yes" if r["trainable"] else "frozen"])
            it.setData(1, Qt.ItemDataRole.UserRole, r["name"] if not isinstance(target, list) else r["index"])
            items.append(it)
        self.tree.addTopLevelItems(items)
        for i in range(4):
            self.tree.resizeColumnToContents(i)
        is_group = isinstance(target, str) and target in graph.nodes
        self.cut_btn.setEnabled(is_group)
        self.from_btn.setEnabled(bool(rs))
        if result is not None:
            if isinstance(target, str) and target in graph.nodes:
                keys = [target]
            else:
                from core.groups import layer_nodes
                try:
                    keys = layer_nodes(graph, target)
                except Exception:
                    keys = []
            info = [result.nodes[k] for k in keys if k in result.nodes]
            tr = sum(i.trainable for i in info)
            fr = sum(i.non_trainable for i in info)
            self.counts.setText(f"{tr:,} trainable · {fr:,} frozen params")
        else:
            self.counts.setText("")


# -- the controller ----------------------------------------------------------------------------------------------------------------
class TransferUI(QObject):
    """The transfer part of a window (``app.contracts.TransferHost``)."""

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.doc = window.document
        self.tasks = TaskSlots(window)   # "import", "base": one model file or base loading at a time
        self.last_result = None
        self.panel = TransferPanel(self)
        self.dock = window.add_panel(self.panel, "Transfer")
        self._build_actions()
        window.selection_changed.connect(self._refresh)
        window.inference_updated.connect(self._on_result)
        window.project_changed.connect(lambda _p: self._refresh(window.selected_node_ids()))
        self._ids = []
        self._refresh([])

    # -- menus ----------------------------------------------------------------------------------------------------------
    def _build_actions(self):
        w = self.w

        def act(text, slot, tip):
            a = QAction(text, w)
            a.setStatusTip(tip)
            a.setToolTip(tip)
            a.triggered.connect(lambda _checked=False: slot())
            return a
        self.import_action = act("&Import Model…", self.import_dialog,
                                 "Open a Keras model file (.h5 / .keras) as an editable graph with its weights")
        file_menu = self._menu("File")
        if file_menu is not None:
            before = next((a for a in file_menu.actions() if a.text().replace("&", "").startswith("Save")), None)
            file_menu.insertAction(before, self.import_action) if before else file_menu.addAction(self.import_action)
        self.add_base = act("Add Pretrained &Base…", self.add_base_dialog,
                            "A keras.applications network or a model file as one group node")
        self.expand = act("&Expand Group", self.expand_selected, "Replace the base node by its layers")
        self.collapse = act("&Collapse Group", self.collapse_selected, "Build the layers of an expanded group back into one node")
        self.cut_action = act("C&ut at Layer…", lambda: self.cut(None), "Keep the base up to a layer (drop its top)")
        self.freeze_action = act("&Freeze", lambda: self.freeze(True), "Freeze every layer of the selection")
        self.unfreeze_action = act("&Unfreeze", lambda: self.freeze(False), "Make every layer of the selection trainable")
        self.from_action = act("&Trainable From Layer…", lambda: self.trainable_from(None),
                               "Freeze the first layers, train from layer N on")
        self.fine_action = act("Fine-tune &Phase…", self.fine_tune_dialog,
                               "Unfreeze the top layers and lower the learning rate, then continue training")
        self.menu = w.menuBar().addMenu("&Transfer")
        self.menu.addActions([self.add_base])
        self.menu.addSeparator()
        self.menu.addActions([self.expand, self.collapse, self.cut_action])
        self.menu.addSeparator()
        self.menu.addActions([self.freeze_action, self.unfreeze_action, self.from_action, self.fine_action])
        self.menu.aboutToShow.connect(lambda: self._refresh(self._selected()))

    def _menu(self, title):
        for a in self.w.menuBar().actions():
            if a.menu() is not None and a.text().replace("&", "") == title:
                return a.menu()
        return None

    @property
    def busy(self):
        """A model import or base loading is running."""
        return self.tasks.busy()

    def _selected(self):
        return list(self.w.selected_node_ids())

    def _refresh(self, ids):
        from core.groups import group_names, is_group
        self._ids = list(ids)
        g = self.doc.project.graph
        sel = [k for k in ids if k in g.nodes]
        one = g.nodes[sel[0]] if len(sel) == 1 else None
        self.expand.setEnabled(one is not None and is_group(one))
        self.cut_action.setEnabled(one is not None and (is_group(one) or one.type not in ("Input", "Output")))
        self.collapse.setEnabled(bool(one is not None and one.settings.get("group")) or
                                 (not sel and bool(group_names(g))))
        self.panel.show_target(g, sel, self.last_result)

    def _on_result(self, result):
        self.last_result = result
        self.panel.show_target(self.doc.project.graph, [k for k in self._ids if k in self.doc.project.graph.nodes],
                               result)

    def _push(self, text, apply, select=None):
        cmd = GraphEdit(self.doc.project, text, apply)
        if not self.doc.push(cmd):
            return None
        if cmd.error is not None:
            self.w.show_error(text, _plain(cmd.error))
            return None
        self.doc.mark_dirty()
        if select:
            ids = select(cmd.result)
            if ids:
                self.w.select_node(ids)
        self._refresh(self._selected())
        return cmd.result

    # -- import ---------------------------------------------------------------------------------------------------------
    def import_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self.w, "Import a Keras model", str(Path.home()), MODEL_FILTER)
        if path:
            self.import_file(path)

    def import_file(self, path, trust=False, wait=False, custom_code=None):
        """Import in a background thread (TensorFlow work), then open the result as a new untitled project.
        ``custom_code``: the Python file that defines the model's custom classes (loaded only with ``trust``)."""
        if self.busy:
            self.doc.message.emit("An import is already running")
            return False
        self.doc.message.emit(f"Importing {Path(path).name}…")

        def work():
            from core.transfer import import_model
            return import_model(path, trust=trust, custom_code=custom_code)

        def failed(e):  # ModelFileError, or anything Keras raises: reported, never a crash
            if not isinstance(e, _layerwise_error()):
                log.error("import failed", exc_info=e)
            self._on_imported(path, None, e, trust, custom_code)

        t = self.tasks.start("import", work, lambda imported: self._on_imported(path, imported, None, trust), failed)
        if wait:
            t.wait()
        return True

    def _on_imported(self, path, imported, error, trust, custom_code=None):
        name = Path(path).name
        if error is not None:
            msg = _plain(error)
            if not trust and "--trust" in msg:
                if self._ask("Import model", msg.replace("import it with --trust", "import it anyway")
                             + "\n\nDo you trust this file and want to import it anyway?"):
                    self.import_file(path, trust=True, custom_code=self._custom_code_for(path, msg))
                return
            self.w.show_error("Cannot import the model", msg)
            return
        if not self.w.files.maybe_save():
            return
        self.doc.set_project(imported.project)
        imported.prime(self.doc.inference)   # the loaded model already knew every shape
        self.doc.schedule_inference()
        self.w.editor.fit()
        self.doc.message.emit(_summary(name, imported))
        if imported.training:
            self.doc.message.emit(imported.training)
        for warn in imported.warnings:
            self.doc.message.emit(warn)

    def _custom_code_for(self, path, msg):
        """For a file with custom classes: the Python file that defines them, picked by the person (None: none)."""
        from app.main_window import dialogs_enabled
        if "custom class" not in msg or not dialogs_enabled():
            return None
        code, _ = QFileDialog.getOpenFileName(self.w, "The Python file that defines its custom classes (Cancel: none)",
                                              str(Path(path).parent), "Python files (*.py)")
        return code or None

    def _ask(self, title, text):
        from app.main_window import dialogs_enabled
        if not dialogs_enabled():
            return False
        return QMessageBox.question(self.w, title, text) == QMessageBox.StandardButton.Yes

    # -- add a pretrained base ---------------------------------------------------------------------------------------------
    def add_base_dialog(self):
        if not self.doc.is_keras_ready():
            self.w.show_error("Add Pretrained Base", "TensorFlow is still loading; try again in a few seconds.")
            return
        d = BaseDialog(self.w)
        if d.exec() != QDialog.DialogCode.Accepted:
            return
        choice = d.choice()
        if choice["source"] == "file":
            path, _ = QFileDialog.getOpenFileName(self.w, "A Keras model as the base", str(Path.home()), MODEL_FILTER)
            if not path:
                return
            choice["path"] = path
        elif choice["weights"] == "file":
            path, _ = QFileDialog.getOpenFileName(self.w, "Weights file", str(Path.home()), WEIGHTS_FILTER)
            if not path:
                return
            choice["weights"] = path
        self.add_base_with(choice)

    def add_base_with(self, choice, wait=False):
        """Load the base in a background thread (weights can take a while), then add it as one undo step."""
        if self.busy:
            self.doc.message.emit("Busy: wait for the import to finish")
            return False
        self.doc.message.emit("Loading the base…")

        def work():
            if choice["source"] == "file":
                from core.transfer import load_keras_model
                return load_keras_model(choice["path"], choice.get("trust", False))
            from core.bases import load_base
            size = choice.get("size") or 224
            return load_base(choice["source"], None if choice["weights"] == "random" else choice["weights"],
                             include_top=choice.get("include_top", False), input_shape=(size, size, 3),
                             alpha=choice.get("alpha"))

        def failed(e):
            if not isinstance(e, _layerwise_error()):
                log.error("loading the base failed", exc_info=e)
            self._on_base_ready(choice, None, e)

        t = self.tasks.start("base", work, lambda model: self._on_base_ready(choice, model, None), failed)
        if wait:
            t.wait()
        return True

    def _on_base_ready(self, choice, model, error):
        if error is not None:
            from core.bases import WeightsUnavailable
            if isinstance(error, WeightsUnavailable):
                self._offer_weights(choice, error)
            elif not choice.get("trust") and "--trust" in str(error) and self._ask("Add Pretrained Base", _plain(error)
                                                                                    + "\n\nTrust this file?"):
                self.add_base_with(dict(choice, trust=True))
            else:
                self.w.show_error("Cannot add the base", _plain(error))
            return
        g = self.doc.project.graph
        sel = [k for k in self._selected() if k in g.nodes and g.nodes[k].type != "Output"]
        source = sel[0] if len(sel) == 1 else None

        def apply():
            from core.bases import preprocessing_nodes
            from core.groups import add_model_node
            x, y = g.nodes[source].pos if source else (60.0, 200.0 + 160.0 * len(g.input_nodes()))
            src = source
            out = {}
            if src is None:
                shape = [None if d is None else int(d) for d in model.inputs[0].shape[1:]]
                inp = g.add_node("Input", {"shape": shape}, name=g.unique_name("image"), pos=(x, y))
                src = inp.id
            x += 220.0
            if choice["source"] != "file" and choice.get("preprocessing"):
                last = preprocessing_nodes(g, choice["source"], src, pos=(x, y))
                if last != src:
                    src, x = last, x + 220.0
            node = add_model_node(g, model, pos=(x, y), source=src, trainable=not choice.get("frozen", True))
            out["base"] = node.id
            if choice.get("trust"):   # the person just trusted this file: its code runs in this session
                from core.trust import node_code, set_trusted
                if node_code(node):
                    set_trusted(g)
            return out
        label = Path(choice["path"]).name if choice["source"] == "file" else choice["source"]
        self._push(f"Add base {label}", apply, select=lambda r: r["base"] if r else None)

    def _offer_weights(self, choice, error):
        from app.main_window import dialogs_enabled
        if not dialogs_enabled():
            self.w.show_error("ImageNet weights unavailable", str(error))
            return
        box = QMessageBox(self.w)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("ImageNet weights unavailable")
        box.setText(str(error))
        local = box.addButton("Choose a Weights File…", QMessageBox.ButtonRole.AcceptRole)
        rand = box.addButton("Use Random Weights", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is local:
            path, _ = QFileDialog.getOpenFileName(self.w, "Weights file", str(Path.home()), WEIGHTS_FILTER)
            if path:
                self.add_base_with(dict(choice, weights=path))
        elif box.clickedButton() is rand:
            self.add_base_with(dict(choice, weights="random"))

    # -- group edits -------------------------------------------------------------------------------------------------------
    def expand_selected(self):
        from core.groups import expand_group, is_group
        g = self.doc.project.graph
        sel = [k for k in self._selected() if k in g.nodes and is_group(g.nodes[k])]
        if not sel:
            self.doc.message.emit("Select a base (group) node to expand")
            return None
        name = g.nodes[sel[0]].name
        return self._push(f"Expand {name}", lambda: expand_group(g, sel[0]))

    def collapse_selected(self):
        from core.groups import collapse_group, group_names
        g = self.doc.project.graph
        sel = [k for k in self._selected() if k in g.nodes and g.nodes[k].settings.get("group")]
        names = [g.nodes[sel[0]].settings["group"]] if sel else group_names(g)
        if not names:
            self.doc.message.emit("There is no expanded group to collapse")
            return None
        name = names[0]
        result = self.last_result if self.last_result is not None and self.last_result.revision == g.revision else None
        return self._push(f"Collapse {name}", lambda: collapse_group(g, name, result),
                          select=lambda node: node.id if node else None)

    def cut(self, layer=None):
        from core.groups import cut_after, cut_group, inner_layers, is_group
        g = self.doc.project.graph
        sel = [k for k in self._selected() if k in g.nodes]
        if len(sel) != 1:
            self.doc.message.emit("Select one base node (or one layer) to cut at")
            return None
        node = g.nodes[sel[0]]
        if is_group(node):
            if layer is None:
                names = [r["name"] for r in inner_layers(node)]
                layer, ok = QInputDialog.getItem(self.w, "Cut at Layer", f"Keep '{node.name}' up to the layer:",
                                                 names, len(names) - 1, False)
                if not ok:
                    return None
            return self._push(f"Cut {node.name} at {layer}", lambda: cut_group(g, node.id, layer))
        return self._push(f"Cut after {node.name}", lambda: cut_after(g, node.id))

    def freeze(self, frozen=True):
        from core.groups import freeze
        g = self.doc.project.graph
        target, label = target_of(g, self._selected())
        return self._push(f"{'Freeze' if frozen else 'Unfreeze'} {label}", lambda: freeze(g, target, frozen))

    def trainable_from(self, layer=None):
        from core.groups import rows, set_trainable_from
        g = self.doc.project.graph
        target, label = target_of(g, self._selected())
        if layer is None:
            rs = rows(g, target)
            if not rs:
                return None
            items = [f"{r['index']}: {r['name']}" for r in rs]
            text, ok = QInputDialog.getItem(self.w, "Trainable From Layer", f"In {label}, train from the layer:",
                                            items, 0, False)
            if not ok:
                return None
            layer = int(text.split(":")[0])
        return self._push(f"Trainable from {layer} in {label}", lambda: set_trainable_from(g, target, layer))

    def fine_tune_dialog(self):
        from core.groups import rows
        p = self.doc.project
        target, label = target_of(p.graph, self._selected())
        rs = rows(p.graph, target)
        lr = float((p.compile.get("optimizer") or {}).get("learning_rate", 0.001))
        d = FineTuneDialog(len(rs), lr, self.w)
        if d.exec() != QDialog.DialogCode.Accepted:
            return None
        return self.fine_tune(d.top.value(), d.factor.value(), d.keep_bn.isChecked())

    def fine_tune(self, top_n, lr_factor=0.1, keep_batchnorm_frozen=True):
        from core.groups import fine_tune
        p = self.doc.project
        target, label = target_of(p.graph, self._selected())
        r = self._push(f"Fine-tune phase: top {top_n} of {label}",
                       lambda: fine_tune(p, target, top_n, lr_factor=lr_factor,
                                         keep_batchnorm_frozen=keep_batchnorm_frozen))
        if r:   # (the lowered learning rate reached the settings panel through the project's settings events)
            old, new = r["learning_rate"]
            self.doc.message.emit(f"Fine-tune phase: {len(r['unfrozen'])} layers trainable, learning rate {old:g} → "
                                  f"{new:g}. Continue training to run it (the weights are kept).")
        return r


def _layerwise_error():
    from core.errors import LayerwiseError
    return LayerwiseError


def _plain(e):
    from core.errors import LayerwiseError
    return str(e) if isinstance(e, LayerwiseError) else f"{type(e).__name__}: {e}"


def _summary(name, imported):
    s = imported.stats
    bits = [f"{s['layers']} layers"]
    if s.get("ops"):
        bits.append(f"{s['ops']} keras.ops steps as op nodes")
    if s["keras_layer"]:
        bits.append(f"{s['keras_layer']} as Keras layers")
    if s["groups"]:
        bits.append(f"{s['groups']} group node(s)")
    return f"Imported {name}: " + ", ".join(bits) + f", {s['params']:,} params"


def install(window):
    """Add File → Import Model…, the Transfer menu and the Transfer panel to the main window."""
    ui = TransferUI(window)
    window.transfer = ui
    return ui
