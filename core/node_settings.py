"""The per-node settings: every key a node's ``settings`` may carry, declared once.

A node's ``params`` are its layer's Keras config (``core.catalog``); its ``settings`` are what Layerwise itself
keeps about the node: overrides of the project's global regularization, freezing, and the marks an import or a
group leaves (a shared layer, a call template, group membership, code). They are saved in the project file as
``"settings": {...}`` beside ``"params"``, only the keys a node has (an absent key means its default).

``SETTINGS`` is the table: key, what a value must be (checked on load by ``core.validate.node_settings_problems``),
its default, what it means and who writes it. Code reads a setting through the constants below
(``node.settings.get(TRAINABLE)``), so a key is spelled in one place.

This module is a leaf: it imports nothing from core, and anything may import it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

MAX_L2 = 1.0          # the largest L2 factor: a node's own (settings.l2) and the project's (regularization.l2)
MAX_TEXT = 200        # characters of a text setting (a node id, a group name)

# -- the keys ---------------------------------------------------------------------------------------------------
L2 = "l2"
DROPOUT = "dropout"
GLOBAL_DROPOUT = "global_dropout"
TRAINABLE = "trainable"
PRETRAINED = "pretrained"
SHARES = "shares"
GROUP = "group"
CALL = "call"
GROUP_META = "group_meta"
TRAINABLE_FROM = "trainable_from"
CODE = "code"
TRUSTED_CODE = "trusted_code"
OUTPUTS = "outputs"
CUSTOM_CODE = "custom_code"


@dataclass(frozen=True)
class NodeSetting:
    """One key of ``Node.settings``.

    kind: what a value must be, checked on load: "number" (finite, in [lo, hi], or [lo, hi) with hi_open),
    "bool", "text" (at most MAX_TEXT characters), "object" (a JSON object); None: not checked (only whether the
    value is truthy is ever read). ``None`` is always allowed and means the default."""
    key: str
    kind: str | None
    default: object
    meaning: str
    written_by: str
    lo: float | None = None
    hi: float | None = None
    hi_open: bool = False


SETTINGS: dict[str, NodeSetting] = {s.key: s for s in (
    # the order is the order problems are reported in
    NodeSetting(L2, "number", None, "the node's own L2 factor on its kernel, instead of the project's global one",
                "the inspector ('Own L2 factor')", lo=0.0, hi=MAX_L2),
    NodeSetting(DROPOUT, "number", None, "a per-node dropout rate (checked on load; the build inserts only the "
                "global dropout)", "project files", lo=0.0, hi=1.0, hi_open=True),
    NodeSetting(GLOBAL_DROPOUT, "bool", True, "False: no global dropout after this Dense/Conv block",
                "the inspector ('Global dropout after this layer')"),
    NodeSetting(TRAINABLE, "bool", True, "False: the layer is frozen (its weights do not change while training)",
                "the inspector ('Trainable'), import, core.groups (freeze, fine-tune)"),
    NodeSetting(PRETRAINED, "bool", False, "True: training starts from the node's saved weights, not fresh ones",
                "import (layers that came with weights)"),
    NodeSetting(SHARES, "text", None, "the id of the node whose Keras layer this one reuses (a repeated call of "
                "a shared layer: one set of weights)", "import, core.groups"),
    NodeSetting(GROUP, "text", None, "the name of the group node this layer was expanded from",
                "core.groups.expand_group"),
    NodeSetting(CALL, "object", None, "how the layer is called: {\"args\": [...], \"kwargs\": {...}} with "
                "{\"__port__\": i} markers for the input tensors (imported layers called another way)", "import"),
    NodeSetting(GROUP_META, "object", None, "on the last layer of an expanded group: the group's own settings and "
                "input names, so that collapsing it gives the group back", "core.groups.expand_group"),
    NodeSetting(TRAINABLE_FROM, None, None, "on a group node: the index of its first trainable inner layer",
                "core.groups (set_trainable_from, fine_tune)"),
    NodeSetting(CODE, None, None, "truthy: the node holds Python code (a Lambda, a custom class); building it "
                "needs trust, which a file never carries", "import"),
    NodeSetting(TRUSTED_CODE, None, None, "the older spelling of \"code\" (read, never written)", "older files"),
    NodeSetting(OUTPUTS, "number", None, "how many tensors the layer returns (one output port each), where that is "
                "more than one and its params do not say so", "import", lo=1.0, hi=1000.0),
    NodeSetting(CUSTOM_CODE, "text", None, "the Python module or file that defines the node's custom class "
                "(loaded only in a session that trusts the project)", "import --custom-code"),
)}

CODE_MARKERS = (CODE, TRUSTED_CODE)   # keys that say "this node holds code" (never "trusted")


def is_frozen(node) -> bool:
    """Whether the node's layer is frozen (``settings["trainable"]`` is False)."""
    return node.settings.get(TRAINABLE) is False


def markdown_table() -> str:
    """The table as Markdown (key, value, default, meaning, written by), e.g. for the README."""
    kinds = {"number": "number", "bool": "true/false", "text": "text", "object": "object", None: "any"}
    rows = ["| key | value | default | meaning | written by |", "|---|---|---|---|---|"]
    for s in SETTINGS.values():
        value = kinds[s.kind]
        if s.kind == "number":
            value += f" {s.lo:g} to {s.hi:g}" + (" (excluded)" if s.hi_open else "")
        rows.append(f"| `{s.key}` | {value} | {json.dumps(s.default)} | {s.meaning} | {s.written_by} |")
    return "\n".join(rows)
