"""The Training panel's devices: each with its memory, unusable ones greyed with the reason, "All GPUs" (greyed
below two usable GPUs) and, on it, the samples per GPU of the global batch; Continue offered in a new session when
a checkpoint lies beside the project."""
from PySide6.QtCore import Qt

from app.workbench import checkpoints
from app.workbench.train_panel import TrainPanel

GB = 2 ** 30
CPU = {"name": "CPU", "kind": "cpu", "usable": True, "reason": "", "tf_name": "/CPU:0", "memory": 64 * GB}


def _gpu(i, usable=True, reason=""):
    return {"name": f"GPU {i}: NVIDIA H200", "kind": "gpu", "usable": usable, "reason": reason,
            "tf_name": f"/GPU:{i}", "memory": 140 * GB}


def _items(panel):
    m = panel._device_model
    return {m.item(i).data(Qt.UserRole): m.item(i) for i in range(m.rowCount())}


def test_two_gpus_offer_all_gpus_and_say_the_batch_per_gpu(qtbot):
    tp = TrainPanel()
    qtbot.addWidget(tp)
    tp.set_devices([CPU, _gpu(0), _gpu(1), _gpu(2, False, "out of memory: 139.0 GB of 140.0 GB in use")])
    items = _items(tp)
    assert items["cpu"].text() == "CPU · 64 GB" and items["gpu:0"].text() == "GPU 0: NVIDIA H200 · 140 GB"
    assert not items["gpu:2"].isEnabled() and "out of memory" in items["gpu:2"].toolTip()
    assert items["all"].isEnabled() and items["all"].text() == "All GPUs (2)"
    tp.batch.setValue(32)
    tp.device.setCurrentIndex(list(items).index("all"))
    assert tp.values()["device"] == "all" and tp.mixed.isEnabled()
    assert tp.batch_note.text() == "global batch: 16 samples per GPU on each of 2 GPUs"
    tp.batch.setValue(50)
    assert tp.batch_note.text() == "global batch: 25 samples per GPU on each of 2 GPUs"
    tp.device.setCurrentIndex(list(items).index("cpu"))
    assert tp.batch_note.text() == "" and tp.batch_note.isHidden()


def test_one_gpu_greys_all_gpus_with_the_reason(qtbot):
    tp = TrainPanel()
    qtbot.addWidget(tp)
    tp.set_devices([CPU, _gpu(0)])
    item = _items(tp)["all"]
    assert not item.isEnabled() and "Needs two or more usable GPUs; this machine has one" in item.toolTip()
    tp.load({"device": "all"})
    assert tp.values()["device"] == "auto"    # not available here: Automatic is shown


def test_a_checkpoint_beside_the_project_can_be_continued(tmp_path):
    from core.project import Project, save_project
    from tests.core.test_training import iris_mlp
    p, _ = iris_mlp()
    assert checkpoints.path_of(Project()) is None and not checkpoints.exists(p)
    path = tmp_path / "iris.layerwise"
    save_project(p, path)
    p.path = path
    assert not checkpoints.exists(p) and checkpoints.resumable(p) is None
    checkpoints.path_of(p).write_bytes(b"damaged")
    assert checkpoints.exists(p) and checkpoints.resumable(p) is None   # unreadable: Continue starts afresh
