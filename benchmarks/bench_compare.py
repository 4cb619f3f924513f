"""Univariate against multivariate as one set: each side's relative MAE, the head-to-head
p-value and the seed agreement on two bundled datasets, and what the set costs.

The set (`core.cli compare`: two seed sets, one a side, trained at once in worker processes
of a core each, the baselines fitted once and kept in the workspace cache) is timed against
the same 2 x N trainings as separate `core.cli train` processes, each in a fresh workspace,
as a user would run them one by one. Both are whole processes, measured in this run, on the
default backend. Goal: set / singles <= 1.0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N_SEEDS = 3
SETTINGS = ["--epochs", "5", "--window", "30", "--units", "32", "--start", "2008-01-01"]
DATASETS = [("AAPL", "MSFT,^GSPC"), ("MSFT", "^IXIC")]


def cli(*args: str) -> tuple[float, dict]:
    began = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", **os.environ},
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return time.monotonic() - began, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"Univariate vs multivariate, {N_SEEDS} seeds a side; settings: {' '.join(SETTINGS)}")
    header = f"{'dataset':<22} {'side':<42} {'rel. MAE (seeds)':<26} {'verdicts'}"
    for ticker, extras in DATASETS:
        with tempfile.TemporaryDirectory() as ws:
            set_seconds, result = cli(
                "compare", "--sample", ticker, "--with", extras, "--n-seeds", str(N_SEEDS),
                *SETTINGS, "--workspace", ws,
            )  # fmt: skip
        single_seconds = 0.0
        for features in (["--features", "close"], []):
            for seed in range(N_SEEDS):
                with tempfile.TemporaryDirectory() as ws:
                    args = ["train", "--sample", ticker, "--seed", str(seed), *SETTINGS]
                    if features:
                        args += features
                    else:
                        args += ["--with", extras]
                    single_seconds += cli(*args, "--workspace", ws)[0]
        print(f"\n{header}")
        for side in ("uni", "multi"):
            runs = [r for r in result["runs"] if r["side"] == side]
            seeds = [s for r in runs for s in r["seeds"]]  # each seed of the side's seed set
            rel = ", ".join(f"{s['rel_mae']:.4f}" for s in seeds)
            verdicts = ", ".join(sorted({s["verdict"] for s in seeds}))
            print(
                f"{ticker + ' + ' + extras:<22} {runs[0]['inputs'][:42]:<42} {rel:<26} {verdicts}"
            )
        answer = result["head_to_head"]
        per_seed = ", ".join(f"{s['dm_pvalue']:.3f}" for s in answer["per_seed"])
        print(
            f"head to head: MAE ratio {answer['rel_mae_ratio']:.4f}, p = {answer['dm_pvalue']:.3f} "
            f"seeds averaged (each seed: {per_seed}), {answer['seeds_agreeing']} of "
            f"{answer['seeds']} seeds agree, {answer['common_days']} common days"
        )
        print(f"  {answer['sentence']}")
        print(
            f"time: set {set_seconds:.1f} s, {2 * N_SEEDS} single runs {single_seconds:.1f} s: "
            f"set / singles = {set_seconds / single_seconds:.2f} (goal <= 1.0)"
        )


if __name__ == "__main__":
    main()
