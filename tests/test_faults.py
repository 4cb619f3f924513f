"""Faults survived: a killed worker, a killed server, a damaged workspace, two users at once,
the CLI racing the app, and the limits that protect the machine. Each test checks what the
user sees and what is on disk afterwards."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data import PriceStore, load_prices, load_sample
from core.data.csvfile import MAX_CSV_ROWS, read_price_csv
from core.errors import UserError
from core.jobs.manager import JobManager
from core.jobs.state import pid_alive
from core.store.checkpoint import read_checkpoint
from core.store.people import Person
from core.store.runs import RunStore
from core.workspace import read_json
from tests.conftest import ROOT
from tests.helpers import run_cli, tiny_config, tiny_dataset
from ui import job_manager

LEGACY = ROOT / "tests" / "fixtures" / "legacy_workspace"
SLOW = dict(epochs=40)  # long enough to be cut short at epoch 2 or 3


def wait_for(condition, timeout=120.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    pytest.fail("timed out waiting")


def kept_epochs(job_dir: Path) -> int:
    state = read_json(job_dir / "checkpoint.json") or {}
    return len(state.get("history", []))


def page_manager(workspace: Path) -> JobManager:
    """The job manager the pages of this (test) server share."""
    return job_manager(str(workspace.resolve()))


def no_half_written_runs(workspace: Path) -> bool:
    runs = workspace / "runs"
    return not runs.exists() or not [p for p in runs.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- a killed worker


def test_killed_worker_keeps_its_epochs_and_the_job_resumes(workspace):
    data = tiny_dataset()
    manager = JobManager(max_attempts=1)  # not queued again on its own: Save / Resume by hand
    job = manager.submit("forecast", data.frame, data.describe(), tiny_config(**SLOW), "x")
    job_dir = manager.jobs_dir / job.id
    wait_for(lambda: kept_epochs(job_dir) >= 2)
    os.kill(read_json(job_dir / "worker.pid")["pid"], signal.SIGKILL)  # as the OOM killer does
    ended = manager.wait(job.id, timeout=60)

    assert ended.status == "interrupted" and ended.resumable
    assert ended.error == (
        "The training process was killed by the system (SIGKILL), often for lack of memory; "
        f"its full log is {job_dir / 'worker.log'}."
    )
    kept = len(ended.history)
    assert kept >= 2 and kept == kept_epochs(job_dir)
    assert ended.kept.startswith(f"{kept} of 40 epochs are kept")
    assert (job_dir / "last.weights.h5").is_file() and (job_dir / "best.weights.h5").is_file()
    assert RunStore().runs() == [] and no_half_written_runs(workspace)
    assert read_json(job_dir / "outcome.json")["status"] == "interrupted"

    # Keep what exists as it is: the CLI saves it as a run marked interrupted.
    out = run_cli("train", "--resume", job.id, "--save-kept", workspace=workspace)
    assert out.returncode == 0, out.stderr[-800:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    saved = RunStore().get(summary["run_id"])
    assert saved.status == "interrupted" and saved.meta["epochs_run"] == kept
    assert len(saved.predictions) > 0

    # Or carry on: the rest of the epochs, with the same settings.
    resumed = manager.wait(manager.resume(job.id).id, timeout=180)
    assert resumed.status == "finished", resumed.error
    assert resumed.history[:kept] == ended.history  # nothing finished was lost
    assert [row["epoch"] for row in resumed.history] == list(range(1, 41))
    run = RunStore().get(resumed.run_id)
    assert run.meta["epochs_run"] == 40 and run.status == "finished"
    with pytest.raises(UserError, match=f"already resumed \\(job {resumed.id}\\)"):
        manager.resume(job.id)


def test_a_killed_worker_is_queued_again_from_its_last_epoch_until_the_retry_limit(workspace):
    """Issue 42: a worker that dies is requeued from its last epoch checkpoint; one that keeps
    dying ends with the reason, not looped."""
    data = tiny_dataset()
    manager = JobManager(max_attempts=2)
    first = manager.submit("forecast", data.frame, data.describe(), tiny_config(**SLOW), "x")
    wait_for(lambda: kept_epochs(manager.jobs_dir / first.id) >= 2)
    os.kill(read_json(manager.jobs_dir / first.id / "worker.pid")["pid"], signal.SIGKILL)
    ended = manager.wait(first.id, timeout=60)
    assert ended.status == "resumed" and "SIGKILL" in ended.error
    retry = manager.get(ended.result["by"])
    assert retry.label == "x (resumed)" and retry.resumed_from == first.id
    assert retry.created == first.created  # its place in the queue is kept
    kept = kept_epochs(manager.jobs_dir / first.id)
    wait_for(lambda: kept_epochs(manager.jobs_dir / retry.id) >= kept + 1)
    assert manager.get(retry.id).resumed_at == kept  # it carried on: nothing trained twice
    os.kill(read_json(manager.jobs_dir / retry.id / "worker.pid")["pid"], signal.SIGKILL)
    gave_up = manager.wait(retry.id, timeout=60)
    assert gave_up.status == "interrupted" and gave_up.resumable
    assert gave_up.error.endswith("Tried 2 times; not queued again.")
    assert read_json(manager.jobs_dir / retry.id / "outcome.json")["error"] == gave_up.error
    assert [j.id for j in manager.jobs() if j.active] == []  # not looped


def test_resumed_early_stopping_carries_on_where_it_was_cut(tmp_path):
    import keras
    import numpy as np

    from core.store.checkpoint import Checkpointer

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    checkpoint = Checkpointer(tmp_path, 10)
    weights = {}
    for epoch, val in enumerate([0.9, 0.5, 0.7, 0.8, 0.6]):  # best: epoch index 1
        model.set_weights([np.full((3, 1), float(epoch)), np.zeros(1)])
        weights[epoch] = model.get_weights()
        checkpoint.record_epoch(model, {"epoch": epoch + 1, "loss": 1.0, "val_loss": val})
    resumed = Checkpointer(tmp_path, 10, read_checkpoint(tmp_path))
    assert resumed.epochs_done == 5 and resumed.best_epoch == 1 and resumed.best == 0.5
    early = resumed.early_stopping(model, monitor="val_loss", patience=4, restore_best_weights=True)
    early.set_model(model)
    early.on_train_begin()
    assert (early.best, early.best_epoch, early.wait) == (0.5, 1, 3)  # 3 epochs since the best
    np.testing.assert_array_equal(early.best_weights[0], weights[1][0])
    np.testing.assert_array_equal(model.get_weights()[0], weights[4][0])  # resumes from the last
    early.on_epoch_end(5, {"val_loss": 0.55})  # a 4th epoch without improvement: patience spent
    assert model.stop_training and early.stopped_epoch == 5


def test_cli_resume_of_a_job_that_is_not_interrupted_exits_2(workspace):
    out = run_cli("train", "--resume", "20260101-000000-abcdef", workspace=workspace)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "is not an interrupted job that can be resumed" in out.stderr
    out = run_cli("train", "--epochs", "1", workspace=workspace)
    assert out.returncode == 2 and "Give the data: --sample T" in out.stderr


# ---------------------------------------------------------------- a killed server

SERVER = """
import sys, time
from core.jobs.manager import JobManager
from core.store.people import Person
from tests.helpers import run_cli, tiny_config, tiny_dataset
from ui import job_manager
data = tiny_dataset()
manager = JobManager(sys.argv[1])
job = manager.submit("forecast", data.frame, data.describe(),
                     tiny_config(epochs=40), "cut short")
