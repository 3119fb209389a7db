"""Layerwise core: the network graph, layer catalog, project files, build, training, export, import.

No Qt here, ever. Main entry points::

    from core import load_project, check, build_model, export
    project = load_project("resources/examples/digits_cnn.layerwise")
    result = check(project.graph, project.regularization)   # shapes, params, problems
    model = build_model(project).model                        # a keras.Model
    export(project, "digits.h5")

Keras/TensorFlow are imported lazily (only when shapes are inferred or a model is built).
"""
from .errors import (BuildError, DataError, GraphError, LayerwiseError, ModelFileError, ProjectError,
                     SettingsError, TrainingError)
from .graph import Edge, Graph, Node
from .project import Project, load_project, loads_project, save_project, SCHEMA_VERSION
from . import catalog

__version__ = "0.1.0"


def check(graph, regularization=None):
    from .infer import check as _check
    return _check(graph, regularization)


def build_model(project_or_graph, regularization=None, **kw):
    from .build import build_model as _build
    return _build(project_or_graph, regularization, **kw)


def export(project, out, **kw):
    from .export import export as _export
    return _export(project, out, **kw)


__all__ = ["BuildError", "DataError", "GraphError", "LayerwiseError", "ModelFileError", "ProjectError",
           "SettingsError", "TrainingError", "Edge", "Graph", "Node", "Project", "load_project", "loads_project",
           "save_project", "SCHEMA_VERSION", "catalog", "check", "build_model", "export"]
