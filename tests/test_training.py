"""Training: in-process for determinism and stop, through the job manager for the real path."""

import json
import time

import numpy as np
import pandas as pd
import pytest

from core.errors import UserError
from core.jobs.manager import JobManager
from core.pipeline.forecast import repredict, train_forecaster
from core.present.labels import runs_table
from core.store.runs import RunStore
from tests.helpers import TINY_SAMPLE_FLAGS, run_cli, tiny_config, tiny_dataset


def test_same_seed_gives_same_losses_and_predictions(workspace):
    data = tiny_dataset()
    store = RunStore()
    a = train_forecaster(data.frame, data.describe(), tiny_config(seed=7), store)
    b = train_forecaster(data.frame, data.describe(), tiny_config(seed=7), store)
    c = train_forecaster(data.frame, data.describe(), tiny_config(seed=8), store)
    ra, rb, rc = (store.get(r["run_id"]) for r in (a, b, c))
    assert ra.meta["history"] == rb.meta["history"]
    pd.testing.assert_frame_equal(ra.predictions, rb.predictions)
    assert ra.meta["history"] != rc.meta["history"]
    assert ra.config["seed"] == 7


def test_stop_ends_training_within_one_batch(workspace):
    data = tiny_dataset()
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] >= 5

    result = train_forecaster(
        data.frame, data.describe(), tiny_config(epochs=50), RunStore(), should_stop=should_stop
    )
    assert calls["n"] == 5  # checked once per batch; no batch ran after the stop was seen
    assert result["status"] == "stopped" and result["epochs_run"] == 1
    assert RunStore().get(result["run_id"]).meta["status"] == "stopped"


def test_nan_loss_ends_the_job_with_a_clear_message(workspace, monkeypatch):
    from core.config import TrainConfig

    data = tiny_dataset()
    config = tiny_config(epochs=3)
    # Past the settings' bounds (1.0), which refuse it up front; the training loop's own
    # guard is what is under test here.
    monkeypatch.setattr(TrainConfig, "check_bounds", lambda self: None)
    config.learning_rate = 1e30
    with pytest.raises(UserError, match="loss became nan|loss became inf|non-finite"):
        train_forecaster(data.frame, data.describe(), config, RunStore())
    assert RunStore().runs() == []


def test_run_metrics_sit_beside_naive_on_the_same_days(workspace):
    data = tiny_dataset()
    result = train_forecaster(
        data.frame, data.describe(), tiny_config(transform="diff"), RunStore()
    )
    run = RunStore().get(result["run_id"])
    pred = run.predictions
    assert set(result["metrics"]) >= {
        "rmse",
        "mae",
        "mape",
        "mase",
        "directional_accuracy",
        "best_lag",
    }
    close = data.frame["close"]
    np.testing.assert_allclose(pred["naive"], close.shift(1).loc[pred.index])
    np.testing.assert_allclose(pred["actual"], close.loc[pred.index])
    naive_rmse = float(np.sqrt(np.mean((pred["naive"] - pred["actual"]) ** 2)))
    assert result["naive"]["rmse"] == pytest.approx(naive_rmse)
    # differenced: predicted price = yesterday's actual + predicted change
    np.testing.assert_allclose(pred["predicted"], pred["naive"] + pred["predicted_change"])
    assert pred.index[0] > pd.Timestamp(run.meta["split_dates"]["val"][1])


def test_background_job_emits_epochs_stops_and_reloads_identically(workspace):
    data = tiny_dataset()
    manager = JobManager()
    job = manager.submit(
        "forecast", data.frame, data.describe(), tiny_config(epochs=500), "stop me"
    )
    for _ in range(600):
        job = manager.get(job.id)
        if len(job.history) >= 2 or not job.active:
            break
        time.sleep(0.1)
    assert job.status == "running" and len(job.history) >= 2
    assert job.history[0]["loss"] > 0 and "val_loss" in job.history[0]
    manager.stop(job.id)
    job = manager.wait(job.id, timeout=120)
    assert job.status == "stopped", job.error
    assert 2 <= job.result["epochs_run"] < 500
    run = RunStore().get(job.run_id)
    assert run.meta["status"] == "stopped"
    pd.testing.assert_frame_equal(repredict(run.id, RunStore()), run.predictions)


