import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The tests open the example projects from a copy made for this session: a run writes its runs database and its
# checkpoint beside the project, and those must land neither in the repository nor in a later test's window.
SOURCE_EXAMPLES = ROOT / "resources" / "examples"
_copy = Path(tempfile.mkdtemp(prefix="layerwise-examples-"))
atexit.register(shutil.rmtree, _copy, ignore_errors=True)
EXAMPLES = _copy / "examples"
shutil.copytree(SOURCE_EXAMPLES, EXAMPLES, ignore=shutil.ignore_patterns("*.sqlite*", "*.npz", "*.runs", "__pycache__"))
