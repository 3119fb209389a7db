"""The devices of this machine (name, memory, why one is not usable), and the one a run asks for ("auto" | "cpu" |
"gpu" | "gpu:N"; "all" is core.training.distribute's)."""
from __future__ import annotations

import os
import shutil
import subprocess

from ..errors import SettingsError


MIN_COMPUTE_CAPABILITY = (3, 5)   # the oldest GPU TensorFlow 2's CUDA builds run on
FULL_FRACTION = 0.95              # a GPU whose memory is this full at start cannot train


def list_devices() -> list[dict]:
    """Every device of this machine: [{"name", "kind": "cpu"|"gpu", "usable", "reason", "tf_name", "memory"}] —
    the CPU (with the logical CPU devices when there are several), every GPU TensorFlow sees, and the GPUs the
    NVIDIA driver sees that TensorFlow cannot use (``usable`` False, ``reason`` says why: no CUDA build, driver
    too old, memory full). ``memory``: bytes, or None when unknown."""
    from ..tfload import import_keras
    import_keras()
    import tensorflow as tf
    ram = _ram()
    cpus = tf.config.list_logical_devices("CPU")
    out = [_dev("CPU" if i == 0 and len(cpus) == 1 else f"CPU {i}", "cpu", f"/CPU:{i}", ram if i == 0 else None)
           for i in range(max(len(cpus), 1))]
    smi = _nvidia_smi()
    seen = tf.config.list_physical_devices("GPU")
    for i, d in enumerate(seen):
        details = _details(tf, d)
        label = details.get("device_name") or d.name
        row = smi[i] if i < len(smi) else {}
        dev = _dev(f"GPU {i}: {label}", "gpu", f"/GPU:{i}", row.get("total"))
        cc = details.get("compute_capability")
        if cc and tuple(cc) < MIN_COMPUTE_CAPABILITY:
            dev.update(usable=False, reason=f"compute capability {cc[0]}.{cc[1]} is older than this TensorFlow "
                                            f"supports")
        elif row.get("total") and row.get("used", 0) >= FULL_FRACTION * row["total"]:
            dev.update(usable=False, reason=f"out of memory: {_gb(row['used'])} of {_gb(row['total'])} in use "
                                            f"by other programs")
        out.append(dev)
    for row in smi[len(seen):]:   # GPUs the driver sees and TensorFlow does not
        dev = _dev(f"GPU {row['index']}: {row['name']}", "gpu", "", row.get("total"))
        dev.update(usable=False, reason=_unseen_reason(tf, row))
        out.append(dev)
    return out


def _dev(name, kind, tf_name, memory):
    return {"name": name, "kind": kind, "usable": True, "reason": "", "tf_name": tf_name, "memory": memory}


def _details(tf, d):
    try:
        return tf.config.experimental.get_device_details(d) or {}
    except Exception:
        return {}


def _unseen_reason(tf, row):
    if not tf.test.is_built_with_cuda():
        return "this TensorFlow has no CUDA build (pip install 'tensorflow[and-cuda]')"
    return f"TensorFlow cannot use it: NVIDIA driver {row.get('driver', '?')} may be too old for its CUDA"


def _ram():
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _nvidia_smi():
    """[{"index", "name", "total", "used", "driver"}] from nvidia-smi (memory in bytes), [] without it."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=index,name,memory.total,memory.used,driver_version",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        parts = [x.strip() for x in line.split(",")]
        if len(parts) == 5:
            try:
                rows.append({"index": int(parts[0]), "name": parts[1], "total": int(float(parts[2])) * 2 ** 20,
                             "used": int(float(parts[3])) * 2 ** 20, "driver": parts[4]})
            except ValueError:
                continue
    return rows


def _gb(n):
    return f"{n / 2 ** 30:.1f} GB"


def device_line(d) -> str:
    """'GPU 0: NVIDIA H200 — 139.8 GB' / '... — not usable: reason'."""
    mem = f" — {_gb(d['memory'])}" if d.get("memory") else ""
    return f"{d['name']}{mem}" + ("" if d.get("usable", True) else f" — not usable: {d['reason']}")


def devices_text(devs):
    return ", ".join(device_line(d) for d in devs) or "none"


def pick_device(request: str):
    """(tf device string, display name, kind) for "auto" | "cpu" | "gpu" | "gpu:N"; SettingsError when absent."""
    devs = list_devices()
    gpus = [d for d in devs if d["kind"] == "gpu" and d["usable"]]
    cpu = next((d for d in devs if d["kind"] == "cpu"), {"name": "CPU", "tf_name": "/CPU:0"})
    request = (request or "auto").lower()
    if request == "cpu" or (request == "auto" and not gpus):
        return cpu["tf_name"], cpu["name"], "cpu"
    if request == "auto":
        return gpus[0]["tf_name"], gpus[0]["name"], "gpu"
    idx = int(request.split(":")[1]) if ":" in request else 0
    if not gpus:
        raise SettingsError(f"device {request}: TensorFlow sees no GPU on this machine; devices it sees: "
                            f"{devices_text(devs)}. Use --device cpu or auto")
    if idx >= len(gpus):
        raise SettingsError(f"device {request}: there is no GPU {idx}; devices TensorFlow sees: {devices_text(devs)}")
    return gpus[idx]["tf_name"], gpus[idx]["name"], "gpu"