def test_jobs_queue_one_at_a_time_and_a_queued_job_can_be_cancelled(workspace):
    data = tiny_dataset()
    manager = JobManager(max_parallel=1)
    first = manager.submit("forecast", data.frame, data.describe(), tiny_config(epochs=1), "a")
    second = manager.submit("forecast", data.frame, data.describe(), tiny_config(epochs=1), "b")
    third = manager.submit("forecast", data.frame, data.describe(), tiny_config(epochs=1), "a")
    assert [j.status for j in manager.jobs()] == ["running", "queued", "queued"]
    assert third.label == "a (2)"  # a name no waiting job has
    manager.stop(third.id)
    assert manager.wait(first.id, timeout=120).status == "finished"
    assert manager.wait(second.id, timeout=120).status == "finished"
    assert manager.get(third.id).status == "cancelled"
    runs = {run.id: run.name for run in RunStore().runs()}
    assert runs == {first.id: "a", second.id: "b"}  # one id from submit to saved run
    again = manager.submit("forecast", data.frame, data.describe(), tiny_config(epochs=1), "a")
    assert again.label == "a (2)"  # nor any saved run
    manager.stop(again.id)
    manager.wait(again.id, timeout=120)


def test_worker_failure_is_reported_not_lost(workspace):
    data = tiny_dataset()
    manager = JobManager()
    bad = tiny_config(window=10_000)
    job = manager.wait(
        manager.submit("forecast", data.frame, data.describe(), bad, "bad").id, timeout=120
    )
    assert job.status == "failed" and "too few for a window" in job.error


def test_cli_train_prints_json_and_saves_the_run(workspace):
    out = run_cli(
        "train",
        *TINY_SAMPLE_FLAGS,
        "--with",
        "MSFT,^GSPC",
        "--features",
        "close,volume",
        "--model",
        "seq2seq",
        "--horizon",
        "3",
        "--window",
        "10",
        "--units",
        "8",
        "--epochs",
        "2",
        workspace=workspace,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "finished" and result["epochs_run"] == 2
    for key in ("rmse", "mae", "mape", "mase", "directional_accuracy", "best_lag"):
        assert key in result["metrics"] and key in result["naive"]
    run = RunStore(workspace).get(result["run_id"])
    assert run.config["features"] == ["close", "volume", "MSFT_close", "^GSPC_close"]
    listing = run_cli("runs", workspace=workspace)
    assert result["run_id"] in listing.stdout and "multivariate" in listing.stdout
    # the CLI ran the job's worker code in its own process: no second worker process, and
    # the job folder under the run's id has its outcome
    job_dir = workspace / "jobs" / result["run_id"]
    assert not (job_dir / "worker.log").exists()
    assert json.loads((job_dir / "outcome.json").read_text())["status"] == "finished"
    assert "epoch 2/2" in out.stderr and " s)" in out.stderr  # each epoch with its seconds


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sample", "TSLA"], "no bundled sample"),
        (["--sample", "AAPL", "--window", "9000"], "too few"),
        (["--ticker", "../x"], "not a ticker"),
        (["--csv", "/nonexistent.csv"], "Could not open"),
    ],
)
def test_cli_bad_input_prints_the_message_and_exits_2(args, message, workspace):
    out = run_cli("train", *args, "--epochs", "1", workspace=workspace)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_run_store_rename_delete_and_half_written_runs(workspace):
    data = tiny_dataset()
    result = train_forecaster(data.frame, data.describe(), tiny_config(epochs=1), RunStore())
    store = RunStore()
    (store.dir / f".tmp-{store.new_id()}").mkdir()  # a crash mid-save
    (store.dir / "20990101-000000-abcdef").mkdir()  # a directory with no run.json
    assert [r.id for r in store.runs()] == [result["run_id"]]
    store.rename(result["run_id"], "my best run")
    assert RunStore().get(result["run_id"]).name == "my best run"  # survives a new store (restart)
    assert runs_table(RunStore().runs("forecast")).loc[0, "name"] == "my best run"
    store.delete(result["run_id"])
    assert store.runs() == [] and not (store.dir / result["run_id"]).exists()
    with pytest.raises(UserError):
        store.get("../../etc")


def _standby(manager, timeout=10.0):
    """The manager's first waiting worker; they are spawned just after a job's done event."""
    deadline = time.monotonic() + timeout
    while not manager._standbys and time.monotonic() < deadline:
        time.sleep(0.05)
    return manager._standbys[0][0]


def test_warm_worker_runs_jobs_and_is_replaced_after_each(workspace):
    data = tiny_dataset()
    manager = JobManager(warm_worker=True)
    first = _standby(manager)
    job = manager.submit("forecast", data.frame, data.describe(), tiny_config(), "w")
    job = manager.wait(job.id, timeout=180)
    assert job.status == "finished" and job.result["epochs_run"] == 2
    assert first.wait(timeout=30) == 0  # the standby ran the job and exited
    second = _standby(manager)
    assert second is not first and second.poll() is None  # a fresh one waits for the next job
    job2 = manager.submit("forecast", data.frame, data.describe(), tiny_config(), "w2")
    assert manager.wait(job2.id, timeout=180).status == "finished"
    third = _standby(manager)
    third.stdin.close()  # as when the server exits: the standby ends by itself
    assert third.wait(timeout=60) == 0
