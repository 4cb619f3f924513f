"""Sweeps on Ray: a grid of datasets x inputs x transforms x models x seeds, one Ray task
per trial (a single train, or a backtest with folds >= 2), each saved in the run store and
tagged with the sweep's id.

Embedded by default (`ray.init` on this machine, at most `workers` trials at once); with an
address (or RAY_ADDRESS) the same code joins an existing cluster. Each trial is limited to
one CPU thread so parallel trials do not oversubscribe the cores. A failed trial is kept
with its message and the sweep goes on; a stop request cancels what has not finished; a
sweep run again skips the trials it already finished. The sweep's state lives in
<workspace>/sweeps/<id>/sweep.json, written atomically after every trial, so the
Experiments page (which never imports Ray or TensorFlow) can follow it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from core.errors import UserError
from core.experiments.raycluster import start_ray
from core.experiments.trials import SweepSpec, run_trial, trial_key
from core.jobs.onray import ray_env
from core.jobs.state import pid_alive, started_at
from core.workspace import make_dir, read_json, workspace_dir, write_json

ROOT = Path(__file__).resolve().parents[2]
DRIVER = "driver.json"  # the process running a sweep: {pid, started, leads_session}


class SweepStore:
    """Sweeps on disk: <workspace>/sweeps/<id>/sweep.json, and a `stop` file to stop one."""

    def __init__(self, root=None) -> None:
        self.root = workspace_dir(root)
        self.dir = make_dir(self.root / "sweeps")

    def path(self, sweep_id: str) -> Path:
        if not sweep_id.replace("-", "").isalnum():
            raise UserError(f"'{sweep_id}' is not a sweep id.")
        return self.dir / sweep_id

    def load(self, sweep_id: str) -> dict:
        """The sweep as saved; one whose driver process is gone while it was queued or
        running is marked interrupted first (and whatever it left running is stopped)."""
        try:
            sweep = json.loads((self.path(sweep_id) / "sweep.json").read_text())
        except (OSError, ValueError) as exc:
            raise UserError(f"Sweep {sweep_id} does not exist or is unreadable.") from exc
        if not isinstance(sweep, dict) or not isinstance(sweep.get("trials"), dict):
            raise UserError(f"Sweep {sweep_id} does not exist or is unreadable.")
        return self._settle(sweep)

    def _settle(self, sweep: dict) -> dict:
        driver = read_json(self.path(sweep["id"]) / DRIVER) or {}
        if sweep.get("status") not in ("queued", "running") or not driver:
            return sweep
        if driver_alive(driver):
            return sweep
        stopped = stop_session(driver) if driver.get("leads_session") else 0
        for trial in sweep["trials"].values():
            if trial.get("status") == "running":
                trial.update(status="interrupted")
        ended, total = (
            sum(t.get("status") == "finished" for t in sweep["trials"].values()),
            len(SweepSpec(**sweep["spec"]).trials()),
        )
        sweep.update(
            status="interrupted",
            message=(
                f"The sweep's driver process stopped (killed, or the machine restarted) after "
                f"{ended} of {total} trials finished. Resume it to run the rest; finished "
                "trials are kept."
            ),
            leftovers_stopped=stopped,
        )
        try:
            self.save(sweep)
        except OSError:
            pass  # a read-only workspace: still shown as interrupted
        return sweep

    def save(self, sweep: dict) -> None:
        write_json(self.path(sweep["id"]) / "sweep.json", sweep)

    def create(self, spec: SweepSpec, sweep_id: str | None = None) -> dict:
        sweep_id = sweep_id or f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"
        if (self.path(sweep_id) / "sweep.json").exists():
            return self.load(sweep_id)
        sweep = {"id": sweep_id, "spec": asdict(spec), "status": "queued", "trials": {}}
        self.save(sweep)
        return sweep

    def sweeps(self) -> list[dict]:
        found = []
        for path in sorted(self.dir.iterdir(), reverse=True):
            try:
                found.append(self.load(path.name))
            except UserError:
                continue
        return found

    def request_stop(self, sweep_id: str) -> None:
        (self.path(sweep_id) / "stop").touch()

    def stop_requested(self, sweep_id: str) -> bool:
        return (self.path(sweep_id) / "stop").exists()


def run_sweep(
    spec: SweepSpec,
    root=None,
    workers: int = 2,
    address: str | None = None,
    sweep_id: str | None = None,
    progress=lambda sweep: None,
) -> dict:
    """Run (or resume) a sweep to the end or until stopped; returns the saved sweep."""
    spec.check()
    address = address or os.environ.get("RAY_ADDRESS") or None
    ray_env(address)
    import ray

    store = SweepStore(root)
    sweep = store.create(spec, sweep_id)
    (store.path(sweep["id"]) / "stop").unlink(missing_ok=True)  # a resumed sweep runs again
    trials = {trial_key(t): t for t in spec.trials()}
    todo = [k for k in trials if sweep["trials"].get(k, {}).get("status") != "finished"]
    # Seed-major: trials that run at once differ in more than their seed, so two workers do
    # not compile the same model shapes side by side (JAX); a seed's next trial then finds
    # them in the workspace's compilation cache.
    todo.sort(key=lambda k: spec.seeds.index(trials[k]["seed"]))
    write_json(store.path(sweep["id"]) / DRIVER, this_driver())
    sweep.update(status="running", engine="ray", address=address or "embedded", message="")
    sweep["workers"] = workers
    sweep["skipped"] = len(trials) - len(todo)
    store.save(sweep)
    from core.config import default_backend

    start_ray(address, workers, spec.settings.get("backend") or default_backend())
    watchdog = None if address else start_watchdog()  # an embedded Ray is this driver's
    cores_dir = ""
    turns = Turns(store.root, spec.person, sweep["id"])
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(run_trial)
        in_flight = workers if not address else max(int(ray.cluster_resources()["CPU"]), 1)
        turns.slots = in_flight
        # On this machine with 2 or more workers, each worker holds a core of its own (a
        # lone worker may borrow the second core; a cluster's nodes are not ours to pin).
        pinned = not address and 1 < workers <= len(os.sched_getaffinity(0))
        cores_dir = str(store.path(sweep["id"]) / f"cores-{uuid.uuid4().hex[:8]}") if pinned else ""
        pending: dict = {}
        while todo or pending or turns.waiting:
            if store.stop_requested(sweep["id"]):
                for ref in pending:
                    ray.cancel(ref, force=True)
                for key in [*pending.values(), *turns.waiting, *todo]:
                    sweep["trials"][key] = {"status": "cancelled"}
                    turns.end(key, "cancelled")
                sweep["status"] = "stopped"
                break
            while todo and len(pending) + len(turns.waiting) < in_flight:
                turns.queue(todo.pop(0))  # a row of the job table, waiting its turn
            for key in turns.ready():  # the job table's turn: fair share with everyone's jobs
                ref = task.remote(
                    asdict(spec), trials[key], str(store.root), sweep["id"], cores_dir
                )
                pending[ref] = key
                sweep["trials"][key] = {"status": "running"}
            done = ray.wait(list(pending), num_returns=1, timeout=1.0)[0] if pending else []
            if not pending:
                time.sleep(0.5)  # every trial waits for its turn
            for ref in done:
                key = pending.pop(ref)
                try:
                    sweep["trials"][key] = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker process died
                    sweep["trials"][key] = {"status": "failed", "message": str(exc)[:500]}
                turns.end(key, sweep["trials"][key]["status"])
            store.save(sweep)
            progress(sweep)
        else:
            sweep["status"] = "finished"
    finally:
        turns.close()
        ray.shutdown()
        if watchdog is not None:  # Ray stopped as it should: nothing left to watch
            watchdog.kill()
            watchdog.wait()
        if cores_dir:  # the workers, and their locks, are gone
            shutil.rmtree(cores_dir, ignore_errors=True)
    from core.experiments.manytries import sweep_many_tries
    from core.store.runs import RunStore

    try:  # the trials are done and kept whatever happens to this summary
        sweep["many_tries"] = sweep_many_tries(sweep, RunStore(store.root))
    except Exception as exc:  # noqa: BLE001 - recorded with the sweep, never lost
        sweep["many_tries"], sweep["many_tries_error"] = None, f"{type(exc).__name__}: {exc}"
    store.save(sweep)
    return sweep


class Turns:
    """A sweep's trials in the job table (core/jobs/table.py), as everyone's jobs are: each
    waits there as its person's job and starts when the table gives it its turn (the slots,
    the caps per person, fair share), so a class running sweeps never starves the person
    who trains one run. At most `slots` of a sweep's trials wait in the table at once."""

    def __init__(self, root: Path, person: str, sweep_id: str) -> None:
        from core.jobs.table import TABLE, open_table
        from core.store.runs import RunStore

        self.table = open_table(make_dir(Path(root) / "jobs", writable=True) / TABLE)
        self.server = f"sweep:{socket.gethostname()}:{os.getpid()}:{sweep_id}"
        self.person, self.new_id, self.slots = person, RunStore.new_id, 1
        self.waiting: dict[str, str] = {}  # trial key -> its row, in the order queued
        self.running: dict[str, str] = {}

    def queue(self, key: str) -> None:
        row = self.new_id()
        self.table.add(row, self.person, "sweep trial", "", self.server, time.time())
        self.waiting[key] = row

    def ready(self) -> list[str]:
        """The waiting trials the table lets start now, first queued first."""
        from core.jobs.fairshare import Caps

        self.table.beat(self.server)
        started = []
        for key, row in list(self.waiting.items()):
            if not self.table.claim(row, self.server, self.slots, 1, Caps.from_env()):
                break
            started.append(key)
            self.running[key] = self.waiting.pop(key)
        return started

    def end(self, key: str, status: str) -> None:
        row = self.waiting.pop(key, None) or self.running.pop(key, None)
        if row is not None:
            self.table.finish(row, status if status in ("finished", "cancelled") else "failed")

    def close(self) -> None:
        for key in [*self.waiting, *self.running]:  # the driver ends: none is left open
            self.end(key, "cancelled")
        self.table.close()


