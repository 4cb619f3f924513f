"""Who goes next when people share one server: fair share, not first come, first served.

Everyone's first waiting job goes before anyone's second (a person's first job ahead of
another's twentieth); among jobs of the same turn, whoever used the least CPU in the last
hour goes first, then the earlier. A compare set's jobs share the turn and place of its
first job, so its two sides stay together and start together.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

RECENT_SECONDS = 3600.0  # the window "used recently" looks back over


def max_queued_per_person() -> int:
    """How many jobs one person may have waiting ($LAGLENS_MAX_QUEUED_PER_PERSON, default 8:
    four compare sets)."""
    try:
        return max(1, int(os.environ.get("LAGLENS_MAX_QUEUED_PER_PERSON", "8")))
    except ValueError:
        return 8


def recent_usage(jobs, now: float | None = None) -> dict[str, float]:
    """CPU-seconds each person's jobs used over the last RECENT_SECONDS (a job pinned to
    cores counts each core; an unpinned one, one). Jobs or the job table's rows."""
    now = time.time() if now is None else now
    used: dict[str, float] = defaultdict(float)
    for job in jobs:
        if job.started is None:
            continue
        start = max(job.started, now - RECENT_SECONDS)
        end = job.ended if job.ended is not None else now
        cores = job.cores if isinstance(job.cores, int) else len(job.cores)
        if end > start:
            used[job.person] += (end - start) * max(cores, 1)
    return dict(used)


def start_order(queued: list, usage: dict[str, float]) -> list:
    """The waiting jobs in the order they may start (see the module's docstring)."""
    turn: dict[str, int] = {}
    anchor: dict[str, float] = {}  # a job's place in time: its set's first job's
    taken: dict[str, int] = defaultdict(int)
    groups: dict[str, tuple[int, float]] = {}
    for job in sorted(queued, key=lambda j: j.created):
        if job.group and job.group in groups:
            turn[job.id], anchor[job.id] = groups[job.group]
            continue
        turn[job.id], anchor[job.id] = taken[job.person], job.created
        taken[job.person] += 1
        if job.group:
            groups[job.group] = (turn[job.id], job.created)
    return sorted(
        queued,
        key=lambda j: (turn[j.id], usage.get(j.person, 0.0), anchor[j.id], j.created),
    )


def place_note(job, order: list, running: list) -> str:
    """Where a waiting job stands, in words: "3rd in line; 2 people ahead of you"."""
    if job not in order:
        return ""
    ahead = order[: order.index(job)]
    people = {j.person for j in [*running, *ahead] if j.person != job.person}
    place = len(ahead) + 1
    suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
    who = f"{len(people)} {'person' if len(people) == 1 else 'people'} ahead of you"
    return f"{place}{suffix} in line; {who}."
