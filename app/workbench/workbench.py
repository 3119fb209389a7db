"""The workbench controller: wires the data, training, plot, feature-map and results panels to the main window
(through the window API of ``app.contracts.WorkbenchHost`` only), loads the project's data, and hands the rest
to its parts: ``runner.Runner`` (the training runs), ``analysis.Analysis`` (evaluation and feature maps),
``docks`` (the dock panels and the Train menu), ``settings_edits`` (the panels' edits of the project)."""
from __future__ import annotations

import json
import logging

import numpy as np
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from .. import safe
from ..tasks import TaskSlots, run_task, wait_all
from . import checkpoints
from .analysis import Analysis
from .data_panel import DataPanel
from .data_preview import make_preview
from .docks import Docks, TrainMenu
from .features import FeaturePanel
from .gc_tuning import freeze_startup_objects
from .plots import PlotsPanel
from .results import ResultsPanel
from .runner import Runner, err_text
from .settings_edits import SettingsEdits
from .train_panel import TrainPanel

log = logging.getLogger(__name__)


def _release_models():
    from core.training import release_models
    release_models()


def _list_devices():
    from core.training import list_devices
    return list_devices()


class Workbench(QObject):
    """Everything the training workbench adds to a window. Create with ``install(window)``."""

    run_started = Signal()
    run_finished = Signal(object)        # TrainResult, or None when the run failed before training
    evaluation_ready = Signal(object)    # core.evaluate.Evaluation
    dataset_ready = Signal(object)       # core.datasets.Dataset
    features_shown = Signal(str)         # node id

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.data_panel = DataPanel()
        self.train_panel = TrainPanel()
        self.plots = PlotsPanel()
        self.features = FeaturePanel()
        self.results = ResultsPanel()
        self.dataset = None
        self.preview = None
        self._data_key = None
        self._data_error = None
        self.info = None              # the latest shape inference
        self.result = None            # the last run's TrainResult
        self.evaluation = None
        self.devices = None
        self.epoch_reached = 0
        self.last_features = {}
        self._close_pending = False
        self.tasks = TaskSlots(window)  # "data", "evaluate", "features": a newer task drops the older one's answer
        self.gradients = None         # the gradient view (app.workbench.gradients.install)
        self.runner = Runner(self)
        self.analysis = Analysis(self)
        self.settings_edits = SettingsEdits(self)
        self.confirm_close = self._ask_close   # replaceable (tests)
        self.docks = Docks(window, self.train_panel, self.data_panel, self.plots, self.features, self.results)
        self.train_menu = TrainMenu(window, self)
        self.menu = self.train_menu.menu
        self.start_action = self.train_menu.start_action
        self.stop_action = self.train_menu.stop_action
        self.continue_action = self.train_menu.continue_action
        self._sync_actions()
        self._connect()
        self.load_project(window.project)
        if window.is_keras_ready():
            self._on_keras_ready()

    def _connect(self):
        w = self.window
        w.project_changed.connect(self.load_project)
        w.inference_updated.connect(self._on_inference)
        w.selection_changed.connect(self.features.follow_selection)
        w.keras_ready.connect(self._on_keras_ready)
        w.installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.start_action.triggered.connect(lambda: self.start())
        self.stop_action.triggered.connect(self.stop)
        self.continue_action.triggered.connect(lambda: self.start(continuing=True))
        tp = self.train_panel
        tp.start_clicked.connect(lambda: self.start())
        tp.stop_clicked.connect(self.stop)
        tp.continue_clicked.connect(lambda: self.start(continuing=True))
        tp.settings_changed.connect(self._training_settings_changed)
        self.data_panel.spec_changed.connect(self._data_spec_changed)
        self.data_panel.reload_clicked.connect(lambda: self.load_data(force=True))
        self.features.wanted.connect(self.analysis.feature_wanted)
        self.plots.exported.connect(lambda p: self._status(f"Saved {p}"))

    # -- the run (runner.py) -------------------------------------------------------------------------------------------
    @property
    def project(self):
        return self.window.project

    @property
    def running(self):
        return self.runner.running

    def start(self, continuing=False):
        """Start a run (fresh weights), or continue from the current weights."""
        return self.runner.start(continuing)

    def stop(self):
        """Stop after the current batch (the weights are kept)."""
        self.runner.stop()

    def wait(self, timeout_ms=30000):
        """Block until the current run's thread ends (tests, shutdown)."""
        self.runner.wait(timeout_ms)

    def _sync_actions(self, running=None):
        running = self.running if running is None else running
        self.train_menu.sync(running, self.train_panel.continue_btn.isEnabled())

    # -- window events -----------------------------------------------------------------------------------------------
    def show_data_settings(self, project):
        """The data panel shows the project's data settings (or says why it cannot)."""
        base = project.path.parent if getattr(project, "path", None) else None
        try:
            self.data_panel.load(project.data if isinstance(project.data, dict) else {}, base)
        except Exception as e:  # noqa: BLE001 - a data section the panel cannot show must not stop the others
            log.warning("the data settings of %s cannot be shown: %s", getattr(project, "name", "?"), e)
            self.data_panel.show_error(f"The project's data settings cannot be shown ({type(e).__name__}: {e})")

    def load_project(self, project):
        """A project was opened (or New): show its settings, reload its data, forget the old run."""
        if project is None:
            return
        self.settings_edits.follow(project)
        if self.running:
            self.stop()
        elif self.result is not None:
            # the engine keeps the last compiled model for a rerun of the same network: not needed any more
            run_task(_release_models, name="release")
        self.result = None
        self.epoch_reached = 0
        self.analysis.forget()
        # the old run's pictures go first, whatever the new project holds
        self.plots.clear_all()
        self.features.clear()
        self.results.clear("Train the network to see how it does on the test split.")
        self.train_panel.load(project.training)
        self.show_data_settings(project)
        self.train_panel.set_running(False, can_continue=project.has_weights() or checkpoints.exists(project))
        self.train_panel.set_status("Ready")
        self.train_panel.detail.setText("")
        self.train_panel.message.setText("")
        self._update_nodes()
        self.load_data(force=True)
        self._sync_actions()

    def _on_inference(self, result):
        self.info = result
        self._update_nodes()
        self._check_fit()

    def _on_keras_ready(self):
        freeze_startup_objects()
        run_task(_list_devices, self._devices_ready, lambda e: self._devices_ready([]), name="devices")
        self.runner.begin_when_free()
        self._check_fit()

    def _devices_ready(self, devices):
        self.devices = devices
        self.train_panel.set_devices(devices)
        self.train_panel.load(self.project.training)

    def _update_nodes(self):
        g = self.project.graph
        try:
            order = g.topological_order(strict=False)
        except Exception:
            order = list(g.nodes)
        nodes = [(k, g.nodes[k].name, g.nodes[k].type) for k in order if k in g.nodes]
        self.features.set_nodes(nodes)

    def _status(self, text, ms=5000):
        self.window.statusBar().showMessage(text, ms)

    def _mark_dirty(self):
        self.window.mark_dirty()

    # -- settings ------------------------------------------------------------------------------------------------
    # each edit is one undo step; the panels follow the project's settings events (settings_edits.py)
    def _training_settings_changed(self, values):
        self.settings_edits.training_edited(values)

    def _data_spec_changed(self, spec):
        self.settings_edits.data_edited(spec)

    # -- data ----------------------------------------------------------------------------------------------------
    def _data_spec_key(self):
        p = self.project
        base = str(p.path.parent) if getattr(p, "path", None) else ""
        return json.dumps(p.data, sort_keys=True, default=str) + "|" + base

    def load_data(self, force=False):
        key = self._data_spec_key()
        if not force and key == self._data_key and (self.dataset is not None or self._data_error):
            return
        self._data_key = key
        self.dataset = None
        self._data_error = None
        spec = json.loads(json.dumps(self.project.data, default=str))
        base = self.project.path.parent if getattr(self.project, "path", None) else None
        self.data_panel.show_loading()

        def work():
            from core.datasets import load_dataset
            ds = load_dataset(spec, base)
            return ds, make_preview(ds, spec=spec, base_dir=base)

        self.tasks.start("data", work, self._data_loaded, self._data_failed)

    def _data_loaded(self, res):
        ds, preview = res
        self.dataset, self.preview = ds, preview
        self.data_panel.show_dataset(ds, preview)
        split = ds.val or ds.train
        self.features.set_sample_count(split.n if split is not None else 1)
        self._check_fit()
        self.dataset_ready.emit(ds)

    def _data_failed(self, e):
        self._data_error = err_text(e)
        self.data_panel.show_error(self._data_error)

    def _check_fit(self):
        ds = self.dataset
        if ds is None:
            return
        info = self.info or self.window.last_inference()
        if info is None or getattr(info, "revision", None) != self.project.graph.revision:
            if info is None:
                self.data_panel.fit.setText("<i>The fit with the network is checked once TensorFlow has loaded.</i>")
                return
        try:
            from core.datasets import check_fit
            msgs = check_fit(ds, self.project.graph, info)
        except Exception as e:  # noqa: BLE001
            msgs = [err_text(e)]
        msgs = [safe.clip(m, safe.TIP_CHARS) for m in msgs]   # messages name layers: a long name is cut
        self.fit_messages = msgs
        self.data_panel.show_fit(msgs, graph_ok=not getattr(info, "problems", None))

    def current_dataset(self):
        """The dataset loaded for the project's data settings as they are now, or None (still loading, failed,
        or the settings changed since)."""
        return self.dataset if self._data_key == self._data_spec_key() else None

    def sample_input(self, i):
        """The first input of sample ``i`` of the validation split (else training), as the dataset gives it."""
        ds = self.dataset or (self.result.dataset if self.result else None)
        if ds is None:
            return None
        for split in (ds.val, ds.train):
            if split is not None and split.x is not None and split.n:
                return np.asarray(split.x[0][min(i, split.n - 1)])
        return None

    # -- closing -------------------------------------------------------------------------------------------------
    def _ask_close(self):
        import os
        if os.environ.get("LAYERWISE_NO_DIALOGS"):
            return True
        r = QMessageBox.question(self.window, "Training is running",
                                 "A training run is in progress. Stop it and close the window?\n\n"
                                 "The weights learned so far are kept in the project.",
                                 QMessageBox.StandardButtons(QMessageBox.Yes | QMessageBox.Cancel),
                                 QMessageBox.Cancel)
        return r == QMessageBox.Yes

    def eventFilter(self, obj, event):
        if obj is self.window and event.type() == QEvent.Close and self.running:
            if self._close_pending:
                event.ignore()
                return True
            if self.confirm_close():
                self._close_pending = True
                self.stop()
                self._status("Stopping training, then closing…", 0)
            event.ignore()
            return True
        return False

    def _close_if_asked(self):
        """The window was closed during a run (and the run asked to stop): close it once the run has ended."""
        if self._close_pending and not self.running:
            self._close_pending = False
            QTimer.singleShot(0, self.window.close)

    def shutdown(self):
        """Application exit: stop a run, drop the answers still to come (data, evaluation...: their widgets may be
        gone by then), and wait for the worker threads."""
        self.tasks.cancel()
        self.runner.shutdown(30000)
        wait_all(5000)

