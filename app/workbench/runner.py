"""The run state machine of the workbench: start (or wait for TensorFlow and for tasks that use the model), the
training run in a worker thread, its live reports, stop, and the end of the run (finished, failed, stopped).

States: idle → pending (a start waits for TensorFlow, or for an evaluation/feature task still using the trained
model) → running (``state`` set; the worker thread runs ``core.training.run``) → idle. The run's reports come
through ``TrainBridge``'s queued signals; its end (the TrainResult, or the exception raised before training
started) through ``app.tasks``, like any background task.
"""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QTimer, Signal

from .. import safe
from ..tasks import run_task
from . import checkpoints
from .gc_tuning import fast_gil_handoff
from .render import fmt_metric, fmt_rate

log = logging.getLogger(__name__)


def err_text(e):
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


class TrainBridge(QObject):
    """Reports from a training run. Lives in the GUI thread; emitted from the worker (queued)."""

    started = Signal(object)                 # info dict
    batch = Signal(int, int, object, object)  # epoch, step, logs, info
    epoch = Signal(int, object)              # epoch, logs
    features = Signal(int, int, object)      # epoch, step, {node_id: array}
    error = Signal(object)                   # TrainingError during the run (the result follows)


def make_state(bridge: TrainBridge, min_interval=0.04):
    """A core.training.TrainState that forwards to ``bridge``'s queued signals, at most one batch report
    every ``min_interval`` seconds (the engine already samples batches by time; this is a second guard)."""
    from core.training import TrainState

    class QtTrainState(TrainState):
        def __init__(self):
            super().__init__()
            self._last = 0.0

        def on_start(self, info):
            bridge.started.emit(dict(info))

        def on_batch(self, epoch, step, logs, info):
            now = time.perf_counter()
            if now - self._last < min_interval:
                return
            self._last = now
            bridge.batch.emit(int(epoch), int(step), dict(logs), dict(info or {}))

        def on_epoch(self, epoch, logs):
            bridge.epoch.emit(int(epoch), dict(logs))

        def on_features(self, epoch, step, features):
            bridge.features.emit(int(epoch), int(step), dict(features))

        def on_end(self, result):
            pass  # the task delivers the returned result

        def on_error(self, error):
            bridge.error.emit(error)

    return QtTrainState()


def finished_text(result, training):
    """The lines the training panel shows for a run that ended without an error."""
    done = result.epochs_done
    parts = []
    if result.stopped:
        at = result.stopped_at
        where = f" at epoch {at[0] + 1}, batch {at[1] + 1}" if at else ""
        parts.append(f"Stopped{where}; the weights learned so far are kept.")
    else:
        parts.append(f"Done: {done} epoch{'s' if done != 1 else ''} in {result.seconds:.1f} s "
                     f"({fmt_rate(result.samples_per_s)} samples/s on {result.device}).")
        if getattr(result, "early_stopped", False):
            t = training if isinstance(training, dict) else {}
            es = t.get("early_stopping") if isinstance(t.get("early_stopping"), dict) else {}
            parts.append(f"Early stopping ended the run: {es.get('monitor', 'val_loss')} had not improved "
                         f"for {es.get('patience', '?')} epochs"
                         + (" (the best weights were restored)." if es.get("restore_best_weights") else "."))
    if result.test_metrics:
        parts.append("Test: " + ", ".join(f"{k} {fmt_metric(v)}" for k, v in result.test_metrics.items()))
    return "\n".join(parts)


