"""Make the offline transfer-learning demonstration of ``resources/transfer`` with Layerwise's own code.

    python resources/transfer/make_transfer_demo.py            # base, data, projects, then measure (a few minutes)
    python resources/transfer/make_transfer_demo.py measure    # only measure again with the shipped files
    python resources/transfer/make_transfer_demo.py measure 5  # ... over 5 training seeds

The task ("shifted digits"): scikit-learn's 8×8 handwritten digits, each placed at a random position on a
16×16 canvas with sensor noise (pixel values 0-16, rounded to integers). On the plain 8×8 digits even a linear
model reaches ~95 % with 20 samples per class (measured, see README.md), so no base can help there; with the
position unknown, 20 examples per class are too few to learn the task from scratch, which is where a base
trained on other classes pays off.

1. Base: a small CNN trained by ``core.training.run`` on digits 0-4 (8 placements of each of the 901 images),
   saved as ``digits04_base.keras`` (no optimizer state).
2. Few-shot data: digits 5-9, 160 per class, one placement each, in ``digits_5to9_shifted.npz``. The projects'
   data settings (test_split 0.875, stratified, seed 0) leave exactly 20 labelled training samples per class
   (100) and a test set of 700.
3. ``digits_transfer.layerwise``: Input -> the base as one group node (imported from the .keras file, cut at its
   ``features`` layer, frozen) -> a new Dense head -> Output. Phase 1 trains the head; phase 2 ("fine-tune")
   unfreezes the top layers of the base with a 10× lower learning rate and continues.
4. ``digits_scratch.layerwise``: the same network (the group expanded into its layers) from random weights,
   trained on the same 100 samples for as many epochs as both phases together.
"""
from __future__ import annotations

import copy
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

BASE_FILE = HERE / "digits04_base.keras"
DATA_FILE = HERE / "digits_5to9_shifted.npz"
TRANSFER = HERE / "digits_transfer.layerwise"
SCRATCH = HERE / "digits_scratch.layerwise"
SIZE, NOISE = 16, 1.5
PER_CLASS, TRAIN_PER_CLASS = 160, 20
HEAD_EPOCHS, FINE_EPOCHS, FINE_TOP, BATCH, LR = 60, 20, 5, 16, 0.003
DATA_SPEC = {"source": "npz", "path": DATA_FILE.name, "x": "x", "y": "y", "class_names": ["5", "6", "7", "8", "9"],
             "validation_split": 0.0, "test_split": 1 - TRAIN_PER_CLASS / PER_CLASS, "seed": 0}


def shifted(images, rng, size=SIZE, noise=NOISE):
    """Each 8×8 image at a random position of a size×size canvas, plus Gaussian noise; integers 0-16 (uint8)."""
    out = np.zeros((len(images), size, size), np.float32)
    for k, im in enumerate(images):
        r, c = rng.integers(0, size - 8 + 1, 2)
        out[k, r:r + 8, c:c + 8] = im
    out += rng.normal(0.0, noise, out.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 16).astype(np.uint8)[..., None]


def digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    return d.images.astype(np.float32), d.target.astype(np.int64)


# -- 1. the base -----------------------------------------------------------------------------------------------------
def base_project():
    from core.graph import Graph
    from core.project import Project
    g = Graph()
    specs = [("Input", {"shape": [SIZE, SIZE, 1]}, "pixels"), ("Rescaling", {"scale": 1 / 16}, "rescaling"),
             ("Conv2D", {"filters": 32, "padding": "same", "activation": "relu"}, "conv1"),
             ("MaxPooling2D", {}, "pool1"),
             ("Conv2D", {"filters": 64, "padding": "same", "activation": "relu"}, "conv2"),
             ("MaxPooling2D", {}, "pool2"), ("Flatten", {}, "flatten"),
             ("Dense", {"units": 128, "activation": "relu"}, "features"), ("Dropout", {"rate": 0.4}, "dropout"),
             ("Dense", {"units": 5, "activation": "softmax"}, "digit04"),
             ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "output")]
    prev = None
    for i, (t, p, name) in enumerate(specs):
        n = g.add_node(t, p, name=name, pos=(60.0 + 220.0 * i, 200.0))
        if prev is not None:
            g.connect(prev, n.id)
        prev = n.id
    p = Project(graph=g, name="digits04_base",
                description="Base network: digits 0-4 at random positions on a 16×16 canvas with noise.")
    p.training.update({"epochs": 8, "batch_size": 64, "seed": 0})
    return p


