"""Ray on this machine: how a sweep starts or joins Ray (`start_ray`, one thread per trial),
and a cluster of several nodes, every node on 127.0.0.1, for trying `core.cli sweep
--address` without a second machine:

    python -m core.experiments.raycluster --nodes 2 --cpus 1

prints `address 127.0.0.1:PORT`, `pids ...` (every process it started) and a line per node,
`node NODE_ID head|worker PIDS`, keeps the cluster until Ctrl-C or SIGTERM,
then stops the processes it started. It uses ray.cluster_utils.Cluster (Ray's own way to
run several nodes on one machine) rather than `ray start`: Ray 2.60 turns
`--node-ip-address 127.0.0.1` into the machine's routable address, and a worker node started
with `ray start` then calls the head there, off loopback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from core.config import ONE_THREAD_ENV
from core.jobs.onray import ray_env

ROOT = Path(__file__).resolve().parents[2]
THREAD_ENV = {**ONE_THREAD_ENV, "TF_CPP_MIN_LOG_LEVEL": "2"}  # one thread per trial


def start_ray(address: str | None, workers: int, backend: str = "tensorflow") -> None:
    """Embedded Ray with `workers` CPUs, or join the cluster at `address`; its workers run
    Keras on `backend` (the sweep's, one for all its trials). Embedded means started here,
    even when a Ray cluster already runs on this machine: joining it (what `ray.init()`
    without an address does) fails, as num_cpus cannot be given to a running cluster."""
    ray_env(address)
    import ray

    env = {**THREAD_ENV, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": backend}
    common = {"runtime_env": {"env_vars": env}, "log_to_driver": False, "logging_level": "ERROR"}
    if address:
        ray.init(address=address, **common)
    else:  # "local": a Ray of its own, never one already running on the machine (issue 43)
        ray.init(address="local", num_cpus=workers, include_dashboard=False, **common)


def node_pids(node) -> list[int]:
    return [proc.process.pid for procs in node.all_processes.values() for proc in procs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.experiments.raycluster", description=__doc__
    )
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=1, help="CPUs per node")
    args = parser.parse_args(argv)
    ray_env("127.0.0.1")  # every node on 127.0.0.1
    from ray.cluster_utils import Cluster

    # a lost node is noticed in ~3 s (Ray's default: ~15 s), so its jobs are queued again soon
    checks = {"health_check_period_ms": 1000, "health_check_failure_threshold": 3}
    head = {"num_cpus": args.cpus, "include_dashboard": False, "_system_config": checks}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    for _ in range(args.nodes - 1):
        cluster.add_node(num_cpus=args.cpus)
    cluster.wait_for_nodes()
    stop: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):  # no locks in a handler: a flag only
        signal.signal(sig, lambda signum, frame: stop.append(signum))
    print(f"address {cluster.address}", flush=True)
    nodes = cluster.list_all_nodes()
    print("pids " + " ".join(str(p) for node in nodes for p in node_pids(node)), flush=True)
    for node in nodes:  # a node's own processes, to kill it (a lost machine) in a test
        role = "head" if node is cluster.head_node else "worker"
        pids = " ".join(map(str, node_pids(node)))
        print(f"node {node.node_id} {role} {pids}", flush=True)
    while not stop:
        signal.pause()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    cluster.shutdown()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
