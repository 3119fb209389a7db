"""Checks of a project's settings (compile, regularization, training, data) and of per-node setting overrides.

Every check returns a list of problems, one plain-words line each, naming the field by its path in the project
file (``"compile.optimizer.learning_rate" must be ...``); an empty list means the settings are fine. Loading a
project refuses one with problems (``ProjectError``, exit code 2 from the command line); the window calls
``validate_settings`` after an edit, ``layerwise check`` and ``layerwise train`` before any work starts.

Booleans are never numbers here: ``true`` is not an epoch count.
"""
from __future__ import annotations

import math
import re

from . import catalog, node_settings
from .errors import short
from .node_settings import MAX_L2   # (a node's own L2 and the global one share the bound)

MAX_LEARNING_RATE = 10.0
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 1_000_000
MAX_PATIENCE = 100_000
MAX_SEED = 2 ** 32 - 1           # NumPy and Keras seeds are 32-bit
MAX_CLIP = 1e6
MAX_TEXT = 1_000                  # characters of a short text setting (device, monitor, data name)
DEVICE_RE = re.compile(r"auto|cpu|gpu(:\d{1,3})?")
MONITOR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,99}")
DEVICES = "auto, cpu, gpu or gpu:N"
BACKENDS = ("tensorflow", "jax", "torch")   # Keras backends (core.training.backends)
CLIP_KEYS = ("clipnorm", "clipvalue", "global_clipnorm")
# the cost budget's limits (training.budget; core.cost.budget), each in words
BUDGET_KEYS = {"max_params": "parameters", "max_macs": "MACs per sample", "max_size_mb": "model size (MB of weights)",
               "max_latency_ms": "batch-1 latency (ms)"}


def _val(v):
    """A bad value as the message shows it: floats as 1e+12 (not 1000000000000.0), the rest shortened."""
    return f"{v:g}" if isinstance(v, float) else short(v)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _range_words(lo, hi, lo_open=False, hi_open=False):
    def g(x):
        return f"{x:,}" if isinstance(x, int) else f"{x:g}"
    if lo is not None and hi is not None:
        if not lo_open and not hi_open:
            return f"from {g(lo)} to {g(hi)}"
        return f"{'above' if lo_open else 'at least'} {g(lo)} and {'below' if hi_open else 'at most'} {g(hi)}"
    if lo is not None:
        return f"{'above' if lo_open else 'at least'} {g(lo)}"
    if hi is not None:
        return f"{'below' if hi_open else 'at most'} {g(hi)}"
    return ""


def number_problem(path, v, lo=None, hi=None, lo_open=False, hi_open=False, allow_none=False):
    """A problem when ``v`` is not a finite number in the range, else None."""
    if v is None and allow_none:
        return None
    rng = _range_words(lo, hi, lo_open, hi_open)
    want = f"a number {rng}".rstrip()
    if not is_num(v):
        return f'"{path}" must be {want}, got {short(v)}'
    if isinstance(v, float) and not math.isfinite(v):
        return f'"{path}" must be a finite number{" " + rng if rng else ""}, got {v}'
    if ((lo is not None and (v < lo or (lo_open and v == lo)))
            or (hi is not None and (v > hi or (hi_open and v == hi)))):
        return f'"{path}" must be {rng}, got {_val(v)}'
    return None


def int_problem(path, v, lo=None, hi=None, allow_none=False):
    """A problem when ``v`` is not a whole number in [lo, hi] (10.0 counts as 10; true does not count as 1)."""
    if v is None and allow_none:
        return None
    rng = _range_words(lo, hi)
    if not (is_int(v) or (isinstance(v, float) and math.isfinite(v) and v.is_integer())):
        return f'"{path}" must be a whole number {rng}, got {_val(v)}'.replace("  ", " ")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        return f'"{path}" must be {rng}, got {_val(v)}'
    return None


def bool_problem(path, v, allow_none=False):
    if (v is None and allow_none) or isinstance(v, bool):
        return None
    return f'"{path}" must be true or false, got {short(v)}'


def text_problem(path, v, allow_none=False, limit=MAX_TEXT):
    if v is None and allow_none:
        return None
    if not isinstance(v, str):
        return f'"{path}" must be text, got {short(v)}'
    if len(v) > limit:
        return f'"{path}" is {len(v):,} characters long; at most {limit:,} are allowed'
    return None


def object_problem(path, v, example, allow_none=False):
    if (v is None and allow_none) or isinstance(v, dict):
        return None
    return f'"{path}" must be an object like {example}, got {short(v)}'