print(job.id, flush=True)
time.sleep(600)
"""


def test_killed_server_leaves_a_resumable_job_and_no_orphan_worker(workspace):
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(workspace)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        job_id = server.stdout.readline().strip()
        job_dir = workspace / "jobs" / job_id
        wait_for(lambda: kept_epochs(job_dir) >= 2)
        worker = read_json(job_dir / "worker.pid")
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        # The worker notices within one batch, records why, and exits: no orphan keeps running.
        wait_for(lambda: not pid_alive(worker["pid"], "core.jobs.worker"), timeout=30)
    finally:
        server.kill()
    outcome = read_json(job_dir / "outcome.json")
    assert outcome["status"] == "interrupted" and "server stopped" in outcome["error"]

    # The restarted server (its Train page) shows the job's fate from what is on disk.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = tiny_dataset()
    at.run()
    at.switch_page("views/train.py").run()
    assert not at.exception
    assert any("The server stopped while this job was training" in e.value for e in at.error)
    assert any("epochs are kept" in i.value for i in at.info)
    assert {"Resume training", "Save the kept epochs as a run"} <= {b.label for b in at.button}
    assert "**cut short**: interrupted" in [m.value for m in at.markdown]
    next(b for b in at.button if b.label == "Resume training").click().run()
    assert not at.exception
    manager = page_manager(workspace)
    resumed = next(j for j in manager.jobs() if j.resumed_from == job_id)
    finished = manager.wait(resumed.id, timeout=180)
    assert finished.status == "finished" and len(finished.history) == 40


def test_a_job_queued_on_a_server_that_died_is_listed_as_interrupted(workspace):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    folder = workspace / "jobs" / "20260101-000000-abcdef"
    folder.mkdir(parents=True)
    data = tiny_dataset()
    data.frame.to_parquet(folder / "dataset.parquet")
    spec = {
        "kind": "forecast",
        "config": tiny_config(epochs=1).to_dict(),
        "data": data.describe(),
        "workspace": str(workspace),
        "label": "never ran",
        "owner": {"pid": int(dead.stdout), "started": 1},
    }
    (folder / "job.json").write_text(json.dumps(spec))
    old = workspace / "jobs" / "20250101-000000-abcdef"  # a job folder from an older version
    old.mkdir()
    (old / "job.json").write_text(json.dumps({k: spec[k] for k in ("kind", "config", "data")}))
    manager = JobManager()
    assert [j.id for j in manager.jobs()] == [folder.name]
    job = manager.get(folder.name)
    assert job.status == "interrupted" and job.resumable and job.history == []
    assert job.error == "The server stopped before this job left the queue."
    assert read_json(folder / "outcome.json")["status"] == "interrupted"


# ---------------------------------------------------------------- a damaged workspace


def damaged_workspace(workspace: Path) -> dict[str, str]:
    """The legacy runs, three of them damaged in three ways; returns id -> damage."""
    shutil.copytree(LEGACY / "runs", workspace / "runs")
    ids = sorted(p.name for p in (workspace / "runs").iterdir())
    extra = "20261124-153399-0000aa"
    shutil.copytree(workspace / "runs" / ids[0], workspace / "runs" / extra)
    meta = workspace / "runs" / ids[2] / "run.json"  # the anomaly run
    meta.write_text(meta.read_text()[:200])  # truncated
    (workspace / "runs" / ids[1] / "predictions.parquet").unlink()
    model = workspace / "runs" / extra / "model.keras"
    model.write_bytes(model.read_bytes()[:500])  # a half-written archive
    return {
        ids[2]: "run.json is truncated or unreadable",
        ids[1]: "predictions.parquet is missing",
        extra: "model.keras is damaged (not a complete Keras archive)",
        "whole": ids[0],
    }


def test_damaged_runs_are_listed_apart_and_the_rest_still_work(workspace):
    expected = damaged_workspace(workspace)
    whole = expected.pop("whole")
    store = RunStore()
    assert dict(store.damaged()) == expected
    assert [run.id for run in store.runs()] == [whole]
    assert len(store.get(whole).predictions) > 0 and store.get(whole).load_model() is not None

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = tiny_dataset()
    at.run()
    at.switch_page("views/train.py").run()
    assert not at.exception
    assert list(at.dataframe[-1].value["id"]) == [whole]
    shown = " ".join(m.value for m in at.markdown)
    assert all(why in shown for why in expected.values())
    at.switch_page("views/predictions.py").run()  # the whole run opens, charts and all
    assert not at.exception and len(at.get("plotly_chart")) >= 2
    assert all(e.icon == ":material/gavel:" for e in at.error)  # only the run's verdict

    at.switch_page("views/train.py").run()
    for run_id in expected:  # deleting a damaged run works
        next(b for b in at.button if b.key == f"delete_damaged_{run_id}").click().run()
        assert not at.exception
    assert store.damaged() == [] and [r.id for r in store.runs()] == [whole]


def test_a_model_file_that_will_not_load_is_a_message(workspace):
    shutil.copytree(LEGACY / "runs", workspace / "runs")
    run = RunStore().runs()[0]
    with open(run.path / "model.keras", "r+b") as fh:  # still a zip, wrong contents
        fh.seek(40)
        fh.write(b"\0" * 200)
    with pytest.raises(UserError, match="model.keras could not be loaded"):
        run.load_model()


def test_a_damaged_price_cache_entry_is_ignored_and_refetched(workspace):
    store = PriceStore()
    path = store.save("IBM", load_sample("IBM").iloc[:50], source="yahoo")
    path.write_bytes(path.read_bytes()[:100])
    assert store.load("IBM") is None

    def offline(*args, **kwargs):
        raise UserError("Could not reach Yahoo Finance (no network connection?).")

    with pytest.raises(UserError, match="No cached copy of IBM exists yet"):
        load_prices("yahoo", "IBM", store=store, fetcher=offline)
    fresh = load_sample("IBM").iloc[:60]
    result = load_prices("yahoo", "IBM", store=store, fetcher=lambda *a, **k: fresh)
    assert len(result.frame) == 60 and len(store.load("IBM").frame) == 60


# ---------------------------------------------------------------- two users at once


def test_two_sessions_start_jobs_and_each_sees_its_own_and_the_queue(workspace):
    def session(name: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.session_state["dataset"] = tiny_dataset()
        at.run()
        at.switch_page("views/train.py").run()
        for label, value in (("Window (lookback days)", 10), ("Units per layer", 8), ("Epochs", 2)):
            next(w for w in at.number_input if w.label == label).set_value(value)
        next(w for w in at.text_input if w.label.startswith("Run name")).set_value(name)
        return at

    alice, bob = session("alice's run"), session("bob's run")
    for at in (alice, bob):  # within a second of each other
        at.run()
        next(b for b in at.button if b.label == "Start training").click().run()
        assert not at.exception
    manager = page_manager(workspace)  # one per server, shared by the sessions
    first, second = manager.jobs()
    queue = f"Queue: 1. {first.label} (running) · 2. {second.label} (queued, yours)"
    assert queue in [c.value for c in bob.caption]
    assert f"Waiting: 2nd in the queue, after {first.label}." in [c.value for c in bob.caption]
    assert bob.selectbox(key="job_picker_forecast").value == second.id
    assert alice.selectbox(key="job_picker_forecast").value == first.id
    assert f"**{first.label}**: running" in [m.value for m in alice.markdown]

    a, b = manager.wait(first.id, timeout=180), manager.wait(second.id, timeout=180)
    assert a.status == b.status == "finished"
    assert a.ended <= b.started  # in queue order, one at a time
    assert {r.id for r in RunStore().runs()} == {a.run_id, b.run_id}


RACER = """
import shutil, sys
import pandas as pd
from core.store.runs import RunRecord, RunStore
store, tag = RunStore(sys.argv[1]), sys.argv[2]
model_file = store.get(sys.argv[3]).path / "model.keras"
class Model:  # saves a real model file, without TensorFlow in this racer
    def save(self, path):
        shutil.copyfile(model_file, path)
