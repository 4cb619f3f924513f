"""Background jobs: Job, JobManager and the worker entry point.

Design: the Streamlit process never imports TensorFlow. A process-wide JobManager (the
page holds it in st.cache_resource) runs each job in a background thread that starts a
worker subprocess (`python -m core.jobs JOB_DIR`) and reads its events, one JSON line
each, into the job. Why a subprocess and not model.fit in a thread: Streamlit calls
keras.backend.clear_session() after every script run once Keras is imported, which resets
Keras' global state under a fit running in another thread, and every rerun then costs
~0.7 s of garbage collection. With the worker, reruns stay fast, a crash in TensorFlow
cannot take the server down, and the CLI runs exactly the same path.

Stop: the manager creates JOB_DIR/stop; the worker's callback checks it after every batch
and sets model.stop_training, so training ends within one batch and the run is saved as
"stopped" with the weights so far.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from core.anomaly import train_anomaly_detector
from core.config import CONFIGS
from core.errors import UserError
from core.forecast import train_forecaster
from core.runs import RunStore
from core.workspace import workspace_dir

EVENT_PREFIX = "@@laglens "
ACTIVE = ("queued", "running")
ROOT = Path(__file__).resolve().parents[1]

# Job kinds: what the worker runs for each (the settings class is core.config.CONFIGS[kind]).
# Each takes (frame, data description, settings, store, emit, should_stop) and returns
# the summary the CLI prints.
JOB_KINDS = {"forecast": train_forecaster, "anomaly": train_anomaly_detector}


# ============================================================ the worker process


def run_worker(job_dir: Path) -> int:
    """Entry point of `python -m core.jobs JOB_DIR`: run one job, report on stdout."""
    job = json.loads((job_dir / "job.json").read_text())
    stop_flag = job_dir / "stop"

    def emit(event: dict) -> None:
        sys.stdout.write(EVENT_PREFIX + json.dumps(event, default=float) + "\n")
        sys.stdout.flush()

    try:
        frame = pd.read_parquet(job_dir / "dataset.parquet")
        store = RunStore(job["workspace"])
        train = JOB_KINDS[job["kind"]]
        config = CONFIGS[job["kind"]].from_dict(job["config"])
        result = train(frame, job["data"], config, store, emit, stop_flag.exists)
    except UserError as exc:
        emit({"type": "error", "message": str(exc)})
        return 2
    except Exception as exc:  # noqa: BLE001 - reported to the page, never lost
        emit({"type": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 1
    emit({"type": "done", **result})
    return 0


# ============================================================ the job manager (no TensorFlow)


@dataclass
class Job:
    """What the page shows about one job. Snapshots are copies; only the manager mutates."""

    id: str
    kind: str
    label: str
    config: dict
    status: str = "queued"  # queued, running, finished, stopped, failed, cancelled
    created: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    total_epochs: int = 0
    batches: int = 0
    epoch: int = 0
    batch: int = 0
    epoch_seconds: float = 0.0
    history: list[dict] = field(default_factory=list)
    batch_losses: list[tuple[float, float]] = field(
        default_factory=list
    )  # (fractional epoch, loss)
    result: dict = field(default_factory=dict)
    error: str = ""
    stop_requested: bool = False

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.time()) - self.started

    @property
    def run_id(self) -> str | None:
        return self.result.get("run_id")

    def eta_seconds(self) -> float | None:
        """Time left at the mean pace so far (at most: early stopping may end sooner)."""
        if not self.history or self.status != "running":
            return None
        done = len(self.history) + self.batch / max(self.batches, 1)  # epochs, fractional
        return self.elapsed / done * max(self.total_epochs - done, 0.0)


class JobManager:
    """Process-wide queue of training jobs; `max_parallel` run at once (1 on 2 cores)."""

    def __init__(
        self, root: str | Path | None = None, max_parallel: int = 1, warm_worker: bool = False
    ) -> None:
        """`warm_worker`: keep one worker process with TensorFlow already imported (the UI
        does; tests and the CLI start each worker cold)."""
        self.root = workspace_dir(root)
        self.warm_worker = warm_worker
        self._standby: tuple[subprocess.Popen, Path] | None = None
        self.jobs_dir = self.root / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.max_parallel = max_parallel
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []
        self._lock = threading.Condition()
        self._running = 0
        self._procs: dict[str, subprocess.Popen] = {}
        if warm_worker:
            self._spawn_standby()

    # ---------------------------------------------------------------- public API

    def submit(
        self, kind: str, frame: pd.DataFrame, data_desc: dict, config: dict, label: str
    ) -> Job:
        """Queue a job; it starts as soon as a slot is free."""
        job_id = RunStore.new_id()
        job_dir = self.jobs_dir / job_id
        job_dir.mkdir(parents=True)
        frame.to_parquet(job_dir / "dataset.parquet")
        spec = {"kind": kind, "config": config, "data": data_desc, "workspace": str(self.root)}
        (job_dir / "job.json").write_text(json.dumps(spec))
        job = Job(job_id, kind, label, config, total_epochs=int(config.get("epochs", 0)))
        with self._lock:
            self._jobs[job_id] = job
            self._order.append(job_id)
            self._start_ready_jobs()
        return self.get(job_id)

    def stop(self, job_id: str) -> None:
        """Cancel a queued job, or ask a running one to stop after its current batch."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not job.active:
                return
            job.stop_requested = True
            if job.status == "queued":
                job.status, job.ended = "cancelled", time.time()
            else:
                (self.jobs_dir / job_id / "stop").touch()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return _snapshot(job) if job else None

    def jobs(self) -> list[Job]:
        """All jobs of this server, oldest first."""
        with self._lock:
            return [_snapshot(self._jobs[j]) for j in self._order]

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._jobs[job_id].active:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"job {job_id} still {self._jobs[job_id].status}")
                self._lock.wait(timeout=left if left is not None else 1.0)
            return _snapshot(self._jobs[job_id])

    # ---------------------------------------------------------------- internals

    def _start_ready_jobs(self) -> None:
        """Called with the lock held."""
        for job_id in self._order:
            if self._running >= self.max_parallel:
                return
            job = self._jobs[job_id]
            if job.status == "queued":
                job.status, job.started = "running", time.time()
                self._running += 1
                threading.Thread(
                    target=self._run, args=(job_id,), name=f"job-{job_id}", daemon=True
                ).start()

    @staticmethod
    def _worker_env() -> dict:
        return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}

    def _spawn_standby(self) -> None:
        log = self.jobs_dir / f"standby-{RunStore.new_id()}.log"
        with open(log, "w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "core.jobs", "--standby"],
                cwd=ROOT,
                env=self._worker_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                bufsize=1,
            )
        self._standby = (proc, log)

    def _start_worker(self, job_dir: Path) -> tuple[subprocess.Popen, Path]:
        """The warm standby if there is a live one, else a fresh worker process."""
        with self._lock:
            standby, self._standby = self._standby, None
        if standby is not None and standby[0].poll() is None:
            proc, log = standby
            try:
                proc.stdin.write(f"{job_dir}\n")
                proc.stdin.flush()
                return proc, log
            except OSError:
                proc.kill()
        log = job_dir / "worker.log"
        with open(log, "w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "core.jobs", str(job_dir)],
                cwd=ROOT,
                env=self._worker_env(),
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                bufsize=1,
            )
        return proc, log

    def _run(self, job_id: str) -> None:
        stderr_path = self.jobs_dir / job_id / "worker.log"
        try:
            proc, stderr_path = self._start_worker(self.jobs_dir / job_id)
            with self._lock:
                self._procs[job_id] = proc
            for line in proc.stdout:
                if line.startswith(EVENT_PREFIX):
                    self._apply(job_id, json.loads(line[len(EVENT_PREFIX) :]))
            code = proc.wait()
        except Exception as exc:  # noqa: BLE001 - the job fails with the reason, never silently
            code, detail = -1, f"{type(exc).__name__}: {exc}"
        else:
            detail = ""
        with self._lock:
            job = self._jobs[job_id]
            self._procs.pop(job_id, None)
            if job.status == "running":  # no done/error event: the worker died
                tail = (
                    stderr_path.read_text(errors="replace").strip().splitlines()[-3:]
                    if stderr_path.exists()
                    else []
                )
                job.status = "failed"
                job.error = (
                    detail
                    or f"The training process ended unexpectedly (exit code {code}). "
                    + " ".join(tail)
                )
            job.ended = time.time()
            self._running -= 1
            if self.warm_worker and self._standby is None:
                self._spawn_standby()  # after the job, so its import never slows training
            self._start_ready_jobs()
            self._lock.notify_all()

    def _apply(self, job_id: str, event: dict) -> None:
        with self._lock:
            job = self._jobs[job_id]
            kind = event.get("type")
            if kind == "start":
                job.total_epochs, job.batches = event["epochs"], event["batches"]
            elif kind == "batch":
                job.epoch, job.batch, job.batches = event["epoch"], event["batch"], event["batches"]
                job.epoch_seconds = event.get("epoch_seconds", 0.0)
                job.batch_losses.append(
                    (job.epoch - 1 + job.batch / max(job.batches, 1), event["loss"])
                )
            elif kind == "epoch":
                job.history.append({k: event[k] for k in ("epoch", "loss", "val_loss")})
                job.batch = 0
            elif kind == "done":
                job.result = {k: v for k, v in event.items() if k != "type"}
                job.status = event.get("status", "finished")
            elif kind == "error":
                job.status, job.error = "failed", event["message"]
            self._lock.notify_all()


def _snapshot(job: Job) -> Job:
    return replace(
        job,
        history=list(job.history),
        batch_losses=list(job.batch_losses),
        result=dict(job.result),
        config=dict(job.config),
    )


def run_standby() -> int:
    """`python -m core.jobs --standby`: import TensorFlow now, then wait on stdin for one
    job folder and run it. The UI keeps one such warm worker so a click on Train does not
    wait for TensorFlow's import. An empty line or closed stdin (server gone) ends it."""
    import keras  # noqa: F401 - the point is to pay for the import before the job
    import tensorflow  # noqa: F401

    sys.stdout.write(EVENT_PREFIX + json.dumps({"type": "ready"}) + "\n")
    sys.stdout.flush()
    line = sys.stdin.readline().strip()
    return run_worker(Path(line)) if line else 0


if __name__ == "__main__":
    sys.exit(run_standby() if sys.argv[1] == "--standby" else run_worker(Path(sys.argv[1])))
