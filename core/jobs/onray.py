"""Jobs on a Ray cluster: the executor the job manager (core/jobs/manager.py) uses instead
of local worker processes when a cluster is configured (`LAGLENS_RAY_ADDRESS`, or
`--address` on the CLI). The job table still decides what starts when; Ray only runs it.

Each job is one Ray Core task (`run_on_node`) with one CPU, Ray's own retries off: a task
lost with its node is retried by the job table, from its last epoch. The task needs no
filesystem shared with the server:
- it gets the job folder's files (settings, dataset, and the checkpoint of the job it
  resumes) as bytes, and trains in a workspace of the node's own, pinned to one core;
- every event (a batch, an epoch) goes to the server through an actor of the server's own
  (`EventSink`, on the server's node), and so does every new epoch checkpoint, as bytes, which
  the server writes into its job folder: a lost node costs at most the epoch it was in;
- Stop is a flag on the same actor, which the task looks for every STOP_POLL_S and turns
  into the stop file its training loop reads after each batch;
- the saved run comes back as the task's result, a tar of its folder, and the server writes it
  into its run store (renamed into place, like every run): only the server saves runs, so a
  task that dies, or outlives a server that restarted, never saves one twice.
A compare set's jobs share a placement group, one CPU a side, so both sides start at once.

Why Ray Core tasks and not Ray Jobs: a Ray Job starts a driver process per job, and has no
queue, quotas or fair share; the job table has them (docs/operations.md).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import tarfile
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from core.errors import UserError
from core.jobs.state import OUTCOME, PID, SPEC, JobSpec
from core.store.checkpoint import BEST, CHECKPOINT, LAST, MEMBER_BEST
from core.workspace import atomic_write_bytes, read_json, write_json

CORES_DIR = "laglens-cores"  # under the node's temp folder: which core each task holds
NAMESPACE = "laglens"
ROOT = Path(__file__).resolve().parents[2]  # the checkout: on every node's PYTHONPATH
NODE_WORKSPACE = "laglens-node"  # under the node's temp folder
PLACE_WAIT_S = 15.0  # a set's task not started by then is placed again without its reservation
STOP_POLL_S = 0.05  # how often a task asks whether Stop was pressed (a batch takes longer)


def is_loopback(address: str | None) -> bool:
    host = (address or "").rsplit(":", 1)[0]
    return host in ("", "localhost", "::1") or host.startswith("127.")


def ray_env(address: str | None) -> None:
    """Set before Ray is first imported (it reads them at import). No telemetry. On this
    machine Ray stays on 127.0.0.1: Ray resolves "127.0.0.1" to the machine's routable
    address unless its cluster mode is off, which is what RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0
    does (it only stops `ray start` from adding worker nodes, which LagLens never does)."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if is_loopback(address):
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"


def checkpoint_files(folder: Path) -> dict[str, bytes]:
    """A job folder's checkpoint, as bytes by file name (checkpoint.json among them)."""
    names = [LAST, BEST, *sorted(p.name for p in folder.glob(MEMBER_BEST.format("*")))]
    files = {n: (folder / n).read_bytes() for n in names if (folder / n).is_file()}
    if (folder / CHECKPOINT).is_file():
        files[CHECKPOINT] = (folder / CHECKPOINT).read_bytes()
    return files


def write_checkpoint(folder: Path, files: dict[str, bytes]) -> None:
    """A checkpoint shipped from a node, written as the worker writes one: weights first,
    each renamed into place, checkpoint.json last (it never names weights not on disk)."""
    for name, data in sorted(files.items(), key=lambda item: item[0] == CHECKPOINT):
        atomic_write_bytes(folder / name, data)


