"""Import of Keras model files, pretrained bases, and exports that reload exactly (group nodes: test_groups.py)."""
import importlib.util
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from core import catalog
from core.build import build_model, compile_model
from core.errors import ModelFileError
from core.export import export
from core.graph import Graph
from core.infer import Inference, check
from core.project import Project, load_project, save_project
from core.transfer import import_model
from tests.conftest import EXAMPLES, ROOT

keras = pytest.importorskip("keras")
L = keras.layers
TRANSFER_DIR = ROOT / "resources" / "transfer"


def configs(model):
    """Layer name -> config, without InputLayers (keras.Input vs an InputLayer of a Sequential differ by name)."""
    return json.loads(json.dumps({l.name: l.get_config() for l in model.layers
                                  if l.__class__.__name__ != "InputLayer"}, default=str))


def predict(model, x):
    out = model.predict(x, verbose=0)
    return out if isinstance(out, list) else [out]


def assert_round_trip(src, tmp_path, x, ext=None):
    """Import ``src``, export it without training, and compare with ``src`` reloaded by plain Keras."""
    ext = ext or src.suffix
    imported = import_model(src)
    out = tmp_path / f"{src.stem}_out{ext}"
    export(imported.project, out)
    want, got = keras.models.load_model(src), keras.models.load_model(out)
    for a, b in zip(predict(want, x), predict(got, x)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert want.count_params() == got.count_params()
    assert configs(want) == configs(got)
    return imported, got


# -- import: keras.applications and the project's own examples --------------------------------------------------
@pytest.mark.parametrize("name,ext", [("MobileNetV2", ".h5"), ("MobileNetV2", ".keras"), ("ResNet50", ".h5")])
def test_applications_round_trip_exactly(name, ext, tmp_path):
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None)
    src = tmp_path / f"{name}{ext}"
    model.save(src)
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 224, 224, 3)).astype("float32")
    imported, back = assert_round_trip(src, tmp_path, x)
    assert [l.__class__.__name__ for l in back.layers] == [l.__class__.__name__ for l in model.layers]
    s = imported.stats
    assert s["params"] == model.count_params() and s["groups"] == 0
    assert s["catalog"] >= 0.9 * s["layers"]            # Conv2D, BN, ReLU... come in as editable catalog nodes
    # every node's shape is known from the loaded model: inference after priming rebuilds nothing
    inf = imported.prime(Inference())
    res = inf.run(imported.project.graph)
    assert res.ok and res.recomputed == 0 and res.total == model.count_params()
    fresh = Inference().run(imported.project.graph)
    assert {k: (i.shape, i.trainable, i.non_trainable) for k, i in res.nodes.items()} == \
           {k: (i.shape, i.trainable, i.non_trainable) for k, i in fresh.nodes.items()}


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.layerwise")))
def test_example_projects_survive_export_import_export(example, tmp_path):
    p = load_project(EXAMPLES / example, load_weights=False)
    keras.utils.set_random_seed(0)
    b = build_model(p)
    compile_model(b, p)
    for ext in (".keras", ".h5"):
        src = export(p, tmp_path / f"{p.name}{ext}", build=b)
        x = [np.random.default_rng(1).uniform(0, 3, size=(3,) + tuple(i.shape[1:])).astype(i.dtype)
             for i in b.model.inputs]
        imported, _ = assert_round_trip(src, tmp_path, x if len(x) > 1 else x[0])
        # the loss of each output comes back from the file
        want = [p.graph.nodes[k].params["loss"] for k in b.outputs]
        got = [n.params["loss"] for n in imported.project.graph.output_nodes()]
        assert sorted(got) == sorted(want)


