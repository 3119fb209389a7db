"""Fitting a dataset to a graph: which Input/Output node takes which dataset input/target, whether the shapes and
losses fit (:func:`check_fit`), and the arrays ``model.fit`` gets (:func:`arrays_for_model`)."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from .records import Dataset, Split, shape_str


CLASS_LOSSES = {"sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy"}


def _graph_of(graph):
    return getattr(graph, "graph", graph)   # accept a Project


def model_io(graph):
    """Input and Output nodes in the order build_model gives the model's inputs/outputs (topological)."""
    order = graph.topological_order(strict=False)
    ins = [graph.nodes[k] for k in order if graph.nodes[k].type == "Input"]
    outs = [graph.nodes[k] for k in order if graph.nodes[k].type == "Output"]
    return ins, outs


def pair_names(names, nodes):
    """Dataset index for each node: by name when every node name is a dataset name, else by position."""
    node_names = [n.name for n in nodes]
    if len(set(node_names)) == len(node_names) and all(nm in names for nm in node_names):
        return [names.index(nm) for nm in node_names]
    return list(range(len(nodes)))


def _shape_fits(data_shape, node_shape):
    if len(data_shape) != len(node_shape):
        return False
    return all(b is None or a is None or int(a) == int(b) for a, b in zip(data_shape, node_shape))


def _output_shape(graph, out_node, info):
    """Per-sample shape (no batch axis) of what feeds the Output node, or None when unknown."""
    if info is None:
        return None
    ni = info.nodes.get(out_node.id)
    shape = getattr(ni, "shape", None) if ni is not None else None
    if shape is None or isinstance(shape, list):
        return None
    return tuple(shape[1:])


def check_fit(dataset: Dataset, graph, info=None) -> list:
    """Messages (empty when fine) where the dataset does not fit the graph's Input and Output nodes.

    ``info`` is an optional shape-inference Result for the graph (computed when not given)."""
    graph = _graph_of(graph)
    ins, outs = model_io(graph)
    msgs = []
    if len(ins) != len(dataset.input_names):
        msgs.append(f"dataset gives {len(dataset.input_names)} input(s) ({', '.join(dataset.input_names)}), the graph "
                    f"has {len(ins)} Input node(s) ({', '.join(repr(n.name) for n in ins) or 'none'})")
    else:
        for n, i in zip(ins, pair_names(dataset.input_names, ins)):
            want = tuple(n.params.get("shape") or ())
            have = tuple(dataset.input_shapes[i])
            if not _shape_fits(have, want):
                extra = f" (dataset input '{dataset.input_names[i]}')" if len(ins) > 1 else ""
                msgs.append(f"dataset gives {shape_str(have)} per sample{extra}, Input '{n.name}' expects "
                            f"{shape_str(want)}")
    if len(outs) != len(dataset.output_names):
        msgs.append(f"dataset gives {len(dataset.output_names)} target(s) ({', '.join(dataset.output_names)}), the "
                    f"graph has {len(outs)} Output node(s) ({', '.join(repr(n.name) for n in outs) or 'none'})")
        return msgs
    if info is None and outs:
        try:
            from ..infer import Inference
            info = Inference().run(graph)
        except Exception:   # shape problems are reported by the graph check itself
            info = None
    for n, i in zip(outs, pair_names(dataset.output_names, outs)):
        msgs.extend(_check_output(dataset, i, n, _output_shape(graph, n, info)))
    return msgs


def _check_output(ds, i, node, shape):
    loss = node.params.get("loss", "sparse_categorical_crossentropy")
    task, k, tname = ds.tasks[i], ds.num_classes[i], ds.output_names[i]
    units = None
    if shape is not None:
        units = int(np.prod(shape)) if all(d is not None for d in shape) else None
    out = []
    if task == "regression":
        if loss in CLASS_LOSSES:
            out.append(f"Output '{node.name}' uses {loss} (classification) but the dataset's target '{tname}' is "
                       f"numeric (regression): use mean_squared_error, mean_absolute_error or huber")
        elif shape is not None:
            want = tuple(ds.output_shapes[i])
            if not (_shape_fits(want, shape) or (want in ((), (1,)) and tuple(shape) in ((), (1,)))):
                out.append(f"dataset target '{tname}' is {shape_str(want)} per sample, Output '{node.name}' gets "
                           f"{shape_str(tuple(shape))}")
        return out
    # classification target
    if loss == "binary_crossentropy":
        if k != 2:
            out.append(f"Output '{node.name}' uses binary_crossentropy but the dataset's target '{tname}' has {k} "
                       f"classes: use sparse_categorical_crossentropy with {k} softmax units")
        elif units is not None and units != 1:
            out.append(f"dataset has 2 classes (binary), Output '{node.name}' gets {units} values: binary_crossentropy "
                       f"needs 1 sigmoid unit (or use sparse_categorical_crossentropy with 2 softmax units)")
        return out
    if loss in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        if units is not None and units != k:
            out.append(f"dataset has {k} classes, Output '{node.name}' gets {units} values"
                       + (f" (the target '{tname}' needs {k} softmax units)" if units > 0 else ""))
        return out
    # a regression loss on class labels: fine when it gets one value per class (one-hot) or one value (label)
    if units is not None and units not in (1, k):
        out.append(f"dataset has {k} classes, Output '{node.name}' gets {units} values")
    return out


