"""A training job's state: what the page shows (Job), and what it keeps on disk, so that
no job disappears with its process.

<workspace>/jobs/<id>/ holds:
- job.json: what to run (kind, settings, data, label, the owning process's pid), by the
  manager that queued it;
- dataset.parquet: the data it trains on;
- worker.pid and worker.log: the worker process and its full log;
- checkpoint.json and the weights files: every finished epoch (core/store/checkpoint.py);
- outcome.json: how the job ended, written by the worker (finished, stopped, failed, or
  interrupted when its server went away), or by the manager when the worker died.
A job folder without outcome.json whose owning process is gone was cut short: the next
manager to start marks it interrupted, from what is on disk (`recover`).
No TensorFlow here: the Streamlit process reads these files.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.config import Settings
from core.kinds import CONFIGS
from core.present.sentences import kept_sentence
from core.store.checkpoint import read_checkpoint
from core.store.people import SINGLE_USER
from core.workspace import read_json, write_json

SPEC, OUTCOME, PID = "job.json", "outcome.json", "worker.pid"
RECOVER_LIMIT = 30  # the newest job folders a restarted server lists
SERVER_GONE = (
    "The server stopped while this job was training, so its worker stopped too "
    "(a worker never outlives its server)."
)
NEVER_STARTED = "The server stopped before this job left the queue."
ACTIVE = ("queued", "running")
RESUME_MODES = ("resume", "save")  # train the rest of the epochs, or save the kept ones


@dataclass(frozen=True)
class Resume:
    """A job that carries on from an interrupted one's kept epochs."""

    from_job: str
    mode: str  # one of RESUME_MODES

    def to_dict(self) -> dict:
        return {"from": self.from_job, "mode": self.mode}


@dataclass
class JobSpec:
    """What job.json holds: what to run. The manager writes it, the worker and a restarted
    server read it; the config stays its settings dataclass from the page to the saved run."""

    kind: str  # a key of core.kinds.CONFIGS
    config: Settings
    data: dict  # Dataset.describe()
    workspace: str
    label: str
    created: float = field(default_factory=time.time)
    owner: dict | None = None  # the process that queued it (None: from before jobs kept state)
    resume: Resume | None = None
    tags: dict = field(default_factory=dict)  # kept with the saved run (a compare set's side)
    person: str = SINGLE_USER  # whose job it is: the saved run's owner (core/store/people.py)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "config": self.config.to_dict(),
            "data": self.data,
            "workspace": self.workspace,
            "label": self.label,
            "created": self.created,
            "owner": self.owner,
            "resume": self.resume.to_dict() if self.resume else None,
            "tags": self.tags,
            "person": self.person,
        }

    @classmethod
    def from_dict(cls, data: dict) -> JobSpec:
        resume = data.get("resume")
        return cls(
            kind=data["kind"],
            config=CONFIGS[data["kind"]].from_dict(data["config"]),
            data=data.get("data", {}),
            workspace=data.get("workspace", ""),
            label=data.get("label", ""),
            created=data.get("created", 0.0),
            owner=data.get("owner"),
            resume=Resume(resume["from"], resume["mode"]) if resume else None,
            tags=data.get("tags") or {},
            person=data.get("person") or SINGLE_USER,
        )

    def write(self, job_dir: Path) -> None:
        write_json(job_dir / SPEC, self.to_dict())

    @classmethod
    def read(cls, job_dir: Path) -> JobSpec | None:
        """The job's spec, or None when job.json is missing or unreadable."""
        data = read_json(job_dir / SPEC)
        try:
            return cls.from_dict(data) if data is not None else None
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


