"""Undo commands: each changes only the core graph or the project's settings; views follow their events (the graph's
``events`` and ``project.events.settings_changed``), never the commands.

One command per user action: add, delete (with its edges), connect, disconnect, move (one per drag),
set param (consecutive edits of one param merge), rename, node settings, paste/duplicate, auto-layout,
project settings (every panel's: compile, regularization, training, data, name; consecutive edits of one setting
merge), whole-graph transfer edits (a snapshot before and after). Batches go in a macro (``undo_stack.beginMacro``).
"""
from __future__ import annotations

import copy
import time

from PySide6.QtGui import QUndoCommand

from core.graph import Edge
from core.settings import SECTIONS, Settings, as_path, thaw

from .safe import clip

MERGE_SECONDS = 1.5
MISSING = Settings.MISSING   # a setting that is not there (undo removes a key an edit added)


def _short(node):
    return clip(node.name) if node is not None else "node"


class AddNode(QUndoCommand):
    """Add a node; optionally connect ``connect_from`` → new node (double-click in the palette)."""

    def __init__(self, graph, type_name, pos, params=None, name=None, connect_from=None):
        super().__init__(f"Add {type_name}")
        self.graph, self.type_name, self.pos, self.params, self.name = graph, type_name, pos, params, name
        self.connect_from = connect_from
        self.node = None
        self.edges = []
        self.index = None

    def redo(self):
        g = self.graph
        if self.node is None:
            self.node = g.add_node(self.type_name, self.params, name=self.name, pos=self.pos)
            if self.connect_from is not None and g.can_connect(self.connect_from, self.node.id) is None:
                self.edges = [g.connect(self.connect_from, self.node.id)]
            self.setText(f"Add {clip(self.node.name)}")
        else:
            g.insert_node(self.node, self.edges, self.index)

    def undo(self):
        self.index = self.graph.index_of(self.node.id)
        self.graph.remove_node(self.node.id)


class RemoveItems(QUndoCommand):
    """Delete nodes (with every edge touching them) and loose edges."""

    def __init__(self, graph, node_ids=(), edges=()):
        self.graph = graph
        self.node_ids = [k for k in graph.nodes if k in set(node_ids)]  # in graph order
        self.loose = [e for e in edges if e.src not in self.node_ids and e.dst not in self.node_ids]
        n = len(self.node_ids)
        if n == 1 and not self.loose:
            text = f"Delete {_short(graph.nodes.get(self.node_ids[0]))}"
        elif n:
            text = f"Delete {n} nodes" + (f" and {len(self.loose)} connections" if self.loose else "")
        else:
            text = "Delete connection" if len(self.loose) == 1 else f"Delete {len(self.loose)} connections"
        super().__init__(text)
        self.removed = []   # (index, node)
        self.edges = []

    def redo(self):
        g = self.graph
        self.removed, self.edges = [], []
        self.edge_order = list(g.edges)
        for e in self.loose:
            if e in g.edges:
                g.disconnect(e)
                self.edges.append(e)
        for k in self.node_ids:
            idx = g.index_of(k)
            node, removed = g.remove_node(k)
            self.removed.append((idx, node))
            self.edges.extend(e for e in removed if e not in self.edges)

    def undo(self):
        g = self.graph
        # put nodes back where they were (reverse order of removal restores each index), then their edges
        for idx, node in reversed(self.removed):
            g.insert_node(node, (), idx)
        for e in sorted(self.edges, key=lambda e: (e.dst, e.port)):
            if e not in g.edges:
                g.connect(e.src, e.dst, e.port)
        restore_edge_order(g, self.edge_order)


class Connect(QUndoCommand):
    def __init__(self, graph, src, dst, port=None, src_port=0):
        super().__init__(f"Connect {_short(graph.nodes.get(src))} → {_short(graph.nodes.get(dst))}")
        self.graph, self.src, self.dst, self.port, self.src_port = graph, src, dst, port, src_port
        self.edge = None

    def redo(self):
        self.edge = self.graph.connect(self.src, self.dst, self.port if self.edge is None else self.edge.port,
                                       self.src_port)

    def undo(self):
        self.graph.disconnect(self.edge)


class Disconnect(QUndoCommand):
    def __init__(self, graph, edges):
        self.graph, self.edges = graph, list(edges)
        if len(self.edges) == 1:
            e = self.edges[0]
            text = f"Disconnect {_short(graph.nodes.get(e.src))} → {_short(graph.nodes.get(e.dst))}"
        else:
            text = f"Disconnect {len(self.edges)} connections"
        super().__init__(text)

    def redo(self):
        self.edge_order = list(self.graph.edges)
        for e in self.edges:
            self.graph.disconnect(e)

    def undo(self):
        for e in self.edges:
            self.graph.connect(e.src, e.dst, e.port, e.src_port)
        restore_edge_order(self.graph, self.edge_order)


