""""Restore this run's graph and settings" as one undo step, made of the existing commands of ``app.commands``: a
``GraphEdit`` (the graph and the compile settings, snapshot before and after) and one ``SetProjectSettings`` per
other section that differs. A run that kept its trained weights (``train --run-weights``) brings them back too;
otherwise nodes the run has unchanged (same id, type and params) keep the weights they carry (a pretrained base
stays pretrained) and the others start fresh."""
from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from core.experiments.diff import MISSING as DIFF_MISSING
from core.experiments.diff import flatten
from core.graph import Graph
from core.settings import DEFAULTS

from ..commands import MISSING, GraphEdit, SetProjectSettings, restore

SECTIONS = ("regularization", "data", "training")


def _put_graph(project, run_graph, run_compile, weights=None):
    """Replace the project's graph with ``run_graph`` (a project-file graph dict) and its compile settings;
    ``weights``: the run's kept weights file."""
    g = Graph.from_dict(run_graph)
    current = project.graph.nodes
    for nid, node in g.nodes.items():
        old = current.get(nid)
        if old is not None and old.weights is not None and old.type == node.type and old.params == node.params:
            node.weights = list(old.weights)
    if weights is not None:
        from core.project import read_weights
        read_weights(g, weights)      # WeightsError names the file; GraphEdit then puts everything back
    comp = copy.deepcopy(run_compile) if isinstance(run_compile, dict) else project.settings("compile").to_dict()
    restore(project, (list(g.nodes.values()), list(g.edges), comp))


def section_changes(project, section, run_value):
    """[(path, value)] that make ``section`` equal to the run's, among the keys the section knows (the defaults'
    and the current ones: a run also records settings that only lived on its command line, like initial_epoch)."""
    if not isinstance(run_value, dict):
        return []
    current = project.settings(section).to_dict()
    current = current if isinstance(current, dict) else {}
    known = set(DEFAULTS.get(section, {}) or {}) | set(current)
    want = {k: v for k, v in run_value.items() if k in known}
    changes = []
    for key in sorted(set(want) | set(current)):
        new = want.get(key, MISSING)
        if new is MISSING and key in DEFAULTS.get(section, {}):
            continue   # the run did not say: leave it
        if flatten({key: current.get(key, DIFF_MISSING)}) != flatten({key: new}):
            changes.append(((key,), new))
    return changes


class RestoreRun(QUndoCommand):
    """The graph and every setting of a recorded run (``run``: ``RunStore.get()``'s dict), as one undo step."""

    def __init__(self, project, run, weights=None):
        super().__init__(f"Restore {run.get('name') or 'run'}")
        settings = run.get("settings") or {}
        graph = run.get("graph")
        if not isinstance(graph, dict):
            raise ValueError(f"{run.get('name') or 'the run'} has no recorded graph")
        Graph.from_dict(graph)     # refuse now, before anything changes, a graph that does not load
        self.weights = weights
        self.parts = [GraphEdit(project, self.text(),
                                lambda: _put_graph(project, graph, settings.get("compile"), weights))]
        for section in SECTIONS:
            changes = section_changes(project, section, settings.get(section))
            if changes:
                self.parts.append(SetProjectSettings(project, section, changes))

    @property
    def error(self):
        return self.parts[0].error

    def redo(self):
        for part in self.parts:
            part.redo()
            if isinstance(part, GraphEdit) and part.error is not None:
                self.setObsolete(True)
                return

    def undo(self):
        for part in reversed(self.parts):
            part.undo()
