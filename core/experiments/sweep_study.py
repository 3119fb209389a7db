"""A sweep's Optuna study: created or joined (its search space checked), trials claimed under the study-wide
lock, and trials of dead processes failed and their values retried.

    study = open_study(storage, lock, spec)                 # StudyError when the name holds another space
    claim = claim_next(study, lock, spec)                   # DONE, WAIT or an optuna Trial (RUNNING)

"Finished" means COMPLETE (a value); pruned and failed trials do not count toward ``spec.trials``.
"""
from __future__ import annotations

import json

from ..errors import SettingsError, short
from . import sweep_storage
from .space import fingerprint

DONE = "done"
MARK = "@@lw "          # a worker's event line on its stdout: MARK + JSON
WAIT = "wait"
DIRECTIONS = ("minimize", "maximize")
MAXIMISED = ("acc", "auc", "precision", "recall", "samples_per_s", "top")


class StudyError(SettingsError):
    """A study that cannot be used for this sweep (the message names it)."""


def direction_of(metric):
    m = str(metric).lower()
    return "maximize" if any(w in m for w in MAXIMISED) else "minimize"


def directions(spec):
    out = [spec["objective"].get("direction") or direction_of(spec["objective"]["metric"])]
    if spec.get("second"):
        out.append(spec["second"].get("direction") or direction_of(spec["second"]["metric"]))
    return out


def _sampler(spec, n_before):
    import optuna
    seed = spec.get("seed")
    if seed is not None:
        seed = int(seed) + 1000 * int(spec.get("worker", 0)) + n_before
    if spec.get("second"):
        return optuna.samplers.NSGAIISampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _pruner(spec):
    import optuna
    if not spec.get("pruning") or spec.get("second"):
        return optuna.pruners.NopPruner()
    if spec.get("pruner") == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=int(spec["epochs"]) if spec.get("epochs")
                                              else "auto")
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)


def create_study(storage, lock, spec, dims):
    """Create the study or join it; StudyError when it exists with another search space or objective."""
    import optuna
    name = spec["study"]
    space = fingerprint(dims)
    dirs = directions(spec)
    with lock.held(name):
        try:
            study = optuna.load_study(study_name=name, storage=storage, sampler=_sampler(spec, 0),
                                      pruner=_pruner(spec))
        except KeyError:
            study = optuna.create_study(study_name=name, storage=storage, directions=dirs,
                                        sampler=_sampler(spec, 0), pruner=_pruner(spec))
            study.set_user_attr("space", space)
            study.set_user_attr("objective", {"metric": spec["objective"]["metric"], "directions": dirs,
                                              "second": (spec.get("second") or {}).get("metric")})
            study.set_user_attr("project", spec.get("project_name"))
            return study
    _check_same(study, name, space, dirs, spec)
    return study


def _check_same(study, name, space, dirs, spec):
    have = study.user_attrs.get("space")
    if have is not None and have != space:
        theirs = ", ".join(d["path"] for d in json.loads(have)) or "none"
        raise StudyError(f"--study {short(name)}: this study exists with another search space (dimensions "
                         f"{theirs}, or other ranges); give another --study name, or the same dimensions")
    obj = study.user_attrs.get("objective") or {}
    if obj and (obj.get("metric") != spec["objective"]["metric"] or list(obj.get("directions", dirs)) != dirs):
        raise StudyError(f"--study {short(name)}: this study optimises {obj.get('metric')} "
                         f"({', '.join(obj.get('directions', []))}); give another --study name")


def load(storage, spec, n_before=0):
    import optuna
    return optuna.load_study(study_name=spec["study"], storage=storage, sampler=_sampler(spec, n_before),
                             pruner=_pruner(spec))


def counts(study):
    from optuna.trial import TrialState
    trials = study.get_trials(deepcopy=False)
    done = sum(1 for t in trials if t.state == TrialState.COMPLETE)
    running = [t for t in trials if t.state == TrialState.RUNNING]
    return done, running


def claim_next(study, lock, spec):
    """DONE when the study has its finished trials, WAIT while the running ones may finish it, else a new trial
    (RUNNING, marked with this process) — all under the study-wide lock."""
    with lock.held(spec["study"]):
        reap(study)
        done, running = counts(study)
        if done >= spec["trials"]:
            return DONE
        if done + len(running) >= spec["trials"]:
            return WAIT
        trial = study.ask()
        for k, v in sweep_storage.owner_attrs().items():
            trial.set_user_attr(k, v)
        return trial


def reap(study, message=None, only=None):
    """Fail the RUNNING trials whose process is gone (on this machine; other machines' by their heartbeat) and
    enqueue their values again; returns those trials. ``only``: just these trial numbers."""
    import optuna
    from optuna.trial import TrialState
    storage = study._storage
    if getattr(storage, "get_heartbeat_interval", lambda: None)():
        optuna.storages.fail_stale_trials(study)
    gone = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if (only is None or t.number in only) and (only is not None or sweep_storage.is_orphan(t))]
    retry = sweep_storage.retry_callback()
    for t in gone:
        why = message or (f"the process running it (pid {t.user_attrs.get('pid')} on {t.user_attrs.get('host')}) "
                          f"is gone: killed or crashed")
        storage.set_trial_user_attr(t._trial_id, "message", why)
        if storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
            retry(study, storage.get_trial(t._trial_id))
            _fail_run(t, why)
    return gone


def _fail_run(trial, why):
    """The run recorded for a trial whose process died: failed, with why (when it is in a runs database here). A run
    already marked finished is failed too: its process died after recording it but before the study was told, so
    the trial is tried again and this run is not one of the sweep's results."""
    path, rid = trial.user_attrs.get("runs_db"), trial.user_attrs.get("run_id")
    if not path or rid is None or trial.user_attrs.get("host") != sweep_storage.HOST:
        return
    from pathlib import Path
    if not Path(path).is_file():
        return
    try:
        from .runs import RunStore
        store = RunStore(path)
        try:
            if store.get(rid).get("status") in ("running", "finished"):
                store.finish(rid, "failed", message=why)
        finally:
            store.close()
    except Exception:  # noqa: BLE001 - a runs database that cannot be written must not stop the sweep
        pass


def trial_row(t, labels=None):
    """A finished (or failed, pruned) trial as plain data: trial, params (by the paths a person reads), value(s),
    status, message, seconds."""
    from optuna.trial import TrialState
    status = {TrialState.COMPLETE: "finished", TrialState.PRUNED: "pruned", TrialState.FAIL: "failed",
              TrialState.RUNNING: "running", TrialState.WAITING: "waiting"}.get(t.state, str(t.state))
    labels = labels or {}
    row = {"trial": t.number, "params": {labels.get(k, k): v for k, v in t.params.items()}, "status": status}
    vals = t.values if t.state == TrialState.COMPLETE else None
    row["value"] = vals[0] if vals else None
    if vals and len(vals) > 1:
        row["values"] = list(vals)
    if t.user_attrs.get("message"):
        row["message"] = t.user_attrs["message"]
    if t.datetime_start and t.datetime_complete:
        row["seconds"] = round((t.datetime_complete - t.datetime_start).total_seconds(), 2)
    return row


def best_rows(study, labels=None):
    """The best finished trial (one objective), or the Pareto front (two); [] when none finished."""
    from optuna.trial import TrialState
    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        return []
    if len(study.directions) == 1:
        return [trial_row(study.best_trial, labels)]
    sign = 1 if study.directions[0].name == "MINIMIZE" else -1     # the front, best first objective first
    return [trial_row(t, labels) for t in sorted(study.best_trials, key=lambda t: sign * t.values[0])]
