"""The sweep engine: trials claimed under the study lock stop at exactly N finished, a trial whose process died is
failed (its run too) and its values retried, and a worker killed mid-trial is replaced while the sweep goes on."""
from __future__ import annotations

import os
import signal
import subprocess

import pytest

pytest.importorskip("optuna")

from core.experiments import space as sp  # noqa: E402
from core.experiments import sweep_storage, sweep_study  # noqa: E402
from core.experiments.runs import RunStore, runs_path  # noqa: E402
from core.experiments.sweep import Sweep, prepare  # noqa: E402
from core.project import Project, save_project  # noqa: E402
from tests.core.helpers import chain  # noqa: E402

LR = "compile.optimizer.learning_rate=1e-3:1e-1:log"


def iris(tmp_path):
    g, _ = chain(("Input", {"shape": [4]}, "features"), ("Dense", {"units": 8, "activation": "relu"}, "hidden"),
                 ("Dense", {"units": 3, "activation": "softmax"}, "head"), ("Output", {}, "species"))
    p = Project(graph=g, name="iris")
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0}
    p.training.update({"epochs": 1, "batch_size": 32, "device": "cpu"})
    return save_project(p, tmp_path / "iris.layerwise")


def dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def opened(spec):
    lock = sweep_storage.StudyLock(spec["storage"])
    return lock, sweep_study.load(sweep_storage.open_storage(spec["storage"], lock), spec)


def test_claims_stop_at_n_and_a_dead_process_trial_is_failed_and_its_values_retried(tmp_path):
    path = iris(tmp_path)
    spec = prepare(path, [LR], trials=2, study="t")
    assert spec["storage"] == f"sqlite:///{tmp_path / 'iris.sweeps.sqlite'}"
    lock, study = opened(spec)
    dims = [sp.Dimension.from_dict(d) for d in spec["dimensions"]]
    a = sweep_study.claim_next(study, lock, spec)
    b = sweep_study.claim_next(study, lock, spec)
    va, vb = sp.suggest(a, dims), sp.suggest(b, dims)
    assert sweep_study.claim_next(study, lock, spec) == sweep_study.WAIT   # 2 running may finish the study
    # b's process "was killed": another pid that is gone, with a run recorded as running
    store = RunStore(runs_path(path))
    rid = store.start({"graph": {}, "settings": {}}, sweep={"study": "t"}, trial=b.number)
    b.set_user_attr("pid", dead_pid())
    b.set_user_attr("run_id", rid)
    b.set_user_attr("runs_db", str(runs_path(path)))
    study.tell(a, 0.5)
    retry = sweep_study.claim_next(study, lock, spec)
    assert retry not in (sweep_study.DONE, sweep_study.WAIT)
    assert sp.suggest(retry, dims) == vb != va                               # the same values again
    old = study._storage.get_trial(b._trial_id)
    assert old.state.name == "FAIL" and "is gone: killed or crashed" in old.user_attrs["message"]
    assert store.get(rid)["status"] == "failed" and "is gone" in store.get(rid)["message"]
    store.close()
    study.tell(retry, 0.4)
    assert sweep_study.claim_next(study, lock, spec) == sweep_study.DONE
    assert sweep_study.counts(study)[0] == 2
    assert [r["value"] for r in sweep_study.best_rows(study)] == [0.4]
    lock.close()


def test_a_trial_whose_process_died_after_recording_its_run_finished_is_not_counted_twice(tmp_path):
    """Killed between writing the run as finished and telling the study: the trial is retried, so the run it left
    is failed (with why), and the sweep's finished runs stay one per trial."""
    path = iris(tmp_path)
    spec = prepare(path, [LR], trials=1, study="t")
    lock, study = opened(spec)
    b = sweep_study.claim_next(study, lock, spec)
    store = RunStore(runs_path(path))
    rid = store.start({"graph": {}, "settings": {}}, sweep={"study": "t"}, trial=b.number)
    store.finish(rid, "finished", metrics={"val_loss": 0.5})
    b.set_user_attr("pid", dead_pid())
    b.set_user_attr("run_id", rid)
    b.set_user_attr("runs_db", str(runs_path(path)))
    retry = sweep_study.claim_next(study, lock, spec)
    assert retry not in (sweep_study.DONE, sweep_study.WAIT)
    assert store.get(rid)["status"] == "failed" and "is gone" in store.get(rid)["message"]
    store.close()
    lock.close()


