"""A corpus of broken, hostile and absurd inputs, each with the answer Layerwise must give.

Every case is a set of files written into an empty folder, a ``layerwise`` command line run there, the exit codes
it may end with and words its message must contain (any one of several spellings, case-insensitive). The suite
runs every case through click's test runner in this process, a sample through real processes, and every
project file through the window. ``python -m tests.corpus.bad_inputs OUT`` writes the corpus out (one folder per
case and ``manifest.json``) to try by hand.

Exit codes: 2 bad input (one ``error:`` line naming the file, node or field); 1 a graph that can be read but has
problems (one line per problem, naming the node).
"""
from __future__ import annotations

import copy
import io
import json
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

P = "p.layerwise"          # the project file of most cases


@dataclass
class Case:
    id: str
    files: dict                     # relative path -> bytes (a path ending in "/" is a folder)
    args: list                      # the layerwise command line, relative to the case's folder
    codes: tuple = (2,)             # acceptable exit codes
    words: tuple = ()               # the message names one of these (case-insensitive)
    window: bool = False            # a project file the window must open calmly
    tags: set = field(default_factory=set)


# -- builders ------------------------------------------------------------------------------------------------
def node(i, t, name, params=None, x=0.0, **extra):
    d = {"id": i, "type": t, "name": name, "params": params or {}, "pos": [x, 100.0]}
    d.update(extra)
    return d


def valid(nodes=None):
    """A small, valid project on the iris table (4 features, 3 classes)."""
    nodes = nodes or [node("n1", "Input", "x", {"shape": [4], "dtype": "float32"}, 0),
                      node("n2", "Dense", "h", {"units": 8, "activation": "relu"}, 200),
                      node("n3", "Dense", "logits", {"units": 3, "activation": "softmax"}, 400),
                      node("n4", "Output", "out", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, 600)]
    edges = [{"src": a["id"], "dst": b["id"], "port": 0} for a, b in zip(nodes, nodes[1:])]
    return {"format": "layerwise", "schema_version": 1, "name": "t", "description": "",
            "graph": {"nodes": nodes, "edges": edges},
            "compile": {"optimizer": {"name": "adam", "learning_rate": 0.001}, "schedule": {"kind": "none"}},
            "regularization": {"l2": 0.0, "dropout": 0.0},
            "data": {"source": "builtin", "name": "iris", "validation_split": 0.2, "test_split": 0.2, "seed": 0},
            "training": {"epochs": 1, "batch_size": 16, "seed": 0, "device": "cpu"}}


def js(d):
    return json.dumps(d, allow_nan=True).encode()


