"""The training and data panels' edits of the project's settings, and the panels following those settings.

An edit in either panel becomes one undo step (``commands.SetProjectSetting`` for one changed key,
``SetProjectSettings`` when an edit changes several), handed to the window's ``push_edit``
(``app.contracts.WorkbenchHost``); consecutive edits of one field (typing in a spin box) merge.

Whoever writes the settings (these panels, undo/redo, another view, core), the project's
``events.settings_changed`` comes back here and the panels show the project's values again; an edit the panel
itself made is not shown back to it (the panel already shows it, and the cursor stays where it is).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from ..commands import MISSING, settings_command


def training_changes(training, values):
    """[(path, value)] that make the project's training section say what the panel's ``values`` say."""
    if not isinstance(training, dict):   # the file's section was not an object: the panel's values replace it
        return [((), dict(values))]
    out = []
    for k, v in values.items():
        cur = training.get(k, MISSING)
        if isinstance(cur, dict) and isinstance(v, dict):   # early stopping: key by key (others it holds stay)
            out += [((k, kk), vv) for kk, vv in v.items() if cur.get(kk, MISSING) != vv]
        elif cur != v:
            out.append(((k,), v))
    return out


def data_changes(data, spec):
    """[(path, value)] (``MISSING``: remove the key) that turn the project's data section into ``spec``."""
    if not isinstance(data, dict):
        return [((), dict(spec))]
    out = [((k,), v) for k, v in spec.items() if data.get(k, MISSING) != v]
    out += [((k,), MISSING) for k in data if k not in spec]
    return out


class SettingsEdits(QObject):
    """Created by the workbench; ``follow(project)`` on every project it shows."""

    def __init__(self, workbench):
        super().__init__(workbench)
        self.wb = workbench
        self._project = None
        self._own = None          # the section an edit of these panels is writing now
        self._data_stale = False
        self._data_timer = QTimer(self)   # several keys of one data edit (or undo) reload the data once
        self._data_timer.setSingleShot(True)
        self._data_timer.setInterval(0)
        self._data_timer.timeout.connect(self._show_data)

    def follow(self, project):
        if project is self._project:
            return
        if self._project is not None:
            self._project.events.settings_changed.disconnect(self._settings_event)
        self._project = project
        self._data_stale = False
        events = getattr(project, "events", None)
        if events is not None:
            events.settings_changed.connect(self._settings_event)

    # -- panel → project ------------------------------------------------------------------------------------------
    def training_edited(self, values):
        self._edit("training", training_changes(self.wb.project.training, values))

    def data_edited(self, spec):
        p = self.wb.project
        if spec == p.data:
            return
        if self._edit("data", data_changes(p.data, spec)):
            self.wb.load_data()

    def _edit(self, section, changes):
        """Apply ``changes`` as one undo step. False when nothing was applied (editing is locked): the panel then
        shows the project's values again."""
        cmd = settings_command(self.wb.project, section, changes)
        if cmd is None:
            return False
        self._own = section
        try:
            ok = self.wb.window.push_edit(cmd)
        finally:
            self._own = None
        if not ok:
            self._settings_event(section, ())
        return ok

    # -- project → panels -----------------------------------------------------------------------------------------
    def _settings_event(self, section, path):
        if section == self._own:
            return
        if section == "training":
            self.wb.train_panel.load(self.wb.project.training)
        elif section == "data":
            self._data_stale = True
            self._data_timer.start()

    def _show_data(self):
        if not self._data_stale:
            return
        self._data_stale = False
        wb = self.wb
        wb.show_data_settings(wb.project)
        wb.load_data()