def _keep(out, *problems):
    out.extend(p for p in problems if p)
    return out


def _key_problem(path, k):
    if not isinstance(k, str) or not k.isidentifier() or len(k) > 100:
        return f'"{path}": {short(k)} is not a setting name (letters, digits and _, not starting with a digit)'
    return None


# -- sections --------------------------------------------------------------------------------------------------
def compile_problems(comp, path="compile"):
    out = []
    if not isinstance(comp, dict):
        return [f'"{path}" must be an object, got {short(comp)}']
    opt = comp.get("optimizer", {"name": "adam"})
    err = object_problem(f"{path}.optimizer", opt, '{"name": "adam", "learning_rate": 0.001}')
    if err:
        out.append(err)
    else:
        out += optimizer_problems(opt, f"{path}.optimizer")
    sch = comp.get("schedule")
    err = object_problem(f"{path}.schedule", sch, '{"kind": "none"}', allow_none=True)
    if err:
        out.append(err)
    elif sch is not None:
        out += schedule_problems(sch, f"{path}.schedule")
    return out


def optimizer_problems(opt, path="compile.optimizer"):
    name = opt.get("name", "adam")
    known = ", ".join(catalog.OPTIMIZERS)
    if not isinstance(name, str):
        return [f'"{path}.name" must be the name of an optimizer ({known}), got {short(name)}']
    key = name.strip().lower()
    if key not in catalog.OPTIMIZERS:
        return [f'"{path}.name": unknown optimizer {short(name)}; expected one of {known}']
    params = {p.name: p for p in catalog.OPTIMIZERS[key][1]}
    out = []
    for k, v in opt.items():
        if k == "name":
            continue
        err = _key_problem(path, k)
        if err:
            out.append(err)
            continue
        where = f"{path}.{k}"
        if k in CLIP_KEYS:
            _keep(out, number_problem(where, v, 0, MAX_CLIP, lo_open=True, allow_none=True))
        elif k not in params:
            out.append(f'"{where}": the {key} optimizer has no setting {short(k)}; '
                       f'its settings are {", ".join(list(params) + list(CLIP_KEYS))}')
        elif k == "learning_rate":
            _keep(out, number_problem(where, v, 0, MAX_LEARNING_RATE, lo_open=True))
        else:
            e = params[k].value_error(v)
            if e:
                out.append(f'"{where}" {e}')
    return out


def schedule_problems(sch, path="compile.schedule"):
    kind = sch.get("kind", "none")
    known = ", ".join(catalog.SCHEDULES)
    if not isinstance(kind, str) or kind not in catalog.SCHEDULES:
        return [f'"{path}.kind": unknown learning-rate schedule {short(kind)}; expected one of {known}']
    params = {p.name: p for p in catalog.SCHEDULES[kind]}
    out = []
    for k, v in sch.items():
        if k == "kind":
            continue
        err = _key_problem(path, k)
        if err:
            out.append(err)
            continue
        p = params.get(k)
        if p is None:
            out.append(f'"{path}.{k}": the {kind} schedule has no setting {short(k)}; '
                       f'its settings are {", ".join(params) or "none"}')
            continue
        e = p.value_error(v)
        if e:
            out.append(f'"{path}.{k}" {e}')
    return out


def regularization_problems(reg, path="regularization"):
    if reg is None:
        return []
    if not isinstance(reg, dict):
        return [f'"{path}" must be an object like {{"l2": 0.0, "dropout": 0.0}}, got {short(reg)}']
    return _keep([], number_problem(f"{path}.l2", reg.get("l2"), 0, MAX_L2, allow_none=True),
                 number_problem(f"{path}.dropout", reg.get("dropout"), 0, 1, hi_open=True, allow_none=True))


