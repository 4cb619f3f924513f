"""The same default job on Keras's TensorFlow and JAX backends, side by side in one run.

`python -m core.cli train --sample AAPL` with the default model (LSTM(64), window 60, full
AAPL sample, batch 32), EPOCHS epochs without early stopping, each backend twice,
alternating. Printed: seconds per epoch after the first (median, as the worker timed each
epoch), the first epoch (compilation included), the whole process, and the test relative
MAE, with JAX's ratio to TensorFlow. JAX is timed with a cold compilation cache (a fresh
workspace) and a warm one (the same job again in that workspace: its compiled programs
come from <workspace>/jax-cache).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

EPOCHS = 6
BACKENDS = ("tensorflow", "jax")


def one_job(
    backend: str,
    workspace: str,
    extra: tuple[str, ...] = (),
    env: dict | None = None,
    cpus: set[int] | None = None,
    epochs: int = EPOCHS,
) -> dict:
    """One `core.cli train` process: its epochs' seconds, whole time and test rel. MAE.
    `extra`: more CLI flags; `env`: added to its environment; `cpus`: pinned to those."""
    args = ["--sample", "AAPL", "--epochs", str(epochs), "--no-early-stopping", *extra]
    command = [sys.executable, "-m", "core.cli", "train", *args, "--backend", backend]
    began = time.monotonic()
    proc = subprocess.Popen(
        [*command, "--workspace", workspace],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    epochs_s = []  # each epoch's own seconds, as the worker timed it
    for line in proc.stderr:
        if line.startswith("epoch ") and line.rstrip().endswith(" s)"):
            epochs_s.append(float(line.rsplit("(", 1)[1].split()[0]))
    out = proc.stdout.read()
    if proc.wait() != 0:
        raise SystemExit(f"{backend} failed: {out[-500:]}")
    total = time.monotonic() - began
    result = json.loads(out.strip().splitlines()[-1])
    return {
        "later": statistics.median(epochs_s[1:]),
        "first": epochs_s[0],
        "total": total,
        "rel_mae": result["metrics"]["rel_mae"],
    }


def main() -> None:
    rows = {"tensorflow": [], "jax, cold cache": [], "jax, warm cache": []}
    for _ in range(2):
        workspace = tempfile.mkdtemp()  # fresh: JAX compiles, then finds its programs kept
        rows["tensorflow"].append(one_job("tensorflow", workspace))
        rows["jax, cold cache"].append(one_job("jax", workspace))
        rows["jax, warm cache"].append(one_job("jax", workspace))
    print(__doc__.strip().splitlines()[0])
    print(
        f"{'backend':<17}{'later epochs':>13}{'first epoch':>13}{'whole process':>15}{'rel. MAE':>10}"
    )
    med = {
        b: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for b, runs in rows.items()
    }
    for backend, m in med.items():
        print(
            f"{backend:<17}{m['later']:>11.2f} s{m['first']:>11.2f} s{m['total']:>13.2f} s"
            f"{m['rel_mae']:>10.4f}"
        )
    tf, cold, warm = med.values()
    print(
        f"jax / tensorflow: later epochs {cold['later'] / tf['later']:.2f}, whole process "
        f"{cold['total'] / tf['total']:.2f} (cold cache), {warm['total'] / tf['total']:.2f} "
        f"(warm cache), rel. MAE {cold['rel_mae'] / tf['rel_mae']:.4f}"
    )


if __name__ == "__main__":
    main()
