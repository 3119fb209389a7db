"""Generated sequence tasks: small problems that show what attention, recurrence or several inputs/outputs do."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from .splits import make_dataset
from .validate import int_setting


def _gen_match_last(spec, rng, n):
    """Which earlier position holds the token that the last position repeats?

    Each sample is ``seq_len`` tokens from a vocabulary of ``vocab``: the first seq_len-1 are all different, the last
    one repeats one of them. Input 'tokens' is (seq_len, vocab + seq_len) floats: a one-hot token followed by a
    one-hot position (attention layers see no order by themselves, so the position is part of the input). Label
    'position': the index (0..seq_len-2) of the earlier token equal to the last one.

    Measured (defaults: seq_len 10, vocab 32, 4,000 samples, 70% for training, batch 32, 2 CPU cores, about 1 s an
    epoch): Input → MultiHeadAttention(2 heads, key_dim 16, self-attention) → Flatten → Dense(9, softmax) reaches
    1.00 validation accuracy. Learning has a plateau at chance (0.11) and then jumps: with Adam 3e-3 the jump came
    at epoch 4-6 for three seeds, with Adam 1e-3 at epoch 12-14 — use 3e-3 and 15-20 epochs. A dense net
    (Flatten → Dense 128 relu → Dense 64 relu → Dense 9) reaches only about 0.22 in 20 epochs: comparing the last
    token with each earlier one is what attention does.
    """
    L = int_setting(spec, "seq_len", 10, 3, 200)
    V = int_setting(spec, "vocab", 32, L - 1, 10000, f" (at least seq_len - 1 = {L - 1}: earlier tokens differ)")
    tok = np.argsort(rng.random((n, V)), axis=1)[:, :L - 1]          # L-1 distinct tokens per row
    pos = rng.integers(0, L - 1, n)
    seq = np.concatenate([tok, tok[np.arange(n), pos][:, None]], axis=1)
    x = np.concatenate([np.eye(V, dtype=np.float32)[seq],
                        np.broadcast_to(np.eye(L, dtype=np.float32), (n, L, L))], axis=-1)
    desc = (f"match_last: {L} tokens (vocabulary {V}) given as one-hot token + one-hot position; the label is the "
            f"position of the earlier token that the last one repeats. Attention reaches about 1.00, a dense net "
            f"about 0.22")
    return ([x], [pos.astype(np.int32)], ["tokens"], ["position"], ["multiclass"],
            [[str(i) for i in range(L - 1)]], desc)


def _gen_recall(spec, rng, n):
    """Associative recall: rows of (key, value) token ids, then a last row (query key, 0); the label is the value
    stored with that key.

    Input 'pairs' is (seq_len, 2) int32 ids (keys 1..vocab all different, values 1..vocab, 0 = blank); label 'value'
    is the recalled value - 1 (vocab classes). Measured (seq_len 8, vocab 16, 4,000 samples, 20 epochs, about
    13 s): Embedding(17, 16) → Reshape(8, 32) → MultiHeadAttention(2, 16) → Flatten → Dense(16, softmax) reaches
    1.00 validation accuracy; Embedding → Flatten → Dense 128 → Dense 64 → Dense 16 about 0.21 (chance 0.06).
    """
    L = int_setting(spec, "seq_len", 8, 3, 200)
    V = int_setting(spec, "vocab", 16, L - 1, 10000, f" (at least seq_len - 1 = {L - 1}: keys differ)")
    keys = np.argsort(rng.random((n, V)), axis=1)[:, :L - 1] + 1
    vals = rng.integers(1, V + 1, (n, L - 1))
    pos = rng.integers(0, L - 1, n)
    rows = np.stack([keys, vals], axis=-1)
    last = np.stack([keys[np.arange(n), pos], np.zeros(n, dtype=keys.dtype)], axis=-1)[:, None]
    x = np.concatenate([rows, last], axis=1).astype(np.int32)
    y = (vals[np.arange(n), pos] - 1).astype(np.int32)
    desc = (f"recall: {L - 1} (key, value) token pairs then a query key; the label is the value stored with it "
            f"(vocabulary {V}). Attention reaches about 1.00, a dense net about 0.21")
    return [x], [y], ["pairs"], ["value"], ["multiclass"], [[str(i) for i in range(1, V + 1)]], desc


def _gen_marked_sum(spec, rng, n):
    """The adding problem as a yes/no question: is the sum of the two marked values greater than 1?

    Input 'signal' is (seq_len, 2) floats: channel 0 random values in [0, 1), channel 1 a marker (1 at two random
    steps, else 0). The network has to remember the first marked value until it meets the second one.
    Measured (4,000 samples, 70% training, Adam 3e-3, batch 32, 20 epochs, 2 CPU cores): at the default seq_len 30
    GRU(32) → Dense(2) reaches about 0.97 validation accuracy (about 45 s), a dense net (Flatten → Dense 128 →
    Dense 64 → Dense 2) about 0.68 (chance 0.5); at seq_len 20 LSTM(32) 0.97, GRU(32) 0.96, the dense net 0.78.
    """
    L = int_setting(spec, "seq_len", 30, 2, 1000)
    v = rng.random((n, L))
    marks = np.argsort(rng.random((n, L)), axis=1)[:, :2]
    m = np.zeros((n, L))
    m[np.arange(n)[:, None], marks] = 1.0
    x = np.stack([v, m], axis=-1).astype(np.float32)
    y = ((v * m).sum(axis=1) > 1.0).astype(np.int32)
    desc = (f"marked_sum: {L} steps of (value, marker); is the sum of the two marked values above 1? "
            f"A GRU/LSTM reaches about 0.97, a dense net about 0.68")
    return [x], [y], ["signal"], ["above_one"], ["binary"], [["no", "yes"]], desc


def _gen_parity(spec, rng, n):
    """Is the number of ones in a (seq_len, 1) sequence of 0/1 floats odd? Hard for every network: a dense net
    memorises short sequences (seq_len 12: about 0.94 with 4,000 samples, because there are only 4,096 patterns),
    and a plain GRU(32) needs far more than 30 epochs to find the rule (0.51 in 30). Use ``marked_sum`` to show
    memory in a recurrent network; parity is the classic hard case."""
    L = int_setting(spec, "seq_len", 12, 1, 1000)
    x = rng.integers(0, 2, (n, L, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) % 2).astype(np.int32)
    return [x], [y], ["bits"], ["odd"], ["binary"], [["even", "odd"]], \
        f"parity: is the number of ones among {L} bits odd? (hard for every network)"


def _gen_count_ones(spec, rng, n):
    """How many ones are in a (seq_len, 1) sequence of 0/1 floats? seq_len + 1 classes. An easy task (a sum):
    both a dense net and an LSTM learn it."""
    L = int_setting(spec, "seq_len", 10, 1, 1000)
    x = (rng.random((n, L, 1)) < 0.5).astype(np.float32)
    y = x.sum(axis=(1, 2)).astype(np.int32)
    return [x], [y], ["bits"], ["count"], ["multiclass"], [[str(i) for i in range(L + 1)]], \
        f"count_ones: how many ones among {L} bits ({L + 1} classes)"


def _gen_sum_sign(spec, rng, n):
    """Is the sum of a (seq_len, 1) sequence of N(0, 1) values positive? Linear, so every network learns it; a
    first sequence example."""
    L = int_setting(spec, "seq_len", 20, 1, 1000)
    x = rng.normal(size=(n, L, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.int32)
    return [x], [y], ["values"], ["positive"], ["binary"], [["negative", "positive"]], \
        f"sum_sign: is the sum of {L} random values positive?"


def _gen_two_inputs(spec, rng, n):
    """Two inputs, one 4-class output: 'sequence' (seq_len, 1) floats and 'features' (4,) floats.
    class = 2 * [sum of the sequence > 0] + [f0 + f1 - f2 - f3 > 0], so the network needs both inputs
    (each alone gives at most 0.5). Measured (4,000 samples, 20 epochs, about 16 s): Flatten on the sequence and
    Dense(16, relu) on the features, joined by Concatenate → Dense(32, relu) → Dense(4, softmax), reaches 0.97
    validation accuracy; the same net on one input alone about 0.5."""
    L = int_setting(spec, "seq_len", 10, 1, 1000)
    seq = rng.normal(size=(n, L, 1)).astype(np.float32)
    feats = rng.normal(size=(n, 4)).astype(np.float32)
    y = (2 * (seq.sum(axis=(1, 2)) > 0) + (feats[:, 0] + feats[:, 1] - feats[:, 2] - feats[:, 3] > 0)).astype(np.int32)
    names = ["seq-,feat-", "seq-,feat+", "seq+,feat-", "seq+,feat+"]
    return [seq, feats], [y], ["sequence", "features"], ["label"], ["multiclass"], [names], \
        f"two_inputs: a sequence ({L}, 1) and 4 features; the 4 classes need both"


def _gen_two_heads(spec, rng, n):
    """One input, two outputs: 'features' (8,) N(0, 1) floats; 'kind' (3 classes: which of x0+x1, x2+x3, x4+x5 is
    largest) and 'size' (regression: the mean of the squares of all 8 values; standard deviation about 0.5).
    Measured (4,000 samples, 30 epochs, about 21 s): Dense 64 relu → Dense 64 relu, then a Dense(3, softmax) head
    (sparse_categorical_crossentropy) and a Dense(1) head (mean_squared_error) reach 0.99 accuracy on 'kind' and a
    mean absolute error of about 0.09 on 'size'."""
    x = rng.normal(size=(n, 8)).astype(np.float32)
    kind = np.argmax(np.stack([x[:, 0] + x[:, 1], x[:, 2] + x[:, 3], x[:, 4] + x[:, 5]], axis=1), axis=1)
    size = (x ** 2).mean(axis=1).astype(np.float32)
    return [x], [kind.astype(np.int32), size], ["features"], ["kind", "size"], ["multiclass", "regression"], \
        [["a", "b", "c"], None], "two_heads: 8 features; a 3-class head 'kind' and a regression head 'size'"


_GENERATORS = {"match_last": _gen_match_last, "recall": _gen_recall, "marked_sum": _gen_marked_sum,
               "parity": _gen_parity, "count_ones": _gen_count_ones, "sum_sign": _gen_sum_sign,
               "two_inputs": _gen_two_inputs, "two_heads": _gen_two_heads}


def load(spec, base_dir):
    """A generated task by the data setting 'name', with 'samples' samples from the split seed."""
    name = spec.get("name")
    if name not in _GENERATORS:
        raise DataError(f"data setting 'name' is {name!r}; generated tasks are {', '.join(_GENERATORS)}")
    n = int_setting(spec, "samples", 4000, 10, 2_000_000)
    rng = np.random.default_rng(spec.get("seed", 0))
    xs, ys, in_names, out_names, tasks, class_names, desc = _GENERATORS[name](spec, rng, n)
    for y, t, c in zip(ys, tasks, class_names):
        if t != "regression" and len(np.unique(y)) < 2:
            raise DataError(f"generated task {name!r} with {n} samples gave a single class; use more 'samples'")
    return make_dataset(name, spec, xs, ys, in_names, out_names, tasks, class_names, desc)
