"""Background jobs: Job and JobManager (the worker process is core/jobs/worker.py).

Design: the Streamlit process never imports TensorFlow. A process-wide JobManager (the
page holds it in st.cache_resource) runs each job in a background thread that starts a
worker subprocess (`python -m core.jobs.worker JOB_DIR`) and reads its events, one JSON line
each, into the job. Why a subprocess and not model.fit in a thread: Streamlit calls
keras.backend.clear_session() after every script run once Keras is imported, which resets
Keras' global state under a fit running in another thread, and every rerun then costs
~0.7 s of garbage collection. With the worker, reruns stay fast, a crash in TensorFlow
cannot take the server down, and the CLI runs exactly the same path.

Stop: the manager creates JOB_DIR/stop; the worker's callback checks it after every batch
and sets model.stop_training, so training ends within one batch and the run is saved as
"stopped" with the weights so far.

Faults: every job lives in a folder (core/jobs/state.py). A worker that dies leaves its
finished epochs there and the job ends "interrupted", with one sentence on the likely
cause, and is queued again from them (core/jobs/leases.py: at most MAX_ATTEMPTS tries;
then it can be saved as a run or resumed by hand, `resume`). A manager that starts lists
the newest job folders, including what a previous server left (`recover`).

Order: every job is a row of the job table (core/jobs/table.py), shared by the servers of a
workspace; a job starts only when the table lets it (slots, caps per person and fair share:
core/jobs/fairshare.py).

Cluster: with an address (LAGLENS_RAY_ADDRESS, or --address on the CLI) each job runs as a
task on that Ray cluster instead of a local worker (core/jobs/onray.py); the order, the
caps and the retries stay the job table's and this manager's.

Groups: the jobs of a compare set (univariate and multivariate, each a seed set) share a
group and start together, beside whatever limit `max_parallel` sets, each in a worker
pinned to a core of its own with one thread (core.config.ONE_THREAD_ENV): on 2 cores the
two sides train at once instead of one after the other (benchmarks/bench_speed.py), and
one Stop stops the set.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
import weakref
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from core.config import Settings, default_backend
from core.errors import UserError
from core.jobs.fairshare import Caps, held_back, next_up, recent_usage, start_order
from core.jobs.leases import BEAT_SECONDS, MAX_ATTEMPTS, Leases, watch
from core.jobs.state import (
    OUTCOME,
    PID,
    SPEC,
    Job,
    JobSpec,
    Resume,
    death_message,
    owner,
    recover,
    snapshot,
    started_at,
)
from core.jobs.table import LEASE_SECONDS, TABLE, open_table
from core.jobs.worker import EVENT_PREFIX, pin, run_worker, spawn_standby, spawn_worker
from core.kinds import CONFIGS
from core.store.checkpoint import read_checkpoint
from core.store.people import SOLO, Person, person_named
from core.store.runs import RunStore, unique_name
from core.workspace import disk_problem, make_dir, read_json, workspace_dir, write_json

# Warm workers kept waiting, one per core up to this: the two sides of a compare set.
WARM_WORKERS = 2


# ============================================================ the job manager (no TensorFlow)


class JobManager(Leases):
    """Process-wide queue of training jobs; `max_parallel` run at once (1 on 2 cores)."""

    def __init__(
        self,
        root: str | Path | None = None,
        max_parallel: int = 1,
        warm_worker: bool = False,
        in_process: bool = False,
        max_attempts: int = MAX_ATTEMPTS,
        address: str | None = None,
    ) -> None:
        """`warm_worker`: keep worker processes with Keras already imported, one per core up
        to two (the UI does; tests start each worker cold): both sides of a compare set start
        warm. `in_process`: run each job's worker code in
        this process instead (the CLI: not a Streamlit process, so nothing argues for a
        second process, and it would import TensorFlow a second time). `max_attempts`: a job
        whose worker dies is queued again from its last epoch until it was tried this often
        (1: never; it ends interrupted, to be saved or resumed by hand). `address`: run each
        job as a task on the Ray cluster there (core/jobs/onray.py), not on this machine."""
        self.root = workspace_dir(root)
        self.warm_worker = warm_worker and not in_process
        self.in_process = in_process
        self._standbys: list[tuple[subprocess.Popen, Path]] = []  # warm, waiting for a job
        self.jobs_dir = make_dir(self.root / "jobs", writable=True)
        self.max_parallel = max_parallel
        self.max_attempts = max_attempts
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []
        self._lock = threading.Condition()
        self._running = 0
        self._holding = 0  # > 0: inside together(), nothing starts yet
        self._procs: dict[str, subprocess.Popen] = {}
        self._closed = False
        self.beat_seconds = float(os.environ.get("LAGLENS_BEAT_SECONDS", BEAT_SECONDS))
        self.lease = float(os.environ.get("LAGLENS_LEASE_SECONDS", LEASE_SECONDS))
        # the queue's durable record, readable by an operator and by other servers
        role = "cli" if in_process else "app"  # a CLI's jobs end with it: never taken over
        self.server = f"{role}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.table = open_table(self.jobs_dir / TABLE)
        self.cluster = None
        if address:  # the cluster runs every job: nothing trains in this process
            from core.jobs.onray import Cluster

            self.cluster = Cluster(address, self.server)
            self.in_process = self.warm_worker = False
        on_cluster = self._left_on_cluster()
        for found in recover(self.jobs_dir):
            self._adopt(found)
        for job_id in on_cluster:  # a restarted server: they carry on from their epochs
            if job_id in self._jobs and self._jobs[job_id].resumable:
                self.resume(job_id, "retry")
        # a weak reference: a manager nobody holds is collected as before (its warm workers
        # end with it), and its watcher with it
        watcher = threading.Thread(
            target=watch, args=(weakref.ref(self),), name="job-table-watch", daemon=True
        )
        watcher.start()
        if self.warm_worker:
            self._spawn_standbys()

    def _left_on_cluster(self) -> list[str]:
        """Jobs a previous server of this workspace left training on the cluster (their
        tasks ended with it); resumed by a server that uses the cluster too."""
        if self.cluster is None:
            return []
        return [
            p.name
            for p in self.jobs_dir.iterdir()
            if not (p / OUTCOME).exists() and "node" in (read_json(p / PID) or {})
        ]

    def _adopt(self, found: dict) -> None:
        """A job a previous process left on disk, as it ended."""
        job = Job.from_disk(found)
        self._jobs[job.id] = job
        self._order.append(job.id)
        self.table.finish(job.id, job.status, job.error)  # as its folder says it ended

    # ---------------------------------------------------------------- public API

    def submit(
        self,
        kind: str,
        frame: pd.DataFrame,
        data_desc: dict,
        config: Settings,
        label: str,
        resume: Resume | None = None,
        tags: dict | None = None,
        person: Person = SOLO,
        admitted: bool = False,
        created: float | None = None,
    ) -> Job:
        """Queue a job; it starts as soon as a slot is free. `config` is the kind's
        settings dataclass (core.kinds.CONFIGS[kind]), kept as it is in job.json. `label`
        becomes the saved run's name, numbered ("... (2)") if a saved run or a waiting job
        has it; the job's id becomes the run's id. `resume` carries on from an interrupted
        job's kept epochs. `tags` are kept with the saved run; `person` owns the job and
        the run it saves. `admitted`: a job retried on the server's own account, which the
        caps let in once already; `created` keeps its place in the fair-share order."""
        if not isinstance(config, CONFIGS[kind]):
            raise TypeError(f"a {kind} job takes {CONFIGS[kind].__name__}, not {type(config)}")
        if not admitted:
            self._check_room(person)
        with self._lock:  # a default name that no saved run or waiting job has yet
            taken = {j.label for j in self._jobs.values() if j.active}
        label = unique_name(label, taken | RunStore(self.root).names())
        job_id = RunStore.new_id()  # the saved run gets the same id
        job_dir = self.jobs_dir / job_id
        spec = JobSpec(kind, config, data_desc, str(self.root), label, owner=owner())
        spec.resume, spec.tags, spec.person = resume, dict(tags or {}), person.name
        spec.created = spec.created if created is None else created
        try:
            job_dir.mkdir(parents=True)
            frame.to_parquet(job_dir / "dataset.parquet")
            spec.write(job_dir)
            group = spec.tags.get("compare", "")
            self.table.add(job_id, person.name, kind, group, self.server, spec.created)
        except OSError as exc:  # a full or read-only disk: no half-made job folder stays
            shutil.rmtree(job_dir, ignore_errors=True)
            problem = disk_problem(exc, self.jobs_dir)
            if problem is None:
                raise
            raise UserError(problem) from exc
        job = Job(job_id, kind, label, config, total_epochs=config.epochs, created=spec.created)
        job.person = person.name
        job.resumed_from = resume.from_job if resume else ""
        job.group = spec.tags.get("compare", "")
        with self._lock:
            self._jobs[job_id] = job
            self._order.append(job_id)
            self._start_ready_jobs()
        return self.get(job_id)

    @contextmanager
    def together(self):
        """Jobs submitted inside start only when it ends, together (a group's jobs, so that
        each gets a core of its own)."""
        with self._lock:
            self._holding += 1
        try:
            yield
        finally:
            with self._lock:
                self._holding -= 1
                self._start_ready_jobs()

    def _check_room(self, person: Person) -> None:
        """Refuse a job the queue has no room for (every server's jobs, from the table)."""
        caps = Caps.from_env()
        active, waiting = self.table.counts(person.name, self.lease)
        if active >= caps.total:
            raise UserError(
                f"The queue is full: {active} jobs are queued or running, the most this "
                "server takes (LAGLENS_MAX_JOBS). Wait for one to finish, or cancel one."
            )
        if waiting >= caps.queued:
            raise UserError(
                f"You have {waiting} jobs waiting, the most one person may queue on this "
                "server (LAGLENS_MAX_QUEUED_PER_PERSON): wait for one to start, or cancel one."
            )

    def room(self, person: Person = SOLO) -> int:
        """How many more jobs the queue takes now from `person`."""
        caps = Caps.from_env()
        active, waiting = self.table.counts(person.name, self.lease)
        return min(caps.total - active, caps.queued - waiting)

    def waiting_order(self) -> list[Job]:
        """This server's waiting jobs in the order they will start (fair share and the
        caps: core/jobs/fairshare.py); a capped job after the others."""
        with self._lock:
            queued = [self._jobs[i] for i in self._order if self._jobs[i].status == "queued"]
            order = self._order_now(queued)
            order += [j for j in start_order(queued, {}) if j not in order]
            return [snapshot(j) for j in order]

    def held_back(self, job_id: str) -> str:
        """Why a waiting job may not start whatever its place (a cap), in words, or ''."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status != "queued":
                return ""
            running = [j for j in self._jobs.values() if j.status == "running"]
            usage = recent_usage(self._jobs.values())
            return held_back(job, running, usage, Caps.from_env())

    def _order_now(self, queued: list[Job]) -> list[Job]:
        """Called with the lock held: `queued` as they may start now (caps applied)."""
        running = [j for j in self._jobs.values() if j.status == "running"]
        return next_up(queued, running, recent_usage(self._jobs.values()), Caps.from_env())

    def resume(self, job_id: str, mode: str = "resume") -> Job:
        """Queue a job that resumes an interrupted one (the rest of its epochs, the same
        settings) or, with mode "save", saves its kept epochs as a run. Resuming uses the
        interrupted job up (it becomes "resumed"); saving does not. Mode "retry" resumes
        it on the server's own account (a worker that died, a server gone): no cap refuses
        it, it was let in once."""
        source = self.get(job_id) or self._from_disk(job_id)
        if source is not None and source.status == "resumed":
            raise UserError(f"Job {job_id} was already resumed (job {source.result['by']}).")
        if source is None or not source.resumable:
            raise UserError(f"Job {job_id} is not an interrupted job that can be resumed.")
        if mode == "save" and not read_checkpoint(self.jobs_dir / job_id):
            raise UserError(f"Job {job_id} kept no finished epoch; there is nothing to save.")
        spec = JobSpec.read(self.jobs_dir / job_id)
        frame = pd.read_parquet(self.jobs_dir / job_id / "dataset.parquet")
        label = f"{source.label} ({'saved' if mode == 'save' else 'resumed'})"
        if mode == "retry" and source.label.endswith(" (resumed)"):
            label = source.label  # "x (resumed)", not "x (resumed) (resumed)"
        new = self.submit(
            source.kind,
            frame,
            spec.data,
            source.config,
            label,
            Resume(job_id, "save" if mode == "save" else "resume"),
            spec.tags,
            person_named(spec.person),  # the run stays its owner's, whoever resumed it
            admitted=mode == "retry",
            created=spec.created if mode == "retry" else None,  # its place in the queue
        )
        if mode in ("resume", "retry"):
            with self._lock:
                job = self._jobs[job_id]
                job.status, job.result = "resumed", {"by": new.id}
                outcome = {"status": "resumed", "error": job.error, "result": job.result}
                write_json(self.jobs_dir / job_id / OUTCOME, outcome)
        return new

    def stop(self, job_id: str, by: Person = SOLO) -> None:
        """Cancel a queued job, or ask a running one to stop after its current batch; a
        job of a group (a compare set) stops with the rest of its group. Only its owner or
        an instructor may."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            by.check_may_change(job.person, f"Job {job_id}")
        with self._lock:
            group = [j for j in self._jobs.values() if job and job.group and j.group == job.group]
        for member in group:
            if member.id != job_id:
                self._stop_one(member.id)
        self._stop_one(job_id)

    def _stop_one(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not job.active:
                return
            job.stop_requested = True
            if job.status == "queued":
                job.status, job.ended = "cancelled", time.time()
                write_json(self.jobs_dir / job_id / OUTCOME, {"status": "cancelled"})
                self.table.finish(job_id, "cancelled")
            else:
                (self.jobs_dir / job_id / "stop").touch()
                if self.cluster is not None:  # now, not at the next look at the stop file
                    self.cluster.stop(job_id)

    def _from_disk(self, job_id: str) -> Job | None:
        """A job folder older than the ones listed at start (the CLI's --resume)."""
        folder = self.jobs_dir / str(job_id)
        if not RunStore.is_id(job_id) or not (folder / SPEC).is_file():
            return None
        spec, outcome = JobSpec.read(folder), read_json(folder / OUTCOME)
        if spec is None or outcome is None:
            return None
        kept = read_checkpoint(folder) or {}
        found = {"id": job_id, "spec": spec, "outcome": outcome, "checkpoint": kept}
        with self._lock:
            self._adopt(found)
        return self.get(job_id)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return snapshot(job) if job else None

    def jobs(self) -> list[Job]:
        """All jobs of this server, oldest first."""
        with self._lock:
            return [snapshot(self._jobs[j]) for j in self._order]

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._jobs[job_id].active:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"job {job_id} still {self._jobs[job_id].status}")
                self._lock.wait(timeout=left if left is not None else 1.0)
            return snapshot(self._jobs[job_id])

    # ---------------------------------------------------------------- internals

    def _start_ready_jobs(self) -> None:
        """Called with the lock held. In fair-share order (core/jobs/fairshare.py); a
        group's jobs start together."""
        if self._holding:
            return
        queued = [self._jobs[i] for i in self._order if self._jobs[i].status == "queued"]
        if not queued:
            return
        caps = Caps.from_env()
        cluster_slots = self.cluster.cpus() if self.cluster is not None else 0
        for job in self._order_now(queued):
            job_id = job.id
            if self.cluster is not None:  # a CPU of the cluster's each: the table counts them
                cores, slots = (), cluster_slots
            else:
                cores = self._cores_for(job)
                if cores is None:
                    if self._running >= self.max_parallel:
                        return
                    cores = ()
                slots = max(self.max_parallel, 0)
            # the table decides, over every server's jobs: the slots, the caps, the order
            if not self.table.claim(job_id, self.server, slots, len(cores) or 1, caps, self.lease):
                if job.group:
                    continue  # its set's other side may still start beside a running one
                return  # another server's job goes first: its server starts it
            job.status, job.started, job.cores = "running", time.time(), cores
            self._running += 1
            threading.Thread(
                target=self._run, args=(job_id,), name=f"job-{job_id}", daemon=True
            ).start()

    def _cores_for(self, job: Job) -> tuple[int, ...] | None:
        """A group's job: the one core it gets, when every running job is of its group and
        a core is free (nothing else running: it starts its group). None: not a group's
        job, or it waits like any other. In-process jobs (the CLI) are not pinned."""
        if not job.group or self.in_process or self.max_parallel < 1:  # < 1: paused
            return None
        running = [j for j in self._jobs.values() if j.status == "running"]
        if any(j.group != job.group for j in running):
            return None
        taken = {c for j in running for c in j.cores}
        free = sorted(set(os.sched_getaffinity(0)) - taken)
        siblings = sum(j.group == job.group and j.active for j in self._jobs.values())
        if not free or (running and len(running) >= len(os.sched_getaffinity(0))):
            return None
        return (free[0],) if siblings > 1 else tuple(free)

    def close(self) -> None:
        """Let the warm workers go (each ends when its stdin closes) and keep none from now;
        stop beating in the job table."""
        if self.cluster is not None:
            self.cluster.close()
        with self._lock:
            self._closed = True
            self.warm_worker, standbys, self._standbys = False, self._standbys, []
        for proc, _ in standbys:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def _spawn_standbys(self) -> None:
        """Top the warm workers up to one per core, at most WARM_WORKERS."""
        want = min(WARM_WORKERS, len(os.sched_getaffinity(0)))
        self._standbys = [s for s in self._standbys if s[0].poll() is None]
        while len(self._standbys) < want:
            self._standbys.append(spawn_standby(self.jobs_dir, default_backend()))

    def _start_worker(
        self, job_dir: Path, backend: str, cores: tuple[int, ...] = ()
    ) -> tuple[subprocess.Popen, Path]:
        """A warm standby if there is a live one on the job's backend (pinned to `cores`, for
        a group's job), else a fresh worker process on it (pinned, with one thread)."""
        with self._lock:
            standby = None
            if backend == default_backend() and self._standbys:
                standby = self._standbys.pop(0)
        if standby is not None and standby[0].poll() is None:
            proc, log = standby
            try:
                if cores:
                    pin(proc.pid, cores)
                proc.stdin.write(f"{job_dir}\n")
                proc.stdin.flush()
                return proc, log
            except OSError:
                proc.kill()
        return spawn_worker(job_dir, backend, cores)

    def _run(self, job_id: str) -> None:
        job_dir = self.jobs_dir / job_id
        stderr_path, lost = job_dir / "worker.log", ""
        try:
            if self.cluster is not None:
                code, lost = self._run_on_cluster(job_id, job_dir)
            elif self.in_process:
                code = self._run_here(job_id, job_dir)
            else:
                code, stderr_path = self._run_in_worker(job_id, job_dir)
            detail = ""
        except Exception as exc:  # noqa: BLE001 - the job fails with the reason, never silently
            code, detail = -1, f"{type(exc).__name__}: {exc}"
        with self._lock:
            job = self._jobs[job_id]
            self._procs.pop(job_id, None)
            died = job.status == "running" and not detail
            if job.status == "running":  # no done/error event: the worker died
                kept = read_checkpoint(job_dir)
                job.history = list(kept["history"]) if kept else []
                job.status = "interrupted" if not detail else "failed"
                job.error = detail or lost or death_message(code, stderr_path)
                try:
                    write_json(job_dir / OUTCOME, {"status": job.status, "error": job.error})
                except OSError:
                    pass  # a full disk: the job is listed failed until this server stops
            job.ended = time.time()
            self.table.finish(job_id, job.status, job.error)
            self._running -= 1
            retry = died and not job.stop_requested and not self._closed and not self.in_process
            if self.warm_worker and not any(j.status == "running" for j in self._jobs.values()):
                self._spawn_standbys()  # after the jobs, so their import never slows training
            if retry:  # under the lock: a waiter sees it resumed, never interrupted between
                self._retry(job_id)
            group = [j for j in self._jobs.values() if job.group and j.group == job.group]
            if self.cluster is not None and group and not any(j.status == "running" for j in group):
                self.cluster.release(job.group)  # the set's reservation (a side queued again
                # after its node was lost gets one of its own: this one may hold a dead node's)
            self._start_ready_jobs()
            self._lock.notify_all()

    def _run_in_worker(self, job_id: str, job_dir: Path) -> tuple[int, Path]:
        """A worker process on the job's backend; its events as they come; (exit code, log)."""
        job = self.get(job_id)
        proc, stderr_path = self._start_worker(job_dir, job.config.backend, job.cores)
        write_json(job_dir / PID, {"pid": proc.pid, "started": started_at(proc.pid)})
        self.table.beat(self.server, {job_id: proc.pid})
        with self._lock:
            self._procs[job_id] = proc
        for line in proc.stdout:
            if line.startswith(EVENT_PREFIX):
                self._apply(job_id, json.loads(line[len(EVENT_PREFIX) :]))
        return proc.wait(), stderr_path

    def _run_on_cluster(self, job_id: str, job_dir: Path) -> tuple[int, str]:
        """A task on the cluster (core/jobs/onray.py); its events as they come; (exit code,
        why it was lost or '')."""
        job = self.get(job_id)
        with self._lock:  # a set's sides are reserved together
            members = sum(j.group == job.group and j.active for j in self._jobs.values())
        members = members if job.group else 1
        write_json(job_dir / PID, {"pid": None, "node": ""})  # a cluster's job, not yet placed
        apply = functools.partial(self._apply, job_id)
        return self.cluster.run(job_dir, job.config.backend, job.group, members, apply)

    def _run_here(self, job_id: str, job_dir: Path) -> int:
        """The worker's code for one job, in this process (its own events applied directly)."""
        write_json(job_dir / PID, {"pid": os.getpid(), "started": started_at(os.getpid())})
        self.table.beat(self.server, {job_id: os.getpid()})
        return run_worker(job_dir, emit=lambda event: self._apply(job_id, event))

    def _apply(self, job_id: str, event: dict) -> None:
        with self._lock:
            job = self._jobs[job_id]
            kind = event.get("type")
            if kind == "start":
                job.total_epochs, job.batches = event["epochs"], event["batches"]
                job.resumed_at = event.get("resumed_at", 0)
            elif kind == "batch":
                job.epoch, job.batch, job.batches = event["epoch"], event["batch"], event["batches"]
                job.epoch_seconds = event.get("epoch_seconds", 0.0)
                job.batch_losses.append(
                    (job.epoch - 1 + job.batch / max(job.batches, 1), event["loss"])
                )
            elif kind == "trained":
                job.saving = True
            elif kind == "stopping":
                job.stopped_at = f"epoch {event['epoch']}, batch {event['batch']}"
            elif kind == "epoch":  # a seed set's row also has each member's losses
                job.history.append({k: v for k, v in event.items() if k not in ("type", "seconds")})
                job.epoch_times.append(float(event.get("seconds", 0.0)))
                job.batch = 0
            elif kind == "done":
                job.result = {k: v for k, v in event.items() if k != "type"}
                job.status, job.ended = event.get("status", "finished"), time.time()
            elif kind == "error":
                job.status, job.error, job.ended = (
                    event.get("status", "failed"),
                    event["message"],
                    time.time(),
                )
                if job.status == "interrupted":  # what it kept, for the panel and the CLI
                    kept = read_checkpoint(self.jobs_dir / job.id)
                    job.history = list(kept["history"]) if kept else job.history
            self._lock.notify_all()
