"""Every training the window runs is recorded as a run in the project's runs database (``core.experiments``).

The runner calls ``start(window, project, cfg)`` before it launches a run (the recorder's callback joins the
config), and the worker thread runs the training through ``recorded(recorder, work)``, which records how it ended.
A project that was never saved has no place for its runs: it trains unrecorded. A runs database that cannot be
opened (damaged, from a newer Layerwise) is said once per file, in a dialog naming it; training goes on,
unrecorded, and the file is left as it is."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)
_told = set()      # files whose problem was already shown in this session


def start(window, project, cfg):
    """A RunRecorder for this run (its callback added to ``cfg``), or None (not saved yet, or a bad database)."""
    from core.errors import RunsError
    from core.experiments.record import RunRecorder
    path = getattr(project, "path", None)
    if not path:
        return None
    try:
        rec = RunRecorder(path, project, cfg, lazy=True)
    except RunsError as e:
        text = str(e)
        if text not in _told:
            _told.add(text)
            window.show_error("Runs are not recorded", f"{text}\n\nThis training goes on without being recorded.")
        else:
            window.statusBar().showMessage(f"This run is not recorded: {text}", 8000)
        return None
    cfg.extra_callbacks = [*(cfg.extra_callbacks or ()), rec.callback]
    return rec


def recorded(rec, work):
    """Run ``work()`` (a training, in the worker thread) and record how it ended; returns its result."""
    if rec is None:
        return work()
    from core.errors import RunsError
    try:
        result = work()
    except BaseException as e:
        try:
            rec.fail(e)
        except RunsError:
            log.warning("the run could not be recorded", exc_info=True)
        raise
    try:
        rec.finish(result)
    except RunsError:
        log.warning("the run could not be recorded", exc_info=True)
    return result
