"""The window's runs checkpoint like ``layerwise train``: every run of a saved project writes
``PROJECT.checkpoint.npz`` beside it (at the start and after every epoch), and Continue in a new session — after a
crash, a kill, a closed window — resumes from that checkpoint when it fits the graph (weights, optimizer state and
the epoch count go on where they stopped)."""
from __future__ import annotations


def path_of(project):
    """The checkpoint file of ``project``, or None for a project never saved (it has no folder to write in)."""
    if getattr(project, "path", None) is None:
        return None
    from core.training.checkpoint import checkpoint_path_for
    return checkpoint_path_for(project.path)


def resumable(project):
    """The checkpoint beside ``project`` when there is one written for its graph, else None."""
    path = path_of(project)
    if path is None or not path.is_file():
        return None
    from core.errors import SettingsError
    from core.training.checkpoint import check_fits, load
    try:
        ckpt = load(path)
        check_fits(ckpt, project.graph, path)
    except SettingsError:
        return None
    return ckpt


def attach(project, cfg, resume=None):
    """Add the checkpoint to ``cfg`` (a TrainConfig): restore ``resume`` once the model is built, then write."""
    path = path_of(project)
    if path is None:
        return
    from core.training.checkpoint import checkpoint_callback
    cfg.extra_callbacks = list(cfg.extra_callbacks or ()) + [checkpoint_callback(path, project, cfg, resume=resume)]


def exists(project) -> bool:
    """True when a checkpoint lies beside ``project`` (Continue can resume from it; checked when it starts)."""
    path = path_of(project)
    return path is not None and path.is_file()
