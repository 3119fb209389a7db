"""Project settings as model objects (core/settings.py): dict-like reads, writes that emit events, no silent
nested writes, copies and round trips."""
from __future__ import annotations

import copy
import json
import pickle
from collections.abc import MutableMapping

import pytest

from core.project import Project, dumps_project, loads_project, project_from_dict
from core.settings import DEFAULTS, FrozenDict, FrozenList, Settings


def recorder(project):
    seen = []
    project.events.settings_changed.connect(lambda section, path: seen.append((section, path)))
    return seen


# -- events ---------------------------------------------------------------------------------------------------
def test_writes_emit_the_section_and_the_key_path():
    p = Project()
    seen = recorder(p)
    own = []
    p.training.events.changed.connect(lambda section, path: own.append((section, path)))
    p.training.set(("early_stopping", "patience"), 3)
    p.training["epochs"] = 4
    p.compile.set(("optimizer", "learning_rate"), 0.01)
    p.regularization.set("dropout", 0.2)
    p.data.update(name="iris", seed=2)
    p.data.delete("seed")
    p.data = {"source": "builtin", "name": "wine"}
    p.name = "renamed"
    p.description = "what it is for"
    assert seen == [("training", ("early_stopping", "patience")), ("training", ("epochs",)),
                    ("compile", ("optimizer", "learning_rate")), ("regularization", ("dropout",)),
                    ("data", ("name",)), ("data", ("seed",)), ("data", ("seed",)), ("data", ()),
                    ("name", ()), ("description", ())]
    assert own == [("training", ("early_stopping", "patience")), ("training", ("epochs",))]
    assert p.training["early_stopping"]["patience"] == 3 and p.training["epochs"] == 4
    assert p.compile["optimizer"] == {"name": "adam", "learning_rate": 0.01}
    assert p.data == {"source": "builtin", "name": "wine"}


def test_the_dict_methods_are_writes_that_emit():
    p = Project()
    seen = recorder(p)
    t = p.training
    assert t.setdefault("epochs", 99) == 10 and not seen          # there: no write
    assert t.setdefault("verbose", 1) == 1
    assert t.pop("verbose") == 1
    del t["seed"]
    t |= {"seed": 5}
    assert t["seed"] == 5
    t.clear()
    assert t == {} and t.is_object
    assert seen == [("training", ("verbose",)), ("training", ("verbose",)), ("training", ("seed",)),
                    ("training", ("seed",)), ("training", ())]
    with pytest.raises(KeyError):
        del t["nothing"]


def test_assigning_a_section_keeps_its_object_and_listeners():
    p = Project()
    obj = p.settings("compile")
    seen = recorder(p)
    p.compile = {"optimizer": {"name": "sgd", "learning_rate": 0.1}}
    assert p.settings("compile") is obj and p.compile is obj
    assert seen == [("compile", ())]
    p.compile = p.compile   # a section assigned to itself stays as it is
    assert p.compile["optimizer"]["name"] == "sgd"


# -- reads ----------------------------------------------------------------------------------------------------
def test_reads_like_the_dict_it_replaces():
    p = Project()
    c = p.compile
    assert isinstance(c, dict) and isinstance(c, MutableMapping)
    assert c["optimizer"]["learning_rate"] == 0.001
    assert c.get("optimizer", {}).get("name") == "adam" and c.get("nothing") is None
    assert "schedule" in c and list(c) == ["optimizer", "schedule"]
    assert c == DEFAULTS["compile"] and dict(c) == DEFAULTS["compile"]
    assert json.loads(json.dumps(p.training)) == DEFAULTS["training"]
    assert isinstance(p.training["early_stopping"], dict)
    assert c.get_path(("optimizer", "name")) == "adam"
    assert c.get_path(("optimizer", "nothing"), 7) == 7 and c.get_path("nothing") is Settings.MISSING


def test_a_section_that_is_not_an_object_reads_as_its_value():
    """Only in memory (files with one are refused): the window must show such a project, and the next edit of a
    key makes it an object again."""
    p = Project()
    p.training = 5
    assert p.training == 5 and not p.settings("training").is_object
    assert p.to_dict()["training"] == 5
    p.settings("training").set("epochs", 3)
    assert p.training == {"epochs": 3}
    p.regularization = None
    assert p.regularization is None


