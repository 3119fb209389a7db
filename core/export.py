"""Export a project: ``.h5`` (Keras' HDF5 format via h5py), ``.keras``, or a readable ``.py`` script."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import catalog
from .build import LOSS_CLASSES, build_model, compile_model
from .errors import SettingsError
from .layers import MERGES, MODEL_CLASSES, UNSAFE_CLASSES, layer_kwargs

FORMATS = (".h5", ".keras", ".py")


def export(project, out, *, build=None, with_weights=True):
    """Write ``out``; the extension picks the format. Atomic: a failed export leaves no partial file."""
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in FORMATS:
        raise SettingsError(f"{out.name}: unknown export format {ext or '(no extension)'!r}; use .h5, .keras or .py")
    if ext == ".py":
        text = python_source(project, weights_file=None)
        from .project import atomic_write
        atomic_write(out, text)
        return out
    if build is None:
        build = build_model(project, with_weights=with_weights)
    if getattr(build.model, "optimizer", None) is None:
        compile_model(build, project)
    save_model(build.model, out)
    return out


def save_model(model, out):
    out = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=str(out.parent))
    os.close(fd)
    try:
        os.unlink(tmp)
        model.save(tmp)
        if out.suffix.lower() in (".h5", ".hdf5"):
            _patch_h5_config(tmp)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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

        def walk(entry):
            if isinstance(entry, dict):
                c = entry.get("config")
                if entry.get("class_name") == "Attention" and isinstance(c, dict) and c.get("score_mode") == "dot":
                    del c["score_mode"]
                    changed.append(c.get("name"))
                for v in entry.values():
                    walk(v)
            elif isinstance(entry, list):
                for v in entry:
                    walk(v)
        walk(cfg)
        if changed:
            f.attrs["model_config"] = json.dumps(cfg)


# -- .py export ------------------------------------------------------------------------------------------------
def _var(name):
    import re
    v = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not v or v[0].isdigit():
        v = "t_" + v
    import keyword
    return v + "_" if keyword.iskeyword(v) else v


def _py(v):
    if isinstance(v, list):
        return "(" + ", ".join(_py(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, float):
        return repr(v)
    return repr(v)


def _ctor(n, reg):
    """Python source that makes the node's Keras layer."""
    from .layers import effective_l2
    l2 = effective_l2(n, reg)
    regs = f"keras.regularizers.L2({l2!r})" if l2 > 0 else None
    if n.type == "Bidirectional":
        p = n.params
        extra = f", kernel_regularizer={regs}" if regs else ""
        ctor = (f"layers.Bidirectional(layers.{p.get('layer', 'LSTM')}({int(p.get('units', 32))}, "
                f"return_sequences={bool(p.get('return_sequences'))!r}{extra}), merge_mode={p.get('merge_mode', 'concat')!r}, name={n.name!r})")
    elif n.type == "KerasLayer":
        cfg = dict(n.params.get("config", {}))
        cfg["name"] = n.name
        cls = n.params["class_name"]
        if cls in MODEL_CLASSES:  # a nested model (group node)
            ctor = f"keras.{'Sequential' if cls == 'Sequential' else 'Model'}.from_config({cfg!r})"
        elif n.settings.get("trusted_code") is True and (cls in UNSAFE_CLASSES or n.params.get("module")):
            obj = {"class_name": cls, "config": cfg, "module": n.params.get("module") or "keras.layers",
                   "registered_name": n.params.get("registered_name")}
            ctor = f"keras.saving.deserialize_keras_object({obj!r}, safe_mode=False)"  # trusted at import
        else:
            ctor = f"layers.{cls}.from_config({cfg!r})"
    else:
        kw = layer_kwargs(n)
        args = ", ".join(f"{k2}={_py(list(v2) if isinstance(v2, tuple) else v2)}" for k2, v2 in kw.items())
        if regs:
            args += f", kernel_regularizer={regs}"
        ctor = f"layers.{n.spec.keras_class}({args}{', ' if args else ''}name={n.name!r})"
    return ctor


def _py_call(template, srcs):
    """Python source of a call template (port markers become the input variables)."""
    from .layers import PORT

    def lit(v):
        if isinstance(v, dict):
            if set(v) == {PORT}:
                return srcs[v[PORT]]
            return "{" + ", ".join(f"{k!r}: {lit(x)}" for k, x in v.items()) + "}"
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(lit(x) for x in v) + "]"
        return repr(v)
    parts = [lit(a) for a in template.get("args", [])]
    parts += [f"{k}={lit(x)}" for k, x in template.get("kwargs", {}).items()]
    return ", ".join(parts)


