"""A queue shared by a class: the start order on the job table, as submitted (no model is
trained: the order and the caps are the rules under test)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from core.errors import UserError
from core.jobs.fairshare import Caps, next_up, place_note, recent_usage, start_order


@dataclass
class Queued:
    id: str
    person: str
    created: float
    group: str = ""
    started: float | None = None
    ended: float | None = None
    cores: tuple = field(default_factory=tuple)


def submissions(*rows) -> list[Queued]:
    return [Queued(f"j{i}", *row) for i, row in enumerate(rows)]


def test_everyones_first_job_goes_before_anyones_second():
    # alice queues 20 jobs first; bob, then carol, one each, later
    queue = submissions(*[("alice", float(t)) for t in range(20)], ("bob", 30.0), ("carol", 31.0))
    order = [j.person for j in start_order(queue, {})]
    assert order[:3] == ["alice", "bob", "carol"] and order[3:] == ["alice"] * 19


def test_among_equal_turns_whoever_used_less_cpu_recently_goes_first():
    queue = submissions(("alice", 1.0), ("bob", 2.0))
    assert [j.person for j in start_order(queue, {"alice": 600.0, "bob": 60.0})] == [
        "bob",
        "alice",
    ]
    ran = [Queued("r1", "alice", 0.0, started=100.0, ended=400.0, cores=(0,))]
    ran.append(Queued("r2", "bob", 0.0, started=3000.0, cores=(0, 1)))  # still running
    assert recent_usage(ran, now=3600.0) == {"alice": 300.0, "bob": 1200.0}
    old = [Queued("r3", "carol", 0.0, started=0.0, ended=10.0)]
    assert recent_usage(old, now=7200.0) == {}  # longer ago than an hour: forgotten


def test_a_compare_sets_sides_stay_together_in_the_order():
    queue = submissions(
        ("alice", 1.0, "set-a"), ("bob", 1.5), ("alice", 2.0, "set-a"), ("carol", 2.5)
    )
    order = [(j.person, j.group) for j in start_order(queue, {})]
    assert order[:2] == [("alice", "set-a"), ("alice", "set-a")]  # they start together
    assert order[2:] == [("bob", ""), ("carol", "")]


def test_a_waiting_job_says_where_it_stands():
    queue = submissions(("alice", 1.0), ("bob", 2.0), ("carol", 3.0))
    order = start_order(queue, {})
    running = [Queued("r", "dave", 0.0, started=0.0)]
    assert place_note(order[2], order, running) == "3rd in line; 3 people ahead of you."
    assert place_note(order[0], order, []) == "1st in line; 0 people ahead of you."


def test_a_person_may_queue_only_so_many_jobs(workspace, monkeypatch):
    from core.jobs.manager import JobManager
    from core.store.people import Person
    from tests.helpers import tiny_config, tiny_dataset

    monkeypatch.setenv("LAGLENS_MAX_QUEUED_PER_PERSON", "2")
    manager = JobManager(max_parallel=0)  # nothing starts: only the queue is under test
    data, alice = tiny_dataset(), Person("alice@example.com")
    for _ in range(2):
        manager.submit("forecast", data.frame, data.describe(), tiny_config(), "a", person=alice)
    with pytest.raises(UserError, match="You have 2 jobs waiting, the most one person may"):
        manager.submit("forecast", data.frame, data.describe(), tiny_config(), "a", person=alice)
    bob = Person("bob@example.com")  # another person is not held back by alice's jobs
    job = manager.submit("forecast", data.frame, data.describe(), tiny_config(), "b", person=bob)
    assert [j.person for j in manager.waiting_order()][:2] == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert job.person == "bob@example.com"


def test_a_sets_side_whose_other_side_runs_goes_first_whatever_its_turn():
    """A side queued again (its worker died) while the other side runs starts beside it,
    before everyone's first job: the set trains together."""
    queue = submissions(("bob", 1.0), ("carol", 2.0), ("alice", 50.0, "set-a"))
    running = [Queued("r", "alice", 0.0, group="set-a", started=40.0)]
    order = next_up(queue, running, {"alice": 500.0}, Caps())
    assert [j.person for j in order] == ["alice", "bob", "carol"]