def this_driver() -> dict:
    """This process as a sweep's driver: its pid, start time, and whether it leads its own
    session (a driver launched from the page does; a CLI run in a terminal does not)."""
    pid = os.getpid()
    return {
        "pid": pid,
        "started": started_at(pid),
        "boot": boot_id(),
        "leads_session": os.getsid(0) == pid,
    }


def driver_alive(driver: dict) -> bool:
    """Whether the recorded driver still runs: the same process (pid and start time) in the
    same boot of the machine."""
    if driver.get("boot") and driver["boot"] != boot_id():
        return False
    return pid_alive(driver.get("pid"), "", driver.get("started"))


def boot_id() -> str:
    """This boot of the machine (a start time in ticks since boot means nothing across)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


# What a dead driver can have left running: Ray's processes and the driver's own Python.
LEFT_BEHIND = ("ray", "raylet", "gcs_server", "core.experiments", "dashboard")


def _left_behind(pid: int, driver: dict) -> bool:
    """Whether `pid` is the dead driver's: started no earlier than the driver (in this boot)
    and running Ray or the sweep driver. A process that merely shares the session id (a
    reused pid's new session) is not."""
    started = started_at(pid)
    if driver.get("started") is not None and (started is None or started < driver["started"]):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return any(marker in cmdline for marker in LEFT_BEHIND)


def stop_session(driver: dict) -> int:
    """Stop what a dead driver left running (its Ray processes and trials): every process
    of the session it led. A session id cannot be reused while one of its processes lives,
    so everything found is the driver's. Returns how many were stopped."""
    import signal

    stopped: set[int] = set()
    if driver.get("boot") and driver["boot"] != boot_id():
        return 0  # the machine restarted: everything the driver ran ended with it
    leader = driver["pid"]
    if started_at(leader) is not None and started_at(leader) != driver.get("started", -1):
        return 0  # the pid now names another process, and the session is that one's
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:  # until none is left (a dying one may still spawn)
        alive = [pid for pid in _session(leader) if _left_behind(pid, driver)]
        if not alive:
            break
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                stopped.add(pid)
            except OSError:
                continue
        time.sleep(0.05)
    return len(stopped)


def _session(sid: int) -> list[int]:
    """The live (not zombie) processes of session `sid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
            if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def launch_sweep(spec: SweepSpec, root=None, workers: int = 2, address: str | None = None) -> str:
    """Save a new sweep and run it in its own process (`python -m core.experiments.sweeps ID`), so it
    outlives the page that started it; the page follows sweep.json."""
    spec.check()
    sweep = SweepStore(root).create(spec)
    return resume_sweep(sweep["id"], root, workers, address)


def resume_sweep(sweep_id: str, root=None, workers: int = 2, address: str | None = None) -> str:
    """Start the driver process of a saved sweep (new, or interrupted: finished trials are
    skipped). Refused while its driver still runs."""
    import subprocess
    import sys

    store = SweepStore(root)
    sweep = store.load(sweep_id)
    driver = read_json(store.path(sweep_id) / DRIVER) or {}
    if sweep.get("status") == "running" or driver_alive(driver):
        raise UserError(f"Sweep {sweep_id} is already running (or starting).")
    log = open(store.path(sweep["id"]) / "sweep.log", "ab")  # noqa: SIM115 (the child keeps it)
    command = [
        sys.executable,
        "-m",
        "core.experiments.sweeps",
        sweep["id"],
        "--workers",
        str(workers),
    ]
    if address:
        command += ["--address", address]
    proc = subprocess.Popen(
        command + ["--workspace", str(store.root)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    # Known from the start, so a driver killed before it runs a trial is found out too (the
    # driver writes the same when it starts; sweep.json stays the driver's to write).
    driver = {
        "pid": proc.pid,
        "started": started_at(proc.pid),
        "boot": boot_id(),
        "leads_session": True,
    }
    write_json(store.path(sweep["id"]) / DRIVER, driver)
    return sweep["id"]


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, theirs, ...), from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def start_watchdog():
    """A small process, in a session of its own, that outlives this driver: if the driver
    dies without shutting Ray down (kill -9 of a CLI sweep), it stops the embedded Ray's
    processes at once instead of leaving Ray's agents to time out. It knows each process by
    pid and start time, so it never stops a process that reused a pid."""
    import subprocess
    import sys

    me = os.getpid()
    ray_processes = [f"{pid}:{started_at(pid)}" for pid in descendants(me)]
    return subprocess.Popen(
        [sys.executable, "-m", "core.experiments.sweeps", "--watch", str(me), str(started_at(me))]
        + ray_processes,
        cwd=ROOT,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def watch(driver: int, started: int, processes: list[str]) -> int:
    """The watchdog's loop: when the driver is gone, SIGKILL the recorded processes that are
    still the same processes, and everything below them."""
    import signal

    while pid_alive(driver, "", started):
        time.sleep(0.5)
    for entry in processes:
        pid, _, start = entry.partition(":")
        if start != "None" and started_at(int(pid)) == int(start):
            for target in [*descendants(int(pid)), int(pid)]:
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    continue
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run or resume a saved sweep: python -m core.experiments.sweeps ID [--workers N] [--address A]."""
    import argparse
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--watch"]:
        return watch(int(args[1]), int(args[2]), args[3:])
    parser = argparse.ArgumentParser(prog="python -m core.experiments.sweeps")
    parser.add_argument("sweep_id")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--address", default=None)
    parser.add_argument("--workspace", default=None)
    args = parser.parse_args(argv)
    store = SweepStore(args.workspace)
    sweep = store.load(args.sweep_id)
    try:
        run_sweep(
            SweepSpec(**sweep["spec"]), args.workspace, args.workers, args.address, sweep["id"]
        )
    except UserError as exc:
        sweep = store.load(args.sweep_id)
        sweep.update(status="failed", message=str(exc))
        store.save(sweep)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
