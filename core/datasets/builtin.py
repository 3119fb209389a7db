"""scikit-learn's bundled datasets: digits (as images or flat), iris, wine, breast cancer."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from .records import GENERATED_TASKS, KERAS_SETS, SKLEARN_SETS, Dataset
from .splits import classes_of, make_splits


def load(spec, base_dir):
    """A scikit-learn set by the data setting 'name' (digits: 'form' images or flat)."""
    name = spec.get("name")
    if name not in SKLEARN_SETS:
        raise DataError(f"data setting 'name' is {name!r}; built-in datasets are {', '.join(SKLEARN_SETS)} "
                        f"(generated tasks: {', '.join(GENERATED_TASKS)}; Keras datasets: {', '.join(KERAS_SETS)})")
    from sklearn import datasets as skd
    loader = {"digits": skd.load_digits, "iris": skd.load_iris, "wine": skd.load_wine,
              "breast_cancer": skd.load_breast_cancer}[name]
    bunch = loader()
    y = np.asarray(bunch.target, dtype=np.int32)
    class_names = [str(c) for c in bunch.target_names]
    feature_names = [str(f) for f in getattr(bunch, "feature_names", [])] or None
    if name == "digits":
        form = spec.get("form", "images")
        if form == "images":
            x = np.asarray(bunch.images, dtype=np.float32)[..., None]
            input_name = "pixels"
            feature_names = None
        elif form == "flat":
            x = np.asarray(bunch.data, dtype=np.float32)
            input_name = "pixels"
        else:
            raise DataError(f"data setting 'form' is {form!r}; digits comes as 'images' (8, 8, 1) or 'flat' (64,)")
        desc = ("scikit-learn's 8×8 handwritten digits (1,797 samples, 10 classes); raw pixel values 0-16 "
                + ("as 8×8×1 images" if form == "images" else "as 64 values per sample"))
        output_name = "digit"
    else:
        x = np.asarray(bunch.data, dtype=np.float32)
        input_name = "features"
        output_name = {"iris": "species", "wine": "cultivar", "breast_cancer": "diagnosis"}[name]
        desc = {"iris": "Fisher's iris flowers: 4 measurements (cm), 3 species, 150 samples",
                "wine": "wine recognition: 13 chemical measurements, 3 cultivars, 178 samples",
                "breast_cancer": "Wisconsin breast cancer: 30 cell-nucleus features, malignant/benign, 569 samples"}[name]
    task, k = classes_of(y)
    train, val, test = make_splits([x], [y], spec, [task], name=name)
    return Dataset(name=name, train=train, val=val, test=test, input_shapes=[tuple(x.shape[1:])],
                   output_shapes=[()], input_names=[input_name], output_names=[output_name], tasks=[task],
                   class_names=[class_names], num_classes=[k], description=desc, input_dtypes=["float32"],
                   feature_names=feature_names)