def _models():
    """Branches, merges, shared inputs, a shared layer, several inputs/outputs, Sequential, nested models."""
    a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
    shared = L.Dense(4, activation="relu", name="shared")
    ha, hb = shared(a), shared(b)                                   # one layer called twice
    m = L.Concatenate(name="cat")([ha, hb, a])                      # a merge and a shared input
    multi = keras.Model([a, b], [L.Dense(3, activation="softmax", name="cls")(m),
                                 L.Dense(1, name="reg")(L.Add(name="add")([ha, hb]))], name="multi")
    multi.compile(optimizer=keras.optimizers.RMSprop(0.002),
                  loss=["sparse_categorical_crossentropy", "mean_squared_error"])
    r = np.random.default_rng(0)
    yield multi, [r.random((2, 8), "float32"), r.random((2, 8), "float32")]
    seq = keras.Sequential([keras.Input((10,)), L.Dense(5, activation="tanh", kernel_regularizer="l2"),
                            L.Dropout(0.2), L.BatchNormalization(), L.Dense(2, activation="sigmoid")], name="seq")
    seq.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    yield seq, r.random((2, 10), "float32")
    inner = keras.Sequential([keras.Input((6, 6, 1)), L.Conv2D(4, 3, name="c1"), L.BatchNormalization(name="bn1"),
                              L.ReLU(name="r1"), L.GlobalAveragePooling2D(name="gap")], name="base")
    inner.trainable = False
    x = keras.Input((6, 6, 1))
    yield keras.Model(x, L.Dense(3, activation="softmax", name="head")(inner(x, training=False)), name="nested"), \
        r.random((2, 6, 6, 1), "float32")
    i = keras.Input((5,))
    enc = keras.Model(i, L.Dense(3, name="e1")(i), name="enc")
    p, q = keras.Input((5,), name="p"), keras.Input((5,), name="q")
    yield keras.Model([p, q], L.Dense(1, activation="sigmoid", name="sim")(L.Subtract(name="sub")([enc(p), enc(q)])),
                      name="siamese"), [r.random((2, 5), "float32"), r.random((2, 5), "float32")]


@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_branches_shared_layers_nested_and_sequential_models_round_trip(ext, tmp_path):
    for model, x in _models():
        src = tmp_path / f"{model.name}{ext}"
        model.save(src)
        imported, _ = assert_round_trip(src, tmp_path, x)
        g = imported.project.graph
        if model.name == "multi":
            assert [n.name for n in g.input_nodes()] == ["a", "b"]
            assert g.by_name("shared_call2").settings["shares"] == g.by_name("shared").id
            assert g.by_name("shared_call2").weights is None          # one set of weights, counted once
            assert check(g).total == model.count_params()
            outs = {n.name: n.params for n in g.output_nodes()}
            assert outs["cls_out"]["loss"] == "sparse_categorical_crossentropy"
            assert outs["reg_out"]["loss"] == "mean_squared_error"
            assert imported.project.compile["optimizer"] == {"name": "rmsprop", "learning_rate": 0.002}
        if model.name == "nested":
            base = g.by_name("base")
            assert base.type == "KerasLayer" and base.params["class_name"] == "Sequential"
            assert imported.stats["groups"] == 1      # frozen (the .h5 format keeps only the inner layers' flags)
            res = check(g)
            assert res.nodes[base.id].trainable == 0 and res.nodes[base.id].non_trainable == 4 * 9 + 4 + 4 * 4
        if model.name == "siamese":
            assert g.by_name("enc_call2").settings["shares"] == g.by_name("enc").id


def test_sequence_model_with_masks_and_call_arguments(tmp_path):
    t = keras.Input((7,), dtype="int32", name="tokens")
    e = L.Embedding(20, 8, mask_zero=True, name="emb")(t)
    att = L.MultiHeadAttention(2, 4, name="mha")(e, e, use_causal_mask=True)
    r = L.GRU(4, name="gru")(L.Bidirectional(L.LSTM(5, return_sequences=True), name="bi")(att))
    att2 = L.MultiHeadAttention(2, 4, name="mha2")(query=e, value=att, key=e)
    model = keras.Model(t, L.Concatenate(name="cat")([r, L.GlobalAveragePooling1D(name="gap")(att2)]), name="seq")
    src = tmp_path / "seq.keras"   # (Keras itself cannot reload masked models from .h5: 'Unknown layer: NotEqual')
    model.save(src)
    x = np.random.default_rng(0).integers(0, 20, size=(3, 7)).astype("int32")
    x[:, -2:] = 0   # padding, masked
    imported, _ = assert_round_trip(src, tmp_path, x)
    g = imported.project.graph
    assert g.by_name("mha").settings["call"]["kwargs"] == {"use_causal_mask": True}
    assert g.by_name("bi").type == "Bidirectional"     # the catalog's wrapper, with its wrapped layer's params
    assert g.by_name("bi").params["layer"] == "LSTM" and g.by_name("bi").params["units"] == 5
    assert "not_equal" not in {n.name for n in g.nodes.values()}   # masks are passed on by Keras, not nodes


