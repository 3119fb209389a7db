"""ONNX through tf2onnx, from the frozen graph: a Normalization layer's constants stay inside the graph (Keras' own
``model.export(format="onnx")`` turns them into extra graph inputs). Graph inputs carry the Keras input names, graph
outputs the Keras output names. Run with onnxruntime."""
from __future__ import annotations

from .errors import layer_error, require

OPSET = 17      # onnxruntime runs it everywhere; tf2onnx 1.17 writes up to 18


def convert(model):
    """(serialized ONNX model, opset). UnsupportedLayer names the layer tf2onnx cannot convert."""
    require("onnx")
    import tf2onnx
    from .graph import frozen, quiet_tf_log, unrolled
    fn, names = frozen(unrolled(model, "ONNX"))
    ins = [t.name for t in fn.inputs]
    outs = {n: t.name for n, t in zip(names, fn.outputs)}
    try:
        with quiet_tf_log():
            proto, _ = tf2onnx.convert.from_graph_def(fn.graph.as_graph_def(), input_names=ins,
                                                      output_names=list(outs.values()), opset=OPSET)
    except Exception as e:
        raise layer_error(model, e, "ONNX") from None
    renames = {t: t.split(":")[0] for t in ins}
    renames.update({t: n for n, t in outs.items()})
    _rename(proto.graph, renames)
    return proto.SerializeToString(), OPSET


def _rename(graph, renames):
    for v in list(graph.input) + list(graph.output):
        v.name = renames.get(v.name, v.name)
    for node in graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = renames.get(name, name)
        for i, name in enumerate(node.output):
            node.output[i] = renames.get(name, name)


class Runner:
    """Calls an .onnx file with onnxruntime: ``runner(xs)`` -> {output name: array}."""

    def __init__(self, path, model):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]

    def __call__(self, xs):
        return dict(zip(self.outputs, self.session.run(None, dict(zip(self.inputs, xs)))))
