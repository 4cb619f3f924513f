"""Who goes next when people share one server: fair share, not first come, first served.

Everyone's first waiting job goes before anyone's second (a person's first job ahead of
another's twentieth); among jobs of the same turn, whoever used the least CPU in the last
hour goes first, then the earlier. A compare set's jobs share the turn and place of its
first job, so its two sides stay together and start together.

Caps per person (`Caps`, each a setting with a default) hold a job back whatever its place:
running jobs, queued jobs (refused at submit), and CPU-seconds over the last hour. The CPU
cap holds a person back only while someone under it is waiting: a server nobody else wants
is not left idle.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass

RECENT_SECONDS = 3600.0  # the window "used recently" looks back over


def _setting(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class Caps:
    """The queue's limits: the one place they are set (each from its environment variable)."""

    running: int = 2  # jobs one person runs at once: a compare set's two sides
    queued: int = 8  # jobs one person may have waiting: four compare sets
    cpu_seconds: int = 1800  # CPU-seconds one person may use in an hour while others wait
    total: int = 240  # waiting and running jobs on the server: a class of 30, 8 each

    @classmethod
    def from_env(cls) -> Caps:
        return cls(
            running=_setting("LAGLENS_MAX_RUNNING_PER_PERSON", cls.running),
            queued=_setting("LAGLENS_MAX_QUEUED_PER_PERSON", cls.queued),
            cpu_seconds=_setting("LAGLENS_CPU_SECONDS_PER_HOUR", cls.cpu_seconds),
            total=_setting("LAGLENS_MAX_JOBS", cls.total),
        )


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


def held_back(job, running: list, usage: dict[str, float], caps: Caps) -> str:
    """Why a waiting job may not start now whatever its place (a cap), in words, or ''.
    A job of a compare set whose other side runs is never held back: the set starts
    together."""
    if job.group and any(r.group == job.group for r in running):
        return ""
    mine = sum(r.person == job.person for r in running)
    if mine >= caps.running:
        return f"you have {mine} jobs running, the most one person may run at once"
    used = usage.get(job.person, 0.0)
    if used >= caps.cpu_seconds:
        return (
            f"you used {used:,.0f} CPU-seconds in the last hour, over the "
            f"{caps.cpu_seconds:,} one person may use while others wait"
        )
    return ""


def next_up(queued: list, running: list, usage: dict[str, float], caps: Caps) -> list:
    """The waiting jobs that may start now, in the order they may: the fair order without
    the capped ones (a CPU-capped person's jobs come back when nobody uncapped waits)."""
    order = start_order(queued, usage)
    # a set whose other side runs comes first: it starts beside it, slot or not
    together = {r.group for r in running if r.group}
    order = [j for j in order if j.group in together] + [
        j for j in order if j.group not in together
    ]
    free = [j for j in order if not held_back(j, running, usage, caps)]
    if free:
        return free
    uncapped = Caps(caps.running, caps.queued, 10**12, caps.total)
    return [j for j in order if not held_back(j, running, usage, uncapped)]


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
