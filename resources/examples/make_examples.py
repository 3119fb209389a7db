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

    def wrap(self, per_row, row_gap=1.4):
        """Lay a long chain out in rows of ``per_row`` nodes (in node order), so it fits a window at a readable zoom."""
        for i, n in enumerate(self.g.nodes.values()):
            n.pos = (X0 + DX * (i % per_row), Y0 + DY * row_gap * (i // per_row))

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
    b.wrap(4)
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


def sequence_lstm():
    b = Builder()
    x = b.add("Input", {"shape": [20, 2]}, "signal")
    last, col = b.chain(x, [("LSTM", {"units": 32}, "lstm"),
                            ("Dense", {"units": 2, "activation": "softmax"}, "answer"),
                            ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
                             "above_one")], col=1)
    return project("sequence_lstm", "An LSTM on the adding problem as a yes/no question: 20 steps of (value, "
                   "marker); is the sum of the two marked values above 1? The network has to remember the first "
                   "marked value until it meets the second; a dense net on the same data does much worse.", b.g,
                   {"source": "generated", "name": "marked_sum", "samples": 4000, "seq_len": 20,
                    "validation_split": 0.15, "test_split": 0.15, "seed": 0},
                   epochs=20, batch_size=32, lr=0.003)


def attention():
    b = Builder()
    x = b.add("Input", {"shape": [10, 42]}, "tokens")
    att = b.add("MultiHeadAttention", {"num_heads": 2, "key_dim": 16}, "self_attention", after=x, col=1)
    last, col = b.chain(att, [("Flatten", {}, "flatten"),
                              ("Dense", {"units": 9, "activation": "softmax"}, "which_position"),
                              ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
                               "position")], col=2)
    return project("attention", "Self-attention on the match_last task: 10 tokens (one-hot token + one-hot position); "
                   "the label is the position of the earlier token that the last one repeats. Attention compares "
                   "the last token with every earlier one; the attention scores show where it looks.", b.g,
                   {"source": "generated", "name": "match_last", "samples": 4000, "seq_len": 10, "vocab": 32,
                    "validation_split": 0.15, "test_split": 0.15, "seed": 0},
                   epochs=20, batch_size=32, lr=0.001)


def two_heads():
    b = Builder()
    x = b.add("Input", {"shape": [8]}, "features")
    trunk, col = b.chain(x, [("Dense", {"units": 64, "activation": "relu"}, "trunk_1"),
                             ("Dense", {"units": 64, "activation": "relu"}, "trunk_2")], col=1)
    k = b.add("Dense", {"units": 3, "activation": "softmax"}, "kind_head", after=trunk, col=col, row=-0.6)
    b.add("Output", {"loss": "sparse_categorical_crossentropy", "loss_weight": 1.0, "metrics": ["accuracy"]},
          "kind", after=k, col=col + 1, row=-0.6)
    s = b.add("Dense", {"units": 1, "activation": None}, "size_head", after=trunk, col=col, row=0.6)
    b.add("Output", {"loss": "mean_squared_error", "loss_weight": 1.0, "metrics": ["mae"]},
          "size", after=s, col=col + 1, row=0.6)
    return project("two_heads", "One input, two outputs with two losses: from 8 values, a 3-class head 'kind' (which "
                   "of x0+x1, x2+x3, x4+x5 is largest; cross-entropy) and a regression head 'size' (mean of the "
                   "squares; mean squared error) share one MLP trunk.", b.g,
                   {"source": "generated", "name": "two_heads", "samples": 4000,
                    "validation_split": 0.15, "test_split": 0.15, "seed": 0},
                   epochs=30, batch_size=32, lr=0.002)


def two_inputs():
    b = Builder()
    seq = b.add("Input", {"shape": [10, 1]}, "sequence", row=-0.6)
    feats = b.add("Input", {"shape": [4]}, "features", row=0.6)
    s1 = b.add("Flatten", {}, "flatten_sequence", after=seq, col=1, row=-0.6)
    s2 = b.add("Dense", {"units": 16, "activation": "relu"}, "sequence_branch", after=s1, col=2, row=-0.6)
    f1 = b.add("Dense", {"units": 16, "activation": "relu"}, "features_branch", after=feats, col=2, row=0.6)
    j = b.add("Concatenate", {"axis": -1}, "join", after=[s2, f1], col=3)
    last, col = b.chain(j, [("Dense", {"units": 32, "activation": "relu"}, "combine"),
                            ("Dense", {"units": 4, "activation": "softmax"}, "which_class"),
                            ("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
                             "label")], col=4)
    return project("two_inputs", "Two input branches joined by Concatenate: a sequence of 10 values and 4 features. "
                   "The 4 classes combine the sign of the sequence's sum with the sign of x0+x1-x2-x3, so the "
                   "network needs both inputs (either alone gives at most 0.5).", b.g,
                   {"source": "generated", "name": "two_inputs", "samples": 4000, "seq_len": 10,
                    "validation_split": 0.15, "test_split": 0.15, "seed": 0},
                   epochs=20, batch_size=32, lr=0.003)


DEEP = 10   # hidden layers of the two deep examples


def deep_mlp(name, activation, initializer, batch_norm):
    b = Builder()
    x = b.add("Input", {"shape": [64]}, "pixels")
    prev = b.add("Rescaling", {"scale": 1 / 16, "offset": 0.0}, "rescaling", after=x)
    for i in range(1, DEEP + 1):
        prev = b.add("Dense", {"units": 64, "activation": activation, "kernel_initializer": initializer},
                     f"hidden_{i}", after=prev)
        if batch_norm:
            prev = b.add("BatchNormalization", {}, f"norm_{i}", after=prev)
    d = b.add("Dense", {"units": 10, "activation": "softmax"}, "digit", after=prev)
    b.add("Output", {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}, "digit_out", after=d)
    b.wrap(6)
    return b.g


def deep_sigmoid():
    g = deep_mlp("deep_sigmoid", "sigmoid", "random_normal", batch_norm=False)
    return project("deep_sigmoid", f"A deep MLP ({DEEP} hidden sigmoid layers of 64, plain random-normal initialiser, "
                   "no normalisation) on the 8×8 digits as 64 values. Its gradients vanish: the first layers get "
                   "less than a millionth of the output layer's gradient, and it barely learns in the epochs it is given. "
                   "Compare deep_relu_bn.", g,
                   {"source": "builtin", "name": "digits", "form": "flat", "validation_split": 0.15,
                    "test_split": 0.15, "seed": 0},
                   epochs=DEEP_EPOCHS, batch_size=32, lr=DEEP_LR, optimizer="sgd")


def deep_relu_bn():
    g = deep_mlp("deep_relu_bn", "relu", "he_normal", batch_norm=True)
    return project("deep_relu_bn", f"The same depth as deep_sigmoid ({DEEP} hidden layers of 64) with ReLU, He "
                   "initialisation and batch normalisation after each layer: the gradients keep their size from the "
                   "output to the input and it learns.", g,
                   {"source": "builtin", "name": "digits", "form": "flat", "validation_split": 0.15,
                    "test_split": 0.15, "seed": 0},
                   epochs=DEEP_EPOCHS, batch_size=32, lr=DEEP_LR, optimizer="sgd")


DEEP_EPOCHS, DEEP_LR = 20, 0.05

EXAMPLES = {"digits_cnn": digits_cnn, "tabular_mlp": tabular_mlp, "sequence_lstm": sequence_lstm,
            "attention": attention, "two_heads": two_heads, "two_inputs": two_inputs,
            "deep_sigmoid": deep_sigmoid, "deep_relu_bn": deep_relu_bn}


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
