"""Export a project: ``.h5`` (Keras' HDF5 format via h5py), ``.keras``, or a readable ``.py`` script."""
from __future__ import annotations

from pathlib import Path

from . import catalog
from .atomic import atomic_write, replacing
from .build import LOSS_CLASSES, build_model, compile_model
from .errors import BuildError, SettingsError
from .keras_compat import FUNCTIONAL_MODULE
from .layers import MERGES, MODEL_CLASSES, UNSAFE_CLASSES, config_dicts, layer_kwargs
from .graph import output_count
from .node_settings import CALL, SHARES, is_frozen

FORMATS = (".h5", ".keras", ".py")


def export(project, out, *, build=None, with_weights=True):
    """Write ``out``; the extension picks the format. Atomic: a failed export leaves no partial file."""
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in FORMATS:
        raise SettingsError(f"{out.name}: unknown export format {ext or '(no extension)'!r}; use .h5, .keras or .py")
    if ext == ".py":
        text = python_source(project, weights_file=None)
        atomic_write(out, text)
        return out
    if build is None:
        build = build_model(project, with_weights=with_weights)
    if getattr(build.model, "optimizer", None) is None:
        compile_model(build, project)
    save_model(build.model, out)
    return out


def save_model(model, out):
    """``model.save`` to ``out`` atomically (a failed save leaves no partial file, and an old file as it was)."""
    out = Path(out)
    with replacing(out, suffix=out.suffix) as tmp:
        model.save(str(tmp))
        if out.suffix.lower() in (".h5", ".hdf5"):
            _patch_h5_config(str(tmp))


def _patch_h5_config(path):
    """Work around a Keras bug in its legacy .h5 loader: a string config value that names a function of
    ``keras.layers`` is turned into that function, so ``Attention(score_mode="dot")`` (the default) fails to load
    ("Received: score_mode=<function dot>"). Leaving the default out of the stored config loads the same layer."""
    import json
    import h5py
    with h5py.File(path, "r+") as f:
        raw = f.attrs.get("model_config")
        if raw is None:
            return
        cfg = json.loads(raw.decode("utf-8") if hasattr(raw, "decode") else raw)
        changed = []

        for entry in config_dicts(cfg):
            c = entry.get("config")
            if entry.get("class_name") == "Attention" and isinstance(c, dict) and c.get("score_mode") == "dot":
                del c["score_mode"]
                changed.append(c.get("name"))
        if changed:
            f.attrs["model_config"] = json.dumps(cfg)


# -- .py export ------------------------------------------------------------------------------------------------
# Everything that comes from the project is written as data: strings and numbers through repr(), keyword names
# checked to be identifiers, class names looked up among the real keras.layers / optimizer classes. Text from a
# project file never becomes code in the script. Code the project holds (a Lambda layer...) is written only when
# this session trusts the project (core.trust), as Keras' own deserialization of it, and marked in the script.
RESERVED = ("keras", "layers", "build_model", "compile_model", "sys", "model", "path")  # the script's own names


def _var(name):
    import re
    v = re.sub(r"[^A-Za-z0-9_]", "_", str(name))
    if not v or v[0].isdigit():
        v = "t_" + v
    import keyword
    return v + "_" if keyword.iskeyword(v) else v


