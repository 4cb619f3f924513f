"""Leases: how a job manager keeps its jobs' rows alive in the job table, finds another
server gone and carries on its jobs, and queues again a job whose worker died.

A server beats for its waiting and running jobs every BEAT_SECONDS; a job whose server has
not beaten for the lease (core/jobs/table.py) is taken over by another server and resumed
from its last epoch, as is a job whose worker died under a living server, at most
MAX_ATTEMPTS times in all; then it ends interrupted, saying so, to be saved or resumed by
hand ($LAGLENS_BEAT_SECONDS and $LAGLENS_LEASE_SECONDS shorten both for a test).
`Leases` is the part of JobManager (core/jobs/manager.py) that does it.
"""

from __future__ import annotations

import os
import signal
import time
import weakref

from core.errors import UserError
from core.jobs.state import OUTCOME, PID, SERVER_GONE, JobSpec, pid_alive
from core.workspace import read_json, write_json

BEAT_SECONDS = 5.0
MAX_ATTEMPTS = 3


class Leases:
    """JobManager's beat, take-over and retry (it holds the table, the lock and the jobs)."""

    def _watch_once(self) -> None:
        """One beat for this server's jobs; take over another server's jobs whose lease ran
        out (that server is gone) and resume each from its last epoch; start what the table
        now lets start (a slot another server freed)."""
        self.table.beat(self.server)
        for row in self.table.stale(lease=self.lease):
            if row.server.startswith("sweep:"):  # its sweep's driver is gone: so is the trial
                self.table.finish(row.id, "interrupted", "Its sweep's driver is gone.")
                continue
            theirs = row.server != self.server and not row.server.startswith("cli:")
            if theirs and self.table.take_over(row.id, self.server, self.lease):
                self._take_over(row.id)
        with self._lock:
            self._start_ready_jobs()

    def _take_over(self, job_id: str) -> None:
        """A job whose server is gone: its worker stopped (or is stopped now), its epochs
        are kept; it is queued here again from them, unless it was tried MAX_ATTEMPTS times."""
        folder = self.jobs_dir / job_id
        if read_json(folder / OUTCOME) is None:
            worker = read_json(folder / PID)
            if worker and pid_alive(worker.get("pid"), "core.jobs.worker", worker.get("started")):
                os.kill(worker["pid"], signal.SIGKILL)
            write_json(folder / OUTCOME, {"status": "interrupted", "error": SERVER_GONE})
        attempts = self._attempts(job_id)
        job = self._from_disk(job_id)
        self.table.finish(job_id, job.status if job else "interrupted", SERVER_GONE)
        if job is None or not job.resumable:
            return
        if attempts >= self.max_attempts:
            gave_up = f"{SERVER_GONE} Tried {attempts} times; not taken over again."
            write_json(folder / OUTCOME, {"status": "interrupted", "error": gave_up})
            with self._lock:
                self._jobs[job_id].error = gave_up
            return
        self.resume(job_id, "retry")

    def _attempts(self, job_id: str) -> int:
        """How many jobs this one's work has been: itself and the jobs it resumes."""
        n, spec = 1, JobSpec.read(self.jobs_dir / job_id)
        while spec is not None and spec.resume is not None and n < 100:
            n, spec = n + 1, JobSpec.read(self.jobs_dir / spec.resume.from_job)
        return n

    def _retry(self, job_id: str) -> None:
        """Called with the lock held. A job whose worker died (killed, out of memory,
        crashed): queued again from its last epoch, unless it was tried max_attempts times;
        then it ends interrupted with the reason, to be saved or resumed by hand."""
        attempts = self._attempts(job_id)
        try:
            if attempts < self.max_attempts:
                self.resume(job_id, "retry")
                return
        except (UserError, OSError):
            pass  # no room, or no disk: it stays interrupted, Save / Resume offered
        job = self._jobs[job_id]
        if attempts > 1:
            job.error += f" Tried {attempts} times; not queued again."
            write_json(self.jobs_dir / job_id / OUTCOME, {"status": job.status, "error": job.error})


def watch(ref: weakref.ref) -> None:
    """A manager's watcher: its beat every `beat_seconds`, until the manager is closed,
    collected, or its workspace is gone (a test's)."""
    while True:
        manager = ref()
        if manager is None or manager._closed or not manager.jobs_dir.is_dir():
            return
        interval = manager.beat_seconds
        try:
            manager._watch_once()
        except Exception:  # noqa: BLE001 - a busy or vanished table: try again next beat
            pass
        del manager  # hold no reference while asleep
        time.sleep(interval)