class MoveNodes(QUndoCommand):
    """Positions before/after one drag (or an auto-layout): {node_id: ((x0, y0), (x1, y1))}."""

    def __init__(self, graph, moves: dict, text=None, doc=None, direction=None):
        n = len(moves)
        super().__init__(text or (f"Move {_short(graph.nodes.get(next(iter(moves))))}" if n == 1 else f"Move {n} nodes"))
        self.graph, self.moves = graph, dict(moves)
        self.doc, self.direction = doc, direction
        self.old_direction = doc.raw_direction() if doc is not None else None

    def redo(self):
        if self.doc is not None and self.direction:
            self.doc.set_direction(self.direction)
        for k, (_, new) in self.moves.items():
            if k in self.graph.nodes:
                self.graph.move(k, new)

    def undo(self):
        if self.doc is not None and self.direction:
            self.doc.set_direction(self.old_direction)  # None: the project did not say before
        for k, (old, _) in self.moves.items():
            if k in self.graph.nodes:
                self.graph.move(k, old)


class SetParam(QUndoCommand):
    ID = 1001

    def __init__(self, graph, node_id, key, value):
        node = graph.node(node_id)
        super().__init__(f"Change {clip(node.name)} {key.replace('_', ' ')}")
        self.graph, self.node_id, self.key = graph, node_id, key
        self.value = copy.deepcopy(value)
        self.old = copy.deepcopy(node.params.get(key))
        self.stamp = time.monotonic()

    def id(self):
        return self.ID

    def redo(self):
        self.graph.set_param(self.node_id, self.key, self.value)

    def undo(self):
        self.graph.set_param(self.node_id, self.key, self.old)

    def mergeWith(self, other):
        if (not isinstance(other, SetParam) or other.node_id != self.node_id or other.key != self.key
                or other.stamp - self.stamp > MERGE_SECONDS):
            return False
        self.value, self.stamp = other.value, other.stamp
        return True


class SetSetting(QUndoCommand):
    """A per-node setting: "l2" (float or None), "global_dropout" (bool), "trainable" (bool)."""
    LABELS = {"l2": "L2 override", "global_dropout": "global dropout", "trainable": "trainable"}

    def __init__(self, graph, node_id, key, value):
        node = graph.node(node_id)
        super().__init__(f"Change {clip(node.name)} {self.LABELS.get(key, key)}")
        self.graph, self.node_id, self.key, self.value = graph, node_id, key, value
        self.old = node.settings.get(key)

    def redo(self):
        self.graph.set_setting(self.node_id, self.key, self.value)

    def undo(self):
        self.graph.set_setting(self.node_id, self.key, self.old)


class Rename(QUndoCommand):
    def __init__(self, graph, node_id, name):
        node = graph.node(node_id)
        super().__init__(f"Rename {clip(node.name)} to {clip(name)}")
        self.graph, self.node_id, self.name, self.old = graph, node_id, name, node.name

    def redo(self):
        self.graph.rename(self.node_id, self.name)

    def undo(self):
        self.graph.rename(self.node_id, self.old)


class Paste(QUndoCommand):
    """Add a ``graph.to_dict`` fragment (clipboard paste or duplicate) with fresh ids and names."""

    def __init__(self, graph, data: dict, offset=(40.0, 40.0), text=None):
        super().__init__(text or "Paste")
        self.graph, self.data, self.offset = graph, data, offset
        self.ids = None
        self.nodes = []
        self.edges = []

    def redo(self):
        g = self.graph
        if self.ids is None:
            self.ids = g.paste(self.data, self.offset)
            keep = set(self.ids)
            self.nodes = [g.nodes[k] for k in self.ids]
            self.edges = [e for e in g.edges if e.src in keep and e.dst in keep]
            n = len(self.ids)
            self.setText(f"{self.text()} {clip(self.nodes[0].name)}" if n == 1 else f"{self.text()} {n} nodes")
        else:
            for node in self.nodes:
                g.insert_node(node)
            for e in self.edges:
                g.connect(e.src, e.dst, e.port)

    def undo(self):
        for k in reversed(self.ids):
            if k in self.graph.nodes:
                self.graph.remove_node(k)


class SetProjectSetting(QUndoCommand):
    """A project-level setting: ``section`` is "compile", "regularization", "data" or "training" (written through
    the project's ``core.settings.Settings``, which tells the views) or "name" / "description"; ``path`` the key
    path inside it (``()``: the whole section). ``value`` ``MISSING`` removes the key. Consecutive edits of the same
    setting (typing in a spin box) merge into one step."""
    ID = 1002

    def __init__(self, project, section, path, value, text=None):
        path = as_path(path)
        words = " ".join(str(p) for p in path) if path else section
        super().__init__(text or f"Change {words.replace('_', ' ')}")
        self.project, self.section, self.path = project, section, path
        self.value = value if value is MISSING else copy.deepcopy(value)
        self.old = read_setting(project, section, path)
        self.stamp = time.monotonic()

    def id(self):
        return self.ID

    def redo(self):
        write_setting(self.project, self.section, self.path, self.value)

    def undo(self):
        write_setting(self.project, self.section, self.path, self.old)

    def mergeWith(self, other):
        if (not isinstance(other, SetProjectSetting) or other.project is not self.project
                or (other.section, other.path) != (self.section, self.path)
                or other.stamp - self.stamp > MERGE_SECONDS):
            return False
        self.value, self.stamp = other.value, other.stamp
        return True