frame = pd.DataFrame({"close": [1.0, 2.0]}, index=pd.date_range("2020-01-01", periods=2))
for i in range(25):
    metrics = {"rel_mae": 1.0, "dm_pvalue": 0.5, "best_lag": 1, "rmse": 1.0, "mae": 1.0}
    record = RunRecord(kind="forecast", name=f"{tag}{i}", status="finished",
                       config={}, data={}, history=[], seconds=0.0, metrics=metrics)
    store.save(record, {"predictions": frame}, frame, model=Model())
    store.rename(sys.argv[3], f"renamed by {tag} {i}")
print("ok")
"""


def test_cli_and_app_writing_one_workspace_at_once_corrupt_nothing(workspace):
    shutil.copytree(LEGACY / "runs", workspace / "runs")
    shared = RunStore().runs()[0].id
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(workspace), tag, shared],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for tag in ("cli", "app")
    ]
    assert [p.communicate(timeout=120)[0].strip() for p in racers] == ["ok", "ok"]
    folders = list((workspace / "runs").iterdir())
    assert len(folders) == 3 + 50 and all(not p.name.startswith(".") for p in folders)
    store = RunStore()
    names = {json.loads((p / "run.json").read_text())["name"] for p in folders}
    assert {f"{tag}{i}" for tag in ("cli", "app") for i in range(25)} <= names
    assert store.get(shared).name.startswith("renamed by")
    assert len(store.runs()) == 53 and store.damaged() == []


# ---------------------------------------------------------------- limits


def test_a_million_row_csv_is_refused_quickly_with_the_limit(tmp_path):
    rows = pd.DataFrame(
        {"Date": pd.date_range("1900-01-01", periods=1_000_000, freq="h").strftime("%Y-%m-%d %H")}
    )
    rows["Close"] = 1.0
    path = tmp_path / "huge.csv"
    rows.to_csv(path, index=False)
    started = time.monotonic()
    with pytest.raises(UserError) as refused:
        read_price_csv(path)
    assert time.monotonic() - started < 3.0
    assert f"at most {MAX_CSV_ROWS:,}" in str(refused.value)
    assert "1,000,000 rows" in str(refused.value)


def test_the_queue_has_a_maximum_and_says_so(workspace, monkeypatch):
    monkeypatch.setenv("LAGLENS_MAX_JOBS", "6")
    data = tiny_dataset()
    manager = JobManager(max_parallel=0)  # nothing starts: only the queue is under test
    config = tiny_config(epochs=1)
    jobs = [  # three people, two jobs each: no one is over their own cap
        manager.submit("forecast", data.frame, data.describe(), config, f"j{i}", person=who)
        for i, who in enumerate([Person(f"p{k}@example.com") for k in range(3)] * 2)
    ]
    with pytest.raises(UserError, match="The queue is full: 6 jobs .* \\(LAGLENS_MAX_JOBS\\)"):
        manager.submit("forecast", data.frame, data.describe(), config, "one too many")
    assert len([p for p in manager.jobs_dir.iterdir() if p.is_dir()]) == 6  # no 7th folder
    manager.stop(jobs[0].id, by=Person("p0@example.com"))
    manager.submit("forecast", data.frame, data.describe(), config, "room again")
    for job in manager.jobs():
        manager.stop(job.id, by=Person(job.person))


def test_a_resumed_job_estimates_its_time_left_from_its_own_epochs():
    from core.jobs.state import Job

    rows = [{"epoch": i + 1, "loss": 1.0, "val_loss": 1.0} for i in range(10)]
    job = Job("id", "forecast", "x", {}, status="running", started=time.time() - 10.0)
    job.total_epochs, job.history, job.resumed_at = 20, rows, 8  # 8 kept, 2 trained in 10 s
    assert job.eta_seconds() == pytest.approx(50.0, rel=0.02)  # 10 epochs left at 5 s each
