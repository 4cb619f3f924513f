"""The class benchmark's small version (issue 42): 3 people x 2 jobs on the real queue, one
worker killed with SIGKILL mid-run. Nothing lost, nothing started twice, and nobody's
first job waited behind another person's later one."""

from __future__ import annotations

import json

import pytest

from benchmarks import bench_class


@pytest.mark.integration
def test_three_people_share_the_queue_and_a_killed_worker_loses_nothing(tmp_path, capsys):
    result = bench_class.main(
        people=3, jobs=2, within=5.0, kill_worker=True, workspace=str(tmp_path / "ws")
    )
    printed = capsys.readouterr().out.strip().splitlines()
    assert json.loads(printed[-1]) == result  # the last line is the JSON the issue names
    assert set(result) >= {
        "people",
        "jobs_per_person",
        "first_start_wait_s",
        "job_seconds",
        "share",
        "lost",
        "twice",
        "worker_killed",
    }
    assert (result["people"], result["jobs_per_person"]) == (3, 2)
    assert result["worker_killed"] == 1 and result["retried"] >= 1  # queued again, not lost
    assert result["lost"] == 0 and result["twice"] == 0
    assert result["overtaken"] == 0
    assert 0 <= result["first_start_wait_s"]["p50"] <= result["first_start_wait_s"]["p95"]
    assert sum(line.startswith("student") for line in printed) == 3  # a row per person
