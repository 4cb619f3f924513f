"""Volatility's baselines against naive, on ground truth and on real series (issue 44).

Simulated: GARCH(1,1) series whose OHLC come from an intraday path (core/forecasting/
volatility.py, `simulate_garch_ohlc`), 1,000 training and 1,000 test days each, with
Gaussian shocks, Student-t(4) shocks with a volatility burst, and constant volatility. For
each, the share of series where a forecast "beats" another (QLIKE lower, Diebold-Mariano
p < 0.05): EWMA, HAR and GARCH against naive; the true variance (on the estimate's scale)
against HAR and GARCH; and a forecast without skill by construction (yesterday's estimate
one day older) against naive, whose rate is the test's false alarms.

Real: the bundled samples (AAPL, MSFT: 2000-2013; ^GSPC: 1999-2018), Garman-Klass, the
first 70 % of days to fit, the rest to test: each baseline's QLIKE relative to naive and
its DM p-value.

`python -m benchmarks.bench_volatility [--series 1000]` prints both tables, then one JSON
line. Results: docs/measurements.md, `## bench_volatility`.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import pandas as pd

from core.data import load_dataset
from core.forecasting import volatility as vol

TRAIN, TEST = 1000, 1000
PROCESSES = {
    "gaussian": {},
    "garch_t4_burst": {"shocks": "t4", "burst": True},
    "constant": {"constant": True},
}


def one_series(seed: int, process: dict) -> dict[str, bool]:
    frame, true = vol.simulate_garch_ohlc(TRAIN + TEST + 1, np.random.default_rng(seed), **process)
    variance, _ = vol.daily_variance(frame)
    test = slice(TRAIN, TRAIN + TEST)
    actual = vol.target(variance).iloc[test].to_numpy()
    naive = variance.iloc[test].to_numpy()
    har = vol.har(variance, TRAIN).iloc[test].to_numpy()
    garch = vol.garch(frame, variance, TRAIN).iloc[test].to_numpy()
    scale = variance.iloc[:TRAIN].mean() / true[:TRAIN].mean()
    oracle = scale * np.asarray(true)[TRAIN + 1 : TRAIN + TEST + 1]
    pairs = {
        "ewma_vs_naive": (vol.ewma(variance).iloc[test].to_numpy(), naive),
        "har_vs_naive": (har, naive),
        "garch_vs_naive": (garch, naive),
        "oracle_vs_har": (oracle, har),
        "oracle_vs_garch": (oracle, garch),
        "no_skill_vs_naive": (variance.shift(1).iloc[test].to_numpy(), naive),
    }
    return {k: vol.beats(vol.skill(actual, a, b)) for k, (a, b) in pairs.items()}


def simulations(series: int) -> pd.DataFrame:
    rows = {}
    for name, process in PROCESSES.items():
        results = [one_series(seed, process) for seed in range(series)]
        rows[name] = {k: float(np.mean([r[k] for r in results])) for k in results[0]}
    return pd.DataFrame(rows).T


def real_series() -> pd.DataFrame:
    rows = {}
    for ticker in ("AAPL", "MSFT", "^GSPC"):
        frame = load_dataset("sample", ticker, None, None, []).frame
        variance, info = vol.daily_variance(frame)
        train_end = int(0.7 * len(variance))
        test = slice(train_end, len(variance) - 1)
        actual = vol.target(variance).iloc[test].to_numpy()
        naive = variance.iloc[test].to_numpy()
        row = {"test days": len(actual), "replaced days": info["replaced_days"]}
        for name, forecast in (
            ("ewma", vol.ewma(variance)),
            ("har", vol.har(variance, train_end)),
            ("garch", vol.garch(frame, variance, train_end)),
        ):
            result = vol.skill(actual, forecast.iloc[test].to_numpy(), naive)
            row[f"{name} rel. QLIKE"] = round(result["rel_qlike"], 3)
            row[f"{name} p"] = f"{result['dm_pvalue']:.2g}"
        rows[ticker] = row
    return pd.DataFrame(rows).T


def main(series: int = 1000) -> dict:
    warnings.filterwarnings("ignore")  # arch's convergence notes on a few simulated series
    sims, real = simulations(series), real_series()
    print(
        f"Share of {series} simulated series where the first beats the second (QLIKE, DM p < 0.05)"
    )
    print(sims.round(3).to_string())
    print("\nReal series, the last 30 % of days (QLIKE relative to naive, DM p-value)")
    print(real.to_string())
    result = {"series": series, "simulated": sims.round(3).to_dict(), "real": real.to_dict()}
    print(json.dumps(result, default=float))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    main(parser.parse_args().series)
