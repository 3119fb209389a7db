"""Import a Keras model file (``.h5`` or ``.keras``) as an editable graph, with its weights.

    imported = import_model("resnet50.h5")          # -> Imported(project, known, warnings, stats, seconds)
    save_project(imported.project, "resnet50.layerwise")

How a model becomes a graph:

* every layer *call* becomes a node; a layer called twice (a shared layer) becomes one node per call, the
  later ones with ``settings["shares"] = <id of the first>`` so the build reuses one Keras layer (one set of
  weights);
* a layer whose Keras class has a catalog entry becomes that catalog type when its config maps losslessly
  (the node's params then hold the *whole* Keras config, initializers and regularizers included, so the build
  reproduces it); every other built-in layer becomes a ``KerasLayer`` node with ``{"class_name", "config"}``;
* a nested model (a ``Functional`` or ``Sequential`` used as a layer, e.g. a pretrained base) becomes one
  *group node*: a ``KerasLayer`` with class_name ``Functional``/``Sequential`` and the nested model's config,
  which ``core.groups`` can expand into its layers and collapse again;
* a layer called in a way the default calling convention does not reproduce (``training=False``,
  ``use_causal_mask=True``, keyword tensors) keeps its call in ``settings["call"]`` (port markers for the
  tensors), so the rebuilt model calls it the same way;
* a ``keras.ops`` step between tensors (``x + y``, ``ops.multiply(h, 0.5)``) becomes an ``Op`` node
  (``core.ops``); steps that only compute the masks Keras computes by itself are left out;
* a layer that returns several tensors (an LSTM with ``return_state``) gets one output port each, and edges
  record the port they leave from; ``initial_state`` tensors go to an RNN's named state ports;
* an ``Output`` node per model output, with the compiled model's loss and its arguments (``from_logits``,
  ``label_smoothing``), loss weight and metrics, and the optimizer with its settings (``compile_config``);
  whatever cannot be kept is a warning; without a compile config, a default from the output's activation;
* the nodes are put in network order, and the project is named after the file.

Safety: the file's architecture is read first, without running anything. A ``Lambda`` layer (Python code in
the file) or a class that is not a built-in Keras layer is refused, naming the layer and its class, unless the
caller trusts the file (``trust=True``); the model is then loaded with ``keras.models.load_model(path,
compile=False, safe_mode=not trust)``. Every bad file is a ``ModelFileError`` with a one-line message.
Trust is the session's: the imported project's graph is trusted in memory (``core.trust``), and the saved
project only marks its code nodes (``settings["code"]``); opening it again needs trust again.

Custom classes the user trusts come from the module or file named by ``custom_code`` (``core.custom_code``),
loaded only with trust and recorded on the nodes that need it.

The package: ``files`` (reading and checking a model file, loading it with Keras), ``convert`` (a Keras model as
graph nodes), ``compile_config`` (the file's training settings), ``importing`` (a model file as a new project).
"""
from __future__ import annotations

from .convert import (CLASS_TO_TYPE, Converted, all_inner_frozen, catalog_params, convert_model, default_call,
                      functional_view, jsonable, port, set_inner_trainable)
from .files import (HDF5_SIGNATURE, ModelFile, check_safety, classify, inspect_model_file, load_keras_model,
                    op_message, scan_layers)
from .importing import Imported, default_output, import_model, import_to_file

__all__ = ["CLASS_TO_TYPE", "Converted", "HDF5_SIGNATURE", "Imported", "ModelFile", "all_inner_frozen",
           "catalog_params", "check_safety", "classify", "convert_model", "default_call", "default_output",
           "functional_view", "import_model", "import_to_file", "inspect_model_file", "jsonable", "load_keras_model",
           "op_message", "port", "scan_layers", "set_inner_trainable"]