def pack(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for child in sorted(folder.iterdir()):
            tar.add(child, arcname=child.name)
    return buffer.getvalue()


def unpack_run(data: bytes, runs_dir: Path, run_id: str) -> None:
    """A run trained on a node, into the server's run store: unpacked under a hidden name,
    then renamed into place (a run is whole or absent, as RunStore.save writes one)."""
    tmp, final = runs_dir / f".tmp-{run_id}", runs_dir / run_id
    if final.exists():
        return  # saved already (never twice)
    tmp.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(tmp, filter="data")
    for child in tmp.iterdir():
        with open(child, "rb") as fh:
            os.fsync(fh.fileno())
    os.rename(tmp, final)


# ------------------------------------------------------------------ on the node


class Relay:
    """The task's `emit`: each event to the server's actor, with a new checkpoint's bytes
    ahead of it. And a Stop asked on the server, looked for every STOP_POLL_S, reaches the
    job as its stop file, which the training loop reads after every batch."""

    def __init__(self, sink, job_id: str, job_dir: Path) -> None:
        self.sink, self.job_id, self.job_dir = sink, job_id, job_dir
        self.shipped = None  # checkpoint.json's mtime when last shipped
        self.done = threading.Event()
        threading.Thread(target=self.watch_stop, name="stop-watch", daemon=True).start()

    def watch_stop(self) -> None:
        import ray

        while not self.done.wait(STOP_POLL_S):
            try:
                if ray.get(self.sink.stopped.remote(self.job_id)):
                    (self.job_dir / "stop").touch()
                    return
            except ray.exceptions.RayError:
                return  # the server's actor is gone: the server is (the task ends with it)

    def ship_checkpoint(self) -> None:
        try:
            mtime = (self.job_dir / CHECKPOINT).stat().st_mtime_ns
        except OSError:
            return
        if mtime != self.shipped:
            self.shipped = mtime
            files = checkpoint_files(self.job_dir)
            self.sink.put.remote(self.job_id, [{"type": "checkpoint", "files": files}])

    def __call__(self, event: dict) -> None:
        self.ship_checkpoint()  # the epoch just kept, before the events that follow it
        plain = json.loads(json.dumps(event, default=float))  # numpy floats, as the pipe had them
        self.sink.put.remote(self.job_id, [plain])

    def flush(self) -> None:
        """Ship what is left and wait until the actor holds every event (its calls from
        one caller run in order), so the server has them all once the task returns."""
        import ray

        self.done.set()
        self.ship_checkpoint()
        ray.get(self.sink.put.remote(self.job_id, []))


def run_on_node(job_id: str, files: dict, resumed: dict, sink) -> dict:
    """One job inside a Ray worker: its folder rebuilt in the node's workspace, trained by
    the worker's code (core/jobs/worker.py), its run packed for the server; its folders
    are removed after."""
    from core.jobs.worker import claim_core

    core = claim_core(Path(tempfile.gettempdir()) / CORES_DIR)  # before any library's threads
    import ray

    from core.jobs.worker import run_worker

    node = ray.get_runtime_context().get_node_id()
    # the node's own workspace: the job's folders for the job's time, and JAX's compiled
    # programs kept across jobs (as the server's workspace keeps them)
    root = Path(tempfile.gettempdir()) / NODE_WORKSPACE
    job_dir, run_dir = root / "jobs" / job_id, root / "runs" / job_id
    made = [job_dir, run_dir, *(root / "jobs" / j for j in resumed)]
    try:
        shutil.rmtree(job_dir, ignore_errors=True)
        job_dir.mkdir(parents=True)
        for name, data in files.items():
            (job_dir / name).write_bytes(data)
        spec = json.loads((job_dir / SPEC).read_text())
        spec["workspace"] = str(root)  # the server's path means nothing here
        (job_dir / SPEC).write_text(json.dumps(spec))
        for from_job, kept in resumed.items():  # the checkpoint it resumes
            (root / "jobs" / from_job).mkdir(parents=True, exist_ok=True)
            write_checkpoint(root / "jobs" / from_job, kept)
        relay = Relay(sink, job_id, job_dir)
        relay({"type": "node", "node": node, "core": core})
        code = run_worker(job_dir, emit=relay)
        relay.flush()
        if (run_dir / "run.json").is_file():
            record = json.loads((run_dir / "run.json").read_text())
            record["node"] = node  # where it trained (a local run: null)
            (run_dir / "run.json").write_text(json.dumps(record, indent=1))
        return {
            "code": code,
            "outcome": read_json(job_dir / OUTCOME),
            "run": pack(run_dir) if run_dir.is_dir() else None,
            "node": node,
            "core": core,
        }
    finally:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ on the server


class EventSink:
    """The server's mailbox on its own node: events by job, and which jobs were asked to
    stop (a Ray actor; `Cluster` makes it one)."""

    def __init__(self) -> None:
        self.events: dict[str, list] = defaultdict(list)
        self.stops: set[str] = set()

    def put(self, job_id: str, events: list) -> None:
        self.events[job_id].extend(events)

    def stopped(self, job_id: str) -> bool:
        return job_id in self.stops

    def take(self, job_id: str) -> list:
        return self.events.pop(job_id, [])

    def stop(self, job_id: str) -> None:
        self.stops.add(job_id)


def unreachable(address: str) -> str:
    """Why nothing can be a Ray cluster at HOST:PORT (its port takes no connection in 3 s),
    or ''. "auto" (the cluster this machine is a node of) is left to Ray."""
    if address == "auto":
        return ""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return "that is not HOST:PORT (the head's address and port, 6379 by default)"
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=3).close()
    except OSError as exc:
        return f"nothing answers there ({exc.strerror or exc})"
    return ""


