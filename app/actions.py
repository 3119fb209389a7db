"""The window's actions, menus and toolbar (File, Edit, View, Help)."""
from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QToolBar, QWidget, QSizePolicy

from . import icons, paths, theme

SHORTCUTS_HELP = """<table cellspacing=4>
<tr><td><b>Drag</b> a layer from the palette</td><td>place it on the canvas</td></tr>
<tr><td><b>Double-click</b> a layer</td><td>add it after the selected node, connected</td></tr>
<tr><td><b>Drag</b> from an output port to an input port</td><td>connect</td></tr>
<tr><td><b>Drag</b> a connected input port away</td><td>re-route or disconnect</td></tr>
<tr><td>Wheel</td><td>zoom around the cursor</td></tr>
<tr><td>Middle drag, Space + drag</td><td>pan</td></tr>
<tr><td>F</td><td>fit to view</td></tr>
<tr><td>Ctrl+L / Ctrl+Shift+L</td><td>auto-layout left to right / top to bottom</td></tr>
<tr><td>Ctrl+C, Ctrl+V, Ctrl+D</td><td>copy, paste, duplicate</td></tr>
<tr><td>Delete</td><td>delete the selection</td></tr>
<tr><td>Ctrl+Z, Ctrl+Shift+Z</td><td>undo, redo</td></tr>
<tr><td>Ctrl+F</td><td>search the palette</td></tr>
</table>"""


