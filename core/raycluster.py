"""A Ray cluster of several nodes on this machine, every node on 127.0.0.1, for trying
`core.cli sweep --address` without a second machine:

    python -m core.raycluster --nodes 2 --cpus 1

prints `address 127.0.0.1:PORT` and `pids ...`, keeps the cluster until Ctrl-C or SIGTERM,
then stops the processes it started. It uses ray.cluster_utils.Cluster (Ray's own way to
run several nodes on one machine) rather than `ray start`: Ray 2.60 turns
`--node-ip-address 127.0.0.1` into the machine's routable address, and a worker node started
with `ray start` then calls the head there, off loopback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys


def node_pids(cluster) -> list[int]:
    return [
        proc.process.pid
        for node in cluster.list_all_nodes()
        for procs in node.all_processes.values()
        for proc in procs
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.raycluster", description=__doc__)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=1, help="CPUs per node")
    args = parser.parse_args(argv)
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every node on 127.0.0.1
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": args.cpus, "include_dashboard": False}
    )
    for _ in range(args.nodes - 1):
        cluster.add_node(num_cpus=args.cpus)
    cluster.wait_for_nodes()
    stop: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):  # no locks in a handler: a flag only
        signal.signal(sig, lambda signum, frame: stop.append(signum))
    print(f"address {cluster.address}", flush=True)
    print("pids " + " ".join(map(str, node_pids(cluster))), flush=True)
    while not stop:
        signal.pause()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    cluster.shutdown()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