def cannot_reach(address: str, why: str) -> UserError:
    return UserError(
        f"Cannot reach the Ray cluster at {address}: {why}. Start it (docs/operations.md: "
        "`python -m core.experiments.raycluster` on one machine), or unset "
        "LAGLENS_RAY_ADDRESS (or leave out --address) to train on this server."
    )


def lost_message(exc: Exception, node: str) -> str:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    where = f"node {node[:12]}" if node else "its cluster node"
    return f"The job's task on {where} was lost ({type(exc).__name__}: {first})."


class Cluster:
    """The server's side: joined once per job manager, its actor, the groups' reservations."""

    def __init__(self, address: str, server: str) -> None:
        ray_env(address)
        import ray

        from core.config import ONE_THREAD_ENV

        env = {**ONE_THREAD_ENV, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
        self.env = env
        if problem := unreachable(address):  # Ray itself would retry for minutes
            raise cannot_reach(address, problem)
        try:
            if ray.is_initialized() and ray.get_runtime_context().gcs_address != address:
                ray.shutdown()  # another cluster's (a test's): one at a time
            if not ray.is_initialized():
                ray.init(
                    address=address,
                    namespace=NAMESPACE,
                    runtime_env={"env_vars": env},
                    log_to_driver=False,
                    logging_level="ERROR",
                )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise cannot_reach(address, str(exc).splitlines()[0][:200]) from exc
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.address = address
        self.node = ray.get_runtime_context().get_node_id()  # the server's own node
        here = NodeAffinitySchedulingStrategy(self.node, soft=False)
        actor = ray.remote(EventSink).options(
            num_cpus=0, max_restarts=0, scheduling_strategy=here, name=f"events-{server}"
        )
        self.sink = actor.remote()
        self.task = ray.remote(num_cpus=1, max_retries=0)(run_on_node)
        self.groups: dict[str, object] = {}
        self._lock = threading.Lock()  # the job threads of a set's sides

    def close(self) -> None:
        import ray

        if ray.is_initialized():
            ray.kill(self.sink)

    def cpus(self) -> int:
        import ray

        return max(int(ray.cluster_resources().get("CPU", 0)), 1)

    def submit(self, job_dir: Path, backend: str, group: str = "", members: int = 1):
        """Start the job's task (one CPU, in its set's reservation); its ObjectRef."""
        import ray
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        files = {name: (job_dir / name).read_bytes() for name in (SPEC, "dataset.parquet")}
        spec = JobSpec.read(job_dir)
        resumed = {}
        if spec is not None and spec.resume is not None:
            source = job_dir.parent / spec.resume.from_job
            resumed[spec.resume.from_job] = checkpoint_files(source)
        options = {"runtime_env": {"env_vars": {**self.env, "KERAS_BACKEND": backend}}}
        if group:
            with self._lock:  # one reservation for both sides: they start together
                if group not in self.groups:  # a side each, as many as the cluster has
                    bundles = max(1, min(members, self.cpus()))
                    self.groups[group] = ray.util.placement_group([{"CPU": 1}] * bundles)
                options["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
                    self.groups[group], placement_group_bundle_index=-1
                )
        return self.task.options(**options).remote(job_dir.name, files, resumed, self.sink)

    def run(self, job_dir: Path, backend: str, group: str, members: int, apply) -> tuple[int, str]:
        """Submit the job's task and follow it (`follow`). A set's task not started after
        PLACE_WAIT_S is placed again without its reservation: the cluster lost CPUs since it
        was made (a node died), and a reservation that cannot be placed waits for ever."""
        ref = self.submit(job_dir, backend, group, members)
        again = (lambda: self.submit(job_dir, backend)) if group else None
        return self.follow(ref, job_dir, apply, again)

    def release(self, group: str) -> None:
        """A set's reservation, once none of its jobs runs."""
        import ray

        with self._lock:
            pg = self.groups.pop(group, None)
        if pg is not None:
            ray.util.remove_placement_group(pg)

    def events(self, job_id: str) -> list:
        import ray

        return ray.get(self.sink.take.remote(job_id))

    def stop(self, job_id: str) -> None:
        import ray

        ray.get(self.sink.stop.remote(job_id))

    def follow(self, ref, job_dir: Path, apply, again=None, poll: float = 0.2) -> tuple[int, str]:
        """Apply the job's events as they arrive (checkpoints written to `job_dir`), pass on
        a Stop, and when the task ends write its run and outcome here: (exit code, why it
        was lost or ''). `again`: submits the task anew, if it has not started in time."""
        import ray

        job_id, asked, last, began = job_dir.name, False, None, time.monotonic()
        placed = False

        def drain() -> None:
            nonlocal last, placed
            for event in self.events(job_id):
                if event["type"] == "checkpoint":
                    write_checkpoint(job_dir, event["files"])
                elif event["type"] == "node":  # where it runs, for a lost node's message
                    placed = True
                    write_json(job_dir / PID, {"pid": None, "node": event["node"]})
                elif event["type"] in ("done", "error"):
                    last = event  # applied once the run is in the store
                else:
                    apply(event)

        while True:
            done, _ = ray.wait([ref], timeout=poll)
            drain()
            if not asked and (job_dir / "stop").exists():
                self.stop(job_id)
                asked = True
            if done:
                break
            if again is not None and not placed and time.monotonic() - began > PLACE_WAIT_S:
                ray.cancel(ref, force=True)  # it never started: nothing is lost
                ref, again = again(), None
        try:
            result = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the task's own error: failed, not retried
            raise RuntimeError(str(exc.cause or exc).splitlines()[0][:500]) from exc
        except ray.exceptions.RayError as exc:  # the node or its worker died: the table retries
            node = (read_json(job_dir / PID) or {}).get("node") or ""
            return -9, lost_message(exc, node)
        drain()
        if result["run"] is not None:
            unpack_run(result["run"], job_dir.parent.parent / "runs", job_id)
        if result["outcome"] is not None:
            write_json(job_dir / OUTCOME, result["outcome"])
        if last is not None:
            apply(last)
        return int(result["code"]), ""