def _target_for(y, task, k, loss, shape):
    units = None
    if shape is not None and all(d is not None for d in shape):
        units = int(np.prod(shape))
    if task == "regression":
        y = np.asarray(y, dtype=np.float32)
        if shape is not None and tuple(shape) != tuple(y.shape[1:]) and units == int(np.prod(y.shape[1:])):
            y = y.reshape((len(y),) + tuple(shape))
        return y
    if loss == "categorical_crossentropy" or (loss not in CLASS_LOSSES and units == k and k and k > 1):
        return np.eye(k, dtype=np.float32)[np.asarray(y, dtype=np.int64).reshape(len(y))]
    if loss == "binary_crossentropy" or loss not in CLASS_LOSSES:
        y = np.asarray(y, dtype=np.float32).reshape(len(y))
        if shape is not None and len(shape) >= 1:
            y = y.reshape((len(y),) + tuple(d or 1 for d in shape))
        return y
    return np.asarray(y, dtype=np.int32).reshape(len(y))


def arrays_for_model(dataset: Dataset, split: Split, graph, info=None):
    """(x, y) for ``model.fit``/``evaluate``: lists ordered like the built model's inputs and outputs (Input and
    Output nodes in topological order, as ``build_model`` orders them), matched by node name when the dataset's
    names match, else by position. Targets are shaped for each Output's loss (one-hot for
    categorical_crossentropy, (N, 1) floats for binary_crossentropy). Single input/output come unwrapped.

    For a streamed split (image folder) it returns ``(tf_dataset, None)`` with the targets mapped the same way."""
    graph = _graph_of(graph)
    if split is None:
        return None, None
    ins, outs = model_io(graph)
    in_idx = pair_names(dataset.input_names, ins) if len(ins) == len(dataset.input_names) else list(range(len(ins)))
    out_idx = pair_names(dataset.output_names, outs) if len(outs) == len(dataset.output_names) else list(range(len(outs)))
    if any(i >= len(dataset.input_names) for i in in_idx) or any(i >= len(dataset.output_names) for i in out_idx):
        raise DataError("; ".join(check_fit(dataset, graph, info)) or "the dataset does not fit the graph")
    shapes = []
    need_info = any(n.params.get("loss") not in ("sparse_categorical_crossentropy",) for n in outs)
    if need_info and info is None:
        try:
            from ..infer import Inference
            info = Inference().run(graph)
        except Exception:
            info = None
    for n in outs:
        shapes.append(_output_shape(graph, n, info) if need_info else None)
    if split.tf_dataset is not None:
        return _map_stream(dataset, split, ins, outs, in_idx, out_idx, shapes), None
    xs = []
    for n, i in zip(ins, in_idx):
        a = split.x[i]
        dt = n.params.get("dtype", "float32")
        if dt.startswith("int") and a.dtype.kind == "f":
            a = a.astype(dt)
        elif a.dtype.kind == "b":
            a = a.astype(np.float32)
        # uint8 images and int token ids go as they are: Keras casts each batch to the Input's dtype
        xs.append(a)
    ys = [_target_for(split.y[i], dataset.tasks[i], dataset.num_classes[i],
                      n.params.get("loss", "sparse_categorical_crossentropy"), shp)
          for n, i, shp in zip(outs, out_idx, shapes)]
    return (xs[0] if len(xs) == 1 else xs), (ys[0] if len(ys) == 1 else ys)


def _map_stream(dataset, split, ins, outs, in_idx, out_idx, shapes):
    """Map a streamed (x, y) dataset's targets like ``_target_for``."""
    from ..tfload import import_keras
    import_keras()
    import tensorflow as tf
    n, i, shp = outs[0], out_idx[0], shapes[0]
    loss = n.params.get("loss", "sparse_categorical_crossentropy")
    k = dataset.num_classes[i]
    ds = split.tf_dataset
    if loss == "categorical_crossentropy" or (loss not in CLASS_LOSSES and shp is not None and shp and shp[-1] == k):
        return ds.map(lambda x, y: (x, tf.one_hot(tf.cast(y, tf.int32), k)),
                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    if loss == "binary_crossentropy" or loss not in CLASS_LOSSES:
        return ds.map(lambda x, y: (x, tf.reshape(tf.cast(y, tf.float32), (-1, 1))),
                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    return ds
