"""The job table: the queue's state in SQLite (WAL mode, the standard library's sqlite3),
in the workspace, shared by every server process and the CLI.

One row per job: its person, kind, set, state, submit and start time, the server that runs
it, its worker and heartbeat. A job starts only by `claim`, one transaction that checks the
free slots, the caps and the fair-share order over every server's waiting jobs and marks it
running: two servers on one workspace never start a job twice, and share one order. A
server beats for its waiting and running jobs; a job whose server stopped beating for
LEASE_SECONDS is found by any other server (`stale`) and taken over: resumed from its last
epoch checkpoint, or queued there afresh. The job folders keep what they held before
(spec, dataset, checkpoints, events).
"""

from __future__ import annotations

import errno
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserError
from core.jobs.fairshare import RECENT_SECONDS, Caps, next_up, recent_usage

TABLE = "jobs.sqlite"  # in the workspace's jobs/ folder
LEASE_SECONDS = 30.0  # a running job whose server has not beaten for this long is taken over
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    kind TEXT NOT NULL,
    grp TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    server TEXT NOT NULL,
    worker INTEGER,
    heartbeat REAL,
    cores INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
"""


@dataclass
class Row:
    """One job as the table holds it (what fair share needs: person, created, group)."""

    id: str
    person: str
    kind: str
    group: str
    status: str
    created: float
    started: float | None
    ended: float | None
    server: str
    worker: int | None
    heartbeat: float | None
    cores: int
    attempts: int
    error: str


class JobTable:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # one connection per table object, shared by threads
        self._db = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        # the write-ahead log folds into the table every few pages: it stays a few pages
        # long instead of growing with every heartbeat (the workspace may be small)
        self._db.execute("PRAGMA wal_autocheckpoint=8")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, where: str = "", args: tuple = ()) -> list[Row]:
        cursor = self._db.execute(f"SELECT * FROM jobs {where} ORDER BY created", args)
        return [Row(*values) for values in cursor.fetchall()]

    def rows(self, where: str = "", args: tuple = ()) -> list[Row]:
        with self._lock:
            return self._rows(where, args)

    def get(self, job_id: str) -> Row | None:
        found = self.rows("WHERE id = ?", (job_id,))
        return found[0] if found else None

    def add(
        self, job_id: str, person: str, kind: str, group: str, server: str, created: float
    ) -> None:
        """A new waiting job. A full disk is an OSError (ENOSPC), as writing a file's is."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO jobs (id, person, kind, grp, status, created, server, "
                    "heartbeat) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
                    (job_id, person, kind, group, created, server, time.time()),
                )
            except sqlite3.OperationalError as exc:
                if "full" not in str(exc):
                    raise
                raise OSError(errno.ENOSPC, str(exc), str(self.path)) from exc

    def claim(
        self,
        job_id: str,
        server: str,
        slots: int,
        cores: int = 1,
        caps: Caps | None = None,
        lease: float = LEASE_SECONDS,
    ) -> bool:
        """Mark the job running for `server` if, in one transaction: it is still queued; it
        is a compare set's side whose other side runs (the set starts together), or else
        fewer than `slots` jobs run on every server and it comes first, after the caps, in
        the fair-share order of every live server's waiting jobs (core/jobs/fairshare.py).
        A waiting job whose server stopped beating for `lease` is left out of the order."""
        now = time.time()
        caps = caps or Caps.from_env()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # what the order needs: the waiting and running jobs, and the last hour's
                every = self._rows(
                    "WHERE status IN ('queued', 'running') OR ended > ?", (now - RECENT_SECONDS,)
                )
                job = next((r for r in every if r.id == job_id), None)
                if job is None or job.status != "queued":
                    self._db.execute("ROLLBACK")
                    return False
                running = [r for r in every if r.status == "running"]
                sibling = job.group and any(r.group == job.group for r in running)
                if not sibling:
                    live = [r for r in every if r.status == "queued" and r.heartbeat > now - lease]
                    ups = next_up(live, running, recent_usage(every, now), caps)
                    first = ups[0] if ups else None
                    mine = first is not None and (
                        first.id == job.id or (job.group and first.group == job.group)
                    )
                    if len(running) >= slots or not mine:
                        self._db.execute("ROLLBACK")
                        return False
                self._db.execute(
                    "UPDATE jobs SET status = 'running', server = ?, started = ?, "
                    "heartbeat = ?, cores = ?, attempts = attempts + 1 WHERE id = ?",
                    (server, now, now, cores, job_id),
                )
                self._db.execute("COMMIT")
                return True
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def counts(self, person: str, lease: float = LEASE_SECONDS) -> tuple[int, int]:
        """(jobs waiting or running on every live server, jobs `person` has waiting)."""
        since = time.time() - lease
        with self._lock:
            (active,) = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') AND heartbeat > ?",
                (since,),
            ).fetchone()
            (waiting,) = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND person = ? "
                "AND heartbeat > ?",
                (person, since),
            ).fetchone()
        return active, waiting

    def beat(self, server: str, worker: dict[str, int] | None = None) -> bool:
        """The server is alive: every job it runs gets a fresh heartbeat (and its worker's
        pid, when given). False: not written (a full disk; the next beat tries again)."""
        now = time.time()
        with self._lock:
            try:
                self._db.execute(
                    "UPDATE jobs SET heartbeat = ? WHERE server = ? "
                    "AND status IN ('queued', 'running')",
                    (now, server),
                )
                for job_id, pid in (worker or {}).items():
                    self._db.execute("UPDATE jobs SET worker = ? WHERE id = ?", (pid, job_id))
            except sqlite3.OperationalError:
                return False
        return True

    def finish(self, job_id: str, status: str, error: str = "") -> bool:
        """The job ended. False: not written (a full disk): its folder's outcome.json, or
        the lease running out, still ends it for every server."""
        with self._lock:
            try:
                self._db.execute(
                    "UPDATE jobs SET status = ?, ended = ?, error = ? WHERE id = ?",
                    (status, time.time(), error, job_id),
                )
            except sqlite3.OperationalError:
                return False
        return True

    def stale(self, now: float | None = None, lease: float = LEASE_SECONDS) -> list[Row]:
        """Running or waiting jobs whose server has not beaten for `lease` seconds."""
        now = time.time() if now is None else now
        return self.rows("WHERE status IN ('queued', 'running') AND heartbeat < ?", (now - lease,))

    def take_over(self, job_id: str, server: str, lease: float = LEASE_SECONDS) -> bool:
        """Move a stale job to `server` (one transaction: only one server gets it)."""
        now = time.time()
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET server = ?, heartbeat = ?, status = 'taken over' "
                "WHERE id = ? AND status IN ('queued', 'running') AND heartbeat < ?",
                (server, now, job_id, now - lease),
            )
            return cursor.rowcount == 1


def open_table(path: Path) -> JobTable:
    """The job table at `path`; a workspace where it cannot be opened is a UserError naming
    it (the app and the CLI say so instead of a traceback)."""
    try:
        return JobTable(path)
    except sqlite3.Error as exc:
        raise UserError(
            f"Cannot open the job table {path}: {exc}. Check that the workspace folder is "
            "writable and on a local disk (SQLite's WAL mode needs one)."
        ) from exc
