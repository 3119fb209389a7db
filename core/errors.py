"""Error types of Layerwise's core. Every message says what was expected, what was found, and where."""


class LayerwiseError(Exception):
    """Base class of every error the core raises on purpose."""


class ProjectError(LayerwiseError):
    """A project file cannot be read: not JSON, wrong shape, newer schema, unknown layer type, bad edge..."""


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


class ModelFileError(LayerwiseError):
    """A model file cannot be imported (missing, corrupt, not a Keras model, unsafe)."""