def make_base():
    from core.datasets import load_dataset
    from core.export import save_model
    from core.training import TrainConfig, run
    images, target = digits()
    lo = target < 5
    rng = np.random.default_rng(0)
    x = shifted(np.repeat(images[lo], 8, axis=0), rng)
    y = np.repeat(target[lo], 8)
    with tempfile.TemporaryDirectory() as tmp:
        np.savez_compressed(Path(tmp) / "digits04.npz", x=x, y=y)
        data = load_dataset({"source": "npz", "path": "digits04.npz", "validation_split": 0.1, "test_split": 0.1,
                             "seed": 0}, Path(tmp))
    project = base_project()
    result = run(project, data, TrainConfig.from_project(project))
    if result.error:
        raise SystemExit(f"base training failed: {result.error}")
    model = result.build.model
    from core.build import build_model
    plain = build_model(project).model   # rebuilt from the trained weights the nodes now carry: no optimizer state
    save_model(plain, BASE_FILE)
    print(f"base: test accuracy {result.test_metrics['accuracy']:.3f} on digits 0-4 "
          f"({result.dataset.train.n} training samples), {model.count_params():,} params -> {BASE_FILE.name} "
          f"({BASE_FILE.stat().st_size / 1e6:.2f} MB)")
    return result


# -- 2. the few-shot data ----------------------------------------------------------------------------------------------
def make_data():
    images, target = digits()
    rng = np.random.default_rng(1)
    idx = np.concatenate([rng.choice(np.flatnonzero(target == c), PER_CLASS, replace=False) for c in range(5, 10)])
    x = shifted(images[idx], rng)
    y = (target[idx] - 5).astype(np.int64)
    np.savez_compressed(DATA_FILE, x=x, y=y)
    print(f"data: {len(y)} samples of digits 5-9 -> {DATA_FILE.name} ({DATA_FILE.stat().st_size / 1e3:.0f} kB)")


# -- 3./4. the projects ----------------------------------------------------------------------------------------------------
def transfer_project():
    """Input -> base group node (cut at 'features', frozen) -> Dense head -> Output."""
    from core.bases import add_base_from_file
    from core.graph import Graph
    from core.groups import cut_group, freeze
    from core.project import Project
    g = Graph()
    inp = g.add_node("Input", {"shape": [SIZE, SIZE, 1]}, name="pixels", pos=(60.0, 200.0))
    base = add_base_from_file(g, BASE_FILE, source=inp.id, pos=(280.0, 200.0))["base"]
    cut_group(g, base, "features")
    freeze(g, base)
    head = g.add_node("Dense", {"units": 5, "activation": "softmax"}, name="digit", pos=(500.0, 200.0))
    g.connect(base, head.id)
    out = g.add_node("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, name="output",
                     pos=(720.0, 200.0))
    g.connect(head.id, out.id)
    p = Project(graph=g, name="digits_transfer",
                description="Transfer: the digits 0-4 base (frozen, cut at its features) with a new head for digits "
                            "5-9, trained on 20 labelled samples per class. Phase 2: fine-tune the top of the base.")
    p.data = copy.deepcopy(DATA_SPEC)
    p.compile["optimizer"] = {"name": "adam", "learning_rate": LR}
    p.training.update({"epochs": HEAD_EPOCHS, "batch_size": BATCH, "seed": 0})
    p.extra["transfer"] = {"base": base, "fine_tune": {"top": FINE_TOP, "lr_factor": 0.1, "epochs": FINE_EPOCHS}}
    return p


