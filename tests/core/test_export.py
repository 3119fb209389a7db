"""Exports: .h5 / .keras reload in plain Keras with equal predictions; the .py script rebuilds the same model."""
import subprocess
import sys

import numpy as np
import pytest

from core.build import build_model, compile_model
from core.export import export
from core.project import load_project
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def digits():
    return load_project(EXAMPLES / "digits_cnn.layerwise", load_weights=False)


@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_model_files_reload_with_plain_keras_and_predict_the_same(digits, tmp_path, ext):
    import keras
    b = build_model(digits)
    compile_model(b, digits)
    out = export(digits, tmp_path / f"m{ext}", build=b)
    back = keras.models.load_model(out)
    x = np.random.default_rng(0).uniform(0, 16, size=(5, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(back.predict(x, verbose=0), b.model.predict(x, verbose=0), atol=1e-6)
    assert back.count_params() == b.model.count_params()


def test_py_export_rebuilds_the_same_architecture(digits, tmp_path):
    script = export(digits, tmp_path / "gen_digits.py")
    code = ("import json, runpy, sys; ns = runpy.run_path(sys.argv[1]); m = ns['build_model']();"
            "print(json.dumps([[l.__class__.__name__, {k: v for k, v in l.get_config().items() if k != 'dtype'}]"
            " for l in m.layers], default=str))")
    r = subprocess.run([sys.executable, "-c", code, str(script)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    import json
    got = json.loads(r.stdout.strip().splitlines()[-1])
    want = json.loads(json.dumps([[l.__class__.__name__, {k: v for k, v in l.get_config().items() if k != "dtype"}]
                                  for l in build_model(digits).model.layers], default=str))
    assert got == want
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "Total params: 94,314" in r.stdout


def test_core_imports_no_qt():
    code = ("import sys, pkgutil, importlib, core\n"
            "for m in pkgutil.walk_packages(core.__path__, 'core.'): importlib.import_module(m.name)\n"
            "bad = [k for k in sys.modules if k.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]


def test_export_refuses_unknown_extension(digits, tmp_path):
    from core.errors import SettingsError
    with pytest.raises(SettingsError, match="unknown export format '.onnx'"):
        export(digits, tmp_path / "m.onnx")