# -- bad files and unsafe models ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    import h5py
    d = tmp_path_factory.mktemp("files")
    x = keras.Input((3,))
    m = keras.Model(x, L.Dense(2, name="d")(x))
    m.save(d / "ok.h5")
    m.save(d / "ok.keras")
    m.save_weights(d / "w.weights.h5")
    from keras.src.legacy.saving import legacy_h5_format
    with h5py.File(d / "legacy_weights.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, m)
    with h5py.File(d / "other.h5", "w") as f:
        f["x"] = np.arange(3)
    (d / "trunc.h5").write_bytes((d / "ok.h5").read_bytes()[:3000])
    (d / "trunc.keras").write_bytes((d / "ok.keras").read_bytes()[:2000])
    (d / "junk.keras").write_bytes(b"not a model")
    (d / "empty.h5").write_bytes(b"")
    y = L.Lambda(lambda t: t * 2, name="double")(x)
    lam = keras.Model(x, L.Dense(2)(y))
    lam.save(d / "lambda.keras")
    lam.save(d / "lambda.h5")
    return d


@pytest.mark.parametrize("name,fragment", [
    ("missing.h5", "missing.h5: no such file"),
    ("trunc.h5", "trunc.h5: not a readable HDF5 file (corrupt or truncated"),
    ("trunc.keras", "trunc.keras: not a readable .keras file (the zip archive is corrupt or truncated)"),
    ("junk.keras", "junk.keras: not a Keras model file"),
    ("empty.h5", "empty.h5: the file is empty"),
    ("other.h5", "other.h5: an HDF5 file, but not a Keras model"),
    ("w.weights.h5", "w.weights.h5: holds only weights, no model architecture"),
    ("legacy_weights.h5", "legacy_weights.h5: holds only weights, no model architecture"),
    ("lambda.keras", "layer 'double' is a Lambda layer, which runs Python code stored in the file; not imported. "
                     "If you trust the file, import it with --trust"),
    ("lambda.h5", "lambda.h5: layer 'double' is a Lambda layer"),
])
def test_bad_model_files_are_one_clear_message(small_files, name, fragment):
    with pytest.raises(ModelFileError) as e:
        import_model(small_files / name)
    assert fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_lambda_model_imports_and_builds_only_when_trusted(small_files, tmp_path):
    imported = import_model(small_files / "lambda.keras", trust=True)
    node = imported.project.graph.by_name("double")
    # the file only marks the node as holding code; the trust is this session's, in memory (core.trust)
    assert node.params["class_name"] == "Lambda" and node.settings["code"] is True
    assert imported.project.graph.trusted is True
    x = np.ones((2, 3), "float32")
    got = build_model(imported.project).model.predict(x, verbose=0)
    want = keras.models.load_model(small_files / "lambda.keras", safe_mode=False).predict(x, verbose=0)
    np.testing.assert_allclose(got, want, atol=1e-6)
    imported.project.graph.trusted = False   # the same project in a session that does not trust it
    assert not check(imported.project.graph).ok


def test_custom_class_is_refused_unless_trusted(tmp_path):
    @keras.saving.register_keras_serializable(package="lwtest")
    class Twice(L.Layer):
        def call(self, x):
            return 2 * x
    x = keras.Input((3,))
    keras.Model(x, Twice(name="twice")(x)).save(tmp_path / "custom.keras")
    with pytest.raises(ModelFileError, match="layer 'twice' has the custom class 'lwtest>Twice', which is not a "
                                             "built-in Keras layer; not imported"):
        import_model(tmp_path / "custom.keras")
    imported = import_model(tmp_path / "custom.keras", trust=True)
    assert imported.project.graph.by_name("twice").params["registered_name"] == "lwtest>Twice"


def test_cli_import_writes_project_and_weights_or_exits_2(small_files, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    lw = [sys.executable, "-c", "from cli.main import main; main()"]
    out = tmp_path / "ok.layerwise"
    r = subprocess.run(lw + ["import", str(small_files / "ok.h5"), "--out", str(out)], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-1500:]
    assert "imported ok.h5: 1 layers" in r.stdout and out.exists() and (tmp_path / "ok.layerwise.weights.h5").exists()
    p = load_project(out)
    assert p.graph.by_name("d").weights is not None
    bad = tmp_path / "bad.layerwise"
    r = subprocess.run(lw + ["import", str(small_files / "lambda.h5"), "--out", str(bad)], capture_output=True,
                       text=True, env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr and not bad.exists()
    assert r.stderr.strip().splitlines()[-1].startswith("error: lambda.h5: layer 'double' is a Lambda layer")


# -- layout ---------------------------------------------------------------------------------------------------------
def test_layout_is_layered_left_to_right():
    from core.layout import layered_positions
    g = Graph()
    i = g.add_node("Input", {"shape": [4]})
    a, b = g.add_node("Dense"), g.add_node("Dense")
    add = g.add_node("Add")
    g.connect(i.id, a.id), g.connect(i.id, b.id), g.connect(a.id, add.id), g.connect(b.id, add.id)
    pos = layered_positions(g)
    assert pos[i.id][0] < pos[a.id][0] == pos[b.id][0] < pos[add.id][0]
    assert pos[a.id][1] != pos[b.id][1] and len(set(pos.values())) == 4


# -- pretrained bases ---------------------------------------------------------------------------------------------------
def test_pretrained_base_from_keras_cache(tmp_path, monkeypatch):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format
    from core import bases, downloads
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    keras.utils.set_random_seed(3)
    ref = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35, input_shape=(96, 96, 3))
    name = bases.weights_file_name("MobileNetV2", input_shape=(96, 96, 3), alpha=0.35)
    assert name == "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    (tmp_path / "models").mkdir()
    with h5py.File(tmp_path / "models" / name, "w") as f:   # the format keras.applications downloads
        legacy_h5_format.save_weights_to_hdf5_group(f, ref)
    monkeypatch.setattr(downloads, "online", lambda *a, **k: pytest.fail("must not touch the network when cached"))
    g = Graph()
    ids = bases.add_pretrained_base(g, "MobileNetV2", "imagenet", alpha=0.35, input_shape=(96, 96, 3))
    node = g.nodes[ids["base"]]
    assert node.settings["trainable"] is False and node.settings["pretrained"] is True
    for a, b in zip(node.weights, ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    out = g.add_node("Output", {"loss": "mean_squared_error", "metrics": []})
    g.connect(ids["base"], out.id)
    x = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 3)).astype("float32")
    got = build_model(g).model.predict(x, verbose=0)
    want = ref.predict(keras.applications.mobilenet_v2.preprocess_input(x.copy()), verbose=0)
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_pretrained_base_offline_and_not_cached_is_a_clear_choice(tmp_path, monkeypatch):
    from core import bases, downloads
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(downloads, "cache_dirs", lambda: [tmp_path])
    monkeypatch.setattr(downloads, "online", lambda *a, **k: False)
    with pytest.raises(bases.WeightsUnavailable) as e:
        bases.load_base("ResNet50")
    msg = str(e.value)
    assert msg.startswith("ImageNet weights for ResNet50 are not in Keras' cache (")
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in msg and "cannot be downloaded: no network" in msg
    assert msg.endswith("Choose a local weights file (this is https://storage.googleapis.com/tensorflow/"
                        "keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5), "
                        "or use random weights")
    assert isinstance(e.value, ModelFileError) and e.value.path.parent == tmp_path / "models"
    random = bases.load_base("ResNet50", weights=None, input_shape=(64, 64, 3))
    assert random.count_params() == 23587712
    with pytest.raises(ModelFileError, match="nope.h5: no such weights file"):
        bases.load_base("ResNet50", weights=str(tmp_path / "nope.h5"))


def test_network_probe_never_hangs():
    from core import downloads
    t = time.perf_counter()
    downloads.online(timeout=1.0)
    assert time.perf_counter() - t < 3.0


def test_base_from_a_model_file_with_wrong_input_shape_names_both_shapes(small_files):
    from core.bases import add_base_from_file
    g = Graph()
    i = g.add_node("Input", {"shape": [5]})
    node = add_base_from_file(g, small_files / "ok.keras", source=i.id)["base"]
    out = g.add_node("Output", {"loss": "mean_squared_error", "metrics": []})
    g.connect(node, out.id)
    (problem,) = check(g).problems
    assert problem.node_id == node and "(None, 3)" in problem.message and "(None, 5)" in problem.message


# -- the bundled transfer demonstration -----------------------------------------------------------------------------------
def test_transfer_demo_beats_the_same_network_from_scratch_by_10_points():
    spec = importlib.util.spec_from_file_location("make_transfer_demo", TRANSFER_DIR / "make_transfer_demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert (TRANSFER_DIR / "digits04_base.keras").stat().st_size < 2_000_000
    r = demo.measure(seed=0, verbose=False)
    assert r["train"] == 100 and r["test"] == 700
    assert r["fine_tuned"] - r["scratch"] >= 0.10, r
    assert r["head_only"] > r["scratch"], r


# -- exports reload exactly: every layer type, loss and optimizer ------------------------------------------------------------
def _reloads(graph, tmp_path, tag, project=None, x=None, formats=(".h5", ".keras")):
    p = project or Project(graph=graph)
    keras.utils.set_random_seed(0)
    b = build_model(p)
    compile_model(b, p)
    if x is None:
        x = [np.random.default_rng(0).uniform(0, 3, (2,) + tuple(i.shape[1:])).astype(i.dtype) for i in b.model.inputs]
        x = [a.astype("int32") if a.dtype.kind == "i" else a for a in x]
    want = predict(b.model, x if len(x) > 1 else x[0])
    for ext in formats:
        out = export(p, tmp_path / f"{tag}{ext}", build=b)
        back = keras.models.load_model(out)          # plain Keras, default arguments
        for a, c in zip(want, predict(back, x if len(x) > 1 else x[0])):
            np.testing.assert_allclose(a, c, atol=1e-5, err_msg=f"{tag}{ext}")
        assert configs(back) == configs(b.model), f"{tag}{ext}"


@pytest.mark.parametrize("t", [t for t in catalog.CATALOG if t not in ("Input", "Output")])
def test_every_layer_type_exports_and_reloads_exactly(t, tmp_path):
    from tests.core.test_catalog import one_layer_graph
    g, _ = one_layer_graph(t)
    # Keras' legacy .h5 loader reads a keras.ops step as the layer of that name (or none): .keras only
    _reloads(g, tmp_path, t, formats=(".keras",) if t == "Op" else (".h5", ".keras"))


def test_every_loss_and_optimizer_exports_and_reloads(tmp_path):
    from core import catalog as c
    g = Graph()
    i = g.add_node("Input", {"shape": [4]})
    for k, loss in enumerate(c.LOSSES):
        act = "sigmoid" if loss == "binary_crossentropy" else "softmax" if "categorical" in loss or loss == "kl_divergence" else None
        d = g.add_node("Dense", {"units": 3, "activation": act}, name=f"d{k}")
        metrics = [m for m in c.METRICS if m not in ("top_5_accuracy",)]
        o = g.add_node("Output", {"loss": loss, "metrics": metrics}, name=f"out{k}")
        g.connect(i.id, d.id), g.connect(d.id, o.id)
    for name in c.OPTIMIZERS:
        for sched in ("none", "step", "cosine"):
            p = Project(graph=g)
            p.compile = {"optimizer": {"name": name}, "schedule": {"kind": sched}}
            _reloads(g, tmp_path, f"{name}_{sched}", project=p)


def test_py_export_rebuilds_and_loads_the_exported_weights(tmp_path):
    """The .py export of group nodes (frozen), shared layers and call templates rebuilds the same model; with the
    exported weights (the script's optional argument) it predicts the same."""
    projects = [("transfer", load_project(TRANSFER_DIR / "digits_transfer.layerwise"),
                 [np.random.default_rng(0).uniform(0, 16, (2, 16, 16, 1)).astype("float32")])]
    models = {m.name: (m, x) for m, x in _models()}
    t = keras.Input((7,), dtype="int32", name="tokens")
    e = L.Embedding(20, 8, name="emb")(t)
    att = L.MultiHeadAttention(2, 4, name="mha")(e, e, use_causal_mask=True)
    models["seq"] = (keras.Model(t, L.Bidirectional(L.GRU(3), name="bi")(att), name="seq"),
                     np.random.default_rng(0).integers(0, 20, size=(2, 7)).astype("int32"))
    for name in ("multi", "siamese", "seq"):
        m, x = models[name]
        m.save(tmp_path / f"{name}.keras")
        projects.append((name, import_model(tmp_path / f"{name}.keras").project, x if isinstance(x, list) else [x]))
    for name, p, x in projects:
        b = build_model(p)
        compile_model(b, p)
        weights = export(p, tmp_path / f"{name}_w.keras", build=b)
        script = export(p, tmp_path / f"{name}_model.py")
        np.savez(tmp_path / f"{name}_x.npz", *x)
        code = ("import runpy, sys, numpy as np, keras; ns = runpy.run_path(sys.argv[1]); m = ns['build_model']();"
                "m.set_weights(keras.models.load_model(sys.argv[2], compile=False).get_weights());"
                "d = np.load(sys.argv[4]); x = [d[k] for k in sorted(d.files)];"
                "y = m.predict(x if len(x) > 1 else x[0], verbose=0); y = y if isinstance(y, list) else [y];"
                "np.savez(sys.argv[3], *y)")
        r = subprocess.run([sys.executable, "-c", code, str(script), str(weights), str(tmp_path / f"{name}_y.npz"),
                            str(tmp_path / f"{name}_x.npz")], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, (name, r.stderr[-2000:])
        got = np.load(tmp_path / f"{name}_y.npz")
        want = predict(b.model, x if len(x) > 1 else x[0])
        for i, w in enumerate(want):
            np.testing.assert_allclose(got[f"arr_{i}"], w, atol=1e-5, err_msg=name)
    r = subprocess.run([sys.executable, str(tmp_path / "transfer_model.py"), str(tmp_path / "transfer_w.keras")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "Total params: 150,661" in r.stdout, r.stderr[-2000:]