def python_source(project, weights_file=None) -> str:
    """A standalone script that rebuilds the project's architecture with Keras' functional API."""
    from .layers import effective_dropout, effective_l2
    graph = project.graph
    reg = project.regularization
    order = graph.topological_order()
    feeds_output = {e.src for e in graph.edges if graph.nodes[e.dst].type == "Output"}
    lines = [
        f'"""{project.name}: generated by Layerwise from the project file.',
        "",
        "Rebuilds the network with Keras' functional API. Run it to build and summarise the model;",
        "import it and call build_model() to use the model in your own code.",
        '"""',
        "import keras",
        "from keras import layers",
        "",
        "",
        "def build_model():",
    ]
    var = {}
    ins, outs, out_nodes = [], [], []
    made = {}
    shared_owners = {n.settings["shares"] for n in graph.nodes.values() if n.settings.get("shares") in graph.nodes}
    for k in order:
        n = graph.nodes[k]
        v = _var(n.name)
        var[k] = v
        srcs = [var[s] for s in graph.inputs_of(k)]
        if n.type == "Input":
            lines.append(f"    {v} = keras.Input(shape={_py(list(n.params['shape']))}, dtype={n.params.get('dtype', 'float32')!r}, name={n.name!r})")
            ins.append(v)
            continue
        if n.type == "Output":
            var[k] = srcs[0]
            outs.append(srcs[0])
            out_nodes.append(n)
            continue
        ctor = _ctor(n, reg)
        owner = n.settings.get("shares") if n.settings.get("shares") in graph.nodes else None
        if owner is not None or k in shared_owners:   # one layer called several times
            key = owner or k
            if key not in made:
                if owner is not None:
                    lines.append(f"    # {graph.nodes[owner].name} is called more than once (shared weights)")
                made[key] = f"{_var(graph.nodes[key].name)}_layer"
                lines.append(f"    {made[key]} = {_ctor(graph.nodes[key], reg)}")
                if graph.nodes[key].settings.get("trainable") is False:
                    lines.append(f"    {made[key]}.trainable = False")
            ctor = made[key]
        elif n.settings.get("trainable") is False:
            lines.append(f"    {v}_layer = {ctor}")
            lines.append(f"    {v}_layer.trainable = False")
            ctor = f"{v}_layer"
        if n.settings.get("call"):  # an imported layer called its own way: its call template
            call = _py_call(n.settings["call"], srcs)
        elif n.type == "MultiHeadAttention":
            call = f"{srcs[0]}, {srcs[0]}" if len(srcs) == 1 else (f"{srcs[0]}, {srcs[1]}" if len(srcs) == 2 else f"{srcs[0]}, {srcs[1]}, key={srcs[2]}")
        elif n.type in ("Attention", "AdditiveAttention"):
            call = "[" + ", ".join(srcs * 2 if len(srcs) == 1 else srcs) + "]"
        elif n.type in MERGES or (n.type == "KerasLayer" and len(srcs) > 1):
            call = "[" + ", ".join(srcs) + "]"
        else:
            call = srcs[0]
        lines.append(f"    {v} = {ctor}({call})")
        rate = effective_dropout(n, reg, k in feeds_output)
        if rate > 0:
            lines.append(f"    {v} = layers.Dropout({rate!r}, name={n.name + '_dropout'!r})({v})  # global dropout")
    position = {k: j for j, k in enumerate(graph.nodes)}  # outputs in node order, like core.build
    pairs = sorted(zip(out_nodes, outs), key=lambda p: position[p[0].id])
    out_nodes, outs = [p[0] for p in pairs], [p[1] for p in pairs]
    model_name = _var(project.name or "model")
    i = ins[0] if len(ins) == 1 else "[" + ", ".join(ins) + "]"
    o = outs[0] if len(outs) == 1 else "[" + ", ".join(outs) + "]"
    lines.append(f"    return keras.Model({i}, {o}, name={model_name!r})")
    # compile
    lines += ["", "", "def compile_model(model):"]
    opt = dict(project.compile.get("optimizer") or {})
    oname = str(opt.pop("name", "adam")).lower()
    cls_name = catalog.OPTIMIZERS.get(oname, ("Adam",))[0]
    oargs = ", ".join(f"{k}={v!r}" for k, v in opt.items())
    losses = [f"keras.losses.{LOSS_CLASSES.get(n.params.get('loss'), 'MeanSquaredError')}()" for n in out_nodes]
    lines.append(f"    model.compile(optimizer=keras.optimizers.{cls_name}({oargs}),")
    lines.append(f"                  loss={losses[0] if len(losses) == 1 else '[' + ', '.join(losses) + ']'})")
    lines.append("    return model")
    lines += ["", "", 'if __name__ == "__main__":', "    import sys",
              "    model = compile_model(build_model())"]
    lines.append("    if len(sys.argv) > 1:  # optional: a weights file exported by Layerwise (.weights.h5 or a .h5/.keras model)")
    lines.append("        path = sys.argv[1]")
    lines.append("        if path.endswith('.weights.h5'):")
    lines.append("            model.load_weights(path)")
    lines.append("        else:")
    lines.append("            model.set_weights(keras.models.load_model(path, compile=False).get_weights())")
    lines.append("    model.summary()")
    return "\n".join(lines) + "\n"
