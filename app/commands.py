"""Undo commands: each changes only the core graph (or project settings); views follow the graph's events.

One command per user action: add, delete (with its edges), connect, disconnect, move (one per drag),
set param (consecutive edits of one param merge), rename, node settings, paste/duplicate, auto-layout,
project settings. Batches go in a macro (``undo_stack.beginMacro``).
"""
from __future__ import annotations

import copy
import time

from PySide6.QtGui import QUndoCommand

from core.graph import Edge

from .safe import clip

MERGE_SECONDS = 1.5


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
    def __init__(self, graph, src, dst, port=None):
        super().__init__(f"Connect {_short(graph.nodes.get(src))} → {_short(graph.nodes.get(dst))}")
        self.graph, self.src, self.dst, self.port = graph, src, dst, port
        self.edge = None

    def redo(self):
        self.edge = self.graph.connect(self.src, self.dst, self.port if self.edge is None else self.edge.port)

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
            self.graph.connect(e.src, e.dst, e.port)
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


class SetProjectValue(QUndoCommand):
    """A project-level setting at a key path, e.g. ("compile", "optimizer") or ("regularization", "l2")."""

    def __init__(self, doc, path: tuple, value, text=None):
        super().__init__(text or f"Change {' '.join(str(p) for p in path[1:] or path).replace('_', ' ')}")
        self.doc, self.path, self.value = doc, tuple(path), copy.deepcopy(value)
        old = _get(doc.project, self.path)
        self.old = old if old is _MISSING else copy.deepcopy(old)
        self.stamp = time.monotonic()

    def id(self):
        return 1002

    def redo(self):
        _set(self.doc.project, self.path, copy.deepcopy(self.value))
        self.doc.notify_settings_changed(self.path)

    def undo(self):
        _set(self.doc.project, self.path, self.old if self.old is _MISSING else copy.deepcopy(self.old))
        self.doc.notify_settings_changed(self.path)

    def mergeWith(self, other):
        if (not isinstance(other, SetProjectValue) or other.path != self.path
                or other.stamp - self.stamp > MERGE_SECONDS):
            return False
        self.value, self.stamp = other.value, other.stamp
        return True


def restore_edge_order(graph, order):
    """Put re-connected edges back in their old place in the edge list (so undo restores the file exactly)."""
    pos = {e: i for i, e in enumerate(order)}
    graph.edges.sort(key=lambda e: pos.get(e, len(pos)))


_MISSING = object()


def _get(project, path):
    obj = getattr(project, path[0])
    for k in path[1:]:
        if not isinstance(obj, dict) or k not in obj:
            return _MISSING
        obj = obj[k]
    return obj


def _set(project, path, value):
    if len(path) == 1:
        setattr(project, path[0], value)
        return
    obj = getattr(project, path[0])
    if not isinstance(obj, dict):   # a section the file gave as another type: an edit replaces it
        obj = {}
        setattr(project, path[0], obj)
    for k in path[1:-1]:
        nxt = obj.get(k)
        if not isinstance(nxt, dict):
            nxt = obj[k] = {}
        obj = nxt
    if value is _MISSING:
        obj.pop(path[-1], None)
    else:
        obj[path[-1]] = value


__all__ = ["AddNode", "RemoveItems", "Connect", "Disconnect", "MoveNodes", "SetParam", "SetSetting", "Rename",
           "Paste", "SetProjectValue", "Edge"]