def scratch_project(transfer):
    """The same network as ``transfer`` (its base expanded into layers) from random weights, all trainable."""
    from core.groups import expand_group
    from core.project import project_from_dict
    p = project_from_dict(transfer.to_dict())
    for k, n in transfer.graph.nodes.items():
        p.graph.nodes[k].weights = n.weights
    expand_group(p.graph, transfer.extra["transfer"]["base"])
    for n in p.graph.nodes.values():
        n.weights = None
        for key in ("pretrained", "trainable", "group", "group_meta"):
            n.settings.pop(key, None)
    p.name = "digits_scratch"
    p.description = ("Baseline: the transfer network's architecture from random weights, trained on the same 100 "
                     "samples of digits 5-9 for as many epochs as both transfer phases together.")
    p.training["epochs"] = HEAD_EPOCHS + FINE_EPOCHS
    p.extra = {}
    return p


def make_projects():
    from core.project import save_project
    t = transfer_project()
    save_project(t, TRANSFER)
    s = scratch_project(t)
    save_project(s, SCRATCH)
    print(f"projects: {TRANSFER.name}, {SCRATCH.name}")


# -- measuring -------------------------------------------------------------------------------------------------------------
def measure(seed=0, verbose=True):
    """Test accuracies (head only, fine-tuned, from scratch) on the 700 test samples, for one training seed."""
    from core.groups import fine_tune
    from core.project import load_project
    from core.training import TrainConfig, run
    t = load_project(TRANSFER)
    base = t.extra["transfer"]["base"]
    ft = t.extra["transfer"]["fine_tune"]
    r1 = run(t, config=TrainConfig.from_project(t, seed=seed))
    assert r1.error is None, r1.error
    assert r1.dataset.train.n == 5 * TRAIN_PER_CLASS, r1.dataset.train.n
    head = r1.test_metrics["accuracy"]
    fine_tune(t, base, ft["top"], lr_factor=ft["lr_factor"])
    r2 = run(t, config=TrainConfig.from_project(t, seed=seed, epochs=ft["epochs"], keep_weights=True))
    assert r2.error is None, r2.error
    tuned = r2.test_metrics["accuracy"]
    s = load_project(SCRATCH)
    r3 = run(s, config=TrainConfig.from_project(s, seed=seed))
    assert r3.error is None, r3.error
    scratch = r3.test_metrics["accuracy"]
    out = {"head_only": head, "fine_tuned": tuned, "scratch": scratch, "train": r1.dataset.train.n,
           "test": r1.dataset.test.n}
    if verbose:
        print(f"seed {seed}: transfer head only {head:.3f}, fine-tuned {tuned:.3f}; same network from scratch "
              f"{scratch:.3f} ({out['train']} training samples, {out['test']} test samples)")
    return out


def linear_on_plain_digits():
    """Context: a linear model on the plain 8×8 digits 5-9 with 20 samples per class (why the canvas is shifted)."""
    from sklearn.linear_model import LogisticRegression
    images, target = digits()
    rng = np.random.default_rng(1)
    hi = np.flatnonzero(target >= 5)
    tr = np.concatenate([rng.choice(np.flatnonzero(target == c), TRAIN_PER_CLASS, replace=False) for c in range(5, 10)])
    te = np.setdiff1d(hi, tr)
    clf = LogisticRegression(max_iter=2000).fit(images[tr].reshape(len(tr), -1), target[tr])
    acc = clf.score(images[te].reshape(len(te), -1), target[te])
    print(f"plain 8×8 digits 5-9, 20 per class, logistic regression on pixels: {acc:.3f}")
    return acc


def main(argv):
    from core.tfload import import_keras
    import_keras()
    if not argv or argv[0] != "measure":
        make_base()
        make_data()
        make_projects()
        linear_on_plain_digits()
    seeds = int(argv[1]) if len(argv) > 1 else 1
    runs = [measure(s) for s in range(seeds)]
    if seeds > 1:
        for key in ("head_only", "fine_tuned", "scratch"):
            vals = [r[key] for r in runs]
            print(f"{key}: mean {statistics.mean(vals):.3f} (min {min(vals):.3f}, max {max(vals):.3f}) over {seeds} seeds")
        gaps = [r["fine_tuned"] - r["scratch"] for r in runs]
        print(f"gap fine-tuned - scratch: mean {100 * statistics.mean(gaps):.1f} points "
              f"(min {100 * min(gaps):.1f}, max {100 * max(gaps):.1f})")


if __name__ == "__main__":
    main(sys.argv[1:])
