"""core.training.distribute: ``device="all"`` trains under tf.distribute.MirroredStrategy (two logical CPU devices
stand in for two GPUs, in a child process: they must be set up before TensorFlow starts), one device otherwise;
the Keras internals the multi-worker workaround replaces still exist."""
import importlib
import json
import os
import subprocess
import sys

import pytest

from core import keras_compat
from core.training import TrainConfig, run
from tests.conftest import ROOT
from tests.core.test_training import iris_mlp

MIRRORED = r'''
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, sys.argv[1])
from core.training import TrainConfig, TrainState, run
from tests.core.test_training import iris_mlp

class Keep(TrainState):
    def on_start(self, info):
        self.info = info

out = {}
for device in ("all", "cpu"):
    p, _ = iris_mlp()
    st = Keep()
    r = run(p, config=TrainConfig.from_project(p, epochs=4, device=device), state=st)
    out[device] = {"error": str(r.error) if r.error else None, "device": r.device, "replicas": st.info["replicas"],
                   "accuracy": r.test_metrics["accuracy"], "loss": r.history["loss"]}
print(json.dumps(out))
'''


def test_device_all_trains_data_parallel_on_two_logical_devices():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-c", MIRRORED, str(ROOT)], capture_output=True, text=True, env=env,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-1500:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    mirrored, one = out["all"], out["cpu"]
    assert mirrored["error"] is None and mirrored["replicas"] == 2 and one["replicas"] == 1
    assert mirrored["device"] == ("all 2 CPU devices (CPU:0, CPU:1; MirroredStrategy, 8 samples per replica per "
                                  "batch)")
    # the global batch split in two, the gradients averaged: it learns like one device on the whole batch
    assert mirrored["loss"][-1] < mirrored["loss"][0] * 0.8
    assert abs(mirrored["accuracy"] - one["accuracy"]) <= 0.15


def test_device_all_without_several_devices_trains_on_the_one_there_is():
    p, _ = iris_mlp()
    r = run(p, config=TrainConfig.from_project(p, epochs=1, device="all"))
    assert r.error is None and r.device == "CPU"
    assert "--device all: there is no GPU, so training runs on the CPU" in r.warnings


@pytest.mark.parametrize("module, name", keras_compat.MULTI_WORKER_INTERNALS)
def test_the_keras_internals_the_multi_worker_workaround_replaces_still_exist(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module}.{name} is gone: see keras_compat.patch_multi_worker"
