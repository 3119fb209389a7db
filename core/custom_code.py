"""Custom code the user supplies: the Python module or file that defines a model's custom layer classes
(``layerwise import MODEL --trust --custom-code my_layers.py``).

Keras finds a custom class only once its defining code has run (``@keras.saving.register_keras_serializable``).
That code is loaded here, and only in a session that trusts it: ``load(spec, trusted=True)``. A project records
on each node that needs it where the code is (``settings["custom_code"]``, a path or module name), never that it
is trusted; a later session loads it when it builds such a node with trust (``ensure_for(node)``), and without
trust the node is a problem like any other code (``core.trust``).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

from .errors import LayerwiseError
from .node_settings import CUSTOM_CODE

_LOADED: dict = {}   # resolved spec -> module


class CustomCodeError(LayerwiseError):
    """The custom code cannot be found or failed while it ran."""


def _is_file(spec):
    return spec.endswith(".py") or os.sep in spec or "/" in spec


def resolve(spec, base=None):
    """The spec as stored in a project: an absolute path for a file (relative ones from ``base`` or the current
    folder), a module name as given."""
    spec = str(spec)
    if not _is_file(spec):
        return spec
    p = Path(os.path.expanduser(spec))
    if not p.is_absolute():
        p = (Path(base) if base else Path.cwd()) / p
    return str(p.resolve())


def load(spec, trusted=False):
    """Run the module or file ``spec`` (once per session) so that its classes are registered with Keras. Only
    with ``trusted``: it is Python code. Raises CustomCodeError with a one-line message."""
    if trusted is not True:
        raise CustomCodeError(f"{spec}: custom code runs Python; it is loaded only with trust (--trust)")
    key = resolve(spec)
    if key in _LOADED:
        return _LOADED[key]
    try:
        if _is_file(key):
            path = Path(key)
            if not path.is_file():
                raise CustomCodeError(f"{spec}: no such file (the custom code)")
            name = path.stem if path.stem.isidentifier() else "layerwise_custom_code"
            module_spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules.setdefault(name, module)   # so that Keras and pickled references find it by name
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(key)
    except CustomCodeError:
        raise
    except ModuleNotFoundError as e:
        raise CustomCodeError(f"{spec}: the custom code cannot be found ({e})") from None
    except BaseException as e:   # its own error, in one line
        if isinstance(e, KeyboardInterrupt):
            raise
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise CustomCodeError(f"{spec}: the custom code failed while loading: {type(e).__name__}: {first}") from None
    _LOADED[key] = module
    return module


def ensure_for(node, trusted):
    """Load the custom code a node records (``settings["custom_code"]``), in a session that trusts the project."""
    spec = node.settings.get(CUSTOM_CODE)
    if isinstance(spec, str) and spec and trusted is True:
        load(spec, trusted=True)


def specs_of(graph) -> list:
    """The custom code every node of ``graph`` records, each once."""
    return list(dict.fromkeys(n.settings[CUSTOM_CODE] for n in graph.nodes.values()
                              if isinstance(n.settings.get(CUSTOM_CODE), str)))
