"""Synthetic prices with a known answer, and cheap forecasters, for measuring how often the
verdict is wrong (benchmarks/bench_calibration.py, and its fast version in the tests).

Every forecaster here is a one-step forecast from yesterday's price, so each is scored the
way a run is: relative MAE and the Diebold-Mariano test against naive, the move test, the
verdict.
"""

from __future__ import annotations

import numpy as np

from core.forecasting.evaluation import move_test, skill_against_naive, verdict

PROCESSES = ("gaussian", "garch_t")
# The fat-tailed walks every rate a verdict promises is measured on: GARCH(1,1) with
# Student-t(4) shocks, and the same with a 4x volatility burst over the middle fifth.
FAT_TAILED = ("garch_t4", "garch_t4_burst")
# Forecasters without skill on a random walk, each anchored on yesterday's price.
NO_SKILL = ("echo", "echo_noise", "mean_reverting", "smoothing", "drift")


def returns(process: str, n: int, rng: np.random.Generator, phi: float = 0.0) -> np.ndarray:
    """n daily log returns: Gaussian (sd 1 %), or GARCH(1,1) (omega 1e-6, alpha 0.08, beta
    0.9: volatility clusters) with Student-t(5) shocks ("garch_t") or t(4) shocks
    ("garch_t4"; "garch_t4_burst": moves 4 x larger over the middle fifth of the days); with
    phi, each return is also phi x the day before's (AR(1)), whose conditional mean is
    known."""
    if process == "gaussian":
        shocks = rng.normal(0, 0.01, n)
    elif process in ("garch_t", *FAT_TAILED):
        df = 5 if process == "garch_t" else 4
        z = rng.standard_t(df, n) / np.sqrt(df / (df - 2))  # unit variance
        shocks, variance = np.empty(n), 1e-6 / (1 - 0.08 - 0.9)
        for t in range(n):
            shocks[t] = np.sqrt(variance) * z[t]
            variance = 1e-6 + 0.08 * shocks[t] ** 2 + 0.9 * variance
        if process == "garch_t4_burst":
            shocks[int(0.4 * n) : int(0.6 * n)] *= 4.0
    else:
        raise ValueError(f"unknown process {process!r}")
    if phi == 0.0:
        return shocks
    out = np.empty(n)
    previous = 0.0
    for t in range(n):
        previous = out[t] = phi * previous + shocks[t]
    return out


def forecast(name: str, log_price: np.ndarray, rng: np.random.Generator, phi: float = 0.0):
    """One-step forecasts of price[2:] from what was known the day before: "echo" (yesterday's
    price plus noise a hundredth of a day's move: a true echo), "echo_noise" (plus noise a
    fifth of a day's move), "mean_reverting" (plus a persistent AR(1) noise, phi 0.9, a tenth
    of a day's move a step), "smoothing" (exponential smoothing of the price, alpha 0.3: its
    moves lean against the recent ones), "drift" (yesterday's price times the mean return so
    far), "stale" (the price of two days before), "oracle" (the true conditional mean of an
    AR(1) with `phi`)."""
    price = np.exp(log_price)
    previous = price[1:-1]
    sd = np.std(np.diff(log_price))
    if name == "echo":
        return previous * np.exp(rng.normal(0, 0.01 * sd, len(previous)))
    if name == "echo_noise":
        return previous * np.exp(rng.normal(0, 0.2 * sd, len(previous)))
    if name == "mean_reverting":
        noise = np.zeros(len(previous))
        for t in range(1, len(noise)):
            noise[t] = 0.9 * noise[t - 1] + rng.normal(0, 0.1 * sd)
        return previous * np.exp(noise)
    if name == "smoothing":
        level = np.empty(len(log_price))
        level[0] = log_price[0]
        for t in range(1, len(level)):
            level[t] = 0.3 * log_price[t] + 0.7 * level[t - 1]
        return np.exp(level[1:-1])
    if name == "drift":
        step = np.diff(log_price)
        mean_so_far = np.cumsum(step)[:-1] / np.arange(1, len(step))
        return previous * np.exp(mean_so_far)
    if name == "stale":
        return price[:-2]
    if name == "oracle":
        return np.exp(log_price[1:-1] + phi * np.diff(log_price)[:-1])
    raise ValueError(f"unknown forecaster {name!r}")


def simulated(process: str, forecaster: str, days: int, rng: np.random.Generator, phi=0.0):
    """(actual, predicted, previous) prices of one simulated test period of `days` days."""
    log_price = np.log(100.0) + np.concatenate(
        [[0.0], np.cumsum(returns(process, days + 2, rng, phi))]
    )
    actual = np.exp(log_price[2:])
    previous = np.exp(log_price[1:-1])
    return actual, forecast(forecaster, log_price, rng, phi), previous


def move_alarm(process: str, forecaster: str, days: int, rng: np.random.Generator) -> bool:
    """Whether the move test alone (at 5 %) says the moves carry information."""
    return bool(move_test(*simulated(process, forecaster, days, rng))["move_pvalue"] < 0.05)


def judged(
    process: str, forecaster: str, days: int, rng: np.random.Generator, phi: float = 0.0
) -> str:
    """The verdict on one simulated test period of `days` days."""
    actual, predicted, previous = simulated(process, forecaster, days, rng, phi)
    skill = skill_against_naive(actual[:, None], predicted[:, None], previous[:, None])
    moves = move_test(actual, predicted, previous)
    return verdict(skill["rel_mae"], skill["dm_stat"], skill["dm_pvalue"], moves["move_pvalue"])


def share(verdicts: list[str], which: str) -> tuple[float, float]:
    """The share of `which` among the verdicts, and its binomial standard error."""
    p = verdicts.count(which) / len(verdicts)
    return p, float(np.sqrt(max(p * (1 - p), 1e-12) / len(verdicts)))