def read_setting(project, section, path=()):
    """A copy of the value at ``section``/``path`` (``MISSING`` when it is not there)."""
    if section in SECTIONS:
        v = project.settings(section).get_path(path, MISSING)
    else:
        v = getattr(project, section)
    return v if v is MISSING else thaw(v)


def write_setting(project, section, path, value):
    """Write (or, with ``MISSING``, remove) one setting; the project's events tell every view."""
    if section in SECTIONS:
        s = project.settings(section)
        if value is MISSING:
            s.delete(path)
        else:
            s.set(path, value)
    else:
        setattr(project, section, copy.deepcopy(value))


class SetProjectSettings(QUndoCommand):
    """Several settings of one section as one undo step (an edit in a panel that changes several keys at once):
    ``changes`` is ``[(path, value), ...]``, applied in order and undone in reverse."""

    def __init__(self, project, section, changes, text=None):
        super().__init__(text or f"Change {section} settings")
        self.project, self.section = project, section
        self.changes = []
        for path, value in changes:
            path = as_path(path)
            self.changes.append((path, value if value is MISSING else copy.deepcopy(value),
                                 read_setting(project, section, path)))

    def redo(self):
        for path, value, _old in self.changes:
            write_setting(self.project, self.section, path, value)

    def undo(self):
        for path, _value, old in reversed(self.changes):
            write_setting(self.project, self.section, path, old)


def settings_command(project, section, changes, text=None):
    """One undo step for the ``[(path, value), ...]`` changes of one section: a ``SetProjectSetting`` (which merges
    with the next edit of the same setting), or a ``SetProjectSettings`` when there are several (None when there is
    nothing to change)."""
    changes = list(changes)
    if not changes:
        return None
    if len(changes) == 1:
        path, value = changes[0]
        return SetProjectSetting(project, section, path, value, text)
    return SetProjectSettings(project, section, changes, text)


# -- whole-graph edits (transfer: expand, collapse, cut, freeze, fine-tune, add a base...) ------------------------
def snapshot(project):
    """The graph (nodes with their weights, edges, order) and the compile settings, to put back later."""
    g = project.graph
    nodes = []
    for n in g.nodes.values():
        c = copy.copy(n)
        c.params, c.settings = copy.deepcopy(n.params), copy.deepcopy(n.settings)
        c.weights = list(n.weights) if n.weights is not None else None
        nodes.append(c)
    return nodes, list(g.edges), project.settings("compile").to_dict()


def restore(project, snap):
    """Put a ``snapshot`` back: the graph's events and (when they changed) the compile settings' events tell the
    views."""
    nodes, edges, compile_ = snap
    g = project.graph
    g.clear()
    for n in nodes:
        c = copy.copy(n)
        c.params, c.settings = copy.deepcopy(n.params), copy.deepcopy(n.settings)
        g.insert_node(c)
    for e in edges:
        g.connect(e.src, e.dst, e.port)
    comp = project.settings("compile")
    if comp.to_dict() != compile_ or comp.is_object != isinstance(compile_, dict):
        comp.replace(compile_)


class GraphEdit(QUndoCommand):
    """One whole-graph edit as one undo step: ``apply()`` runs once (a core function that may also change the
    compile settings, as a fine-tune phase lowers the learning rate); undo and redo put snapshots back. When
    ``apply`` raises, everything is put back, ``error`` holds the exception and the command is obsolete."""

    def __init__(self, project, text, apply):
        super().__init__(text)
        self.project, self.apply = project, apply
        self.before = snapshot(project)
        self.after = None
        self.result = None
        self.error = None

    def redo(self):
        if self.after is None:
            try:
                self.result = self.apply()
            except Exception as e:  # core refused (GraphError, ModelFileError...): put everything back
                self.error = e
                restore(self.project, self.before)
                self.setObsolete(True)
                return
            self.after = snapshot(self.project)
        else:
            restore(self.project, self.after)

    def undo(self):
        restore(self.project, self.before)


def restore_edge_order(graph, order):
    """Put re-connected edges back in their old place in the edge list (so undo restores the file exactly)."""
    pos = {e: i for i, e in enumerate(order)}
    graph.edges.sort(key=lambda e: pos.get(e, len(pos)))


__all__ = ["AddNode", "RemoveItems", "Connect", "Disconnect", "MoveNodes", "SetParam", "SetSetting", "Rename",
           "Paste", "SetProjectSetting", "SetProjectSettings", "GraphEdit", "settings_command", "read_setting", "write_setting", "snapshot",
           "restore", "MISSING", "Edge"]
