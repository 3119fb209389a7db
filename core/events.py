"""Plain-Python events (no Qt): the core emits, views subscribe."""


class Event:
    """A list of callbacks. ``connect(cb)``; ``emit(*args)`` calls each in order."""

    __slots__ = ("_callbacks", "_blocked")

    def __init__(self):
        self._callbacks = []
        self._blocked = 0

    def connect(self, callback):
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback=None):
        if callback is None:
            self._callbacks.clear()
        elif callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args):
        if self._blocked:
            return
        for cb in list(self._callbacks):
            cb(*args)

    def __len__(self):
        return len(self._callbacks)


class EventGroup:
    """A named set of events, e.g. ``graph.events.node_added.connect(cb)``."""

    def __init__(self, *names):
        for name in names:
            setattr(self, name, Event())
        self._names = names

    def names(self):
        return self._names
