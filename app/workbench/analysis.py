"""What the workbench shows of a trained network: the evaluation on the test split (Results panel) and the
feature maps (Feature maps panel), live while a run streams them, else computed with the trained weights.

Both are computed in background tasks, in the workbench's named task slots "evaluate" and "features": a newer
request (another layer picked, a new run, another project) drops the answer to an older one.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QTimer

from core.evaluate import evaluate
from core.features import feature_maps

from .runner import err_text

FEATURE_BUDGET = 1_000_000   # floats per sample: below this every layer is streamed, so any can be picked live
LIVE_FEATURES_GAP_S = 0.4    # during a run at most one feature map drawn per this many seconds, the newest: a
#                              small network streams ~10 a second, and drawing each took ~5% of its samples/s


class Analysis:
    """Evaluation and feature maps for a Workbench."""

    def __init__(self, workbench):
        self.wb = workbench
        self._feature_cache = {}   # traced feature functions per model (core.features.feature_maps)
        self.features_stale = False   # live features came while the panel was hidden (drawn when it is shown)
        self._next_live_draw = 0.0    # perf_counter time before which a live map waits (LIVE_FEATURES_GAP_S)
        self._live_draw_queued = False

    def forget(self):
        """Another run or project: drop the evaluation and feature maps shown and any answer still to come."""
        wb = self.wb
        wb.evaluation = None
        wb.last_features = {}
        wb.tasks.cancel("evaluate", "features")

    def feature_nodes(self):
        """The nodes whose outputs a run streams: every layer when they are small enough together, else the
        picked layer and the inputs."""
        wb = self.wb
        g = wb.project.graph
        chosen = wb.features.current_node()
        info = wb.info
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

    # -- evaluation ----------------------------------------------------------------------------------------------------
    def evaluate(self, result):
        wb = self.wb
        graph = wb.project.graph
        wb.results.clear("Evaluating on the test split…")

        def done(ev):
            wb.evaluation = ev
            wb.results.show_evaluation(ev)
            wb.evaluation_ready.emit(ev)

        def failed(e):
            wb.results.clear(f"Evaluation failed: {err_text(e)}")

        wb.runner.uses_model(wb.tasks.start("evaluate", lambda: evaluate(result, graph), done, failed,
                                            on_finished=wb.runner.model_task_done))

    # -- feature maps ----------------------------------------------------------------------------------------------------
    def show_live_features(self):
        """Show the picked layer from the features the run streamed last."""
        wb = self.wb
        panel = wb.features
        if not panel.isVisible() and panel.window().isVisible():   # a hidden tab: no drawing while training
            self.features_stale = True
            return
        self.features_stale = False
        now = time.perf_counter()
        if wb.runner.active and now < self._next_live_draw:
            # drawn a moment ago: the newest streamed map is drawn when the gap is over (the ones between are
            # never seen); one timer at a time
            if not self._live_draw_queued:
                self._live_draw_queued = True
                QTimer.singleShot(int(1000 * (self._next_live_draw - now)) + 1, wb, self._draw_queued)
            return
        self._next_live_draw = now + LIVE_FEATURES_GAP_S
        node = wb.features.current_node()
        epoch, step = wb.runner.meta.get("feature_at", (0, 0))
        if node in wb.last_features or f"{node}:scores" in wb.last_features:
            inp = self._input_from(wb.last_features)
            if wb.features.show_features(node, wb.last_features, inp,
                                         when=f"epoch {epoch + 1}, batch {step + 1}"):
                wb.features_shown.emit(node)
        elif wb.runner.active:
            wb.features.show_message("This layer is not streamed during this run (the network is large); "
                                     "it is shown when training ends.")

    def _draw_queued(self):
        self._live_draw_queued = False
        if self.wb.runner.active and self.wb.last_features:
            self.show_live_features()

    def catch_up(self):
        """The feature-map panel is shown again: draw the live features it missed."""
        if self.features_stale and self.wb.last_features:
            self.show_live_features()

    def _input_from(self, feats):
        for n in self.wb.project.graph.input_nodes():
            if n.id in feats:
                a = np.asarray(feats[n.id])
                return a[0] if len(a) else None
        return self.wb.sample_input(self.wb.features.current_sample())

    def feature_wanted(self):
        """The picked layer or sample changed (or a run ended): show its feature map."""
        wb = self.wb
        node = wb.features.current_node()
        if node is None:
            return
        if wb.runner.active:
            self.show_live_features()
            return
        result = wb.result
        if result is None or result.build is None:
            if node in wb.last_features:
                self.show_live_features()
            return
        if getattr(result.build, "revision", None) != wb.project.graph.revision:
            wb.features.show_message("The graph changed since the last run: train again to see its layers.")
            return
        self._compute_features(result, node)

    def _compute_features(self, result, node):
        wb = self.wb
        sample = wb.features.current_sample()
        graph = wb.project.graph
        # every streamable layer at once (one traced function per model, whichever layer is picked next), or
        # only the picked one for a large network
        ids = self.feature_nodes()
        if node not in ids:
            ids = list(dict.fromkeys([node] + ids))
        cache = self._feature_cache

        def work():
            return feature_maps(result, graph, ids, sample, cache)

        def done(feats):
            if feats is None:
                return
            wb.last_features = feats
            inp = self._input_from(feats)
            if wb.features.show_features(node, feats, inp, when="trained weights"):
                wb.features_shown.emit(node)

        def failed(e):
            wb.features.show_message(f"Cannot compute this layer's output: {err_text(e)}")

        wb.runner.uses_model(wb.tasks.start("features", work, done, failed, on_finished=wb.runner.model_task_done))
