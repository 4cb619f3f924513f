"""Accuracy, honestly: each model beside the floor or the baseline it must be judged against.

1. AR(2) with known noise sigma: a one-step LSTM's test RMSE beside sigma, the floor no model
   can beat (goal <= 1.10 sigma), and its best lag, each beside the oracle (the true AR
   coefficients). Two processes: a strongly predictable one, where a forecaster that predicts
   has best lag 0, and a weakly predictable one, where even the oracle has best lag 1: its
   forecast is shrunk toward the mean, so RMSE against yesterday is lower than against today.
   The RMSE lag diagnostic flags smoothness as well as echoing; read it with MASE.
2. A random walk: a raw-price LSTM's MASE (about 1 expected) and best lag (1 expected: the
   best it can do is echo yesterday).
3. The AAPL sample: raw vs diff vs log return, univariate vs multivariate (MSFT, IBM, ^GSPC),
   naive persistence in the first row.
All runs go through core.forecast.train_forecaster, the code the app's worker runs.
"""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd

from core.config import TrainConfig
from core.data import load_dataset
from core.forecast import train_forecaster
from core.runs import RunStore

SIGMA = 1.0


def synthetic_frame(values: np.ndarray) -> pd.DataFrame:
    index = pd.bdate_range("2000-01-03", periods=len(values), name="date")
    close = pd.Series(values, index=index)
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close, "volume": 1.0})


AR_PROCESSES = {"strong": (1.6, -0.8), "weak": (0.6, -0.3)}


def ar2(phi1: float, phi2: float, n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    eps = rng.normal(0, SIGMA, n)
    for t in range(2, n):
        y[t] = phi1 * y[t - 1] + phi2 * y[t - 2] + eps[t]
    return 100 + y


def oracle_row(
    values: np.ndarray, phi1: float, phi2: float, test_index: pd.DatetimeIndex
) -> tuple[float, int]:
    """RMSE and best lag of the exact conditional mean on the same test days."""
    from core.evaluation import best_lag, lag_diagnostic

    y = pd.Series(
        values - 100, index=pd.bdate_range("2000-01-03", periods=len(values), name="date")
    )
    oracle = (phi1 * y.shift(1) + phi2 * y.shift(2)).loc[test_index]
    rmse = float(np.sqrt(np.mean((oracle - y.loc[test_index]) ** 2)))
    return rmse, best_lag(lag_diagnostic(y, oracle))


def random_walk(n: int = 3000, seed: int = 1) -> np.ndarray:
    return 100 + np.cumsum(np.random.default_rng(seed).normal(0, SIGMA, n))


def train(frame, store, **overrides) -> dict:
    config = TrainConfig(
        **{"window": 20, "units": 32, "epochs": 30, "patience": 5, "seed": 0, **overrides}
    )
    return train_forecaster(frame, {"ticker": "synthetic"}, config, store)


def row(name: str, m: dict) -> dict:
    return {
        "run": name,
        "RMSE": m["rmse"],
        "MASE": m["mase"],
        "dir. acc.": m["directional_accuracy"],
        "change corr": m.get("change_corr", np.nan),
        "best lag": m["best_lag"],
    }


def main() -> None:
    pd.set_option("display.width", 140)
    with tempfile.TemporaryDirectory() as ws:
        store = RunStore(ws)
        print(
            "1. AR(2), y_t = phi1 y_t-1 + phi2 y_t-2 + e_t, sigma = 1; one-step LSTM vs the oracle"
        )
        for label, (phi1, phi2) in AR_PROCESSES.items():
            values = ar2(phi1, phi2)
            r = train(synthetic_frame(values), store)
            m = r["metrics"]
            test_days = store.get(r["run_id"]).predictions.index
            o_rmse, o_lag = oracle_row(values, phi1, phi2, test_days)
            print(
                f"   {label} ({phi1}, {phi2}): LSTM RMSE {m['rmse'] / SIGMA:.3f} sigma (goal <= 1.10), "
                f"best lag {m['best_lag']}, MASE {m['mase']:.3f} | oracle RMSE {o_rmse / SIGMA:.3f} sigma, "
                f"best lag {o_lag} | naive RMSE {r['naive']['rmse'] / SIGMA:.3f} sigma"
            )
        print()

        print("2. Random walk, sigma = 1, raw-price LSTM")
        r = train(synthetic_frame(random_walk()), store)
        m = r["metrics"]
        print(
            f"   MASE {m['mase']:.3f} (about 1 expected), naive MASE {r['naive']['mase']:.3f}; "
            f"best lag {m['best_lag']} (1 expected)\n"
        )

        print("3. AAPL sample 2000-03-01..2013-03-01, LSTM(64), window 60, up to 20 epochs")
        uni = load_dataset("sample", "AAPL")
        multi = load_dataset("sample", "AAPL", extras=["MSFT", "IBM", "^GSPC"])
        feats = ["close", "MSFT_close", "IBM_close", "^GSPC_close"]
        rows = []
        for transform in ("raw", "diff", "log_return"):
            for label, data, features in (("uni", uni, ["close"]), ("multi", multi, feats)):
                res = train_forecaster(
                    data.frame,
                    data.describe(),
                    TrainConfig(
                        transform=transform,
                        features=features,
                        window=60,
                        units=64,
                        epochs=20,
                        seed=0,
                    ),
                    store,
                )
                if not rows:
                    rows.append(
                        row("naive (tomorrow = today)", {**res["naive"], "change_corr": np.nan})
                    )
                rows.append(row(f"{transform} {label}", res["metrics"]))
        print(pd.DataFrame(rows).set_index("run").to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
