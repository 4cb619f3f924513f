"""Keras on JAX as well as TensorFlow: every model, seeds, save/load across backends, the
job manager's worker on the run's backend, the CLI flag.

Keras fixes its backend at import, and the test process runs on TensorFlow, so the JAX side
runs in a subprocess (a script over the same core functions).
"""

import json
import os
import subprocess
import sys
import time

import pytest

from core.jobs.manager import JobManager
from core.pipeline.forecast import train_forecaster
from core.present.labels import runs_table
from core.store.runs import RunStore
from tests.conftest import ROOT
from tests.helpers import (
    TINY_FLAGS,
    TINY_SAMPLE_FLAGS,
    last_json,
    run_cli,
    tiny_config,
    tiny_dataset,
)
from tests.test_training import _standby

MODELS = {
    "lstm, 2 layers": dict(model="lstm", layers=2),
    "gru, 2 layers": dict(model="gru", layers=2),
    "seq2seq": dict(model="seq2seq", horizon=3),
    "seq2seq + Luong": dict(model="seq2seq_attention", horizon=3, attention="luong"),
    "seq2seq + Bahdanau": dict(model="seq2seq_attention", horizon=3, attention="bahdanau"),
    "tcn": dict(model="tcn", horizon=3, filters=8),
}

JAX_SCRIPT = """
import json, sys
import numpy as np
from core.pipeline.anomaly import train_anomaly_detector
from core.kinds.anomaly import AnomalyConfig
from core.pipeline.forecast import repredict, train_forecaster
from core.store.runs import RunStore
from tests.helpers import tiny_config, tiny_dataset
import keras

models = json.loads(sys.argv[1])
data, store, out = tiny_dataset(), RunStore(), {"backend": keras.config.backend()}
for name, settings in models.items():
    config = tiny_config(backend="jax", early_stopping=True, patience=1, **settings)
    first = train_forecaster(data.frame, data.describe(), config, store)
    cache = store.root / "jax-cache"
    compiled = {p.name for p in cache.iterdir()}
    again = train_forecaster(data.frame, data.describe(), config, store)
    config.seed += 1  # other weights, the same shapes
    train_forecaster(data.frame, data.describe(), config, store)
    compiled_again = {p.name for p in cache.iterdir()} - compiled
    saved = store.get(first["run_id"])
    loaded = repredict(first["run_id"], store)
    out[name] = {
        "status": first["status"],
        "same_seed_same_run": bool(
            np.array_equal(saved.predictions["predicted"], store.get(again["run_id"]).predictions["predicted"])
        ),
        "reload_gap": float(np.max(np.abs(loaded["predicted"] - saved.predictions["predicted"]))),
        "attention": saved.paths.attention is not None,
        "backend": saved.config.backend,
        "cached_programs": len(compiled),
        "compiled_again": len(compiled_again),
    }
detector = train_anomaly_detector(
    data.frame, data.describe(), AnomalyConfig(epochs=2, units=8, backend="jax"), store
)
out["autoencoder"] = {"status": detector["status"], "ratio": detector["recon_ratio_train"]}
out["tensorflow_imported"] = "tensorflow" in sys.modules
print(json.dumps(out))
"""


def run_on(backend: str, script: str, *args: str, timeout: int = 600) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_model_trains_reproduces_and_reloads_on_jax(workspace):
    out = run_on("jax", JAX_SCRIPT, json.dumps(MODELS))
    assert out["backend"] == "jax"
    for name, settings in MODELS.items():
        run = out[name]
        assert run["status"] == "finished" and run["backend"] == "jax", name
        assert run["same_seed_same_run"], f"{name}: the same seed gave another run"
        assert run["reload_gap"] < 1e-4, name  # the saved .keras model predicts the same
        assert run["attention"] == (settings["model"] == "seq2seq_attention"), name
        # The workspace keeps compiled programs: the same model again, or with another seed's
        # weights, compiles nothing (the weights are the programs' arguments).
        assert run["cached_programs"] > 0 and run["compiled_again"] == 0, name
    assert out["autoencoder"]["status"] == "finished" and out["autoencoder"]["ratio"] > 0
    # Training, predicting, saving, reloading and the autoencoder: no TensorFlow (its import
    # is about 3 s of a run on JAX; the windows come from NumPy)
    assert out["tensorflow_imported"] is False


