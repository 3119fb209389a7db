"""Export-target figures: onnxruntime's batch-1 latency against Keras' (the model's own tf.function) on the digits
CNN and MobileNetV2, and the largest difference from Keras over every example project x every export target."""
from __future__ import annotations

import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "resources" / "examples"
TARGETS = {"onnx": ".onnx", "tflite": ".tflite", "savedmodel": "", "keras2": ".h5"}


def _keras():
    from core.tfload import import_keras
    return import_keras()


def _ratio(model, folder, budget_s=2.0):
    """(onnxruntime ms, Keras ms) at batch 1, measured one after the other on the same inputs."""
    from core.deploy import onnx, parity
    data, _ = onnx.convert(model)
    path = Path(folder) / f"{model.name}.onnx"
    path.write_bytes(data)
    xs = parity.random_batch(model, 1)
    run = onnx.Runner(path, model)
    keras_fn = parity.keras_runner(model)
    ort_ms = parity.latency_ms(run, xs, budget_s=budget_s, at_most=2000)
    keras_ms = parity.latency_ms(keras_fn, xs, budget_s=budget_s, at_most=2000)
    return ort_ms, keras_ms


def onnx_latency_ratio():
    keras = _keras()
    from core.build import build_model
    from core.project import load_project
    digits = build_model(load_project(EXAMPLES / "digits_cnn.layerwise"), with_weights=False).model
    mobilenet = keras.applications.MobileNetV2(weights=None)
    with tempfile.TemporaryDirectory() as tmp:
        d_ort, d_keras = _ratio(digits, tmp)
        m_ort, m_keras = _ratio(mobilenet, tmp)
    return (m_ort / m_keras, "x Keras (MobileNetV2)",
            f"MobileNetV2 {m_ort:.2f} ms vs Keras {m_keras:.2f} ms; digits CNN {d_ort / d_keras:.3f} "
            f"({d_ort:.3f} ms vs {d_keras:.3f} ms); onnxruntime ÷ Keras tf.function, batch 1, median")


def export_parity_max():
    _keras()
    from core.build import build_model
    from core.deploy import export_target
    from core.project import load_project
    worst, where, count = 0.0, "", 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(EXAMPLES.glob("*.layerwise")):
            p = load_project(path)
            build = build_model(p, with_weights=False)
            for target, ext in TARGETS.items():
                rep = export_target(p, build, Path(tmp) / f"{path.stem}_{target}{ext}", target)
                count += 1
                if rep.max_diff >= worst:
                    worst, where = rep.max_diff, f"{path.stem} → {target}"
    return worst, "", f"largest absolute difference from Keras over {count} exports (every example x onnx, " \
                      f"tflite, savedmodel, keras2), at {where}"


FIGURES = {"onnx_latency_ratio": onnx_latency_ratio, "export_parity_max": export_parity_max}
