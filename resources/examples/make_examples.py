"""Write the example projects of ``resources/examples`` through the core's own graph and project code.

    python resources/examples/make_examples.py            # all examples
    python resources/examples/make_examples.py digits_cnn # one

Each example is built with ``core.graph.Graph`` edits and saved with ``core.project.save_project`` (no weights), so
the files are exactly what the editor would write. Accuracies reached are measured by ``layerwise train`` and
listed in README.md beside this script.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from core.graph import Graph  # noqa: E402
from core.project import DEFAULT_TRAINING, Project, save_project  # noqa: E402

DX, DY, X0, Y0 = 220.0, 140.0, 60.0, 200.0


class Builder:
    """Adds nodes on a grid (column, row) and connects them to the nodes they follow."""

    def __init__(self):
        self.g = Graph()

    def add(self, type_name, params=None, name=None, after=(), col=0, row=0.0, settings=None):
        n = self.g.add_node(type_name, params or {}, name=name, pos=(X0 + DX * col, Y0 + DY * row),
                            settings=settings)
        for port, src in enumerate([after] if isinstance(after, str) else after):
            self.g.connect(src, n.id, port)
        return n.id

    def chain(self, start, specs, col, row=0.0):
        """specs: (type, params, name) one after the other from ``start``; returns (last id, next column)."""
        prev = start
        for spec in specs:
            t, params, name = (list(spec) + [None, None])[:3]
            prev = self.add(t, params, name, after=prev, col=col, row=row)
            col += 1
        return prev, col


def project(name, description, graph, data, *, epochs, batch_size, lr=0.001, optimizer="adam", l2=0.0,
            dropout=0.0, schedule=None, early_stopping=None, seed=0):
    training = {**DEFAULT_TRAINING, "epochs": epochs, "batch_size": batch_size, "seed": seed}
    training["early_stopping"] = {**DEFAULT_TRAINING["early_stopping"], **(early_stopping or {})}
    return Project(graph=graph, name=name, description=description,
                   compile={"optimizer": {"name": optimizer, "learning_rate": lr},
                            "schedule": schedule or {"kind": "none"}},
                   regularization={"l2": l2, "dropout": dropout}, data=data, training=training)


def conv(filters):
    return {"filters": filters, "kernel_size": [3, 3], "padding": "same", "activation": "relu"}


# -- the examples --------------------------------------------------------------------------------------------------
def digits_cnn():
    b = Builder()
    x = b.add("Input", {"shape": [8, 8, 1]}, "pixels")
    last, col = b.chain(x, [("Rescaling", {"scale": 1 / 16, "offset": 0.0}, "rescaling"),
                            ("Conv2D", conv(32), "conv2d"), ("Conv2D", conv(32), "conv2d_1"),
                            ("MaxPooling2D", {"pool_size": [2, 2]}, "max_pooling2d"),
                            ("Conv2D", conv(64), "conv2d_2"), ("Flatten", {}, "flatten"),
                            ("Dense", {"units": 64, "activation": "relu"}, "dense"),
                            ("Dropout", {"rate": 0.2}, "dropout"),
                            ("Dense", {"units": 10, "activation": "softmax"}, "digit"),
                            ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
                             "digit_out")], col=1)
    return project("digits_cnn", "A small CNN on scikit-learn's 8×8 handwritten digits. The model takes raw pixel "
                   "values 0-16 (a Rescaling layer inside it divides by 16).", b.g,
                   {"source": "builtin", "name": "digits", "validation_split": 0.15, "test_split": 0.15, "seed": 0},
                   epochs=25, batch_size=64, lr=0.003)


def tabular_mlp():
    b = Builder()
    x = b.add("Input", {"shape": [30]}, "features")
    last, col = b.chain(x, [("Normalization", {"axis": -1}, "standardize"),
                            ("Dense", {"units": 32, "activation": "relu"}, "hidden_1"),
                            ("Dense", {"units": 16, "activation": "relu"}, "hidden_2"),
                            ("Dense", {"units": 1, "activation": "sigmoid"}, "malignant_or_benign"),
                            ("Output", {"loss": "binary_crossentropy", "metrics": ["accuracy", "auc"]},
                             "diagnosis")], col=1)
    return project("tabular_mlp", "An MLP on the Wisconsin breast-cancer table (30 raw features). A Normalization "
                   "layer adapted on the training split standardises the features inside the model; global dropout "
                   "0.3 after each hidden Dense block and L2 1e-3 on every kernel regularise it.", b.g,
                   {"source": "builtin", "name": "breast_cancer", "validation_split": 0.15, "test_split": 0.2,
                    "seed": 0},
                   epochs=40, batch_size=32, lr=0.001, l2=0.001, dropout=0.3)


EXAMPLES = {"digits_cnn": digits_cnn, "tabular_mlp": tabular_mlp}


def main(argv):
    names = argv or list(EXAMPLES)
    for name in names:
        if name not in EXAMPLES:
            print(f"unknown example {name!r}; known: {', '.join(EXAMPLES)}", file=sys.stderr)
            return 2
        path = save_project(EXAMPLES[name](), HERE / f"{name}.layerwise", write_weights=False)
        print(f"wrote {path.relative_to(HERE.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