@dataclass
class Job:
    """What the page shows about one job. Snapshots are copies; only the manager mutates."""

    id: str
    kind: str
    label: str
    config: Settings
    # queued, running, finished, stopped, failed, cancelled, interrupted, resumed (by a job)
    status: str = "queued"
    person: str = SINGLE_USER  # whose job it is
    created: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    total_epochs: int = 0
    batches: int = 0
    epoch: int = 0
    batch: int = 0
    epoch_seconds: float = 0.0
    history: list[dict] = field(default_factory=list)
    epoch_times: list[float] = field(default_factory=list)  # seconds of each epoch trained
    batch_losses: list[tuple[float, float]] = field(
        default_factory=list
    )  # (fractional epoch, loss)
    result: dict = field(default_factory=dict)
    error: str = ""
    stop_requested: bool = False
    stopped_at: str = ""  # "epoch E, batch B": where Stop ended training (the run is saving)
    saving: bool = False  # training has ended: the run is being tested and saved
    resumed_from: str = ""  # the interrupted job this one resumes or saves
    resumed_at: int = 0  # epochs kept from it (trained before this job's time started)
    group: str = ""  # a compare set's id: its jobs train side by side, one core each
    cores: tuple[int, ...] = ()  # the CPUs a job of a group was pinned to

    @property
    def resumable(self) -> bool:
        """Interrupted with nothing saved: its kept epochs can be saved or resumed."""
        return self.status == "interrupted" and not self.result

    @classmethod
    def from_disk(cls, found: dict) -> Job:
        """A job a previous process left on disk (an entry of `recover`), as it ended."""
        spec: JobSpec = found["spec"]
        outcome = found["outcome"]
        return cls(
            found["id"],
            spec.kind,
            spec.label or found["id"],
            spec.config,
            status=outcome.get("status", "failed"),
            created=spec.created,
            ended=spec.created,
            total_epochs=spec.config.epochs,
            history=list((found["checkpoint"] or {}).get("history", [])),
            result=outcome.get("result", {}),
            error=outcome.get("error", ""),
            resumed_from=spec.resume.from_job if spec.resume else "",
            group=spec.tags.get("compare", ""),
            person=spec.person,
        )

    @property
    def kept(self) -> str:
        """What an interrupted job kept, in one sentence."""
        return kept_sentence(len(self.history), self.total_epochs)

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
        """Time left at the mean pace so far, from the batches done (so within the first
        epoch too); None before the first batch. At most: early stopping may end sooner."""
        if self.status != "running":
            return None
        done = len(self.history) + self.batch / max(self.batches, 1)  # epochs, fractional
        if done - self.resumed_at <= 0:
            return None
        pace = self.elapsed / (done - self.resumed_at)  # this job's own epochs
        return pace * max(self.total_epochs - done, 0.0)


def snapshot(job: Job) -> Job:
    return replace(
        job,
        history=list(job.history),
        batch_losses=list(job.batch_losses),
        epoch_times=list(job.epoch_times),
        result=dict(job.result),
        config=replace(job.config),
    )


def started_at(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def owner() -> dict:
    """This process, as job.json names the process that owns a job."""
    return {"pid": os.getpid(), "started": started_at(os.getpid())}


def pid_alive(pid: int | None, marker: str = "", started: int | None = None) -> bool:
    """Is this process running (not a zombie), with `marker` in its command line and,
    if given, the same start time?"""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    if started is not None and started_at(pid) != started:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z" and marker in cmdline


def death_message(code: int, log: Path) -> str:
    """One sentence for a worker that ended without saying why, with where its log is."""
    if code == -signal.SIGKILL:
        cause = "was killed by the system (SIGKILL), often for lack of memory"
    elif code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        cause = f"was stopped by {name}"
    else:
        cause = f"ended unexpectedly (exit code {code})"
    return f"The training process {cause}; its full log is {log}."


def recover(jobs_dir: Path) -> list[dict]:
    """The newest job folders as {id, spec, outcome, checkpoint}, oldest first. A job
    without an outcome whose owner is gone is marked interrupted now (an orphan worker, if
    any, is stopped first); a job still owned by a live process (the CLI, another server,
    another manager of this process) is left to it and not listed."""
    folders = sorted((p for p in jobs_dir.iterdir() if (p / SPEC).is_file()), key=lambda p: p.name)[
        -RECOVER_LIMIT:
    ]
    found = []
    for folder in folders:
        spec = JobSpec.read(folder)
        if spec is None or spec.owner is None:
            continue  # unreadable, or from before jobs kept their state (nothing to recover)
        outcome = read_json(folder / OUTCOME)
        if outcome is None:
            boss = spec.owner
            if boss.get("pid") != os.getpid() and pid_alive(
                boss.get("pid"), "", boss.get("started")
            ):
                continue
            worker = read_json(folder / PID)
            if worker and pid_alive(worker.get("pid"), "core.jobs.worker", worker.get("started")):
                os.kill(worker["pid"], signal.SIGKILL)  # unseen work is worse than lost work
            outcome = {"status": "interrupted", "error": SERVER_GONE if worker else NEVER_STARTED}
            write_json(folder / OUTCOME, outcome)
        found.append(
            {
                "id": folder.name,
                "spec": spec,
                "outcome": outcome,
                "checkpoint": read_checkpoint(folder),
            }
        )
    return found
