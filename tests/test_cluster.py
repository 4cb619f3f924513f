"""Training jobs on a Ray cluster (issue 43): a 2-node cluster on 127.0.0.1 started by the
test (`python -m core.experiments.raycluster`), stopped by it, its processes checked gone
by the PIDs it printed."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from core.jobs.manager import JobManager
from core.store.runs import RunStore
from core.workspace import read_json
from tests.conftest import ROOT
from tests.helpers import TINY_FLAGS, TINY_SAMPLE_FLAGS, run_cli, tiny_config, tiny_dataset

pytestmark = pytest.mark.integration


class LoopbackCluster:
    """The cluster script's address, every PID it started, and each node's own PIDs."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core.experiments.raycluster", "--nodes", "2", "--cpus", "1"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.address = self.proc.stdout.readline().split()[1]
        self.pids = [int(p) for p in self.proc.stdout.readline().split()[1:]]
        self.nodes = {}  # node id -> (role, pids)
        for _ in range(2):
            _, node, role, *pids = self.proc.stdout.readline().split()
            self.nodes[node] = (role, [int(p) for p in pids])
        assert self.address.startswith("127.0.0.1:")

    def stop(self) -> None:
        if "ray" in sys.modules:  # this process's driver first: it would wait for a gone cluster
            sys.modules["ray"].shutdown()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        time.sleep(1)
        alive = [p for p in self.pids if os.path.exists(f"/proc/{p}")]
        zombies = [p for p in alive if "Z" in open(f"/proc/{p}/stat").read().split()[2]]
        assert alive == zombies, "the cluster left processes behind"


@pytest.fixture
def cluster():
    started = LoopbackCluster()
    try:
        yield started
    finally:
        started.stop()


def test_an_address_where_no_cluster_answers_is_refused_at_once(workspace):
    """A bad --address (or LAGLENS_RAY_ADDRESS) is a clear error, exit 2, in seconds: Ray
    itself would retry for minutes. Nothing is written."""
    from tests.conftest import free_port

    for address, why in (
        (f"127.0.0.1:{free_port()}", "nothing answers there"),
        ("nohost", "that is not HOST:PORT"),
    ):
        started = time.monotonic()
        out = run_cli(
            "train", *TINY_SAMPLE_FLAGS, *TINY_FLAGS, "--address", address, workspace=workspace
        )
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
        assert f"Cannot reach the Ray cluster at {address}: {why}" in out.stderr
        assert time.monotonic() - started < 60
    assert not (workspace / "runs").exists() or not any((workspace / "runs").iterdir())


def metrics_of(out) -> dict:
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_runs_on_the_cluster_equal_the_same_runs_here_and_record_their_node(cluster, workspace):
    """A single run and a seed set, from the CLI, on the cluster and on this machine."""
    flags = (*TINY_SAMPLE_FLAGS, *TINY_FLAGS, "--epochs", 2)
    for extra in ((), ("--n-seeds", 2)):
        here = metrics_of(run_cli("train", *flags, *extra, workspace=workspace))
        there = metrics_of(
            run_cli("train", *flags, *extra, "--address", cluster.address, workspace=workspace)
        )
        for key in ("rel_mae", "rmse", "mae"):
            assert there["metrics"][key] == pytest.approx(here["metrics"][key], rel=1e-6, abs=1e-9)
        store = RunStore(workspace)
        assert store.get(here["run_id"]).record.node is None  # trained here
        assert store.get(there["run_id"]).record.node in cluster.nodes  # on a node, saved here
        assert len(store.get(there["run_id"]).record.seeds) == (extra[1] if extra else 1)
    # a compare set from the CLI: each side a seed set, here in pinned workers, there in
    # a placement group; the same runs, the same head-to-head answer
    pair = (*TINY_SAMPLE_FLAGS, "--with", "MSFT", *TINY_FLAGS, "--epochs", 2, "--n-seeds", 2)
    here = metrics_of(run_cli("compare", *pair, workspace=workspace))
    there = metrics_of(run_cli("compare", *pair, "--address", cluster.address, workspace=workspace))
    for mine, theirs in zip(here["runs"], there["runs"], strict=True):
        assert theirs["side"] == mine["side"]
        assert theirs["metrics"]["rel_mae"] == pytest.approx(mine["metrics"]["rel_mae"], rel=1e-6)
    h2h = there["head_to_head"]["dm_pvalue"]
    assert h2h == pytest.approx(here["head_to_head"]["dm_pvalue"], rel=1e-6)
    assert {store.get(r["run_id"]).record.node for r in there["runs"]} <= set(cluster.nodes)


