"""Project settings as model objects: one ``Settings`` per section (compile, regularization, data, training).

A section reads like the dict it replaces (``project.compile["optimizer"]["learning_rate"]``, ``.get``, ``in``,
``json.dumps``, ``isinstance(x, dict)``) and every write goes through it, so that it can tell its listeners:

* ``section.set(path, value)`` writes one value at a key path (``("early_stopping", "patience")``, or a key alone);
  ``section.delete(path)`` removes one; ``section.replace(value)`` swaps the whole section; the dict methods
  (``s[k] = v``, ``update``, ``setdefault``, ``pop``, ``clear``...) are the same writes at the top level;
* each write emits ``section.events.changed(section_name, path)`` (``path`` is ``()`` for a whole-section
  replace), the same plain-Python events as the graph's (``core.events``);
* the values below the top level are read-only (``FrozenDict`` / ``FrozenList``): ``s["optimizer"]["name"] = x``
  raises ``TypeError`` instead of changing the project behind the listeners' backs. ``copy.deepcopy`` of a section
  or of a nested value, and ``to_dict()``, give plain dicts and lists to edit freely.

A section is normally an object. One given another JSON value in memory (a file with one is refused on load) keeps
that value (``is_object`` is False, ``value`` is it) until the next write of a key makes it an object again.

``Settings`` is a ``dict`` subclass (so a ``collections.abc.MutableMapping``) on purpose: the many readers in core
check ``isinstance(section, dict)`` and dump sections to JSON, and keep working unchanged.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping

from .events import EventGroup

SECTIONS = ("compile", "regularization", "data", "training")

DEFAULTS = {
    "compile": {"optimizer": {"name": "adam", "learning_rate": 0.001}, "schedule": {"kind": "none"}},
    "regularization": {"l2": 0.0, "dropout": 0.0},
    "data": {"source": "builtin", "name": "digits", "validation_split": 0.15, "test_split": 0.15, "seed": 0},
    "training": {"epochs": 10, "batch_size": 32, "seed": 0, "device": "auto", "mixed_precision": False,
                 "early_stopping": {"enabled": False, "monitor": "val_loss", "patience": 5,
                                    "restore_best_weights": True}},
}

_NOT_OBJECT = object()   # Settings._raw of a section that is an object


def defaults(section):
    """A fresh plain copy of a section's default settings."""
    return copy.deepcopy(DEFAULTS[section])


def as_path(path):
    """A key path as a tuple: ``"epochs"`` → ``("epochs",)``; a list or tuple as it is; None → ``()``."""
    if path is None:
        return ()
    if isinstance(path, (tuple, list)):
        return tuple(path)
    return (path,)


# -- read-only values below the top level -----------------------------------------------------------------------
def _read_only(where, key=None):
    section, path = where
    full = path + (() if key is None else (key,))
    raise TypeError(f"project settings are changed through their section, not in place: use "
                    f"project.{section}.set({full!r}, value)" if full else
                    f"project settings are changed through their section: use project.{section}.set(path, value)")


class FrozenDict(dict):
    """A read-only dict inside a settings section. Copies (``copy.copy``, ``copy.deepcopy``, ``dict(x)``) are plain
    dicts; writes raise ``TypeError`` naming the ``set`` call to use."""

    __slots__ = ("_where",)

    def __init__(self, items=(), where=("settings", ())):
        dict.__init__(self, items)
        self._where = where

    def __setitem__(self, key, value):
        _read_only(self._where, key)

    def __delitem__(self, key):
        _read_only(self._where, key)

    def _refuse(self, *args, **kwargs):
        key = args[0] if args and isinstance(args[0], (str, int)) else None
        _read_only(self._where, key)

    update = setdefault = pop = popitem = clear = _refuse

    def __ior__(self, other):
        _read_only(self._where)

    def __copy__(self):
        return dict(self)

    def __deepcopy__(self, memo):
        return thaw(self)

    def __reduce__(self):
        return dict, (thaw(self),)


class FrozenList(list):
    """A read-only list inside a settings section (copies are plain lists)."""

    __slots__ = ("_where",)

    def __init__(self, items=(), where=("settings", ())):
        list.__init__(self, items)
        self._where = where

    def _refuse(self, *args, **kwargs):
        _read_only(self._where)

    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __iadd__(self, other):
        _read_only(self._where)

    def __imul__(self, other):
        _read_only(self._where)

    def __copy__(self):
        return list(self)

    def __deepcopy__(self, memo):
        return thaw(self)

    def __reduce__(self):
        return list, (thaw(self),)


def freeze(value, where=("settings", ())):
    """A read-only deep copy of a JSON-like value (dicts → FrozenDict, lists → FrozenList)."""
    if isinstance(value, Mapping):
        return FrozenDict({k: freeze(v, (where[0], where[1] + (k,))) for k, v in value.items()}, where)
    if isinstance(value, list):
        return FrozenList([freeze(v, where) for v in value], where)
    if isinstance(value, tuple):
        return tuple(freeze(v, where) for v in value)
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return value
    return copy.deepcopy(value)


def thaw(value):
    """A plain, mutable deep copy of a settings value (FrozenDict → dict, FrozenList → list)."""
    if isinstance(value, Settings):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    if isinstance(value, tuple):
        return tuple(thaw(v) for v in value)
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return value
    return copy.deepcopy(value)


_MISSING = object()


