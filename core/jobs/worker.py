"""The worker process: `python -m core.jobs.worker JOB_DIR` runs one job of <workspace>/jobs/.

It reports on stdout, one JSON event per line, which the job manager (core/jobs/manager.py)
reads; it keeps every finished epoch in the job folder (core/store/checkpoint.py) and writes
how the job ended to outcome.json, so that a server restart loses nothing. A worker never
outlives its server: once its parent process is gone it records the job as interrupted
and exits within one batch, keeping the epochs it finished (the new server lists the job
as resumable). `python -m core.jobs.worker --standby` imports Keras and its backend first and then waits
on stdin for one job folder (the UI keeps one such warm worker).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core.config import ONE_THREAD_ENV
from core.errors import UserError
from core.jobs.state import OUTCOME, SERVER_GONE, SPEC, JobSpec
from core.store.checkpoint import Checkpointer, copy_checkpoint, read_checkpoint
from core.workspace import disk_problem, write_json

EVENT_PREFIX = "@@laglens "
EXIT_SERVER_GONE = 75
ROOT = Path(__file__).resolve().parents[2]
# Workers run below the server's priority: two warm workers importing Keras, or jobs
# training, leave the pages the CPU they need (bench_ui); alone, a job trains as fast.
WORKER_NICE = 10


def _popen(
    args: list[str], log: Path, backend: str, cores: tuple[int, ...] = (), **options
) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    env["KERAS_BACKEND"] = backend  # read by Keras at its import, in the worker only
    if cores:  # a core of its own: one thread, pinned before anything is imported
        env |= ONE_THREAD_ENV

    def lower_and_pin() -> None:
        os.nice(WORKER_NICE)
        if cores:
            os.sched_setaffinity(0, cores)

    options["preexec_fn"] = lower_and_pin
    with open(log, "w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "core.jobs.worker", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            bufsize=1,
            **options,
        )


def spawn_worker(
    job_dir: Path, backend: str, cores: tuple[int, ...] = ()
) -> tuple[subprocess.Popen, Path]:
    """A worker process for one job on a Keras backend (pinned to `cores`, one thread, when
    given); its full log is JOB_DIR/worker.log."""
    log = job_dir / "worker.log"
    return _popen([str(job_dir)], log, backend, cores), log


def pin(pid: int, cores: tuple[int, ...]) -> None:
    """Pin every thread of a running process (a warm worker given a group's job) to
    `cores`; threads it starts later inherit it. Unlike a fresh worker, its thread pools
    were sized before it was pinned."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cores)
        except ProcessLookupError:
            pass  # a thread that ended meanwhile


_CLAIMED: list = []  # the lock file this worker process holds on its core


def claim_core(folder: Path) -> int | None:
    """Pin this process (a Ray worker, once: workers stay for a whole sweep, or many jobs) to a core no
    other worker holds, by an exclusive lock on folder/CORE.lock that lasts as
    long as the process; the core, or None when every core is held."""
    import fcntl

    if _CLAIMED:
        return _CLAIMED[0][0]
    folder.mkdir(parents=True, exist_ok=True)
    for core in sorted(os.sched_getaffinity(0)):
        handle = open(folder / f"{core}.lock", "w")  # held for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        os.sched_setaffinity(0, {core})
        _CLAIMED.append((core, handle))
        return core
    return None


def spawn_standby(jobs_dir: Path, backend: str) -> tuple[subprocess.Popen, Path]:
    """A warm worker: Keras and its backend imported, waiting on stdin for a job folder."""
    from core.store.runs import RunStore

    log = jobs_dir / f"standby-{RunStore.new_id()}.log"
    return _popen(["--standby"], log, backend, stdin=subprocess.PIPE), log


def checkpointer_for(job_dir: Path, spec: JobSpec) -> Checkpointer:
    """A fresh checkpoint, or the kept one of the job this one resumes or saves."""
    resume, epochs = spec.resume, spec.config.epochs
    if resume is None:
        return Checkpointer(job_dir, epochs)
    copy_checkpoint(job_dir.parent / resume.from_job, job_dir)
    state = read_checkpoint(job_dir)
    if resume.mode == "save" and state is None:
        raise UserError(f"Job {resume.from_job} kept no finished epoch; there is nothing to save.")
    return Checkpointer(job_dir, epochs, state, train_more=resume.mode != "save")


def run_worker(job_dir: Path, emit=None) -> int:
    """Run one job and report each event to `emit` (default: stdout, for the job manager
    of another process); the return value is the process's exit code."""
    spec = JobSpec.read(job_dir)
    stop_flag, parent = job_dir / "stop", os.getppid()

    def to_stdout(event: dict) -> None:
        try:
            sys.stdout.write(EVENT_PREFIX + json.dumps(event, default=float) + "\n")
            sys.stdout.flush()
        except OSError:
            pass  # the server is gone: outcome.json tells the next one

    emit = emit or to_stdout

    def should_stop() -> bool:
        if os.getppid() != parent:  # the server is gone: keep the epochs, stop at once
            write_json(job_dir / OUTCOME, {"status": "interrupted", "error": SERVER_GONE})
            os._exit(EXIT_SERVER_GONE)
        return stop_flag.exists()

    try:
        import pandas as pd

        from core.pipeline.kinds import RUN_KINDS
        from core.pipeline.runner import RunRequest, run
        from core.store.runs import RunStore

        if spec is None:
            raise UserError(f"{job_dir / SPEC} is missing or unreadable.")
        request = RunRequest(
            pd.read_parquet(job_dir / "dataset.parquet"),
            spec.data,
            spec.config,
            RunStore(spec.workspace),
            emit,
            should_stop,
            checkpoint=checkpointer_for(job_dir, spec),
            tags=spec.tags,
            owner=spec.person,
            run_id=job_dir.name,  # one id from submit to saved run
            name=spec.label,
        )
        result = run(RUN_KINDS[spec.kind], request)
    except UserError as exc:
        return _failed(job_dir, emit, str(exc), 2)
    except Exception as exc:  # noqa: BLE001 - reported to the page, never lost
        problem = disk_problem(exc, job_dir.parent.parent) if isinstance(exc, OSError) else None
        if problem is None and "No space left" in str(exc):  # h5py and pyarrow wrap it
            problem = disk_problem(OSError(28, str(exc)), job_dir.parent.parent)
        if problem:  # epochs kept before the disk filled: resumable once space is back
            kept = bool((read_checkpoint(job_dir) or {}).get("history"))
            return _failed(job_dir, emit, problem, 2, "interrupted" if kept else "failed")
        return _failed(job_dir, emit, f"{type(exc).__name__}: {exc}", 1)
    write_json(job_dir / OUTCOME, {"status": result.get("status", "finished"), "result": result})
    emit({"type": "done", **result})
    return 0


def _failed(job_dir: Path, emit, message: str, code: int, status: str = "failed") -> int:
    """Record the failure; first remove the temporary files a cut-short write left (which
    also frees the room outcome.json needs on a full disk). The kept epochs stay, and a job
    that kept some is "interrupted": it can be saved or resumed."""
    for tmp in job_dir.glob(".*.tmp*"):
        tmp.unlink(missing_ok=True)
    try:
        write_json(job_dir / OUTCOME, {"status": status, "error": message})
    except OSError:
        pass  # the event below still tells the server; a new server sees no outcome
    emit({"type": "error", "message": message, "status": status})
    return code


def run_standby() -> int:
    """Import Keras and its backend now, then wait on stdin for one job folder and run it. An empty
    line or closed stdin (server gone) ends it."""
    import keras  # the point is to pay for the imports before the job

    if keras.config.backend() == "tensorflow":
        import tensorflow  # noqa: F401 - tf.data makes the windows on TensorFlow
    else:
        from core.pipeline.fitting import use_backend

        use_backend(keras.config.backend())  # on JAX, Keras is told TensorFlow is not there

    sys.stdout.write(EVENT_PREFIX + json.dumps({"type": "ready"}) + "\n")
    sys.stdout.flush()
    line = sys.stdin.readline().strip()
    return run_worker(Path(line)) if line else 0


if __name__ == "__main__":
    sys.exit(run_standby() if sys.argv[1] == "--standby" else run_worker(Path(sys.argv[1])))