def with_(path, value, base=None):
    """A valid project with one value replaced; ``path`` is a dotted path (list indices as numbers)."""
    d = copy.deepcopy(base or valid())
    keys = path.split(".")
    cur = d
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    last = keys[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    elif value is _DELETE:
        del cur[last]
    else:
        cur[last] = value
    return d


_DELETE = object()


def png_bytes(w=8, h=8, seed=0):
    """A real, tiny grayscale PNG (written by hand: no imaging library needed)."""
    rng = np.random.default_rng(seed)
    raw = b"".join(b"\x00" + bytes(rng.integers(0, 255, w, dtype=np.uint8)) for _ in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def image_project(folder="imgs"):
    nodes = [node("n1", "Input", "img", {"shape": [8, 8, 1], "dtype": "float32"}, 0),
             node("n2", "Flatten", "flat", {}, 200),
             node("n3", "Dense", "logits", {"units": 2, "activation": "softmax"}, 400),
             node("n4", "Output", "out", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, 600)]
    d = valid(nodes)
    d["data"] = {"source": "image_folder", "path": folder, "image_size": [8, 8], "color_mode": "grayscale",
                 "validation_split": 0.2, "test_split": 0.0, "seed": 0}
    return d


def npz_project(path="d.npz", x="x", y="y"):
    d = valid()
    d["data"] = {"source": "npz", "path": path, "x": x, "y": y, "validation_split": 0.2, "test_split": 0.2}
    return d


def csv_project(path="d.csv", label="label"):
    d = valid()
    d["data"] = {"source": "csv", "path": path, "label": label, "validation_split": 0.2, "test_split": 0.2}
    return d


def iris_like(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), (np.arange(n) % 3).astype("int64")


# -- the cases -------------------------------------------------------------------------------------------------
def project_cases():
    """Project files that cannot be read as they are: exit 2 from check, train and export alike."""
    out = []

    def add(cid, content, words, codes=(2,), commands=("check",)):
        for cmd in commands:
            args = {"check": ["check", P], "train": ["train", P, "--no-save"],
                    "export": ["export", P, "--out", "m.h5"]}[cmd]
            out.append(Case(f"{cid}-{cmd}" if len(commands) > 1 else cid, {P: content}, args, codes, words,
                            window=True, tags={"project"}))

    # not a project at all
    add("empty-file", b"", ("JSON", P))
    add("whitespace", b"  \n\t ", ("JSON",))
    add("binary", bytes(range(256)) * 4, ("text", "JSON"))
    add("utf16", json.dumps(valid()).encode("utf-16"), ("text", "JSON"))
    add("truncated-json", js(valid())[:200], ("JSON",))
    add("json-array", b"[1, 2, 3]", ("object", "list"))
    add("json-number", b"42", ("object", "int"))
    add("json-string", b'"hello"', ("object", "str"))
    add("json-null", b"null", ("object", "None"))
    add("json-true", b"true", ("object", "bool"))
    add("trailing-garbage", js(valid()) + b" }", ("JSON",))
    add("deep-nesting-list", b"[" * 100000 + b"]" * 100000, ("nested", "deep", "JSON"))
    add("deep-nesting-param", js(with_("graph.nodes.1.params.units", 0))
        .replace(b'"units": 0', b'"units": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000), ("nested", "deep", "units"))
    add("no-graph", js(with_("graph", _DELETE)), ("graph",))
    add("graph-list", js(with_("graph", [])), ("graph",))
    add("graph-string", js(with_("graph", "n1->n2")), ("graph",))
    add("nodes-missing", js(with_("graph.nodes", _DELETE)), ("nodes",))
    add("nodes-object", js(with_("graph.nodes", {"n1": {}})), ("nodes",))
    add("edges-object", js(with_("graph.edges", {"a": 1})), ("edges",))
    add("node-number", js(with_("graph.nodes.1", 5)), ("nodes[1]", "node"))
    add("node-null", js(with_("graph.nodes.1", None)), ("nodes[1]", "node"))
    add("node-no-id", js(with_("graph.nodes.1.id", _DELETE)), ("id",))
    add("node-id-number", js(with_("graph.nodes.1.id", 7)), ("id",))
    add("node-id-empty", js(with_("graph.nodes.1.id", "")), ("id",))
    d = valid(); d["graph"]["nodes"][2]["id"] = "n2"
    add("duplicate-id", js(d), ("n2", "twice"))
    d = valid(); d["graph"]["nodes"][2]["name"] = "h"
    add("duplicate-name", js(d), ("'h'", "two nodes"))
    for cid, name in (("name-space", "my layer"), ("name-empty", ""), ("name-digit", "1abc"),
                      ("name-slash", "../../etc/passwd"), ("name-quote", "h'); import os; os.system('x'); ('"),
                      ("name-newline", "h\nimport os"), ("name-number", 12), ("name-null", None),
                      ("name-long", "a" * 5000), ("name-huge", "b" * 20_000_000), ("name-nul", "h\x00x"),
                      ("name-rtl", "h\u202egnp.exe")):
        add(cid, js(with_("graph.nodes.1.name", name)), ("name", "n2"))
    add("type-unknown", js(with_("graph.nodes.1.type", "SuperDense")), ("SuperDense", "unknown"))
    add("type-number", js(with_("graph.nodes.1.type", 3)), ("type",))
    add("type-lambda", js(with_("graph.nodes.1.type", "Lambda")), ("Lambda", "unknown"))
    add("type-long", js(with_("graph.nodes.1.type", "X" * 100000)), ("type", "unknown"))
    add("params-list", js(with_("graph.nodes.1.params", [8])), ("params",))
    add("params-string", js(with_("graph.nodes.1.params", "units=8")), ("params",))
    for cid, v in (("units-string", "ten"), ("units-list", [8]), ("units-null-object", {"v": 8}),
                   ("units-float-nan", float("nan")), ("units-bool", True)):
        add(cid, js(with_("graph.nodes.1.params.units", v)), ("units",))
    add("activation-number", js(with_("graph.nodes.1.params.activation", 5)), ("activation",))
    add("activation-unknown", js(with_("graph.nodes.1.params.activation", "os.system")), ("activation",), codes=(1, 2))
    add("input-shape-string", js(with_("graph.nodes.0.params.shape", "4")), ("shape",), codes=(1, 2))
    add("input-shape-nested", js(with_("graph.nodes.0.params.shape", [[4]])), ("shape",), codes=(1, 2))
    add("input-dtype-code", js(with_("graph.nodes.0.params.dtype", "__import__('os')")), ("dtype",), codes=(1, 2))
    for cid, pos in (("pos-nan", [float("nan"), 0]), ("pos-inf", [float("inf"), float("-inf")]),
                     ("pos-string", "0,0"), ("pos-three", [0, 0, 0]), ("pos-huge", [1e300, 1e300]),
                     ("pos-bool", [True, False]), ("pos-null", None)):
        add(cid, js(with_("graph.nodes.1.pos", pos)), ("pos",))
    add("settings-list", js(with_("graph.nodes.1.settings", [1])), ("settings",))
    add("settings-l2-string", js(with_("graph.nodes.1.settings", {"l2": "lots"})), ("l2",))
    add("settings-l2-negative", js(with_("graph.nodes.1.settings", {"l2": -1})), ("l2",))
    add("settings-dropout-big", js(with_("graph.nodes.1.settings", {"dropout": 3})), ("dropout",))
    add("settings-trainable-string", js(with_("graph.nodes.1.settings", {"trainable": "no"})), ("trainable",))
    add("edge-unknown-src", js(with_("graph.edges.0.src", "n99")), ("n99",))
    add("edge-unknown-dst", js(with_("graph.edges.0.dst", "zz")), ("zz",))
    add("edge-port-negative", js(with_("graph.edges.0.port", -1)), ("port",))
    add("edge-port-string", js(with_("graph.edges.0.port", "0")), ("port",))
    add("edge-port-bool", js(with_("graph.edges.0.port", True)), ("port",))
    add("edge-port-huge", js(with_("graph.edges.0.port", 10 ** 30)), ("port",), codes=(1, 2))
    add("edge-not-object", js(with_("graph.edges.0", ["n1", "n2"])), ("edges[0]", "edge"))
    d = valid(); d["graph"]["edges"].append({"src": "n1", "dst": "n3", "port": 0})
    add("edge-two-into-port", js(d), ("two edges", "port"))
    d = valid(); d["graph"]["nodes"] = d["graph"]["nodes"] * 1 + [
        node(f"m{i}", "Dense", f"d{i}", {"units": 2}, 0) for i in range(20001)]
    add("too-many-nodes", js(d), ("nodes", "too many", "at most"))
    # top-level fields
    add("format-other", js(with_("format", "keras")), ("format",))
    add("format-number", js(with_("format", 1)), ("format",))
    add("schema-negative", js(with_("schema_version", -1)), ("schema_version",))
    add("schema-newer", js(with_("schema_version", 99)), ("schema_version", "newer"))
    add("schema-string", js(with_("schema_version", "1")), ("schema_version",))
    add("schema-bool", js(with_("schema_version", True)), ("schema_version",))
    add("schema-float", js(with_("schema_version", 1.5)), ("schema_version",))
    add("project-name-number", js(with_("name", 5)), ("name",))
    add("description-object", js(with_("description", {"a": 1})), ("description",))
    # settings
    for cid, path, v, word in (
            ("compile-list", "compile", [1], "compile"),
            ("optimizer-string", "compile.optimizer", "adam", "optimizer"),
            ("optimizer-number", "compile.optimizer", 3, "optimizer"),
            ("optimizer-unknown", "compile.optimizer.name", "superopt", "superopt"),
            ("optimizer-name-number", "compile.optimizer.name", 1, "optimizer"),
            ("lr-string", "compile.optimizer.learning_rate", "fast", "learning_rate"),
            ("lr-nan", "compile.optimizer.learning_rate", float("nan"), "learning_rate"),
            ("lr-inf", "compile.optimizer.learning_rate", float("inf"), "learning_rate"),
            ("lr-negative", "compile.optimizer.learning_rate", -0.1, "learning_rate"),
            ("lr-zero", "compile.optimizer.learning_rate", 0, "learning_rate"),
            ("lr-bool", "compile.optimizer.learning_rate", True, "learning_rate"),
            ("lr-huge", "compile.optimizer.learning_rate", 1e9, "learning_rate"),
            ("optimizer-key-code", "compile.optimizer.x=1)or(__import__('os')", 1, "optimizer"),
            ("schedule-unknown", "compile.schedule.kind", "chaos", "schedule"),
            ("schedule-string", "compile.schedule", "cosine", "schedule"),
            ("regularization-list", "regularization", [0], "regularization"),
            ("l2-negative", "regularization.l2", -0.1, "l2"),
            ("l2-nan", "regularization.l2", float("nan"), "l2"),
            ("l2-inf", "regularization.l2", float("inf"), "l2"),
            ("l2-string", "regularization.l2", "high", "l2"),
            ("dropout-1.5", "regularization.dropout", 1.5, "dropout"),
            ("dropout-1", "regularization.dropout", 1.0, "dropout"),
            ("dropout-negative", "regularization.dropout", -0.2, "dropout"),
            ("dropout-nan", "regularization.dropout", float("nan"), "dropout"),
            ("dropout-string", "regularization.dropout", "half", "dropout"),
            ("training-string", "training", "fast", "training"),
            ("epochs-zero", "training.epochs", 0, "epochs"),
            ("epochs-negative", "training.epochs", -3, "epochs"),
            ("epochs-huge", "training.epochs", 1e12, "epochs"),
            ("epochs-huge-int", "training.epochs", 10 ** 12, "epochs"),
            ("epochs-string", "training.epochs", "ten", "epochs"),
            ("epochs-float", "training.epochs", 2.5, "epochs"),
            ("epochs-bool", "training.epochs", True, "epochs"),
            ("epochs-nan", "training.epochs", float("nan"), "epochs"),
            ("batch-zero", "training.batch_size", 0, "batch"),
            ("batch-negative", "training.batch_size", -16, "batch"),
            ("batch-huge", "training.batch_size", 10 ** 12, "batch"),
            ("batch-string", "training.batch_size", "big", "batch"),
            ("seed-string", "training.seed", "lucky", "seed"),
            ("seed-float", "training.seed", 0.5, "seed"),
            ("device-unknown", "training.device", "tpu", "device"),
            ("device-number", "training.device", 0, "device"),
            ("early-stopping-string", "training.early_stopping", "yes", "early_stopping"),
            ("patience-negative", "training.early_stopping", {"enabled": True, "patience": -1}, "patience"),
            ("mixed-precision-string", "training.mixed_precision", "yes", "mixed_precision"),
            ("budget-negative", "training.budget", {"max_macs": -1}, "training.budget.max_macs"),
            ("budget-string", "training.budget", {"max_params": "many"}, "training.budget.max_params"),
            ("budget-nan", "training.budget", {"max_latency_ms": float("nan")}, "training.budget.max_latency_ms"),
            ("budget-list", "training.budget", [5], "training.budget"),
            ("data-list", "data", ["iris"], "data"),
            ("data-source-unknown", "data.source", "ftp", "source"),
            ("data-builtin-unknown", "data.name", "mnist_of_doom", "mnist_of_doom"),
            ("val-split-big", "data.validation_split", 1.5, "validation_split"),
            ("val-split-negative", "data.validation_split", -0.1, "validation_split"),
            ("splits-sum", "data.test_split", 0.9, "split"),
            ("val-split-string", "data.validation_split", "20%", "validation_split")):
        commands = ("check", "train") if cid in ("optimizer-string", "dropout-1.5", "lr-nan", "epochs-huge",
                                                  "l2-nan", "batch-zero") else ("check",)
        if cid.startswith(("data-", "val-split", "splits")):
            commands = ("train",)
        add(cid, js(with_(path, v)), (word,), commands=commands)
    return out


def graph_cases():
    """Projects that read fine but whose graph has problems: exit 1 from check, naming the node."""
    out = []

    def add(cid, d, words, codes=(1,)):
        out.append(Case(cid, {P: js(d)}, ["check", P], codes, words, window=True, tags={"graph"}))
    add("units-zero", with_("graph.nodes.1.params.units", 0), ("units", "'h'"))
    add("units-negative", with_("graph.nodes.1.params.units", -3), ("units", "'h'"))
    add("units-huge", with_("graph.nodes.1.params.units", 10 ** 12), ("units", "memory", "parameters", "'h'"), (1, 2))
    d = valid(); d["graph"]["nodes"].pop(); d["graph"]["edges"].pop()
    add("no-output", d, ("Output",))
    d = valid(); d["graph"]["edges"] = d["graph"]["edges"][1:]
    add("input-unconnected", d, ("input", "connect"))
    d = valid(); d["graph"]["edges"].append({"src": "n3", "dst": "n2", "port": 1})
    add("cycle", d, ("cycle", "port", "input"), (1, 2))
    add("shape-zero", with_("graph.nodes.0.params.shape", [0]), ("shape", "'x'"), (1, 2))
    add("shape-negative", with_("graph.nodes.0.params.shape", [-4]), ("shape", "'x'"), (1, 2))
    add("shape-empty", with_("graph.nodes.0.params.shape", []), ("shape", "'x'"), (1, 2))
    add("shape-enormous", with_("graph.nodes.0.params.shape", [10 ** 9, 10 ** 9, 3]),
        ("memory", "too large", "elements", "parameters", "shape"), (1, 2))
    add("conv-on-vector", with_("graph.nodes.1", node("n2", "Conv2D", "h", {"filters": 4, "kernel_size": [3, 3]}, 200)),
        ("'h'", "axes"))
    d = valid(); d["graph"]["nodes"].insert(2, node("n5", "Add", "add", {}, 300))
    d["graph"]["edges"] = [{"src": "n1", "dst": "n2"}, {"src": "n2", "dst": "n5", "port": 0},
                           {"src": "n1", "dst": "n5", "port": 1}, {"src": "n5", "dst": "n3"}, {"src": "n3", "dst": "n4"}]
    add("add-mismatch", d, ("'add'", "same shape"))
    add("dropout-rate-node", with_("graph.nodes.1", node("n2", "Dropout", "h", {"rate": 1.5}, 200)), ("rate", "'h'"), (1, 2))
    add("kernel-too-big", with_("graph.nodes.1", node("n2", "Reshape", "h", {"target_shape": [3, 3]}, 200)),
        ("'h'", "reshape", "target_shape", "size"), (1, 2))
    return out


def data_cases():
    """Data files that cannot be trained on: `train` exits 2 before training, naming the file and the array."""
    out = []

    def add(cid, files, words, project=None, codes=(2,)):
        files = dict(files)
        files[P] = js(project or npz_project())
        out.append(Case(cid, files, ["train", P, "--no-save"], codes, words, tags={"data"}))
    x, y = iris_like()
    xn = x.copy(); xn[41, 2] = np.nan
    add("npz-nan", {"d.npz": npz(x=xn, y=y)}, ("nan",))
    xi = x.copy(); xi[3, 0] = np.inf
    add("npz-inf", {"d.npz": npz(x=xi, y=y)}, ("inf", "finite"))
    yn = y.astype("float32"); yn[7] = np.nan
    add("npz-nan-labels", {"d.npz": npz(x=x, y=yn)}, ("nan", "'y'", "label"))
    add("npz-object-array", {"d.npz": npz(x=np.array([{"a": 1}] * 60, dtype=object), y=y)}, ("object", "pickle", "'x'"))
    add("npz-not-zip", {"d.npz": b"this is not a zip file"}, ("d.npz",))
    add("npz-empty-file", {"d.npz": b""}, ("d.npz",))
    add("npz-missing-key", {"d.npz": npz(features=x, y=y)}, ("'x'", "features"))
    add("npz-length-mismatch", {"d.npz": npz(x=x, y=y[:50])}, ("60", "50", "length", "samples"))
    add("npz-empty-arrays", {"d.npz": npz(x=x[:0], y=y[:0])}, ("empty", "no samples", "0 sample"))
    add("npz-scalar", {"d.npz": npz(x=np.float32(1.0), y=y)}, ("'x'", "shape", "scalar"))
    add("npz-strings", {"d.npz": npz(x=np.array(["a"] * 60), y=y)}, ("'x'", "number", "string", "dtype"))
    add("npz-wrong-shape", {"d.npz": npz(x=np.zeros((60, 7), "float32"), y=y)}, ("(7,)", "(4,)", "shape"))
    add("npz-missing-file", {}, ("d.npz", "no such"))
    add("npz-folder", {"d.npz/": b""}, ("d.npz", "folder"))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("x.npy", b"\x93NUMPY garbage")
        z.writestr("y.npy", b"more garbage")
    add("npz-garbage-members", {"d.npz": zbuf.getvalue()}, ("d.npz",))
    header = "a,b,c,d,label\n"
    rows = "".join(f"{r[0]},{r[1]},{r[2]},{r[3]},{int(c)}\n" for r, c in zip(x, y))
    add("csv-empty", {"d.csv": b""}, ("d.csv",), csv_project())
    add("csv-header-only", {"d.csv": header.encode()}, ("d.csv", "no rows", "rows"), csv_project())
    add("csv-ragged", {"d.csv": (header + rows + "1,2\n").encode()}, ("d.csv", "line", "row"), csv_project())
    add("csv-nan", {"d.csv": (header + rows.replace(f"{x[5][1]}", "nan", 1)).encode()}, ("nan", "finite", "number"),
        csv_project())
    add("csv-no-label", {"d.csv": (header + rows).encode()}, ("target", "species", "label"), csv_project(label="species"))
    add("csv-binary", {"d.csv": bytes(range(256)) * 10}, ("d.csv",), csv_project())
    add("csv-text-values", {"d.csv": (header + "a,b,c,d,1\n" * 60).encode()}, ("d.csv", "number", "text", "column"),
        csv_project())
    imgs = {f"imgs/{c}/{i}.png": png_bytes(seed=i + 10 * k) for k, c in enumerate("ab") for i in range(6)}
    bad = dict(imgs); bad["imgs/a/broken.png"] = b"not a png at all"
    add("image-corrupt", bad, ("broken.png",), image_project())
    bad = dict(imgs); bad["imgs/b/cut.png"] = png_bytes(seed=99)[:40]
    add("image-truncated", bad, ("cut.png",), image_project())
    add("image-empty-folder", {"imgs/": b""}, ("imgs", "no images"), image_project())
    add("image-one-class", {f"imgs/a/{i}.png": png_bytes(seed=i) for i in range(4)}, ("one class", "imgs"),
        image_project())
    add("image-folder-missing", {}, ("imgs", "no such"), image_project())
    add("image-path-is-file", {"imgs": b"file"}, ("imgs", "folder"), image_project())
    return out


def weights_cases():
    """A broken weights sidecar: export and train name it and exit non-zero; nothing is exported."""
    out = []
    wp = P + ".weights.h5"
    h5sig = b"\x89HDF\r\n\x1a\n"
    sidecars = {"garbage": b"garbage, not HDF5", "hdf5-noise": h5sig + bytes(range(256)) * 12,
                "empty": b"", "folder": None}
    for cid, content in sidecars.items():
        files = {P: js(valid())}
        files[wp + ("/" if content is None else "")] = content or b""
        out.append(Case(f"weights-{cid}-export", files, ["export", P, "--out", "m.h5"], (1, 2), ("weights",),
                        tags={"weights"}))
        out.append(Case(f"weights-{cid}-train", dict(files), ["train", P, "--no-save", "--keep-weights"], (1, 2),
                        ("weights",), tags={"weights"}))
    return out


def weights_shape_case(root_files):
    """A real sidecar whose arrays have the wrong shapes (made with h5py; added by ``cases``)."""
    import h5py
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["format"] = "layerwise-weights"
        f.attrs["schema_version"] = 1
        g = f.create_group("h")
        g.attrs["type"] = "Dense"
        g.create_dataset("0000", data=np.zeros((5, 5), "float32"))
        g.create_dataset("0001", data=np.zeros((5,), "float32"))
    files = {P: js(valid()), P + ".weights.h5": buf.getvalue()}
    return [Case("weights-wrong-shape-export", files, ["export", P, "--out", "m.h5"], (1, 2), ("weights", "'h'", "shape"),
                 tags={"weights"})]


def model_cases():
    """Model files to import that are not (safe) Keras models: exit 2 naming the file."""
    out = []

    def add(cid, files, src, words, codes=(2,)):
        out.append(Case(cid, files, ["import", src, "--out", "imported.layerwise"], codes, words, tags={"model"}))
    add("model-missing", {}, "m.keras", ("m.keras", "no such"))
    add("model-empty-keras", {"m.keras": b""}, "m.keras", ("m.keras",))
    add("model-garbage-keras", {"m.keras": b"PK\x03\x04 broken zip"}, "m.keras", ("m.keras",))
    add("model-garbage-h5", {"m.h5": b"not hdf5"}, "m.h5", ("m.h5",))
    add("model-hdf5-noise", {"m.h5": b"\x89HDF\r\n\x1a\n" + bytes(1000)}, "m.h5", ("m.h5",))
    add("model-txt", {"m.txt": b"hello"}, "m.txt", ("m.txt", "format", ".keras"))
    add("model-folder", {"m.keras/": b""}, "m.keras", ("m.keras",))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("metadata.json", "{}")
    add("model-zip-no-config", {"m.keras": zbuf.getvalue()}, "m.keras", ("m.keras", "config"))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("config.json", "{not json")
        z.writestr("metadata.json", "{}")
    add("model-zip-bad-config", {"m.keras": zbuf.getvalue()}, "m.keras", ("m.keras", "config", "JSON"))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("config.json", json.dumps({"class_name": "Functional", "config": {"layers": [
            {"class_name": "Lambda", "config": {"name": "evil", "function": {"class_name": "__lambda__", "config": {
                "code": "4wEAAAAAAAAAAAAAAAEAAAADAAAA", "defaults": None, "closure": None}}}}]}}))
        z.writestr("metadata.json", "{}")
        z.writestr("model.weights.h5", b"")
    add("model-lambda-untrusted", {"m.keras": zbuf.getvalue()}, "m.keras", ("Lambda", "trust"))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("config.json", json.dumps({"class_name": "Functional", "module": "os", "config": {}}))
        z.writestr("metadata.json", "{}")
        z.writestr("model.weights.h5", b"")
    add("model-module-os", {"m.keras": zbuf.getvalue()}, "m.keras", ("m.keras", "trust", "custom", "not"))
    add("import-out-missing-folder", {"m.keras": b""}, "m.keras", ("nowhere", "folder"))
    out[-1].args = ["import", "m.keras", "--out", "nowhere/x.layerwise"]
    return out


def command_cases():
    """Command lines: unknown options and values, missing files, folders for files."""
    ok = {P: js(valid())}
    out = []

    def add(cid, args, words, codes=(2,), files=None):
        out.append(Case(cid, dict(ok if files is None else files), args, codes, words, tags={"cli"}))
    add("check-missing-file", ["check", "nothing.layerwise"], ("nothing.layerwise",), files={})
    add("check-folder", ["check", "folder"], ("folder",), files={"folder/": b""})
    add("train-folder", ["train", "folder"], ("folder",), files={"folder/": b""})
    add("export-folder", ["export", "folder", "--out", "m.h5"], ("folder",), files={"folder/": b""})
    add("check-no-arg", ["check"], ("PROJECT", "missing"))
    add("export-no-out", ["export", P], ("--out", "missing"))
    add("export-unknown-ext", ["export", P, "--out", "m.exe"], (".exe", "format"))
    add("export-no-ext", ["export", P, "--out", "model"], ("extension", "format"))
    add("export-out-missing-folder", ["export", P, "--out", "no/such/dir/m.h5"], ("no/such/dir", "m.h5", "folder"))
    add("export-out-is-folder", ["export", P, "--out", "outdir.h5"], ("outdir.h5", "folder"),
        files={P: js(valid()), "outdir.h5/": b""})
    add("train-epochs-zero", ["train", P, "--epochs", "0", "--no-save"], ("--epochs",))
    add("train-epochs-negative", ["train", P, "--epochs", "-5", "--no-save"], ("--epochs",))
    add("train-epochs-text", ["train", P, "--epochs", "many", "--no-save"], ("--epochs", "many"))
    add("train-epochs-huge", ["train", P, "--epochs", "1000000000000", "--no-save"], ("--epochs",))
    add("train-batch-zero", ["train", P, "--batch-size", "0", "--no-save"], ("--batch-size",))
    add("train-batch-text", ["train", P, "--batch-size", "x", "--no-save"], ("--batch-size",))
    add("train-device-tpu", ["train", P, "--device", "tpu", "--no-save"], ("--device", "tpu"))
    add("train-device-gpu9", ["train", P, "--device", "gpu:9", "--no-save"], ("gpu", "GPU"))
    add("train-seed-text", ["train", P, "--seed", "abc", "--no-save"], ("--seed",))
    add("train-out-unknown-ext", ["train", P, "--out", "m.zip", "--no-save"], (".zip", "format"))
    add("train-unknown-option", ["train", P, "--turbo"], ("--turbo",))
    add("import-no-out", ["import", "m.keras"], ("--out", "missing"), files={})
    add("unknown-command", ["frobnicate"], ("frobnicate", "command"))
    return out


def cases():
    all_cases = (project_cases() + graph_cases() + data_cases() + weights_cases() + weights_shape_case(None)
                 + model_cases() + command_cases())
    ids = [c.id for c in all_cases]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, f"duplicate case ids: {sorted(dup)}"
    return all_cases


def write_case(case: Case, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    for rel, content in case.files.items():
        target = folder / rel.rstrip("/")
        if rel.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def snapshot(folder: Path) -> dict:
    """Every file and folder under ``folder`` with its size and a hash of its content."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = "dir" if p.is_dir() else (p.stat().st_size, zlib.crc32(p.read_bytes()))
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m tests.corpus.bad_inputs OUT_FOLDER", file=sys.stderr)
        return 2
    root = Path(argv[0])
    manifest = []
    for c in cases():
        write_case(c, root / c.id)
        manifest.append({"id": c.id, "args": c.args, "codes": list(c.codes), "words": list(c.words),
                         "tags": sorted(c.tags)})
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"wrote {len(manifest)} cases to {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