class Actions:
    def __init__(self, w):
        self.w = w
        doc, ed, files = w.document, w.editor, w.files
        self._icons = []

        def act(text, slot=None, shortcut=None, icon=None, tip=None, checkable=False):
            a = QAction(text, w)
            if shortcut is not None:
                if isinstance(shortcut, (list, tuple)):
                    a.setShortcuts([QKeySequence(s) for s in shortcut])
                else:
                    a.setShortcut(QKeySequence(shortcut))
            if icon:
                a.setIcon(icons.icon(icon))
                self._icons.append((a, icon))
            if tip:
                a.setToolTip(tip)
                a.setStatusTip(tip)
            a.setCheckable(checkable)
            if slot is not None:
                a.triggered.connect(lambda checked=False, s=slot: s())
            w.addAction(a)
            return a

        SK = QKeySequence.StandardKey
        self.new = act("&New", files.new, SK.New, "new", "New project")
        self.open = act("&Open…", lambda: files.open(), SK.Open, "open", "Open a project")
        self.save = act("&Save", files.save, SK.Save, "save", "Save the project")
        self.save_as = act("Save &As…", files.save_as, SK.SaveAs)
        self.export = act("&Export…", lambda: files.export_dialog(), "Ctrl+E", "export",
                          "Export the model (.h5, .keras, .py) or a picture of the graph (.png, .svg)")
        self.quit = act("&Quit", w.close, SK.Quit)

        self.undo = doc.undo_stack.createUndoAction(w, "Undo")
        self.undo.setShortcuts([QKeySequence(SK.Undo)])
        self.redo = doc.undo_stack.createRedoAction(w, "Redo")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for a, name in ((self.undo, "undo"), (self.redo, "redo")):
            a.setIcon(icons.icon(name))
            self._icons.append((a, name))
            w.addAction(a)
        self.undo.setToolTip("Undo (Ctrl+Z)")
        self.redo.setToolTip("Redo (Ctrl+Shift+Z)")
        self.copy = act("&Copy", ed.copy, SK.Copy)
        self.paste = act("&Paste", ed.paste, SK.Paste)
        self.duplicate = act("D&uplicate", ed.duplicate, "Ctrl+D", "duplicate", "Duplicate the selection")
        self.delete = act("&Delete", ed.delete_selected, [QKeySequence(SK.Delete), QKeySequence("Backspace")],
                          "delete", "Delete the selection")
        self.select_all = act("Select &All", ed.select_all, SK.SelectAll)
        self.find = act("&Find Layer…", w.palette.focus_search, SK.Find, "search", "Search the layer palette")

        self.fit = act("&Fit to View", ed.fit, "F", "fit", "Fit the graph in the view (F)")
        self.zoom_in = act("Zoom &In", ed.view.zoom_in, SK.ZoomIn, "zoom-in")
        self.zoom_out = act("Zoom &Out", ed.view.zoom_out, SK.ZoomOut, "zoom-out")
        self.layout_lr = act("Auto-layout &Left to Right", partial(ed.auto_layout, "LR"), "Ctrl+L", "layout",
                             "Arrange the graph in layers, left to right (Ctrl+L)")
        self.layout_tb = act("Auto-layout &Top to Bottom", partial(ed.auto_layout, "TB"), "Ctrl+Shift+L", "layout-tb",
                             "Arrange the graph in layers, top to bottom (Ctrl+Shift+L)")
        self.snap = act("&Snap to Grid", None, None, "snap", "Snap nodes to the grid while moving", checkable=True)
        self.snap.setChecked(ed.scene.snap)
        self.snap.toggled.connect(self._snap)
        self.theme_group = QActionGroup(w)
        self.themes = {}
        for mode, label in (("system", "Follow &System"), ("light", "&Light"), ("dark", "&Dark")):
            a = act(label, partial(w.set_theme, mode), checkable=True)
            self.theme_group.addAction(a)
            self.themes[mode] = a
        self.themes.get(theme.manager().mode, self.themes["system"]).setChecked(True)
        self.toggle_theme = act("Toggle Light/Dark", self._toggle_theme, "Ctrl+Shift+T", "theme", "Switch between light and dark")
        self.shortcuts = act("&Keyboard and Mouse", self._help)
        self.about = act("&About Layerwise", self._about)
        self.editing = [self.paste, self.duplicate, self.delete, self.layout_lr, self.layout_tb]
        doc.locked_changed.connect(self._locked)

    # -- menus and toolbar ----------------------------------------------------------------------------------------
    def build_menus(self):
        w = self.w
        mb = w.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.new, self.open])
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.examples_menu = m.addMenu("E&xamples")
        self._fill_examples()
        m.addSeparator()
        m.addActions([self.save, self.save_as])
        m.addSeparator()
        exp = m.addMenu("Ex&port")
        exp.setIcon(icons.icon("export"))
        for ext, label in ((".h5", "Keras HDF5 Model (.h5)…"), (".keras", "Keras Model (.keras)…"),
                           (".py", "Python Script (.py)…"), (".png", "Picture (.png)…"), (".svg", "Picture (.svg)…")):
            a = exp.addAction(label)
            a.triggered.connect(partial(w.files.export_dialog, ext))
        m.addSeparator()
        m.addAction(self.quit)

        m = mb.addMenu("&Edit")
        m.addActions([self.undo, self.redo])
        self.history_menu = m.addMenu("&History")
        self.history_menu.aboutToShow.connect(self._fill_history)
        m.addSeparator()
        m.addActions([self.copy, self.paste, self.duplicate, self.delete])
        m.addSeparator()
        m.addActions([self.select_all, self.find])

        m = mb.addMenu("&View")
        m.addActions([self.fit, self.zoom_in, self.zoom_out])
        m.addSeparator()
        m.addActions([self.layout_lr, self.layout_tb, self.snap])
        m.addSeparator()
        tm = m.addMenu("&Theme")
        tm.addActions(list(self.themes.values()))
        tm.addSeparator()
        tm.addAction(self.toggle_theme)
        self.panels_menu = m.addMenu("&Panels")
        self.panels_menu.aboutToShow.connect(self._fill_panels)

        m = mb.addMenu("&Help")
        m.addActions([self.shortcuts, self.about])
        self.help_menu = m

    def build_toolbar(self):
        tb = QToolBar("Main toolbar", self.w)
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setFloatable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        tb.addActions([self.new, self.open, self.save])
        tb.addSeparator()
        tb.addActions([self.undo, self.redo])
        tb.addSeparator()
        tb.addActions([self.duplicate, self.delete])
        tb.addSeparator()
        tb.addActions([self.layout_lr, self.layout_tb, self.fit, self.snap])
        tb.addSeparator()
        tb.addAction(self.export)
        spacer = QWidget(tb)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        tb.addWidget(spacer)
        tb.addAction(self.toggle_theme)
        self.toolbar = tb
        self.w.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        return tb

    def context_menu(self, scene_pos, global_pos):
        """Right-click on the canvas: edit the selection, or add a layer where the user clicked."""
        from core import catalog
        w = self.w
        m = QMenu(w)
        sel = w.scene.selected_node_ids()
        if sel or w.scene.selected_edges():
            if sel:
                m.addActions([self.copy, self.duplicate])
            m.addAction(self.delete)
            m.addSeparator()
        add = m.addMenu("Add Layer Here")
        for cat in catalog.CATEGORIES:
            sub = add.addMenu(icons.category_icon(cat), cat)
            for spec in catalog.types_in(cat):
                a = sub.addAction(spec.type)
                a.setToolTip(spec.description)
                a.triggered.connect(partial(w.editor.add_layer_at, spec.type, scene_pos))
        m.addAction(self.paste)
        m.addSeparator()
        m.addActions([self.layout_lr, self.layout_tb, self.fit, self.select_all])
        m.popup(global_pos)
        self._context = m
        return m

    def refresh_icons(self):
        icons.clear()
        for a, name in self._icons:
            a.setIcon(icons.icon(name))

    # -- slots -------------------------------------------------------------------------------------------------------
    def _snap(self, on):
        self.w.editor.scene.snap = bool(on)
        paths.settings().setValue("snap", bool(on))

    def _toggle_theme(self):
        self.w.set_theme("light" if theme.current()["name"] == "dark" else "dark")

    def _locked(self, locked, reason):
        for a in self.editing:
            a.setEnabled(not locked)

    def _fill_recent(self):
        m = self.recent_menu
        m.clear()
        items = self.w.files.recent()
        if not items:
            a = m.addAction("No recent projects")
            a.setEnabled(False)
            return
        for p in items:
            a = m.addAction(Path(p).name)
            a.setToolTip(p)
            a.setStatusTip(p)
            a.triggered.connect(partial(self.w.files.open_recent, p))
        m.addSeparator()
        m.addAction("Clear Recent", self.w.files.clear_recent)

    def _fill_examples(self):
        m = self.examples_menu
        m.clear()
        for p in paths.examples():
            a = m.addAction(p.stem.replace("_", " "))
            a.setStatusTip(str(p))
            a.triggered.connect(partial(self.w.files.open, str(p), True))
        if m.isEmpty():
            m.addAction("No examples found").setEnabled(False)

    def _fill_history(self):
        m = self.history_menu
        m.clear()
        st = self.w.document.undo_stack
        if st.count() == 0:
            m.addAction("No edits yet").setEnabled(False)
            return
        for i in range(st.count()):
            a = m.addAction(st.text(i))
            a.setCheckable(True)
            a.setChecked(i == st.index() - 1)
            a.triggered.connect(partial(st.setIndex, i + 1))

    def _fill_panels(self):
        m = self.panels_menu
        m.clear()
        for dock in self.w.docks():
            m.addAction(dock.toggleViewAction())

    def _help(self):
        QMessageBox.information(self.w, "Keyboard and mouse", SHORTCUTS_HELP)

    def _about(self):
        from core import __version__
        QMessageBox.about(self.w, "About Layerwise",
                          f"<h3>Layerwise {__version__}</h3><p>Design neural networks as graphs, train them "
                          "for real with TensorFlow/Keras, and export them.</p>")


__all__ = ["Actions", "QMenu"]