@pytest.mark.parametrize(
    "settings",
    [
        dict(),
        dict(scaling="standard", features=["close", "volume"]),
        dict(transform="log_return"),
        dict(model="seq2seq", horizon=3, window=7),
    ],
    ids=["window-relative", "standard, 2 inputs", "log return", "seq2seq"],
)
def test_numpy_windows_are_the_tf_data_windows(settings):
    """What a run on JAX trains on (ModelData.arrays) is, value for value, what a run on
    TensorFlow does (core.models.windows.tf_windows, Keras's window utility)."""
    import numpy as np

    from core.models.windows import tf_windows
    from core.pipeline.prepare import prepare_forecast

    data = prepare_forecast(tiny_dataset().frame, tiny_config(**settings))
    for split in ("train", "val", "test"):
        x, y = data.arrays(split)
        batches = list(tf_windows(data, split).as_numpy_iterator())
        assert np.array_equal(x, np.concatenate([b[0] for b in batches])), split
        assert np.array_equal(y, np.concatenate([b[1] for b in batches])), split
        assert x.dtype == y.dtype == np.float32


def test_a_tensorflow_run_loads_and_predicts_on_jax(workspace):
    data = tiny_dataset()
    result = train_forecaster(
        data.frame, data.describe(), tiny_config(model="seq2seq_attention", horizon=3), RunStore()
    )
    script = (
        "import json, sys, numpy as np\n"
        "from core.pipeline.forecast import repredict\nfrom core.store.runs import RunStore\n"
        "store = RunStore(); run = store.get(sys.argv[1])\n"
        "gap = np.max(np.abs(repredict(sys.argv[1], store)['predicted'] - run.predictions['predicted']))\n"
        "print(json.dumps({'gap': float(gap)}))\n"
    )
    assert run_on("jax", script, result["run_id"])["gap"] < 1e-3


def test_a_job_on_jax_runs_in_a_jax_worker_and_stops_within_a_batch(workspace):
    data = tiny_dataset()
    manager = JobManager(warm_worker=True)  # its warm worker runs the default, TensorFlow
    standby = _standby(manager)
    config = tiny_config(epochs=500, backend="jax")
    job = manager.submit("forecast", data.frame, data.describe(), config, "on jax")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = manager.get(job.id)
        if len(job.history) >= 2 or not job.active:
            break
        time.sleep(0.1)
    assert job.status == "running", job.error
    assert manager._standbys[0][0] is standby  # the job got a fresh worker on JAX, not the warm one
    manager.stop(job.id)
    job = manager.wait(job.id, timeout=120)
    assert job.status == "stopped"
    run = RunStore().get(job.run_id)
    assert run.config.backend == "jax" and run.status == "stopped"
    assert runs_table(RunStore().runs("forecast")).loc[0, "backend"] == "JAX"
    standby.stdin.close()  # as when the server exits
    assert standby.wait(timeout=60) == 0


def test_the_cli_trains_on_jax_with_the_same_json(workspace, tmp_path):
    csv = tmp_path / "aapl.csv"  # real prices, as a user's CSV
    tiny_dataset().frame.to_csv(csv)
    jax = last_json(run_cli("train", "--csv", csv, *TINY_FLAGS, "--backend", "jax"))
    tf = last_json(run_cli("train", "--csv", csv, *TINY_FLAGS))
    assert set(jax) == set(tf) and jax["status"] == tf["status"] == "finished"
    for part in ("metrics", "naive", "baselines", "intervals"):
        assert set(jax[part]) == set(tf[part]), part
    assert set(jax["by_step"][0]) == set(tf["by_step"][0])
    assert jax["baselines"] == tf["baselines"]  # the same data: the same baselines, exactly
    for run in (jax, tf):  # one epoch of a tiny model: near naive on both, neither broken
        assert 0.8 < run["metrics"]["rel_mae"] < 1.25
    assert RunStore().get(jax["run_id"]).config.backend == "jax"
    assert RunStore().get(tf["run_id"]).config.backend == "tensorflow"
    bad = run_cli("train", *TINY_SAMPLE_FLAGS, "--backend", "torch")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    "value, expected",
    [(None, "jax False"), ("jax", "jax False"), ("tensorflow", "tensorflow False"),
     ("torch", "jax True")],
)  # fmt: skip
def test_the_app_wide_default_is_jax_unless_the_environment_says(value, expected):
    code = (
        "from core.config import TrainConfig, backend_problem;"
        "print(TrainConfig().backend, bool(backend_problem()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "LAGLENS_BACKEND"}
    env |= {"LAGLENS_BACKEND": value} if value else {}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == expected


def test_a_sweep_on_jax_runs_its_trials_on_jax(workspace):
    from core.experiments.sweeps import SweepSpec, run_sweep

    spec = SweepSpec(
        datasets=["sample:AAPL"],
        inputs=["uni"],
        settings={"epochs": 1, "window": 10, "units": 8, "backend": "jax"},
        start="2011-06-01",
        end="2012-12-31",
    )
    sweep = run_sweep(spec, workspace, workers=1)
    assert [t["status"] for t in sweep["trials"].values()] == ["finished"]
    assert RunStore(workspace).runs()[0].config.backend == "jax"  # Ray's worker ran JAX
