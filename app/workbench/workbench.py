"""The workbench controller: wires the data, training, plot, feature-map and results panels to the main window
(through its public API only) and to the training engine running in a worker thread."""
from __future__ import annotations

import json
import logging
import time

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QFrame, QMessageBox, QScrollArea

from core.evaluate import evaluate
from core.features import feature_maps

from .. import safe
from .data_panel import DataPanel, make_preview
from .features import FeaturePanel
from .plots import PlotsPanel
from .render import fmt_metric, fmt_rate
from .results import ResultsPanel
from .settings_edits import SettingsEdits
from .tasks import TrainBridge, TrainThread, make_state, run_task, wait_all
from .train_panel import TrainPanel

log = logging.getLogger(__name__)

FEATURE_BUDGET = 1_000_000   # floats per sample: below this every layer is streamed, so any can be picked live


_frozen = False
_switch_saved = None


def _fast_gil_handoff(on):
    """While a run goes on, hand the GIL between threads every 1 ms instead of Python's 5 ms: after a burst of GUI
    work (a repaint) the training thread gets it back sooner, and the other way round (measured here: samples/s
    of a window run up, timer delays still far under a frame)."""
    import sys
    global _switch_saved
    if on and _switch_saved is None:
        _switch_saved = sys.getswitchinterval()
        sys.setswitchinterval(min(_switch_saved, 0.001))
    elif not on and _switch_saved is not None:
        sys.setswitchinterval(_switch_saved)
        _switch_saved = None