# -- a section ----------------------------------------------------------------------------------------------------
class Settings(dict):
    """One section of a project's settings. See the module's doc for what reads and writes look like."""

    MISSING = _MISSING   # ``get_path``'s answer for a path that is not there (when no default is given)

    def __init__(self, section, value=_MISSING):
        dict.__init__(self)
        self.section = section
        self.events = EventGroup("changed")   # changed(section, path)
        self._raw = _NOT_OBJECT
        self._store(defaults(section) if value is _MISSING else thaw(value))

    # -- reading -----------------------------------------------------------------------------------------------
    @property
    def is_object(self):
        """False when the section holds another JSON value than an object (only in memory: files are refused)."""
        return self._raw is _NOT_OBJECT

    @property
    def value(self):
        """The section as the project shows it: this object, or the non-object value it holds."""
        return self if self._raw is _NOT_OBJECT else self._raw

    def get_path(self, path, default=_MISSING):
        """The value at a key path (read-only below the top level); ``default`` (else ``Settings.MISSING``) when a
        key on the way is not there or a value on the way is not an object."""
        obj = self.value
        for k in as_path(path):
            if not isinstance(obj, Mapping) or k not in obj:
                return default
            obj = obj[k]
        return obj

    def to_dict(self):
        """A plain deep copy for JSON (the held value itself, copied, when the section is not an object)."""
        if self._raw is not _NOT_OBJECT:
            return thaw(self._raw)
        return {k: thaw(v) for k, v in self.items()}

    def problems(self):
        """What ``core.validate`` says about this section (one line each; empty when all is fine)."""
        from . import validate
        check = {"compile": validate.compile_problems, "regularization": validate.regularization_problems,
                 "training": validate.training_problems, "data": validate.data_problems}.get(self.section)
        return check(self.value) if check else []

    # -- writing: every change goes through here and is announced ------------------------------------------------
    def set(self, path, value):
        """Write ``value`` (copied) at a key path; ``()`` replaces the whole section. Objects missing on the way (or
        values there that are not objects) become objects. Emits ``changed(section, path)``."""
        path = as_path(path)
        if value is _MISSING:
            return self.delete(path)
        if not path:
            self._store(thaw(value))
        else:
            self._write(path, thaw(value))
        self.events.changed.emit(self.section, path)

    def delete(self, path):
        """Remove the value at a key path (nothing happens when it is not there). Emits ``changed`` when it was."""
        path = as_path(path)
        if not path:
            raise ValueError("a settings section cannot be deleted; replace it instead")
        if self.get_path(path) is _MISSING:
            return
        if len(path) == 1:
            dict.__delitem__(self, path[0])
        else:
            parent = thaw(self[path[0]])
            obj = parent
            for k in path[1:-1]:
                obj = obj[k]
            del obj[path[-1]]
            dict.__setitem__(self, path[0], freeze(parent, (self.section, path[:1])))
        self.events.changed.emit(self.section, path)

    def replace(self, value):
        """Swap the whole section for ``value`` (copied). Emits ``changed(section, ())``."""
        self.set((), value)

    def _store(self, value):
        dict.clear(self)
        if isinstance(value, Mapping):
            self._raw = _NOT_OBJECT
            for k, v in value.items():
                dict.__setitem__(self, k, freeze(v, (self.section, (k,))))
        else:
            self._raw = value

    def _write(self, path, value):
        if self._raw is not _NOT_OBJECT:   # a key written into a non-object section makes it an object
            self._raw = _NOT_OBJECT
        head = path[0]
        if len(path) == 1:
            dict.__setitem__(self, head, freeze(value, (self.section, path)))
            return
        top = dict.get(self, head)
        top = thaw(top) if isinstance(top, Mapping) else {}
        obj = top
        for k in path[1:-1]:
            nxt = obj.get(k)
            if not isinstance(nxt, dict):
                nxt = obj[k] = {}
            obj = nxt
        obj[path[-1]] = value
        dict.__setitem__(self, head, freeze(top, (self.section, (head,))))

    # the dict methods are the same writes at the top level
    def __setitem__(self, key, value):
        self.set((key,), value)

    def __delitem__(self, key):
        if key not in self:
            raise KeyError(key)
        self.delete((key,))

    def update(self, *args, **kwargs):
        for k, v in dict(*args, **kwargs).items():
            self.set((k,), v)

    def __ior__(self, other):
        self.update(other)
        return self

    def setdefault(self, key, default=None):
        if key not in self:
            self.set((key,), default)
        return self[key]

    def pop(self, key, *default):
        if key in self:
            v = thaw(self[key])
            self.delete((key,))
            return v
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self):
        if not self:
            raise KeyError("popitem(): the settings section is empty")
        key = next(reversed(list(self)))
        return key, self.pop(key)

    def clear(self):
        self.replace({})

    # -- copies, comparison, display ------------------------------------------------------------------------------
    def __copy__(self):
        return self.to_dict() if self._raw is not _NOT_OBJECT else dict(self)

    def __deepcopy__(self, memo):
        return self.to_dict()

    def __reduce__(self):
        return _settings, (self.section, self.to_dict())

    def __eq__(self, other):
        if isinstance(other, Settings):
            other = other.value
        if self._raw is not _NOT_OBJECT:
            return self._raw == other
        return isinstance(other, Mapping) and dict.__eq__(self, dict(other.items()))

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None

    def __repr__(self):
        return f"Settings({self.section!r}, {self.to_dict()!r})"


def _settings(section, value):
    return Settings(section, value)


__all__ = ["SECTIONS", "DEFAULTS", "defaults", "as_path", "Settings", "FrozenDict", "FrozenList", "freeze", "thaw"]
