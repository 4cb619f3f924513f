"""The job table (SQLite, WAL) on its own: submissions in, the start order out, claims
from two processes that never start a job twice, stale leases taken over once."""

from __future__ import annotations

import json
import subprocess
import sys

from core.jobs.fairshare import Caps
from core.jobs.table import JobTable
from tests.conftest import ROOT


def table_with(path, *jobs) -> JobTable:
    table = JobTable(path)
    for i, (person, group) in enumerate(jobs):
        table.add(f"j{i:02d}", person, "forecast", group, "server-a", created=float(i))
    return table


def test_claims_follow_fair_share_and_the_free_slots(tmp_path):
    table = table_with(
        tmp_path / "jobs.sqlite", ("alice", ""), ("alice", ""), ("alice", ""), ("bob", "")
    )
    assert table.claim("j00", "server-a", slots=1)  # alice's first
    assert not table.claim("j03", "server-a", slots=1)  # no free slot
    table.finish("j00", "finished")
    assert not table.claim("j01", "server-a", slots=1)  # bob's first goes before alice's 2nd
    assert table.claim("j03", "server-a", slots=1)
    table.finish("j03", "finished")
    assert table.claim("j01", "server-a", slots=1)
    assert [r.status for r in table.rows()] == ["finished", "running", "queued", "finished"]


def test_a_sets_second_side_starts_beside_its_first(tmp_path):
    table = table_with(tmp_path / "jobs.sqlite", ("alice", "set"), ("alice", "set"), ("bob", ""))
    assert table.claim("j00", "server-a", slots=1)
    assert table.claim("j01", "server-a", slots=1)  # its sibling runs: it may, slot or not
    assert not table.claim("j02", "server-a", slots=1)


def test_a_person_at_the_running_cap_waits_while_others_start(tmp_path):
    caps = Caps(running=1)
    table = table_with(tmp_path / "jobs.sqlite", ("alice", ""), ("alice", ""), ("bob", ""))
    assert table.claim("j00", "server-a", slots=3, caps=caps)
    assert not table.claim("j01", "server-a", slots=3, caps=caps)  # alice runs 1 already
    assert table.claim("j02", "server-a", slots=3, caps=caps)  # bob is not held back
    table.finish("j00", "finished")
    assert table.claim("j01", "server-a", slots=3, caps=caps)


def test_the_cpu_cap_holds_a_person_back_only_while_someone_under_it_waits(tmp_path):
    caps = Caps(cpu_seconds=100)
    table = table_with(
        tmp_path / "jobs.sqlite", ("alice", ""), ("alice", ""), ("bob", ""), ("alice", "")
    )
    assert table.claim("j00", "server-a", slots=1, caps=caps)
    table._db.execute("UPDATE jobs SET started = started - 500 WHERE id = 'j00'")  # 500 s used
    table.finish("j00", "finished")
    assert not table.claim("j01", "server-a", slots=1, caps=caps)  # bob waits: he goes first
    assert table.claim("j02", "server-a", slots=1, caps=caps)
    table.finish("j02", "finished")
    assert table.claim("j01", "server-a", slots=1, caps=caps)  # nobody else waits: no idling


def test_two_servers_share_one_order_and_one_set_of_slots(tmp_path):
    """Server A queued alice's two jobs, server B bob's one, later: B's job goes second, and
    while it runs A starts nothing (one slot for both)."""
    path = tmp_path / "jobs.sqlite"
    a, b = JobTable(path), JobTable(path)
    for i, (table, server, person) in enumerate(
        [(a, "server-a", "alice"), (a, "server-a", "alice"), (b, "server-b", "bob")]
    ):
        table.add(f"j{i}", person, "forecast", "", server, created=float(i))
    assert a.claim("j0", "server-a", slots=1)
    a.finish("j0", "finished")
    assert not a.claim("j1", "server-a", slots=1)  # bob's first, on the other server, is next
    assert b.claim("j2", "server-b", slots=1)
    assert not a.claim("j1", "server-a", slots=1)  # the one slot is taken on server B
    b.finish("j2", "finished")
    assert a.claim("j1", "server-a", slots=1)


