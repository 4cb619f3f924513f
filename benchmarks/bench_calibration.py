"""The verdict's calibration and power, measured on simulated prices with a known answer.

Random walks without skill to find: Gaussian, GARCH(1,1) with Student-t(4) shocks, and the
same with a 4x volatility burst over the middle fifth of the test days. Forecasters without
skill, each anchored on yesterday's price: a true echo, an echo plus noise, a mean-reverting
noise, exponential smoothing, a drift. For each cell: how often the move test alone says
the moves carry information (the robust test now, Pearson's one-sided test before), and how
often the verdict is a false "moves carry signal" or a false "beats naive", each with the
upper end of its 95 % interval. Then the power on planted signal: the oracle forecast of
AR(1) returns. Goals: false "moves carry signal" <= 5 % in every cell (upper bound <= 6.5 %),
false "beats naive" <= 2.5 % plus simulation error, the phi = 0.3 oracle on 750 days
"moves carry signal" or "beats naive" in >= 80 % of draws.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import stats

from core.forecasting.evaluation import move_test, skill_against_naive, verdict
from core.forecasting.simulate import NO_SKILL, judged, share, simulated

DRAWS = 1000
DAYS = (250, 750, 2000)
PROCESSES = ("gaussian", "garch_t4", "garch_t4_burst")


def pearson_p(actual, predicted, previous) -> float:
    """The move test before: Pearson's one-sided test of dollar moves."""
    return stats.pearsonr(predicted - previous, actual - previous, alternative="greater").pvalue


def upper(p: float, n: int) -> float:
    return p + 1.96 * np.sqrt(max(p * (1 - p), 1e-12) / n)


def cell(process: str, forecaster: str, days: int, rng) -> dict:
    new = old = signal = beats = 0
    for _ in range(DRAWS):
        actual, predicted, previous = simulated(process, forecaster, days, rng)
        moves = move_test(actual, predicted, previous)
        skill = skill_against_naive(actual[:, None], predicted[:, None], previous[:, None])
        v = verdict(skill["rel_mae"], skill["dm_stat"], skill["dm_pvalue"], moves["move_pvalue"])
        new += moves["move_pvalue"] < 0.05
        old += pearson_p(actual, predicted, previous) < 0.05
        signal += v == "moves carry signal"
        beats += v == "beats naive"
    return {k: v / DRAWS for k, v in dict(new=new, old=old, signal=signal, beats=beats).items()}


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    rng = np.random.default_rng(2026)
    started = time.perf_counter()
    worst = {"signal": 0.0, "beats": 0.0}
    print(
        f"{'process':15} {'forecaster':15} {'days':>5}  {'move test: now':>14} {'before':>7}  "
        f"{'false signal (upper)':>21} {'false beats (upper)':>20}"
    )
    for process in PROCESSES:
        for forecaster in NO_SKILL:
            for days in DAYS:
                c = cell(process, forecaster, days, rng)
                worst = {k: max(worst[k], upper(c[k], DRAWS)) for k in worst}
                print(
                    f"{process:15} {forecaster:15} {days:>5}  {c['new']:>14.1%} {c['old']:>7.1%}  "
                    f"{c['signal']:>10.1%} ({upper(c['signal'], DRAWS):>6.1%})     "
                    f"{c['beats']:>8.1%} ({upper(c['beats'], DRAWS):>6.1%})"
                )
    print(
        f"worst upper bounds: false signal {worst['signal']:.1%} (goal 6.5 %), "
        f"false beats {worst['beats']:.1%}"
    )
    print("\nPower: the oracle forecast of AR(1) returns (beats / signal / echo)")
    print(f"{'process':15} {'phi':>5} " + " ".join(f"{d:>24}" for d in DAYS))
    for process in ("gaussian", "garch_t4"):
        for phi in (0.05, 0.1, 0.2, 0.3):
            cells = []
            for days in DAYS:
                verdicts = [judged(process, "oracle", days, rng, phi) for _ in range(DRAWS // 4)]
                b, s, e = (
                    share(verdicts, v)[0]
                    for v in ("beats naive", "moves carry signal", "echoes yesterday")
                )
                cells.append(f"{b:>7.1%} / {s:>6.1%} / {e:>6.1%}")
            print(f"{process:15} {phi:>5} " + " ".join(cells))
    elapsed = time.perf_counter() - started
    print(
        f"\n{DRAWS:,} draws a cell ({DRAWS // 4} for power); the whole table took {elapsed:.0f} s"
    )


if __name__ == "__main__":
    main()
