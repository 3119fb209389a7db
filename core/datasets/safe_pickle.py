"""Reading pickled numpy data (Keras' cached imdb.npz and CIFAR-10 batches) without running arbitrary code."""
from __future__ import annotations

import numpy as np


class NumpyOnlyUnpickler:
    """pickle.Unpickler that only rebuilds numpy arrays (and plain containers); anything else is refused."""
    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    @classmethod
    def load(cls, f, **kw):
        import pickle

        class U(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) in cls.ALLOWED:
                    return super().find_class(module, name)
                raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")
        return U(f, **kw).load()


def read_npz_objects(path):
    """Read every array of an .npz, object arrays (ragged lists, as in imdb.npz) through the numpy-only unpickler."""
    import zipfile
    out = {}
    with zipfile.ZipFile(path) as z:
        for member in z.namelist():
            if not member.endswith(".npy"):
                continue
            with z.open(member) as f:
                version = np.lib.format.read_magic(f)
                shape, fortran, dtype = (np.lib.format.read_array_header_1_0(f) if version[0] == 1
                                         else np.lib.format.read_array_header_2_0(f))
                if dtype.hasobject:
                    arr = NumpyOnlyUnpickler.load(f)
                else:
                    data = f.read()
                    arr = np.frombuffer(data, dtype=dtype, count=int(np.prod(shape)) if shape else 1)
                    arr = arr.reshape(shape, order="F" if fortran else "C")
            out[member[:-4]] = arr
    return out