class Runner(QObject):
    """Starts, watches and ends training runs for a Workbench (its panels show the run)."""

    def __init__(self, workbench):
        super().__init__(workbench)
        self.wb = workbench
        self.task = None            # the run's background task (from the start until its end is delivered)
        self.state = None           # the running run's TrainState (stop requests go there)
        self.pending = None         # a start waiting for TensorFlow or for a task that uses the model
        self.model_tasks = set()    # background tasks using the trained model
        self.meta = {}              # this run: continuing, initial epoch, epochs, where the live features are
        self.shut_down = False
        self.bridge = TrainBridge(self)
        b = self.bridge
        b.started.connect(self._on_started)
        b.batch.connect(self._on_batch)
        b.epoch.connect(self._on_epoch)
        b.features.connect(self._on_features)
        b.error.connect(self._on_train_error)

    @property
    def active(self):
        """A run is starting or going on (its results are not in yet)."""
        return self.state is not None or self.pending is not None

    @property
    def running(self):
        return self.task is not None or self.pending is not None

    # -- starting ------------------------------------------------------------------------------------------------
    def start(self, continuing=False):
        """Start a run (fresh weights), or continue from the current weights."""
        wb = self.wb
        if self.running:
            return False
        tp = wb.train_panel
        wb._training_settings_changed(tp.values())
        info = wb.info
        if info is not None and getattr(info, "problems", None) and info.revision == wb.project.graph.revision:
            probs = [safe.clip(str(p), safe.TIP_CHARS) for p in info.problems[:3]]
            more = len(info.problems) - 3
            tp.show_error("The graph has problems; fix them first: " + "; ".join(probs)
                          + (f" (and {more} more)" if more > 0 else ""))
            return False
        wb.window.set_editing_locked(True, "training in progress")
        wb.data_panel.set_enabled_for_run(True)
        tp.set_running(True, waiting="Waiting for TensorFlow to load…")
        wb._sync_actions(running=True)
        self.pending = {"continuing": continuing}
        if not wb.window.is_keras_ready():
            tp.detail.setText("TensorFlow is still loading; training starts as soon as it is ready.")
            return True
        self.begin_when_free()
        return True

    def uses_model(self, task):
        """``task`` (a background task using the trained model) must end before a run starts: the engine retrains
        the same model object when the network is unchanged. Start it with ``on_finished=runner.model_task_done``."""
        self.model_tasks.add(task)
        return task

    def model_task_done(self, task):
        self.model_tasks.discard(task)
        if self.pending is not None and not self.model_tasks and self.wb.window.is_keras_ready():
            self.begin_when_free()

    def begin_when_free(self):
        if self.pending is None or self.task is not None:
            return
        if self.model_tasks:
            self.wb.train_panel.detail.setText("Finishing the evaluation of the last run…")
            return
        pending, self.pending = self.pending, None
        self._begin(**pending)

    def _plan(self, continuing):
        """(build to train further or None, keep the nodes' weights, initial epoch) for a start."""
        wb = self.wb
        prev = wb.result
        if not continuing:
            return None, False, 0
        if prev is not None and prev.build is not None and prev.error is None \
                and getattr(prev.build, "revision", -1) == wb.project.graph.revision:
            return prev.build, False, wb.epoch_reached
        if prev is None:   # a new session: the checkpoint beside the project, when it fits the graph
            self.resume = checkpoints.resumable(wb.project)
            if self.resume is not None:
                return None, False, self.resume.epoch
        # the graph changed (or a new session): rebuild with the weights the nodes carry
        return None, True, (wb.epoch_reached if prev is not None else 0)

    def _begin(self, continuing=False):
        from core.errors import LayerwiseError
        from core.training import TrainConfig
        wb = self.wb
        build, keep, initial = self._plan(continuing)
        try:
            cfg = TrainConfig.from_project(wb.project, epochs=initial + wb.train_panel.epochs.value(),
                                           initial_epoch=initial, keep_weights=keep,
                                           feature_nodes=wb.analysis.feature_nodes(),
                                           feature_samples=[wb.features.current_sample()],
                                           feature_every=wb.features.refresh_every())
        except LayerwiseError as e:
            self._end_failed(err_text(e))
            return
        # drop everything that holds the old model before the engine clears the Keras session
        if build is None:
            wb.result = None
        wb.analysis.forget()
        wb.results.clear("Training…")
        wb.docks.show_for_run()
        self.meta = {"continuing": continuing, "initial": initial, "epochs": cfg.epochs,
                     "t0": time.perf_counter(), "stop_clicked": False}
        plots = wb.plots
        label = f"run {len(plots.runs) + (1 if plots.run else 0) + (0 if continuing else 1)}"
        plots.start_run(label, continuing=continuing and build is not None)
        wb.epoch_reached = initial
        wb.train_panel.set_preparing("Preparing: loading data and building the model…")
        self._launch(cfg, build)

    def _launch(self, cfg, build):
        from core.training.worker_client import run_with_backend   # JAX / PyTorch: in a child process
        wb = self.wb
        project = wb.project
        data = wb.current_dataset()
        resume, self.resume = getattr(self, "resume", None), None
        checkpoints.attach(project, cfg, resume)   # written after every epoch; restored on a new session's Continue
        state = self.state = make_state(self.bridge)
        from ..experiments import recording
        recorder = self.recorder = recording.start(wb.window, project, cfg)
        if wb.gradients is not None:
            wb.gradients.attach(project, cfg)   # the probe of the gradient view

        def work():
            return recording.recorded(recorder, lambda: run_with_backend(project, cfg, state, rebuild=True,
                                                                        data=data, build=build))

        self.task = run_task(work, self._on_finished, self._on_failed, name="training",
                             on_finished=self._task_done, start=False)
        # the worker starts right after the window has repainted for the run (building the model is Python work
        # that competes with the GUI thread for the GIL; the repaint goes first, the user sees the click at once)
        QTimer.singleShot(40, self._start_task)
        fast_gil_handoff(True)
        wb.run_started.emit()

    def _start_task(self):
        t = self.task
        if t is not None and not t.started and not self.shut_down:
            t.start()

    # -- stopping ------------------------------------------------------------------------------------------------
    def stop(self):
        """Stop after the current batch (the weights are kept)."""
        if self.pending is not None:
            self.pending = None
            self._end_failed("Start cancelled.", error=False)
            return
        if self.state is not None:
            self.state.request_stop()
            self.meta["stop_clicked"] = True
            self.wb.train_panel.stop_btn.setEnabled(False)
            self.wb.train_panel.detail.setText("Stopping after the current batch…")

    def wait(self, timeout_ms=30000):
        """Block until the current run's thread ends (tests, shutdown)."""
        t = self.task
        if t is not None:
            t.wait(timeout_ms / 1000.0)

    def shutdown(self, timeout_ms=30000):
        """Application exit: stop a run and wait for its thread."""
        self.shut_down = True
        if self.state is not None:
            self.state.request_stop()
        self.pending = None
        self.wait(timeout_ms)

    # -- the run's reports (GUI thread) -------------------------------------------------------------------------------
    def _on_started(self, info):
        self.meta["info"] = info
        self.wb.train_panel.show_start(info, self.meta.get("epochs", info.get("epochs", 1)))
        self.wb.plots.on_start(info)
        for w in info.get("warnings") or []:
            self.wb._status(w, 8000)

    def _on_batch(self, epoch, step, logs, info):
        self.wb.plots.on_batch(epoch, step, logs, info)
        self.wb.train_panel.show_batch(epoch, step, info, self.meta.get("initial", 0))

    def _on_epoch(self, epoch, logs):
        self.wb.epoch_reached = epoch + 1
        self.wb.plots.on_epoch(epoch, logs)
        self.wb.train_panel.show_epoch(epoch, logs, self.meta.get("initial", 0))

    def _on_features(self, epoch, step, feats):
        self.wb.last_features = feats
        self.meta["feature_at"] = (epoch, step)
        self.wb.analysis.show_live_features()

    def _on_train_error(self, error):
        kind = getattr(error, "kind", "error")
        title = {"nan": "The loss became NaN", "oom": "Out of memory", "data": "Data error"}.get(kind, "Training error")
        self.wb.train_panel.show_error(f"{title}: {error}")

    # -- the end of a run ----------------------------------------------------------------------------------------------
    def _on_failed(self, e):
        log.debug("training failed before it started", exc_info=e)
        self._end_failed(err_text(e))

    def _end_failed(self, text, error=True):
        wb = self.wb
        fast_gil_handoff(False)
        self.state = None
        wb.window.set_editing_locked(False, "")
        wb.data_panel.set_enabled_for_run(False)
        wb.train_panel.set_running(False, can_continue=wb.result is not None or wb.project.has_weights())
        if error:
            wb.train_panel.show_error(text)
        else:
            wb.train_panel.show_done(text)
            wb.train_panel.progress.setValue(0)
        wb.train_panel.detail.setText("")
        wb.results.clear("No results: the run did not start." if error else "")
        wb._sync_actions()
        wb.run_finished.emit(None)
        wb._close_if_asked()

    def _on_finished(self, result):
        wb = self.wb
        fast_gil_handoff(False)
        self.state = None
        wb.result = result
        wb.plots.refresh()
        wb.window.set_editing_locked(False, "")
        wb.data_panel.set_enabled_for_run(False)
        tp = wb.train_panel
        tp.set_running(False, can_continue=result.build is not None and result.error is None)
        if result.error is None:
            wb._mark_dirty()   # the engine copied the trained weights into the graph's nodes
        if result.error is not None:
            self._on_train_error(result.error)
            done = result.epochs_done
            tp.detail.setText(f"{done} epoch{'s' if done != 1 else ''} finished before the error; the plots are kept. "
                              f"The project's weights were not changed.")
        else:
            tp.show_done(finished_text(result, wb.project.training))
            tp.set_status("Stopped" if result.stopped else "Finished")
            tp.detail.setText("The trained weights are now part of the project (Save keeps them, Export uses them).")
            for w in result.warnings or []:
                wb._status(w, 8000)
        wb._sync_actions()
        wb.run_finished.emit(result)
        if result.error is None and result.build is not None:
            wb.analysis.evaluate(result)
            wb.analysis.feature_wanted()
        wb._close_if_asked()

    def _task_done(self, task):
        if task is self.task:
            self.task = None
        self.wb._sync_actions()
        self.wb._close_if_asked()