def _py(v):
    """A Python literal for a value from the project (lists become tuples, as Keras takes them)."""
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(_py(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    return _lit(v)


def _lit(v):
    """repr() of plain data; a float that is not finite as float('...'); anything else refused."""
    import math
    if v is None or isinstance(v, (bool, int, str)):
        return repr(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else f"float({str(v)!r})"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_lit(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_lit(k)}: {_lit(x)}" for k, x in v.items()) + "}"
    try:
        import numpy as np
        if isinstance(v, np.generic):
            return _lit(v.item())
    except ImportError:
        pass
    raise SettingsError(f"cannot write a value of type {type(v).__name__} into a Python script")


def _comment(text):
    """Text from the project inside a # comment: its ascii() form, so it can never end the line."""
    return ascii(str(text))


def _ident(n, key, what="parameter"):
    """A keyword name from the project, checked: an identifier that is not a Python keyword."""
    import keyword
    if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
        where = f"node {n.label()}" if hasattr(n, "label") else str(n)
        raise SettingsError(f"{where}: {what} name {key!r} is not a valid Python name; not exported")
    return key


def _keras_layer_class(n, cls):
    from .layers import layer_class
    try:
        layer_class(cls if isinstance(cls, str) else "")
    except ValueError as e:
        raise SettingsError(f"node {n.label()}: class_name {cls!r}: {e}; not exported") from None
    return cls


def _keras_own(n):
    from .layers import is_keras_own_layer
    return is_keras_own_layer(n.params.get("module"), n.params.get("class_name"))


def _code_ctor(n, obj):
    """Keras' deserialization of a node's code (written only when the session trusts the project)."""
    return f"keras.saving.deserialize_keras_object({_lit(obj)}, safe_mode=False)"


def _ctor(n, reg, trusted=False):
    """Python source that makes the node's Keras layer."""
    from .infer import Code, Problem
    from .layers import RNN_CLASSES, effective_l2
    from .trust import node_code, untrusted_message
    code = node_code(n)
    if code and not trusted:
        raise BuildError([Problem(n.id, n.name, untrusted_message(code), Code.UNTRUSTED)])
    l2 = effective_l2(n, reg)
    regs = f"keras.regularizers.L2({_lit(float(l2))})" if l2 > 0 else None
    name = _lit(str(n.name))
    if n.type == "Bidirectional":
        p = n.params
        rnn = p.get("layer", "LSTM")
        if rnn not in RNN_CLASSES:
            raise SettingsError(f"node {n.label()}: layer must be one of {', '.join(RNN_CLASSES)}, got {rnn!r}")
        extra = f", kernel_regularizer={regs}" if regs else ""
        ctor = (f"layers.Bidirectional(layers.{rnn}({int(p.get('units', 32))}, "
                f"return_sequences={bool(p.get('return_sequences'))!r}{extra}), "
                f"merge_mode={_lit(p.get('merge_mode', 'concat'))}, name={name})")
    elif n.type == "KerasLayer":
        cfg = dict(n.params.get("config", {}))
        cfg["name"] = n.name
        cls = n.params.get("class_name")
        if cls in MODEL_CLASSES:  # a nested model (group node)
            kind = "Sequential" if cls == "Sequential" else "Model"
            if code:
                ctor = _code_ctor(n, {"module": "keras" if kind == "Sequential" else FUNCTIONAL_MODULE,
                                      "class_name": "Sequential" if kind == "Sequential" else "Functional",
                                      "config": cfg, "registered_name": None})
            else:
                ctor = f"keras.{kind}.from_config({_lit(cfg)})"
        elif code and (cls in UNSAFE_CLASSES or n.params.get("module") or n.params.get("registered_name")):
            obj = {"class_name": str(cls), "config": cfg, "module": n.params.get("module") or "keras.layers",
                   "registered_name": n.params.get("registered_name")}
            ctor = _code_ctor(n, obj)
        elif _keras_own(n):   # a layer Keras ships outside keras.layers: Keras' own (safe-mode) deserialization
            obj = {"class_name": str(cls), "config": cfg, "module": n.params["module"],
                   "registered_name": n.params.get("registered_name")}
            ctor = f"keras.saving.deserialize_keras_object({_lit(obj)})"
        else:
            ctor = f"layers.{_keras_layer_class(n, cls)}.from_config({_lit(cfg)})"
    else:
        kw = layer_kwargs(n)
        args = ", ".join(f"{_ident(n, k2)}={_py(v2)}" for k2, v2 in kw.items())
        if regs:
            args += f", kernel_regularizer={regs}"
        ctor = f"layers.{n.spec.keras_class}({args}{', ' if args else ''}name={name})"
    return ctor


def _py_call(n, template, srcs):
    """Python source of a call template (port markers become the input variables)."""
    from .layers import PORT
    if not isinstance(template, dict):
        raise SettingsError(f"node {n.label()}: its call template must be an object with args and kwargs")

    def lit(v):
        if isinstance(v, dict):
            if set(v) == {PORT}:
                i = v[PORT]
                if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(srcs):
                    raise SettingsError(f"node {n.label()}: its call template names input {i!r}; it has "
                                        f"{len(srcs)} input(s)")
                return srcs[i]
            return "{" + ", ".join(f"{_lit(k)}: {lit(x)}" for k, x in v.items()) + "}"
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(lit(x) for x in v) + "]"
        return _lit(v)
    args, kwargs = template.get("args", []), template.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise SettingsError(f"node {n.label()}: its call template must hold a list of args and an object of kwargs")
    parts = [lit(a) for a in args]
    parts += [f"{_ident(n, k, 'call keyword')}={lit(x)}" for k, x in kwargs.items()]
    return ", ".join(parts)


def _optimizer_source(project):
    """keras.optimizers.<Class>(...) for the project's optimizer, names checked against core.catalog."""
    opt = project.compile.get("optimizer") if isinstance(project.compile, dict) else None
    if opt is None:
        opt = {}
    if not isinstance(opt, dict):
        raise SettingsError(f"optimizer must be an object with a name and its settings, got {opt!r}")
    opt = dict(opt)
    oname = opt.pop("name", "adam")
    key = oname.lower() if isinstance(oname, str) else oname
    if key not in catalog.OPTIMIZERS:
        raise SettingsError(f"unknown optimizer {oname!r}; expected one of {', '.join(catalog.OPTIMIZERS)}")
    cls_name, params = catalog.OPTIMIZERS[key]
    allowed = {p.name for p in params} | {"clipnorm", "clipvalue"}
    parts = []
    for k, v in opt.items():
        if k not in allowed:
            raise SettingsError(f"optimizer {key}: unknown setting {k!r}; expected {', '.join(sorted(allowed))}")
        if k in ("clipnorm", "clipvalue") and v is None:
            continue
        parts.append(f"{_ident('optimizer ' + key, k, 'setting')}={_lit(v)}")
    return f"keras.optimizers.{cls_name}({', '.join(parts)})"


def _loss_source(n):
    """``keras.losses.BinaryCrossentropy(from_logits=True)``: an Output node's loss with its arguments as data."""
    from .build import loss_kwargs
    name = n.params.get("loss")
    args = ", ".join(f"{k}={_lit(v)}" for k, v in loss_kwargs(name, n.params).items())
    return f"keras.losses.{LOSS_CLASSES.get(name, 'MeanSquaredError')}({args})"


def _compile_lines(project, out_nodes):
    losses = [_loss_source(n) for n in out_nodes]
    weights = [float(n.params.get("loss_weight", 1.0)) for n in out_nodes]
    lines = [f"    model.compile(optimizer={_optimizer_source(project)},",
             f"                  loss={losses[0] if len(losses) == 1 else '[' + ', '.join(losses) + ']'}"]
    if len(weights) > 1 and any(w != 1.0 for w in weights):
        lines[-1] += ","
        lines.append(f"                  loss_weights={_lit(weights)}")
    lines[-1] += ")"
    return lines


_HEADER = [
    '"""Generated by Layerwise from a project file (its name is in the comment below this docstring).',
    "",
    "Rebuilds the network with Keras' functional API. Run it to build and summarise the model;",
    "import it and call build_model() to use the model in your own code.",
    '"""',
]
_MAIN = [
    "", "", 'if __name__ == "__main__":', "    import sys",
    "    model = compile_model(build_model())",
    "    if len(sys.argv) > 1:  # optional: a weights file exported by Layerwise (.weights.h5 or a .h5/.keras model)",
    "        path = sys.argv[1]",
    "        if path.endswith('.weights.h5'):",
    "            model.load_weights(path)",
    "        else:",
    "            model.set_weights(keras.models.load_model(path, compile=False).get_weights())",
    "    model.summary()",
]


def _input_line(n, v):
    shape = n.params.get("shape")
    if not isinstance(shape, (list, tuple)) or not all(d is None or (isinstance(d, int) and not isinstance(d, bool))
                                                       for d in shape):
        raise SettingsError(f"node {n.label()}: shape must be a list of whole numbers, got {shape!r}")
    return (f"    {v} = keras.Input(shape={_py(list(shape))}, dtype={_lit(n.params.get('dtype', 'float32'))}, "
            f"name={_lit(str(n.name))})")


def _op_source(n, srcs):
    """``keras.ops.multiply(h, 0.5)``: an op node's call, its constants written as data."""
    from .ops import call_args, op_problem
    why = op_problem(n)
    if why:
        raise SettingsError(f"node {n.label()}: {why}; not exported")
    args, kwargs = call_args(n, len(srcs))
    return f"keras.ops.{_ident(n, n.params['op'], 'op')}({_py_call(n, {'args': args, 'kwargs': kwargs}, srcs)})"


def _call_source(n, srcs):
    """The arguments of the node's layer call, following its type's calling convention."""
    from .layers import RNN_CLASSES
    if n.settings.get(CALL):  # an imported layer called its own way: its call template
        return _py_call(n, n.settings[CALL], srcs)
    if n.type in RNN_CLASSES and len(srcs) > 1:
        return f"{srcs[0]}, initial_state=[{', '.join(srcs[1:])}]"
    if n.type == "MultiHeadAttention":
        return ", ".join(srcs[:1] * 2 if len(srcs) == 1 else srcs[:2]) + (f", key={srcs[2]}" if len(srcs) > 2 else "")
    if n.type in ("Attention", "AdditiveAttention"):
        return "[" + ", ".join(srcs * 2 if len(srcs) == 1 else srcs) + "]"
    if n.type in MERGES or (n.type == "KerasLayer" and len(srcs) > 1):
        return "[" + ", ".join(srcs) + "]"
    return srcs[0]


class _Script:
    """The body of build_model(), node by node: variable names that clash with nothing, shared layers made once."""

    def __init__(self, project):
        from .trust import is_trusted
        self.graph, self.reg = project.graph, project.regularization
        self.trusted = is_trusted(project)
        self.lines, self.var, self.made = [], {}, {}
        self.ins, self.outs, self.out_nodes = [], [], []
        self.taken = set(RESERVED)
        self.shared_owners = {n.settings[SHARES] for n in self.graph.nodes.values()
                              if n.settings.get(SHARES) in self.graph.nodes}
        self.feeds_output = {e.src for e in self.graph.edges if self.graph.nodes[e.dst].type == "Output"}

    def name_for(self, n):
        v = _var(n.name)
        while v in self.taken or f"{v}_layer" in self.taken:   # no clash with the script's own names or another node's
            v += "_"
        self.taken.update((v, f"{v}_layer"))
        return v

    def source(self, e):
        """The variable of an edge's source: ``enc[1]`` for output 2 of a node with several outputs."""
        v = self.var[e.src]
        return f"{v}[{int(e.src_port)}]" if output_count(self.graph.nodes[e.src]) > 1 else v

    def add(self, k):
        n = self.graph.nodes[k]
        v = self.var[k] = self.name_for(n)
        srcs = [self.source(e) for e in self.graph.in_edges(k)]
        if n.type == "Input":
            self.lines.append(_input_line(n, v))
            self.ins.append(v)
        elif n.type == "Output":
            self.var[k] = srcs[0]
            self.outs.append(srcs[0])
            self.out_nodes.append(n)
        elif n.type == "Op":
            self.lines.append(f"    {v} = {_op_source(n, srcs)}")
        else:
            self.layer(k, n, v, srcs)

    def layer(self, k, n, v, srcs):
        from .layers import effective_dropout
        from .trust import node_code
        ctor = _ctor(n, self.reg, self.trusted)
        if node_code(n):   # only reached when this session trusts the project (else _ctor refused)
            self.lines.append(f"    # {v}: runs Python code from the project ({_comment(node_code(n))}); exported with trust")
        owner = n.settings.get(SHARES) if n.settings.get(SHARES) in self.graph.nodes else None
        if owner is not None or k in self.shared_owners:   # one layer called several times
            ctor = self.shared_layer(owner or k, owner is not None)
        elif is_frozen(n):
            self.lines += [f"    {v}_layer = {ctor}", f"    {v}_layer.trainable = False"]
            ctor = f"{v}_layer"
        self.lines.append(f"    {v} = {ctor}({_call_source(n, srcs)})")
        rate = effective_dropout(n, self.reg, k in self.feeds_output)
        if rate > 0:
            self.lines.append(f"    {v} = layers.Dropout({_lit(float(rate))}, name={_lit(str(n.name) + '_dropout')})({v})"
                              f"  # global dropout")

    def shared_layer(self, key, is_copy):
        if key not in self.made:
            owner = self.graph.nodes[key]
            if is_copy:
                self.lines.append(f"    # {_comment(owner.name)} is called more than once (shared weights)")
            self.made[key] = f"{self.var.get(key) or _var(owner.name)}_layer"
            self.lines.append(f"    {self.made[key]} = {_ctor(owner, self.reg, self.trusted)}")
            if is_frozen(owner):
                self.lines.append(f"    {self.made[key]}.trainable = False")
        return self.made[key]

    def model_line(self, project):
        position = {k: j for j, k in enumerate(self.graph.nodes)}  # outputs in node order, like core.build
        pairs = sorted(zip(self.out_nodes, self.outs), key=lambda p: position[p[0].id])
        self.out_nodes, self.outs = [p[0] for p in pairs], [p[1] for p in pairs]
        i = self.ins[0] if len(self.ins) == 1 else "[" + ", ".join(self.ins) + "]"
        o = self.outs[0] if len(self.outs) == 1 else "[" + ", ".join(self.outs) + "]"
        return f"    return keras.Model({i}, {o}, name={_lit(_var(project.name or 'model'))})"


def python_source(project, weights_file=None) -> str:
    """A standalone script that rebuilds the project's architecture with Keras' functional API."""
    script = _Script(project)
    for k in project.graph.topological_order():
        script.add(k)
    model_line = script.model_line(project)
    lines = _HEADER + [f"# project: {_comment(project.name)}", "import keras", "from keras import layers", "", "",
                       "def build_model():"] + script.lines + [model_line]
    lines += ["", "", "def compile_model(model):"] + _compile_lines(project, script.out_nodes) + ["    return model"] + _MAIN
    text = "\n".join(lines) + "\n"
    import ast
    try:
        ast.parse(text)
    except SyntaxError as e:  # a last check: what was written must be exactly the code above, with data in it
        raise SettingsError(f"the exported script would not be valid Python (line {e.lineno}); not exported") from None
    return text