def training_problems(t, path="training"):
    if not isinstance(t, dict):
        return [f'"{path}" must be an object, got {short(t)}']
    out = _keep([], int_problem(f"{path}.epochs", t.get("epochs", 1), 1, MAX_EPOCHS),
                int_problem(f"{path}.batch_size", t.get("batch_size", 1), 1, MAX_BATCH_SIZE),
                int_problem(f"{path}.seed", t.get("seed", 0), 0, MAX_SEED),
                bool_problem(f"{path}.mixed_precision", t.get("mixed_precision", False)))
    out += budget_problems(t.get("budget"), f"{path}.budget")
    be = t.get("backend", "tensorflow")
    if not isinstance(be, str) or be.strip().lower() not in BACKENDS:
        out.append(f'"{path}.backend" must be tensorflow, jax or torch, got {short(be)}')
    dev = t.get("device", "auto")
    if not isinstance(dev, str) or not DEVICE_RE.fullmatch(dev.strip().lower()):
        out.append(f'"{path}.device" must be {DEVICES}, got {short(dev)}')
    es = t.get("early_stopping")
    err = object_problem(f"{path}.early_stopping", es, '{"enabled": true, "monitor": "val_loss", "patience": 5}',
                         allow_none=True)
    if err:
        out.append(err)
    elif es is not None:
        p = f"{path}.early_stopping"
        _keep(out, bool_problem(f"{p}.enabled", es.get("enabled", False)),
              int_problem(f"{p}.patience", es.get("patience", 5), 0, MAX_PATIENCE),
              bool_problem(f"{p}.restore_best_weights", es.get("restore_best_weights", True)),
              number_problem(f"{p}.min_delta", es.get("min_delta"), 0, None, allow_none=True))
        mon = es.get("monitor", "val_loss")
        if not isinstance(mon, str) or not MONITOR_RE.fullmatch(mon):
            out.append(f'"{p}.monitor" must name a logged value such as "val_loss" or "val_accuracy", '
                       f'got {short(mon)}')
    return out


def budget_problems(b, path="training.budget"):
    """A cost budget: an object whose limits (BUDGET_KEYS) are numbers of 0 or more, or null (no limit)."""
    if b is None:
        return []
    keys = ", ".join(BUDGET_KEYS)
    if not isinstance(b, dict):
        return [f'"{path}" must be an object with any of {keys}, got {short(b)}']
    out = [f'"{path}" has no limit {short(k)}; its limits are {keys}' for k in b if k not in BUDGET_KEYS]
    return _keep(out, *(number_problem(f"{path}.{k}", b.get(k), 0, None, allow_none=True) for k in BUDGET_KEYS))


def data_problems(d, path="data"):
    if not isinstance(d, dict):
        return [f'"{path}" must be an object, got {short(d)}']
    out = _keep([], text_problem(f"{path}.source", d.get("source"), allow_none=True),
                text_problem(f"{path}.name", d.get("name"), allow_none=True),
                text_problem(f"{path}.path", d.get("path"), allow_none=True, limit=10_000),
                int_problem(f"{path}.seed", d.get("seed", 0), 0, MAX_SEED))
    splits = []
    for key in ("validation_split", "test_split"):
        v = d.get(key)
        err = number_problem(f"{path}.{key}", v, 0, 1, hi_open=True, allow_none=True)
        if err:
            out.append(err)
        else:
            splits.append(float(v or 0.0))
    if len(splits) == 2 and sum(splits) >= 1.0:
        out.append(f'"{path}.validation_split" ({splits[0]:g}) and "{path}.test_split" ({splits[1]:g}) add up to '
                   f'{sum(splits):g}: nothing is left for training (they must add up to less than 1)')
    return out


# -- per-node settings -----------------------------------------------------------------------------------------
_SETTING_CHECKS = {   # NodeSetting.kind -> the problem of a value (None: the default)
    "number": lambda s, where, v: number_problem(where, v, s.lo, s.hi, hi_open=s.hi_open, allow_none=True),
    "bool": lambda s, where, v: bool_problem(where, v, allow_none=True),
    "text": lambda s, where, v: text_problem(where, v, allow_none=True, limit=node_settings.MAX_TEXT),
    "object": lambda s, where, v: object_problem(where, v, "{...}", allow_none=True),
}


def node_settings_problems(settings, path="settings"):
    """The problems of the overrides and marks a node carries (``core.node_settings.SETTINGS``: each key's kind
    and range); keys the table does not check, and keys it does not know, are kept as they are."""
    if not isinstance(settings, dict):
        return [f'"{path}" must be an object, got {short(settings)}']
    return _keep([], *(_SETTING_CHECKS[s.kind](s, f"{path}.{s.key}", settings.get(s.key))
                       for s in node_settings.SETTINGS.values() if s.kind is not None))


def section_problems(project) -> list:
    """The problems of the project's compile, regularization, training and data settings."""
    return (compile_problems(project.compile) + regularization_problems(project.regularization)
            + training_problems(project.training) + data_problems(project.data))


def validate_settings(project) -> list:
    """Every problem with the project's settings and its nodes' setting overrides, one line each (an empty list:
    all fine). The window calls it after an edit; ``layerwise check`` and ``train`` before any work."""
    out = section_problems(project)
    for n in project.graph.nodes.values():
        out += [f"node {n.label()}: {m}" for m in node_settings_problems(n.settings)]
    return out
