"""Error types of Layerwise's core. Every message says what was expected, what was found, and where."""
import reprlib

SHORT = 60  # at most about this many characters of a bad value are echoed in a message


class _Short(reprlib.Repr):
    def __init__(self, limit):
        super().__init__()
        self.maxlevel = 3
        self.maxstring = limit
        self.maxother = limit
        self.maxlong = limit
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = 6


def short(value, limit=SHORT):
    """``repr(value)`` for a message, cut to about ``limit`` characters: a 20 MB name, a deeply nested list or a
    100,000-digit number is echoed as its beginning and its size, never whole."""
    try:
        if isinstance(value, str) and len(value) > limit:
            return repr(value[:limit]) + f"… ({len(value):,} characters)"
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
            return f"a {len(str(value)):,}-digit number" if value.bit_length() < 14000 else "a number of over 4,000 digits"
        text = _Short(limit).repr(value)
    except Exception:  # a value whose repr fails: say what it is
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit + 10 else text[:limit] + "…"


class LayerwiseError(Exception):
    """Base class of every error the core raises on purpose."""


class ProjectError(LayerwiseError):
    """A project file cannot be read: not JSON, wrong shape, newer schema, unknown layer type, bad edge..."""


class WeightsError(ProjectError):
    """A weights file (the ``<project>.weights.h5`` sidecar) cannot be read, or its arrays do not fit the layers."""


class GraphError(LayerwiseError):
    """An edit that the graph refuses (a cycle, a port that does not exist, a duplicate name...)."""


class BuildError(LayerwiseError):
    """The graph has problems and cannot be built into a Keras model. ``problems`` lists them all."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"the graph has {len(self.problems)} problem(s):\n{lines}")


class DataError(LayerwiseError):
    """A dataset cannot be loaded or does not fit the network."""


class SettingsError(LayerwiseError):
    """A training or compile setting is invalid (batch size 0, epochs < 1, unknown optimizer...)."""


class TrainingError(LayerwiseError):
    """Training stopped because of an error (NaN loss, out of memory, a data error mid-epoch)."""

    def __init__(self, message, kind="error"):
        super().__init__(message)
        self.kind = kind


class RunsError(LayerwiseError):
    """The runs database beside a project (``<project>.runs.sqlite``) cannot be read or written: not a database,
    damaged, from a newer Layerwise, or no such run. The message names the file."""


class ModelFileError(LayerwiseError):
    """A model file cannot be imported (missing, corrupt, not a Keras model, unsafe)."""
