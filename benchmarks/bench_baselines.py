"""Baselines and intervals: what they cost, and how the model ranks among them.

1. Cost: the default training run (AAPL sample, LSTM, every default) and a seq2seq run
   (horizon 5), each with the share of its wall time spent on the baselines (fit + forecast
   + scoring) and the conformal interval. Goal: at most 20 %.
2. The bundled long series (AAPL 2000-2013, S&P 500 1999-2018): a raw-price LSTM and a
   log-return LSTM, each beside naive, drift, ARIMA and ETS on the same test days (relative
   MAE, verdict), always-up's directional accuracy beside the model's, and the 90 % band's
   test coverage: adaptive (the app's) beside rolling and split conformal (validation
   errors only).
All runs go through core.pipeline.forecast.train_forecaster, the code the app's worker runs.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

from core.config import TrainConfig
from core.data import load_dataset
from core.forecasting.evaluation import run_positions
from core.forecasting.intervals import prediction_intervals
from core.pipeline.forecast import train_forecaster
from core.pipeline.scoring import score_run
from core.store.runs import RunStore


def scoring_seconds(run) -> float:
    """Time score_run again on the run's own saved predictions (baselines dropped)."""
    paths = run.paths.with_baselines({})
    levels = run.dataset[run.config.target].astype(float)
    started = time.perf_counter()
    score_run(levels, run.predictions, paths, run.train_dates, run.config.interval_level)
    return time.perf_counter() - started


def cost(store: RunStore) -> None:
    print("\n1. Cost of baselines + interval, as a share of the whole run (goal <= 20 %)")
    print(f"{'run':<28} {'run s':>7} {'baselines+interval s':>21} {'share':>7}")
    data = load_dataset("sample", "AAPL")
    for label, config in (
        ("default LSTM (AAPL)", TrainConfig()),
        ("seq2seq, horizon 5 (AAPL)", TrainConfig(model="seq2seq", horizon=5)),
    ):
        started = time.perf_counter()
        result = train_forecaster(data.frame, data.describe(), config, store)
        total = time.perf_counter() - started
        extra = scoring_seconds(store.get(result["run_id"]))
        print(f"{label:<28} {total:>7.1f} {extra:>21.2f} {extra / total:>7.1%}")


def ranking(store: RunStore) -> None:
    print("\n2. The model among the baselines (rel. MAE = MAE / naive's MAE, same test days)")
    head = (
        f"{'series':<8} {'transform':<10} {'model':>7} {'drift':>7} {'ARIMA':>7} {'ETS':>7}"
        f" {'ARIMA order':<28} {'model verdict':<22} {'dir. acc.':>9} {'always up':>9}"
        f" {'says up':>7} {'cov. adaptive':>13} {'rolling':>7} {'split':>6} {'width':>7}"
    )
    print(head)
    for ticker in ("AAPL", "^GSPC"):
        data = load_dataset("sample", ticker)
        for transform in ("raw", "log_return"):
            result = train_forecaster(
                data.frame, data.describe(), TrainConfig(transform=transform), store
            )
            run = store.get(result["run_id"])
            b = run.record.baselines
            levels = run.dataset["close"].astype(float)
            positions = run_positions(levels, run.paths)
            split = prediction_intervals(run.paths, positions, 90, "split")
            rolling = prediction_intervals(run.paths, positions, 90, "rolling")
            m = run.metrics
            print(
                f"{ticker:<8} {transform:<10} {m['rel_mae']:>7.4f} {b['drift']['rel_mae']:>7.4f}"
                f" {b['arima']['rel_mae']:>7.4f} {b['ets']['rel_mae']:>7.4f}"
                f" {b['arima']['fitted']:<28} {run.record.verdict:<22}"
                f" {m['directional_accuracy']:>9.4f} {b['always_up']['directional_accuracy']:>9.4f}"
                f" {m['up_share']:>7.1%} {run.record.intervals['coverage']:>13.1%}"
                f" {rolling['coverage']:>7.1%} {split['coverage']:>6.1%}"
                f" {run.record.intervals['mean_width']:>7.2f}"
            )
    print("Verdicts of the baselines themselves:")
    for name, scores in b.items():
        print(f"  ^GSPC log_return run: {name:<10} {scores['verdict'] or 'direction only'}")


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    np.random.seed(0)
    with tempfile.TemporaryDirectory() as root:
        store = RunStore(root)
        cost(store)
        ranking(store)


if __name__ == "__main__":
    main()
