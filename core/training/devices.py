"""The devices TensorFlow sees, and the one a run asks for ("auto" | "cpu" | "gpu" | "gpu:N")."""
from __future__ import annotations

from ..errors import SettingsError


def list_devices() -> list[dict]:
    """The devices TensorFlow sees: [{"name", "kind": "cpu"|"gpu", "usable", "reason", "tf_name"}]."""
    from ..tfload import import_keras
    import_keras()
    import tensorflow as tf
    out = []
    for i, d in enumerate(tf.config.list_physical_devices("CPU")):
        out.append({"name": "CPU" if i == 0 else f"CPU {i}", "kind": "cpu", "usable": True, "reason": "",
                    "tf_name": f"/CPU:{i}"})
    for i, d in enumerate(tf.config.list_physical_devices("GPU")):
        try:
            label = tf.config.experimental.get_device_details(d).get("device_name") or d.name
        except Exception:
            label = d.name
        out.append({"name": f"GPU {i}: {label}", "kind": "gpu", "usable": True, "reason": "", "tf_name": f"/GPU:{i}"})
    return out


def devices_text(devs):
    return ", ".join(d["name"] for d in devs) or "none"


def pick_device(request: str):
    """(tf device string, display name, kind) for "auto" | "cpu" | "gpu" | "gpu:N"; SettingsError when absent."""
    devs = list_devices()
    gpus = [d for d in devs if d["kind"] == "gpu"]
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
