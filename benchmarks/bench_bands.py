"""Bands and baselines on the scale prices move in (issue 28), measured in one run.

1. A volatility jump: 200 simulated geometric random walks whose volatility triples halfway
   through the test part; the days each method takes to cover 90 % again (20-day mean).
2. The ARIMA baseline on 200 simulated random walks: how often it is significantly worse
   than naive (DM at 5 %), fitted the old way (dollar levels, d by ADF alone) and the new
   way (log price, d by ADF and KPSS). Goal: at most 5 %.
3. Coverage of the default run's 90 % band on every bundled series long enough for a
   backtest (all but FB), over the last three folds of a walk-forward backtest, pooled:
   split, rolling and adaptive conformal (the default), each with its interval score (MSIS)
   beside naive's own band's. Goal: the default covers 88-92 %.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

from core.config import TrainConfig
from core.data import load_dataset
from core.data.samples import list_samples
from core.data.summary import adf_test
from core.experiments.backtest import backtest
from core.forecasting.baselines import Arima, forecast_baselines
from core.forecasting.evaluation import in_sample_scale, run_positions, skill_against_naive
from core.forecasting.intervals import interval_score, prediction_intervals
from core.store.runs import RunStore
from tests.test_bands_returns import inside, jump_run, recovery_day

METHODS = ("split", "rolling", "adaptive")


def coverage_table(store: RunStore) -> None:
    print("\n3. The default run's 90 % band, last 3 backtest folds pooled (goal: 88-92 %)")
    head = f"{'series':<7} {'days':>5}" + "".join(
        f" {m + ' cov.':>14} {'MSIS':>6}" for m in METHODS
    )
    print(head + f" {'naive MSIS':>10}")
    for ticker in [t for t in list_samples() if t != "FB"]:
        data = load_dataset("sample", ticker)
        result = backtest(data.frame, data.describe(), TrainConfig(), 3, store)
        hits = {m: [] for m in METHODS}
        scores = {m: [] for m in METHODS} | {"naive": []}
        for fold in result["folds"]:
            run = store.get(fold["run_id"])
            levels = run.dataset[run.config.target].astype(float)
            positions = run_positions(levels, run.paths)
            scale = in_sample_scale(levels, run.train_dates)
            actual = run.paths.actual_paths
            for method in METHODS:
                band = prediction_intervals(run.paths, positions, 90, method)
                hits[method].append(inside(run.paths, band))
                scores[method].append(
                    interval_score(actual, band["lower"], band["upper"], 90, scale)
                )
            scores["naive"].append(run.record.intervals["naive_score"])
        days = sum(len(h) for h in hits["adaptive"])
        row = f"{ticker:<7} {days:>5}"
        for method in METHODS:
            row += f" {np.concatenate(hits[method]).mean():>14.1%} {np.mean(scores[method]):>6.2f}"
        print(row + f" {np.mean(scores['naive']):>10.2f}")


def volatility_jump() -> None:
    print("\n1. Volatility triples on test day 300 (200 walks): days until 90 % coverage again")
    sims = [jump_run(seed) for seed in range(200)]
    for method in METHODS:
        covered = np.array(
            [inside(p, prediction_intervals(p, pos, 90, method)) for _, p, pos in sims]
        )
        day = recovery_day(covered, 300)
        print(
            f"  {method:<9} before {covered[:, :300].mean():.1%}, after {covered[:, 300:].mean():.1%},"
            f" first 30 days after {covered[:, 300:330].mean():.1%}, recovered after "
            f"{'never' if day is None else f'{day} days'}"
        )


class OldArima(Arima):
    """The fit before issue 28: dollar levels, d by ADF alone."""

    def candidates(self, train):
        from statsmodels.tsa.arima.model import ARIMA

        d = 0 if adf_test(train)["pvalue"] < 0.05 else 1
        trend = "c" if d == 0 else "n"
        orders = [(p, d, q) for p in range(3) for q in range(3)]
        return [ARIMA(train, order=order, trend=trend) for order in orders]


def arima_on_random_walks(n: int = 200) -> None:
    print(f"\n2. ARIMA on {n} random walks (500 training days, 250 test days): worse than naive")
    worse = {"old (levels, ADF)": 0, "new (log price, ADF + KPSS)": 0}
    seconds = dict.fromkeys(worse, 0.0)
    for seed in range(n):
        rng = np.random.default_rng(seed)
        levels = 50 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, 751)))
        origins = np.arange(500, 750)
        naive = levels[origins][:, None]
        actual = levels[origins + 1][:, None]
        started = time.perf_counter()
        old = OldArima().fit(levels[:500]).forecast(levels, origins, 1)
        seconds["old (levels, ADF)"] += time.perf_counter() - started
        started = time.perf_counter()
        new = forecast_baselines(levels, 500, origins, 1, names=("arima",))[0]["arima"]
        seconds["new (log price, ADF + KPSS)"] += time.perf_counter() - started
        for name, paths in zip(worse, (old, new), strict=True):
            skill = skill_against_naive(actual, paths, naive)
            worse[name] += skill["dm_pvalue"] < 0.05 and skill["dm_stat"] > 0
    base = seconds["old (levels, ADF)"]
    for name, count in worse.items():
        rate = count / n
        se = np.sqrt(rate * (1 - rate) / n)
        print(
            f"  {name:<28} {count:>3} of {n} = {rate:.1%} (+/- {1.96 * se:.1%}),"
            f" fit time {seconds[name] / base:.2f} x the old"
        )


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    volatility_jump()
    arima_on_random_walks()
    with tempfile.TemporaryDirectory() as root:
        coverage_table(RunStore(root))


if __name__ == "__main__":
    main()