def test_a_waiting_job_of_a_server_that_stopped_beating_holds_nobody_up(tmp_path):
    table = table_with(tmp_path / "jobs.sqlite", ("alice", ""), ("bob", ""))
    table._db.execute("UPDATE jobs SET heartbeat = 0 WHERE id = 'j00'")  # its server is gone
    assert table.claim("j01", "server-b", slots=1)
    assert [r.id for r in table.stale()] == ["j00"]  # for a living server to take over


CLAIMER = """
import json, sys, time
from core.jobs.fairshare import Caps
from core.jobs.table import JobTable
from pathlib import Path
table, mine = JobTable(sys.argv[1]), []
# both start claiming together, however slowly each process started
Path(sys.argv[1] + "." + sys.argv[2]).touch()
while len(list(Path(sys.argv[1]).parent.glob("*.server-*"))) < 2:
    time.sleep(0.01)
deadline = time.time() + 60
while time.time() < deadline:
    waiting = [r.id for r in table.rows("WHERE status = 'queued'")]
    if not waiting:
        break
    for job_id in waiting:
        if table.claim(job_id, sys.argv[2], slots=2):
            mine.append(job_id)
            table.finish(job_id, "finished")
            time.sleep(0.005)  # a job's work: the other server claims meanwhile
print(json.dumps(mine))
"""


def test_two_server_processes_never_start_a_job_twice(tmp_path):
    path = tmp_path / "jobs.sqlite"
    people = [("alice", ""), ("bob", ""), ("carol", "")] * 20
    table_with(path, *people).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(path), name], cwd=ROOT, stdout=subprocess.PIPE
        )
        for name in ("server-a", "server-b")
    ]
    claimed = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    every = claimed[0] + claimed[1]
    assert sorted(every) == [f"j{i:02d}" for i in range(60)]  # none lost, none twice
    assert all(claimed), claimed  # both servers took part
    rows = JobTable(path).rows()
    assert {r.status for r in rows} == {"finished"} and {r.attempts for r in rows} == {1}


def test_a_stale_lease_is_taken_over_by_one_server_only(tmp_path):
    table = table_with(tmp_path / "jobs.sqlite", ("alice", ""))
    assert table.claim("j00", "server-a", slots=1)
    assert table.stale() == []  # it just beat
    later = table.get("j00").heartbeat + 31
    assert [r.id for r in table.stale(now=later)] == ["j00"]
    other = JobTable(tmp_path / "jobs.sqlite")
    assert table.take_over("j00", "server-b", lease=-1)  # as if 31 s had passed
    assert not other.take_over("j00", "server-c", lease=-1)  # taken once
    assert table.get("j00").server == "server-b"


def test_every_job_is_in_the_table_with_its_person_and_end(workspace):
    from tests.helpers import TINY_FLAGS, TINY_SAMPLE_FLAGS, last_json, run_cli

    done = run_cli(
        "train", *TINY_SAMPLE_FLAGS, *TINY_FLAGS, "--user", "alice@example.com", workspace=workspace
    )
    run_id = last_json(done)["run_id"]
    (row,) = JobTable(workspace / "jobs" / "jobs.sqlite").rows()
    assert (row.id, row.person, row.status, row.attempts) == (
        run_id,
        "alice@example.com",
        "finished",
        1,
    )
    assert row.started >= row.created and row.ended >= row.started and row.worker
    listing = run_cli("jobs", workspace=workspace)
    assert listing.returncode == 0 and "alice@example.com" in listing.stdout
    assert "finished" in listing.stdout and run_id in listing.stdout


SERVER_A = """
import sys, time
from core.jobs.manager import JobManager
from tests.helpers import tiny_config, tiny_dataset
data = tiny_dataset()
manager = JobManager(sys.argv[1])
config = tiny_config(epochs=20, early_stopping=False, name="long job")
job = manager.submit("forecast", data.frame, data.describe(), config, "long job")
print(job.id, flush=True)
time.sleep(600)
"""