def test_a_compare_set_starts_both_sides_at_once_and_stop_stops_them(cluster, workspace):
    """The set's sides share a placement group (one CPU each, one per node here); live
    curves arrive while they train; Stop ends both within moments."""
    from core.config import CompareConfig
    from core.data import extra_column
    from core.experiments.compare_sets import submit_pair_set

    data = tiny_dataset(extras=["MSFT"])
    manager = JobManager(address=cluster.address)
    features = ["close", extra_column("MSFT")]
    config = tiny_config(epochs=400, backend="tensorflow", features=features)
    _, jobs = submit_pair_set(
        manager, data.frame, data.describe(), config, CompareConfig(n_seeds=1)
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen = [manager.get(j.id) for j in jobs]
        if all(len(j.history) >= 2 for j in seen):
            break
        time.sleep(0.1)
    assert [j.status for j in seen] == ["running", "running"], [j.error for j in seen]
    assert all(len(j.batch_losses) >= 2 for j in seen)  # the live curves, while they train
    nodes = {read_json(manager.jobs_dir / j.id / "worker.pid")["node"] for j in jobs}
    assert nodes == set(cluster.nodes)  # one side on each node, at once
    asked = time.monotonic()
    manager.stop(jobs[0].id)  # the set stops as one
    ended = [manager.wait(j.id, timeout=60) for j in jobs]
    assert time.monotonic() - asked < 10
    assert [j.status for j in ended] == ["stopped", "stopped"], [j.error for j in ended]
    for job in ended:
        run = RunStore().get(job.run_id)
        assert run.meta["status"] == "stopped" and run.record.node in cluster.nodes
        assert 2 <= run.record.epochs_run < 400
    manager.close()


def kept_epochs(job_dir) -> int:
    return len((read_json(job_dir / "checkpoint.json") or {}).get("history", []))


def test_a_lost_node_costs_at_most_an_epoch_and_its_job_is_saved_once(cluster, workspace):
    """Two twins train, one on each node; the worker node's processes are killed (by the
    PIDs the cluster script printed). Its job is queued again by the job table and carries on
    from the checkpoint the server holds, on the node left, and is saved once."""
    data = tiny_dataset()
    manager = JobManager(address=cluster.address)
    config = tiny_config(epochs=12, backend="tensorflow")
    twins = [
        manager.submit("forecast", data.frame, data.describe(), config, f"twin {i}")
        for i in range(2)
    ]
    lost_node = next(n for n, (role, _) in cluster.nodes.items() if role == "worker")

    def on_lost_node():
        for job in twins:
            where = read_json(manager.jobs_dir / job.id / "worker.pid") or {}
            if where.get("node") == lost_node and kept_epochs(manager.jobs_dir / job.id) >= 2:
                return job
        return None

    deadline = time.monotonic() + 180
    while (victim := on_lost_node()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert victim is not None, [manager.get(j.id) for j in twins]
    for pid in cluster.nodes[lost_node][1]:
        os.kill(pid, signal.SIGKILL)
    ended = manager.wait(victim.id, timeout=120)
    assert ended.status == "resumed" and "was lost" in ended.error, ended.error
    reached = ended.epoch  # the epoch it was training when its node went
    retry = manager.wait(ended.result["by"], timeout=300)
    assert retry.status == "finished", retry.error
    assert reached - 1 - retry.resumed_at <= 1  # at most one finished epoch trained again
    assert [row["epoch"] for row in retry.history] == list(range(1, 13))
    other = manager.wait(next(j.id for j in twins if j.id != victim.id), timeout=300)
    store = RunStore()
    runs = store.runs()
    assert sorted(r.name for r in runs) == sorted([other.label, retry.label])  # each once
    assert store.get(retry.run_id).record.node != lost_node
    # the optimizer's moments start again on resuming: close to, not equal with, its twin
    twin, resumed = other.result["metrics"]["rel_mae"], retry.result["metrics"]["rel_mae"]
    assert resumed == pytest.approx(twin, abs=0.05)
    manager.close()


SERVER = """
import sys, time
from core.jobs.manager import JobManager
from tests.helpers import tiny_config, tiny_dataset
manager = JobManager(address=sys.argv[1])
data = tiny_dataset()
config = tiny_config(epochs=12, backend="tensorflow")
print(manager.submit("forecast", data.frame, data.describe(), config, "restart me").id, flush=True)
time.sleep(600)
"""


def test_a_server_restarted_while_its_job_trains_on_the_cluster_resumes_it(cluster, workspace):
    """The server process dies mid-job (SIGKILL); its task ends with it (Ray's ownership), so
    it saves nothing. The server started again resumes the job from its checkpoint: one run."""
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, cluster.address], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        job_id = server.stdout.readline().strip()
        jobs = workspace / "jobs"
        deadline = time.monotonic() + 180
        while kept_epochs(jobs / job_id) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert kept_epochs(jobs / job_id) >= 2
    finally:
        server.kill()
        server.wait()
    kept = kept_epochs(jobs / job_id)
    manager = JobManager(address=cluster.address)  # the server, started again
    old = manager.get(job_id)
    assert old.status == "resumed", old.error
    new = manager.wait(old.result["by"], timeout=300)
    assert new.status == "finished", new.error
    assert new.resumed_at == kept and [r["epoch"] for r in new.history] == list(range(1, 13))
    time.sleep(2)  # were the first task still going, it would save now: it does not
    assert [r.id for r in RunStore().runs()] == [new.run_id]
    manager.close()


def test_the_train_page_trains_on_the_cluster_and_shows_the_live_curve(
    cluster, workspace, monkeypatch
):
    from tests.helpers import figure_of, values
    from tests.test_pages_train import open_train_page, set_number

    monkeypatch.setenv("LAGLENS_RAY_ADDRESS", cluster.address)
    at = open_train_page()
    set_number(at, "Window (lookback days)", 10)
    set_number(at, "Units per layer", 8)
    set_number(at, "Epochs", 3)
    set_number(at, "Seeds (trained together)", 2)  # a seed set
    at.run()
    next(b for b in at.button if b.label == "Start training").click().run()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception
        if any("Saved run" in s.value for s in at.success):
            break
        time.sleep(0.3)
    assert any("Saved run" in s.value for s in at.success), [m.value for m in at.markdown]
    loss = figure_of(next(c for c in at.get("plotly_chart") if "live_loss" in c.proto.id))
    traces = {trace["name"]: trace for trace in loss["data"]}
    assert values(traces["train"]["x"]) == [1, 2, 3]
    (run,) = RunStore().runs()
    assert run.record.node in cluster.nodes and run.meta["epochs_run"] == 3
    assert run.meta["n_seeds"] == 2
