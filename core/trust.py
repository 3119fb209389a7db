"""Trust: whether Python code that came with a project may run in this session.

A project (or a model file) can hold code: a ``Lambda`` layer (Python bytecode), a custom layer class, a
nested model with such layers inside, a serialized Python function in a layer's config. Building such a node
runs that code. Trust to run it comes from the person at the keyboard, for the current session only:

* ``--trust`` on ``layerwise check | train | export`` (and ``layerwise import --trust`` for the import itself);
* in the window, the question asked when a project with code is opened (default: do not trust), or agreeing
  to import a model file that holds code.

Runtime trust is a flag on the loaded graph (``graph.trusted``), set with ``set_trusted``. It is never saved
and never read from a file: a node's ``settings["code"]`` (or the older ``settings["trusted_code"]``) only
records that the node holds code, and makes nothing run. Shape inference (``core.infer``) and the build
(``core.build``) pass the flag to ``core.layers.make_layer``; without it a node with code is a problem
("holds Python code ... it runs only if you trust this project"), never an exception, and Keras' safe mode
stays on for everything else.
"""
from __future__ import annotations

from .errors import LayerwiseError
from .node_settings import CODE_MARKERS   # settings keys that say "this node holds code" (never "trusted")

SAFE_MODULES = ("keras", "builtins")       # modules whose objects Keras' safe mode can deserialize
UNSAFE_CLASSES = {"Lambda", "TFSMLayer", "TorchModuleWrapper"}  # Keras layer classes that load code from the config
MODEL_CLASSES = ("Functional", "Sequential", "Model")          # a nested model: its layers are checked one by one


class UntrustedCode(LayerwiseError):
    """A node holds code from the file and this session does not trust the project."""

    def __init__(self, node, what):
        self.node_id, self.node_name, self.what = node.id, node.name, what
        super().__init__(untrusted_message(what))


def untrusted_message(what):
    return (f"holds Python code ({what}) from the file; it runs only if you trust this project: pass --trust "
            f"(in the window: open it again and choose to trust it)")


def graph_of(obj):
    """The Graph of a Project, or the Graph itself."""
    return getattr(obj, "graph", obj)


def is_trusted(obj) -> bool:
    """Whether code from ``obj`` (a Project or Graph) may run in this session."""
    return getattr(graph_of(obj), "trusted", False) is True


def set_trusted(obj, on=True):
    """Trust (or stop trusting) the code in ``obj`` (a Project or Graph) for this session. In memory only."""
    g = graph_of(obj)
    if getattr(g, "trusted", False) != bool(on):
        g.trusted = bool(on)
        g.revision = getattr(g, "revision", 0) + 1   # builds and inference results from before are stale
    return g


def _module_is_safe(module):
    return not module or any(module == m or module.startswith(m + ".") for m in SAFE_MODULES)


def _code_in_config(obj, path=""):
    """(where, what) of the first piece of code in a stored Keras config, or None."""
    if isinstance(obj, dict):
        cls = obj.get("class_name")
        if isinstance(cls, str):
            cfg = obj.get("config") if isinstance(obj.get("config"), dict) else {}
            name = obj.get("name") or cfg.get("name")
            here = f"{path}/{name}" if name and path else (name or path)
            if cls in UNSAFE_CLASSES:
                return here, cls
            if cls == "__lambda__":
                return here, "a Python function"
            module, reg = obj.get("module"), obj.get("registered_name")
            if not _module_is_safe(module if isinstance(module, str) else None):
                return here, f"custom class '{reg or f'{module}.{cls}'}'"
            if isinstance(reg, str) and reg not in (cls, "") and ">" in reg:
                return here, f"custom class '{reg}'"
            path = here
        for v in obj.values():
            hit = _code_in_config(v, path)
            if hit:
                return hit
    elif isinstance(obj, list):
        for v in obj:
            hit = _code_in_config(v, path)
            if hit:
                return hit
    return None


def node_code(node):
    """What code ``node`` holds ("Lambda", "custom class 'pkg>Name'", "Lambda layer 'inner' inside the nested
    model", ...), or None when building it runs nothing from the file."""
    if node.type != "KerasLayer":   # a catalog layer: only a serialized function in its params would be code
        hit = _code_in_config(node.params)
        return f"{hit[1]} in its params" if hit else None
    p = node.params
    cls = p.get("class_name")
    if cls in UNSAFE_CLASSES:
        return str(cls)
    module, reg = p.get("module"), p.get("registered_name")
    if (isinstance(module, str) and not _module_is_safe(module)) or (isinstance(reg, str) and reg and reg != cls):
        return f"custom class '{reg or f'{module}.{cls}'}'"
    hit = _code_in_config(p.get("config"))
    if hit:
        where, what = hit
        if cls in MODEL_CLASSES:
            return f"{what}{' layer' if what in UNSAFE_CLASSES else ''} '{where}' inside the nested model"
        return f"{what} in its config"
    if any(node.settings.get(k) for k in CODE_MARKERS):
        return "marked as code in the file"
    return None


def code_nodes(obj) -> list:
    """[(node, what)] for every node of ``obj`` (a Project or Graph) that holds code."""
    out = []
    for n in graph_of(obj).nodes.values():
        what = node_code(n)
        if what:
            out.append((n, what))
    return out


def check_allowed(node, trusted):
    """Raise UntrustedCode when ``node`` holds code and ``trusted`` is not True; returns what it holds."""
    what = node_code(node)
    if what and trusted is not True:
        raise UntrustedCode(node, what)
    return what


def summary(obj, limit=4) -> str:
    """'twice (Lambda), base (custom class ...)': the code nodes in a few words, for a question or a note."""
    found = code_nodes(obj)
    parts = [f"'{n.name}' ({what})" for n, what in found[:limit]]
    if len(found) > limit:
        parts.append(f"and {len(found) - limit} more")
    return ", ".join(parts)