# -- nested writes cannot bypass the events -----------------------------------------------------------------------
def test_nested_values_are_read_only():
    p = Project()
    seen = recorder(p)
    es = p.training["early_stopping"]
    assert isinstance(es, FrozenDict)
    with pytest.raises(TypeError, match=r"project.training.set\(\('early_stopping', 'patience'\), value\)"):
        es["patience"] = 3
    for change in (lambda: es.update(patience=3), lambda: es.pop("patience"), lambda: es.setdefault("x", 1),
                   lambda: es.clear(), lambda: es.popitem(), lambda: es.__delitem__("patience")):
        with pytest.raises(TypeError):
            change()
    with pytest.raises(TypeError):
        p.compile["optimizer"]["learning_rate"] = 1.0
    p.data = {"source": "image_folder", "image_size": [64, 64]}
    size = p.data["image_size"]
    assert isinstance(size, FrozenList) and size == [64, 64]
    for change in (lambda: size.append(3), lambda: size.__setitem__(0, 1), lambda: size.sort(),
                   lambda: size.extend([1]), lambda: size.pop()):
        with pytest.raises(TypeError):
            change()
    assert p.training["early_stopping"]["patience"] == 5 and p.data["image_size"] == [64, 64]
    assert seen == [("data", ())]


def test_a_written_value_is_copied_in():
    p = Project()
    mine = {"name": "sgd", "learning_rate": 0.1}
    p.compile["optimizer"] = mine
    mine["learning_rate"] = 9.0            # the caller's dict is not the project's
    assert p.compile["optimizer"]["learning_rate"] == 0.1


# -- copies and round trips -------------------------------------------------------------------------------------------
def test_deepcopy_and_to_dict_are_plain_and_detached():
    p = Project()
    d = copy.deepcopy(p.training)
    assert type(d) is dict and type(d["early_stopping"]) is dict and d == p.training
    d["early_stopping"]["patience"] = 1
    assert p.training["early_stopping"]["patience"] == 5
    e = p.training.to_dict()
    assert type(e["early_stopping"]) is dict and e == p.training
    nested = copy.deepcopy(p.compile["optimizer"])
    nested["learning_rate"] = 2.0           # a copy of a nested value is editable
    assert type(nested) is dict and p.compile["optimizer"]["learning_rate"] == 0.001
    assert copy.copy(p.compile) == p.compile and type(copy.copy(p.compile)) is dict
    assert pickle.loads(pickle.dumps(p.training)) == p.training


def test_project_round_trip_through_dict_and_json():
    p = Project(name="round")
    p.training.set(("early_stopping", "enabled"), True)
    p.data = {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 1}
    q = project_from_dict(json.loads(json.dumps(p.to_dict())))
    assert q.to_dict() == p.to_dict()
    assert isinstance(q.settings("training"), Settings) and q.training["early_stopping"]["enabled"] is True
    r = loads_project(dumps_project(q))
    assert r.compile == p.compile and r.data == p.data and r.training == p.training
    c = copy.deepcopy(p)
    assert c.to_dict() == p.to_dict() and c.settings("data") is not p.settings("data")
    seen = recorder(p)
    c.data["seed"] = 9                      # the copy has listeners of its own
    assert not seen and p.data["seed"] == 1


def test_validation_hooks_in():
    p = Project()
    assert p.settings("training").problems() == []
    p.training.set(("early_stopping", "patience"), -1)
    assert any("early_stopping.patience" in m for m in p.settings("training").problems())
    p.compile.set(("optimizer", "learning_rate"), float("nan"))
    assert p.settings("compile").problems()


def test_the_training_config_reads_the_settings():
    from core.training import TrainConfig
    p = Project()
    p.training.update(epochs=3, batch_size=8)
    p.training.set(("early_stopping", "enabled"), True)
    cfg = TrainConfig.from_project(p)
    assert (cfg.epochs, cfg.batch_size) == (3, 8) and cfg.early_stopping["enabled"] is True