def test_a_worker_killed_mid_trial_is_replaced_and_the_sweep_finishes(tmp_path):
    path = iris(tmp_path)
    spec = prepare(path, [LR], trials=1, epochs=1, study="k", seed=0)
    seen = []

    def on_event(ev):
        seen.append(ev)
        if ev["event"] == "claimed" and not any(e["event"] == "worker_died" for e in seen) and \
                sum(e["event"] == "claimed" for e in seen) == 1:
            os.kill(ev["pid"], signal.SIGKILL)

    summary = Sweep(spec, on_event=on_event).run()
    assert summary["finished"] == 1 and summary["error"] is None
    died = [e for e in seen if e["event"] == "worker_died"]
    assert len(died) == 1 and "killed by signal 9" in died[0]["message"]
    first = next(e for e in seen if e["event"] == "claimed")
    ended = [e for e in seen if e["event"] == "ended"]
    assert any(e["params"] == first["params"] and e["status"] == "finished" for e in ended)   # retried
    lock, study = opened(spec)
    killed = study.trials[first["trial"]]
    assert killed.state.name == "FAIL" and "killed by signal 9" in killed.user_attrs["message"]
    lock.close()
    store = RunStore(runs_path(path))
    runs = store.list()
    store.close()
    assert sorted(r["status"] for r in runs if r["trial"] == first["trial"]) in (["failed"], [])
    assert sum(r["status"] == "finished" for r in runs) == 1


def test_a_trial_that_diverges_or_runs_out_of_memory_is_failed_with_its_message():
    from types import SimpleNamespace
    from optuna.trial import TrialState
    from core.errors import TrainingError
    from core.experiments.sweep_trial import Pruning, _outcome
    spec = {"objective": {"metric": "val_loss"}, "second": None}

    class Rec:
        ended = None

        def finish(self, result):
            self.ended = ("finish", result.error)

        def fail(self, message, status="error"):
            self.ended = (status, message)

    for error in (TrainingError("the loss became NaN at epoch 2", kind="nan"),
                  TrainingError("out of memory while training: use a smaller batch size", kind="oom")):
        rec = Rec()
        result = SimpleNamespace(error=error, history={}, build=None, samples_per_s=0.0)
        state, values, message = _outcome(spec, rec, Pruning(None, "val_loss", 3), result)
        assert state == TrialState.FAIL and values is None and message == str(error) and rec.ended[1] is error
    rec = Rec()
    state, _, message = _outcome(spec, rec, Pruning(None, "val_loss", 3),
                                 SimpleNamespace(error=None, history={"loss": [0.5]}, build=None, samples_per_s=1.0))
    assert state == TrialState.FAIL and message == "the run logged no val_loss (it logged loss)"
    state, values, _ = _outcome(spec, rec, Pruning(None, "val_loss", 3),
                                SimpleNamespace(error=None, history={"val_loss": [0.9, 0.4]}, build=None,
                                                samples_per_s=1.0))
    assert state == TrialState.COMPLETE and values == [0.4]


def test_two_objectives_give_the_pareto_front_best_first_objective_first():
    import optuna
    from core.experiments.sweep import pareto
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["minimize", "minimize"])
    for v in ([1.13, 35], [1.0, 139], [1.9, 59], [1.2, 40]):
        t = study.ask()
        t.suggest_float("x", 0, 1)
        study.tell(t, v)
    rows = sweep_study.best_rows(study)
    assert [r["values"] for r in rows] == [[1.0, 139.0], [1.13, 35.0]]
    assert sorted(r["trial"] for r in pareto([sweep_study.trial_row(t) for t in study.trials],
                                             ["minimize", "minimize"])) == [0, 1]