def _freeze_startup_objects():
    """Move the objects alive once TensorFlow has loaded (modules, the window: hundreds of thousands, all permanent)
    out of the cyclic garbage collector's view. A full collection otherwise walks them all: ~0.4 s with the GIL held,
    a visible freeze of the window in the middle of a run. Garbage made later is collected as before."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    import gc
    gc.collect()
    gc.freeze()


def _release_models():
    from core.training import release_models
    release_models()


def _scrolling(widget):
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    area.setWidget(widget)
    area.setObjectName(widget.objectName() + "_scroll")
    # as wide as the panel needs (it scrolls vertically only)
    area.setMinimumWidth(widget.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width() + 2)
    return area


def _err_text(e):
    """One readable paragraph for an exception raised before or during training."""
    from core.errors import BuildError
    if isinstance(e, BuildError):
        probs = [safe.clip(str(p), safe.TIP_CHARS) for p in e.problems[:5]]
        more = f" (and {len(e.problems) - 4} more)" if len(e.problems) > 4 else ""
        return "The graph cannot be built: " + "; ".join(probs[:4]) + more
    text = str(e).strip() or type(e).__name__
    from core.errors import LayerwiseError
    if not isinstance(e, LayerwiseError):
        text = f"{type(e).__name__}: {text}"
    return safe.clip(text, 4 * safe.TIP_CHARS)


class Workbench(QObject):
    """Everything the training workbench adds to a window. Create with ``install(window)``."""

    run_started = Signal()
    run_finished = Signal(object)        # TrainResult, or None when the run failed before training
    evaluation_ready = Signal(object)    # results.Evaluation
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
        self.docks = {}
        self.dataset = None
        self.preview = None
        self._data_key = None
        self._data_token = 0
        self._data_error = None
        self.info = None
        self.result = None
        self.evaluation = None
        self.devices = None
        self.epoch_reached = 0
        self.last_features = {}
        self._feature_token = 0       # results of older feature/evaluation tasks are dropped
        self._eval_token = 0
        self._thread = None
        self._state = None
        self._bridge = TrainBridge(self)
        self._pending = None          # a start waiting for TensorFlow or for a task that uses the model
        self._model_tasks = set()
        self._shut_down = False
        self._feature_cache = {}
        self._close_pending = False
        self._run_meta = {}
        self.settings_edits = SettingsEdits(self)
        self.confirm_close = self._ask_close   # replaceable (tests)
        self._connect_bridge()
        self._add_docks()
        self._add_menu()
        self._connect_window()
        self._connect_panels()
        self.load_project(window.project)
        if self._keras_ready_now():
            self._on_keras_ready()

    # -- setup ---------------------------------------------------------------------------------------------------
    def _add_docks(self):
        w = self.window
        right = Qt.RightDockWidgetArea
        bottom = Qt.BottomDockWidgetArea
        d = self.docks
        # the side panels scroll instead of imposing their full height on the dock area (so the plots below can
        # take room while a run goes on)
        d["training"] = w.add_panel(_scrolling(self.train_panel), "Training", right)
        d["data"] = w.add_panel(_scrolling(self.data_panel), "Data", right)
        d["plots"] = w.add_panel(self.plots, "Training plots", bottom)
        d["features"] = w.add_panel(self.features, "Feature maps", bottom)
        d["results"] = w.add_panel(self.results, "Results", bottom)
        # feature maps (tabbed with the results) go beside the plots, not behind them: both are worth watching
        # at once. QMainWindow's own dock API; a window without it still gets the panels.
        try:
            if all(isinstance(x, QDockWidget) for x in d.values()) and hasattr(w, "tabifyDockWidget"):
                w.addDockWidget(bottom, d["features"], Qt.Horizontal)
                w.tabifyDockWidget(d["features"], d["results"])
                d["features"].show()
                d["results"].show()
                d["features"].raise_()
        except Exception:
            log.debug("dock arrangement failed", exc_info=True)
        self._sized = False

    def _show_for_run(self):
        """Bring the training, plot and feature-map panels to the front (and give the plots room, once)."""
        d = self.docks
        for key in ("training", "plots", "features"):
            dock = d.get(key)
            if isinstance(dock, QDockWidget):
                if not dock.isVisible():
                    dock.show()
                dock.raise_()
        plots = d.get("plots")
        w = self.window
        if not self._sized and isinstance(plots, QDockWidget) and hasattr(w, "resizeDocks") and not plots.isFloating():
            # the canvas is locked while training runs: give the plots room (once per session; the user's own
            # sizing wins afterwards)
            self._sized = True
            want = int(w.height() * 0.45)
            if plots.height() < want:
                w.resizeDocks([plots], [want], Qt.Vertical)

    def _add_menu(self):
        w = self.window
        self.start_action = QAction("&Start training", self)
        self.start_action.setShortcut(QKeySequence("F5"))
        self.start_action.setStatusTip("Train the network from fresh weights")
        self.stop_action = QAction("S&top training", self)
        self.stop_action.setShortcut(QKeySequence("Shift+F5"))
        self.stop_action.setStatusTip("Stop after the current batch; the weights learned so far are kept")
        self.continue_action = QAction("&Continue training", self)
        self.continue_action.setShortcut(QKeySequence("Ctrl+F5"))
        self.continue_action.setStatusTip("Train further from the current weights")
        self.start_action.triggered.connect(lambda: self.start())
        self.stop_action.triggered.connect(self.stop)
        self.continue_action.triggered.connect(lambda: self.start(continuing=True))
        menubar = getattr(w, "menuBar", None)
        if menubar is None:
            return
        bar = menubar()
        menu = None
        for act in bar.actions():
            m = act.menu()
            if m is not None and act.text().replace("&", "").strip().lower() == "train":
                menu = m
                break
        if menu is None:
            menu = bar.addMenu("&Train")
        else:
            menu.addSeparator()
        self.menu = menu
        for a in (self.start_action, self.stop_action, self.continue_action):
            menu.addAction(a)
        self._sync_actions()

    def _connect_window(self):
        w = self.window
        for name, slot in (("project_changed", self.load_project), ("inference_updated", self._on_inference),
                           ("selection_changed", self.features.follow_selection),
                           ("keras_ready", self._on_keras_ready)):
            sig = getattr(w, name, None)
            if sig is not None:
                sig.connect(slot)
        w.installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _connect_bridge(self):
        b = self._bridge
        b.started.connect(self._on_started)
        b.batch.connect(self._on_batch)
        b.epoch.connect(self._on_epoch)
        b.features.connect(self._on_features)
        b.error.connect(self._on_train_error)
        b.finished.connect(self._on_finished)
        b.failed.connect(self._on_failed)

    def _connect_panels(self):
        tp = self.train_panel
        tp.start_clicked.connect(lambda: self.start())
        tp.stop_clicked.connect(self.stop)
        tp.continue_clicked.connect(lambda: self.start(continuing=True))
        tp.settings_changed.connect(self._training_settings_changed)
        self.data_panel.spec_changed.connect(self._data_spec_changed)
        self.data_panel.reload_clicked.connect(lambda: self.load_data(force=True))
        self.features.wanted.connect(self._feature_wanted)
        self.plots.exported.connect(lambda p: self._status(f"Saved {p}"))

    def _keras_ready_now(self):
        f = getattr(self.window, "is_keras_ready", None)
        try:
            return bool(f()) if f is not None else False
        except Exception:
            return False

    # -- window events -----------------------------------------------------------------------------------------------
    @property
    def project(self):
        return self.window.project

    @property
    def _training_active(self):
        """A run is starting or going on (its results are not in yet)."""
        return self._state is not None or self._pending is not None

    @property
    def running(self):
        return self._thread is not None or self._pending is not None

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
        self.evaluation = None
        self.epoch_reached = 0
        self.last_features = {}
        self._feature_token += 1
        self._eval_token += 1
        # the old run's pictures go first, whatever the new project holds
        self.plots.clear_all()
        self.features.clear()
        self.results.clear("Train the network to see how it does on the test split.")
        self.train_panel.load(project.training)
        base = project.path.parent if getattr(project, "path", None) else None
        try:
            self.data_panel.load(project.data if isinstance(project.data, dict) else {}, base)
        except Exception as e:  # noqa: BLE001 - a data section the panel cannot show must not stop the others
            log.warning("the data settings of %s cannot be shown: %s", getattr(project, "name", "?"), e)
            self.data_panel.show_error(f"The project's data settings cannot be shown ({type(e).__name__}: {e})")
        self.train_panel.set_running(False, can_continue=project.has_weights())
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
        _freeze_startup_objects()
        run_task(self._list_devices, self._devices_ready, lambda e: self._devices_ready([]), name="devices")
        if self._pending is not None:
            self._begin_when_free()
        self._check_fit()

    @staticmethod
    def _list_devices():
        from core.training import list_devices
        return list_devices()

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
        sb = getattr(self.window, "statusBar", None)
        if sb is not None:
            try:
                sb().showMessage(text, ms)
            except Exception:
                pass

    def _mark_dirty(self):
        f = getattr(self.window, "mark_dirty", None)
        if f is not None:
            f()

    def _lock(self, locked):
        f = getattr(self.window, "set_editing_locked", None)
        if f is not None:
            f(locked, "training in progress" if locked else "")

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
        self._data_token += 1
        token = self._data_token
        self.dataset = None
        self._data_error = None
        spec = json.loads(json.dumps(self.project.data, default=str))
        base = self.project.path.parent if getattr(self.project, "path", None) else None
        self.data_panel.show_loading()

        def work():
            from core.datasets import load_dataset
            ds = load_dataset(spec, base)
            return ds, make_preview(ds, spec=spec, base_dir=base)

        run_task(work, lambda r: self._data_loaded(token, r), lambda e: self._data_failed(token, e), name="data")

    def _data_loaded(self, token, res):
        if token != self._data_token:
            return
        ds, preview = res
        self.dataset, self.preview = ds, preview
        self.data_panel.show_dataset(ds, preview)
        split = ds.val or ds.train
        self.features.set_sample_count(split.n if split is not None else 1)
        self._check_fit()
        self.dataset_ready.emit(ds)

    def _data_failed(self, token, e):
        if token != self._data_token:
            return
        self._data_error = _err_text(e)
        self.data_panel.show_error(self._data_error)

    def _check_fit(self):
        ds = self.dataset
        if ds is None:
            return
        info = self.info or getattr(getattr(self.window, "document", None), "result", None)
        if info is None or getattr(info, "revision", None) != self.project.graph.revision:
            if info is None:
                self.data_panel.fit.setText("<i>The fit with the network is checked once TensorFlow has loaded.</i>")
                return
        try:
            from core.datasets import check_fit
            msgs = check_fit(ds, self.project.graph, info)
        except Exception as e:  # noqa: BLE001
            msgs = [_err_text(e)]
        msgs = [safe.clip(m, safe.TIP_CHARS) for m in msgs]   # messages name layers: a long name is cut
        self.fit_messages = msgs
        self.data_panel.show_fit(msgs, graph_ok=not getattr(info, "problems", None))

    def sample_input(self, i):
        """The first input of sample ``i`` of the validation split (else training), as the dataset gives it."""
        ds = self.dataset or (self.result.dataset if self.result else None)
        if ds is None:
            return None
        for split in (ds.val, ds.train):
            if split is not None and split.x is not None and split.n:
                return np.asarray(split.x[0][min(i, split.n - 1)])
        return None

    # -- training ------------------------------------------------------------------------------------------------
    def start(self, continuing=False):
        """Start a run (fresh weights), or continue from the current weights."""
        if self.running:
            return False
        tp = self.train_panel
        self._training_settings_changed(tp.values())
        info = self.info
        if info is not None and getattr(info, "problems", None) and info.revision == self.project.graph.revision:
            probs = [safe.clip(str(p), safe.TIP_CHARS) for p in info.problems[:3]]
            more = len(info.problems) - 3
            tp.show_error("The graph has problems; fix them first: " + "; ".join(probs)
                          + (f" (and {more} more)" if more > 0 else ""))
            return False
        self._lock(True)
        self.data_panel.set_enabled_for_run(True)
        tp.set_running(True, waiting="Waiting for TensorFlow to load…")
        self._sync_actions(running=True)
        self._pending = {"continuing": continuing}
        if not self._keras_ready_now():
            tp.detail.setText("TensorFlow is still loading; training starts as soon as it is ready.")
            return True
        self._begin_when_free()
        return True

    def _model_task_done(self, task):
        """A background task that used the trained model ended. A run waits for those (the engine retrains the
        same model object when the network is unchanged)."""
        self._model_tasks.discard(task)
        if self._pending is not None and not self._model_tasks and self._keras_ready_now():
            self._begin_when_free()

    def _begin_when_free(self):
        if self._pending is None or self._thread is not None:
            return
        if self._model_tasks:
            self.train_panel.detail.setText("Finishing the evaluation of the last run…")
            return
        pending, self._pending = self._pending, None
        self._begin(**pending)

    def _feature_nodes(self):
        g = self.project.graph
        chosen = self.features.current_node()
        info = self.info
        ids = [k for k in g.nodes if g.nodes[k].type != "Output"]
        if info is not None and info.revision == g.revision:
            total = 0
            for k in ids:
                ni = info.nodes.get(k)
                shp = getattr(ni, "shape", None)
                if isinstance(shp, tuple) and all(isinstance(d, int) for d in shp[1:]):
                    total += int(np.prod(shp[1:])) if len(shp) > 1 else 1
                else:
                    total += FEATURE_BUDGET  # unknown: be careful
            if total <= FEATURE_BUDGET:
                return ids
        inputs = [n.id for n in g.input_nodes()]
        return list(dict.fromkeys(([chosen] if chosen else []) + inputs))

    def _begin(self, continuing=False):
        from core.errors import LayerwiseError
        from core.training import TrainConfig, run
        project = self.project
        graph = project.graph
        tp = self.train_panel
        prev = self.result
        build = None
        keep = False
        initial = 0
        more = tp.epochs.value()
        if continuing:
            initial = self.epoch_reached
            if prev is not None and prev.build is not None and prev.error is None \
                    and getattr(prev.build, "revision", -1) == graph.revision:
                build = prev.build
            else:
                keep = True   # the graph changed (or a new session): rebuild with the weights the nodes carry
                if prev is None:
                    initial = 0
        try:
            cfg = TrainConfig.from_project(project, epochs=initial + more, initial_epoch=initial,
                                           keep_weights=keep, feature_nodes=self._feature_nodes(),
                                           feature_samples=[self.features.current_sample()],
                                           feature_every=self.features.refresh_every())
        except LayerwiseError as e:
            self._end_failed(_err_text(e))
            return
        # drop everything that holds the old model before the engine clears the Keras session
        if build is None:
            self.result = None
        self.evaluation = None
        self.last_features = {}
        self._feature_token += 1
        self._eval_token += 1
        self.results.clear("Training…")
        self._show_for_run()
        data = self.dataset if self._data_key == self._data_spec_key() else None
        self._run_meta = {"continuing": continuing, "initial": initial, "epochs": cfg.epochs,
                          "t0": time.perf_counter(), "stop_clicked": False}
        label = f"run {len(self.plots.runs) + (1 if self.plots.run else 0) + (0 if continuing else 1)}"
        self.plots.start_run(label, continuing=continuing and build is not None)
        self.epoch_reached = initial
        tp.set_preparing("Preparing: loading data and building the model…")
        state = make_state(self._bridge)
        self._state = state

        def work(st, project=project, data=data, cfg=cfg, build=build):
            return run(project, data=data, config=cfg, state=st, build=build)

        self._thread = TrainThread(work, state, self._bridge)
        self._thread.finished.connect(self._thread_done)
        # the worker starts right after the window has repainted for the run (building the model is Python work
        # that competes with the GUI thread for the GIL; the repaint goes first, the user sees the click at once)
        QTimer.singleShot(40, self._start_thread)
        _fast_gil_handoff(True)
        self.run_started.emit()

    def _start_thread(self):
        t = self._thread
        if t is not None and not t.isRunning() and not t.isFinished() and not self._shut_down:
            t.start()

    def stop(self):
        """Stop after the current batch (the weights are kept)."""
        if self._pending is not None:
            self._pending = None
            self._end_failed("Start cancelled.", error=False)
            return
        if self._state is not None:
            self._state.request_stop()
            self._run_meta["stop_clicked"] = True
            self.train_panel.stop_btn.setEnabled(False)
            self.train_panel.detail.setText("Stopping after the current batch…")

    def wait(self, timeout_ms=30000):
        """Block until the current run's thread ends (tests, shutdown)."""
        t = self._thread
        if t is not None:
            t.wait(timeout_ms)

    # -- bridge (GUI thread) ---------------------------------------------------------------------------------------
    def _on_started(self, info):
        self._run_meta["info"] = info
        self.train_panel.show_start(info, self._run_meta.get("epochs", info.get("epochs", 1)))
        self.plots.on_start(info)
        for w in info.get("warnings") or []:
            self._status(w, 8000)

    def _on_batch(self, epoch, step, logs, info):
        self.plots.on_batch(epoch, step, logs, info)
        self.train_panel.show_batch(epoch, step, info, self._run_meta.get("initial", 0))

    def _on_epoch(self, epoch, logs):
        self.epoch_reached = epoch + 1
        self.plots.on_epoch(epoch, logs)
        self.train_panel.show_epoch(epoch, logs, self._run_meta.get("initial", 0))

    def _on_features(self, epoch, step, feats):
        self.last_features = feats
        self._run_meta["feature_at"] = (epoch, step)
        self._show_live_features()

    def _show_live_features(self):
        node = self.features.current_node()
        epoch, step = self._run_meta.get("feature_at", (0, 0))
        if node in self.last_features or f"{node}:scores" in self.last_features:
            inp = self._input_from(self.last_features)
            if self.features.show_features(node, self.last_features, inp,
                                           when=f"epoch {epoch + 1}, batch {step + 1}"):
                self.features_shown.emit(node)
        elif self._training_active:
            self.features.show_message("This layer is not streamed during this run (the network is large); "
                                       "it is shown when training ends.")

    def _input_from(self, feats):
        for n in self.project.graph.input_nodes():
            if n.id in feats:
                a = np.asarray(feats[n.id])
                return a[0] if len(a) else None
        return self.sample_input(self.features.current_sample())

    def _on_train_error(self, error):
        kind = getattr(error, "kind", "error")
        title = {"nan": "The loss became NaN", "oom": "Out of memory", "data": "Data error"}.get(kind, "Training error")
        self.train_panel.show_error(f"{title}: {error}")

    def _on_failed(self, e):
        self._end_failed(_err_text(e))

    def _end_failed(self, text, error=True):
        _fast_gil_handoff(False)
        self._state = None
        self._lock(False)
        self.data_panel.set_enabled_for_run(False)
        self.train_panel.set_running(False, can_continue=self.result is not None or self.project.has_weights())
        if error:
            self.train_panel.show_error(text)
        else:
            self.train_panel.show_done(text)
            self.train_panel.progress.setValue(0)
        self.train_panel.detail.setText("")
        self.results.clear("No results: the run did not start." if error else "")
        self._sync_actions()
        self.run_finished.emit(None)
        self._after_run()

    def _on_finished(self, result):
        _fast_gil_handoff(False)
        self._state = None
        self.result = result
        self.plots.refresh()
        self._lock(False)
        self.data_panel.set_enabled_for_run(False)
        tp = self.train_panel
        tp.set_running(False, can_continue=result.build is not None and result.error is None)
        if result.error is None:
            self._mark_dirty()   # the engine copied the trained weights into the graph's nodes
        done = result.epochs_done
        parts = []
        if result.error is not None:
            self._on_train_error(result.error)
            tp.detail.setText(f"{done} epoch{'s' if done != 1 else ''} finished before the error; the plots are kept. "
                              f"The project's weights were not changed.")
        else:
            if result.stopped:
                at = result.stopped_at
                where = f" at epoch {at[0] + 1}, batch {at[1] + 1}" if at else ""
                parts.append(f"Stopped{where}; the weights learned so far are kept.")
            else:
                parts.append(f"Done: {done} epoch{'s' if done != 1 else ''} in {result.seconds:.1f} s "
                             f"({fmt_rate(result.samples_per_s)} samples/s on {result.device}).")
                if getattr(result, "early_stopped", False):
                    t = self.project.training if isinstance(self.project.training, dict) else {}
                    es = t.get("early_stopping") if isinstance(t.get("early_stopping"), dict) else {}
                    parts.append(f"Early stopping ended the run: {es.get('monitor', 'val_loss')} had not improved "
                                 f"for {es.get('patience', '?')} epochs"
                                 + (" (the best weights were restored)." if es.get("restore_best_weights") else "."))
            if result.test_metrics:
                parts.append("Test: " + ", ".join(f"{k} {fmt_metric(v)}" for k, v in result.test_metrics.items()))
            tp.show_done("\n".join(parts))
            tp.set_status("Stopped" if result.stopped else "Finished")
            tp.detail.setText("The trained weights are now part of the project (Save keeps them, Export uses them).")
            for w in result.warnings or []:
                self._status(w, 8000)
        self._sync_actions()
        self.run_finished.emit(result)
        if result.error is None and result.build is not None:
            self._evaluate(result)
            self._feature_wanted()
        self._after_run()

    def _thread_done(self):
        t = self.sender() or self._thread
        if t is self._thread:
            self._thread = None
        if t is not None:
            t.deleteLater()
        self._sync_actions()
        if self._close_pending and not self.running:
            self._close_pending = False
            QTimer.singleShot(0, self.window.close)

    def _after_run(self):
        if self._close_pending and self._thread is None:
            self._close_pending = False
            QTimer.singleShot(0, self.window.close)

    def _sync_actions(self, running=None):
        running = self.running if running is None else running
        self.start_action.setEnabled(not running)
        self.stop_action.setEnabled(running)
        self.continue_action.setEnabled(not running and self.train_panel.continue_btn.isEnabled())

    # -- after training: evaluation and feature maps ------------------------------------------------------------------
    def _evaluate(self, result):
        graph = self.project.graph
        token = self._eval_token
        self.results.clear("Evaluating on the test split…")

        def done(ev):
            if token != self._eval_token:
                return
            self.evaluation = ev
            self.results.show_evaluation(ev)
            self.evaluation_ready.emit(ev)

        def failed(e):
            if token == self._eval_token:
                self.results.clear(f"Evaluation failed: {_err_text(e)}")

        self._model_tasks.add(run_task(lambda: evaluate(result, graph), done, failed, name="evaluate",
                                       on_finished=self._model_task_done))

    def _feature_wanted(self):
        node = self.features.current_node()
        if node is None:
            return
        if self._training_active:
            self._show_live_features()
            return
        result = self.result
        if result is None or result.build is None:
            if node in self.last_features:
                self._show_live_features()
            return
        if getattr(result.build, "revision", None) != self.project.graph.revision:
            self.features.show_message("The graph changed since the last run: train again to see its layers.")
            return
        self._feature_token += 1
        token = self._feature_token
        sample = self.features.current_sample()
        graph = self.project.graph
        # every streamable layer at once (one traced function per model, whichever layer is picked next), or
        # only the picked one for a large network
        ids = self._feature_nodes()
        if node not in ids:
            ids = list(dict.fromkeys([node] + ids))
        cache = self._feature_cache

        def work():
            return feature_maps(result, graph, ids, sample, cache)

        def done(feats):
            if token != self._feature_token or feats is None:
                return
            self.last_features = feats
            inp = self._input_from(feats)
            if self.features.show_features(node, feats, inp, when="trained weights"):
                self.features_shown.emit(node)

        def failed(e):
            if token == self._feature_token:
                self.features.show_message(f"Cannot compute this layer's output: {_err_text(e)}")

        self._model_tasks.add(run_task(work, done, failed, name="features", on_finished=self._model_task_done))

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

    def shutdown(self):
        """Application exit: stop a run and wait for the worker threads."""
        self._shut_down = True
        if self._state is not None:
            self._state.request_stop()
        self._pending = None
        t = self._thread
        if t is not None:
            t.wait(30000)
        wait_all(5000)