def test_a_job_whose_server_dies_is_taken_over_and_finished_by_another(workspace, monkeypatch):
    """Two servers on one workspace; the one running a job is killed (SIGKILL). Within the
    lease the other finds the job, resumes it from its last epoch and finishes it: nothing
    lost, nothing run twice."""
    import os
    import signal
    import time

    from core.jobs.manager import JobManager
    from core.store.checkpoint import read_checkpoint
    from core.store.runs import RunStore

    monkeypatch.setenv("LAGLENS_BEAT_SECONDS", "0.5")
    monkeypatch.setenv("LAGLENS_LEASE_SECONDS", "4")
    survivor = JobManager(workspace)  # server B, running nothing
    env = {**os.environ}
    server_a = subprocess.Popen(
        [sys.executable, "-c", SERVER_A, str(workspace)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        job_id = server_a.stdout.readline().strip()
        deadline = time.monotonic() + 120
        while len((read_checkpoint(workspace / "jobs" / job_id) or {}).get("history", [])) < 2:
            assert time.monotonic() < deadline, "server A's job never trained an epoch"
            time.sleep(0.2)
        server_a.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        server_a.wait(timeout=30)
        while not [j for j in survivor.jobs() if j.id != job_id and j.active]:
            assert time.monotonic() - killed < 30, "the job was never taken over"
            time.sleep(0.2)
        (resumed,) = [j for j in survivor.jobs() if j.id != job_id]
        assert resumed.resumed_from == job_id and resumed.label == "long job (resumed)"
        done = survivor.wait(resumed.id, timeout=180)
        assert done.status == "finished", done.error
        run = RunStore(workspace).get(done.run_id)
        assert run.record.epochs_run == 20  # every epoch once: the kept ones, then the rest
        table = JobTable(workspace / "jobs" / "jobs.sqlite")
        while table.get(resumed.id).status == "running":  # its worker exits after the run
            assert time.monotonic() - killed < 240
            time.sleep(0.2)
        rows = {r.id: r for r in table.rows()}
        assert rows[job_id].status == "interrupted" and rows[resumed.id].status == "finished"
        assert rows[resumed.id].attempts == 1 and rows[job_id].attempts == 1  # never twice
    finally:
        survivor.close()
        if server_a.poll() is None:
            server_a.kill()


def test_a_sweeps_trials_take_turns_with_everyones_jobs(workspace):
    """Issue 43: a sweep's trials wait in the job table as their person's jobs. Bob's one run,
    queued after three of Ann's trials, starts before her second: she has had her turn."""
    import time

    from core.experiments.sweeps import Turns
    from core.jobs.table import TABLE

    turns = Turns(workspace, "ann@example.com", "sweep-1")
    turns.slots = 1
    for key in ("t1", "t2", "t3"):
        turns.queue(key)
    assert turns.ready() == ["t1"]
    table = JobTable(workspace / "jobs" / TABLE)
    table.add("bob-run", "bob@example.com", "forecast", "", "app:host:1:x", time.time())
    assert turns.ready() == []  # one slot, taken by Ann's first trial
    turns.end("t1", "finished")
    assert turns.ready() == []  # Bob's turn, though Ann's trials were queued first
    assert table.claim("bob-run", "app:host:1:x", 1)
    table.finish("bob-run", "finished")
    assert turns.ready() == ["t2"]
    turns.close()  # the driver ends: its trials do not stay open in the table
    rows = {r.id: r for r in table.rows()}
    assert sorted(r.status for r in rows.values()) == [
        "cancelled",
        "cancelled",
        "finished",
        "finished",
    ]
    assert {r.person for r in rows.values() if r.server.startswith("sweep:")} == {"ann@example.com"}


def test_a_gone_sweep_drivers_trials_are_ended_not_taken_over(workspace):
    """A sweep's driver that stopped beating leaves no trial holding a slot, and no job
    folder is made up for it (it has none)."""
    from core.jobs.manager import JobManager

    manager = JobManager()
    manager.table.add("trial-1", "ann", "sweep trial", "", "sweep:host:1:s", 0.0)
    manager.table.claim("trial-1", "sweep:host:1:s", 1)
    with manager.table._lock:
        manager.table._db.execute("UPDATE jobs SET heartbeat = 0 WHERE id = 'trial-1'")
    manager._watch_once()
    row = manager.table.get("trial-1")
    assert row.status == "interrupted" and row.error == "Its sweep's driver is gone."
    assert not (manager.jobs_dir / "trial-1").exists()
    manager.close()
