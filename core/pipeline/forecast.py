"""The forecast entry of the run-kind table: a forecaster's data, model, predictions on
the test days (and beyond), and its scores beside every baseline on the same days.

Runs in the worker process (Keras is imported inside the functions that need it).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import TrainConfig
from core.errors import UserError
from core.forecasting.paths import ForecastPaths
from core.forecasting.windows import ModelData
from core.kinds.spread import SpreadConfig
from core.models.attribution import attribution_shares, summarize
from core.models.seedset import build_seed_set, per_member, seeds_of
from core.pipeline.prepare import prepare_forecast, with_spread_inputs
from core.pipeline.runner import Outcome, RunKind, RunRequest, run
from core.pipeline.scoring import BASELINE_CACHE, baseline_forecasts, score_run, seed_scores
from core.present.labels import default_run_name
from core.present.sentences import attribution_sentence, band_warning
from core.store.runs import RunRecord, RunStore

PREDICT_BATCH = 256


def predict_forecaster(
    data: ModelData, model, attention_model=None
) -> tuple[pd.DataFrame, ForecastPaths]:
    """Test-period predictions (one step ahead, as prices and as changes), every test
    origin's H-step path, attention weights, and the forecast beyond the last date."""
    rows = data.target_rows("test")
    inputs = data.arrays("test")[0]
    members = per_member(model.predict(inputs, batch_size=PREDICT_BATCH, verbose=0))
    scaled = np.mean(members, axis=0)  # only for the transformed column
    previous = data.previous_level(rows)
    seed_paths = np.stack([data.to_prices(m, previous) for m in members]).astype("float64")
    paths = seed_paths.mean(axis=0)  # the seed-averaged forecast, in prices
    actual = data.actual_paths(rows)
    predictions = pd.DataFrame(
        {
            "actual": actual[:, 0],
            "predicted": paths[:, 0],
            "naive": previous,
            "predicted_change": paths[:, 0] - previous,
            "actual_change": actual[:, 0] - previous,
            "predicted_transformed": data.to_transformed(scaled)[:, 0],
        },
        index=pd.DatetimeIndex(data.index[rows], name="date"),
    )
    val_rows = data.target_rows("val")
    val_previous = data.previous_level(val_rows)
    val_inputs = data.arrays("val")[0]
    val_paths = _mean_prices(
        data, model.predict(val_inputs, batch_size=PREDICT_BATCH, verbose=0), val_previous
    )
    attention = None
    if attention_model is not None:
        weights = attention_model.predict(inputs, batch_size=PREDICT_BATCH, verbose=0)
        attention = weights.astype("float32")
    future = _mean_prices(
        data, model.predict(data.last_window(), verbose=0), data.levels.iloc[-1:].to_numpy()
    )
    last_date = data.levels.index[-1]
    paths = ForecastPaths(
        origin_dates=origin_dates(data),
        forecast_paths=paths.astype("float64"),
        actual_paths=actual.astype("float64"),
        val_origin_dates=origin_dates(data, "val"),
        val_forecast_paths=val_paths,
        val_actual_paths=data.actual_paths(val_rows).astype("float64"),
        attention=attention,
        seed_paths=seed_paths if len(members) > 1 else None,
        future=future[0],
        future_dates=_dates(pd.bdate_range(last_date + pd.offsets.BDay(1), periods=data.horizon)),
    )
    return predictions, paths


def _mean_prices(data: ModelData, prediction, previous: np.ndarray) -> np.ndarray:
    """A prediction's prices, averaged over a seed set's members (each mapped to prices
    first, so every transform averages the same way: as prices)."""
    return np.mean([data.to_prices(m, previous) for m in per_member(prediction)], axis=0)


def test_inputs(data: ModelData) -> np.ndarray:
    """The test windows as the model reads them (windows, days, inputs)."""
    return data.arrays("test")[0]


def attribution_summary(shares: np.ndarray, inputs: list[str]) -> dict:
    """What the record keeps of the attribution (the matrix is in arrays.npz): each input's
    share, the top input and its last days, and the sentence."""
    summary = summarize(shares, inputs)
    return summary | {"sentence": attribution_sentence(summary)}


def origin_dates(data: ModelData, part: str = "test") -> np.ndarray:
    """The forecast origins of a part (the last known day before each target), as dates."""
    return _dates(data.index[data.target_rows(part) - 1])


def _dates(index: pd.DatetimeIndex) -> np.ndarray:
    return index.strftime("%Y-%m-%d").to_numpy().astype(str)


def _build(config: TrainConfig, data: ModelData):
    """The configured forecaster, or n_seeds of them side by side (a seed set)."""
    from core.models import build_forecaster

    return build_seed_set(build_forecaster, config, data.values.shape[1])


def _baselines(data: ModelData, workspace: Path) -> tuple:
    """The baselines need no model: fitted in a process of their own while the model
    trains, they add almost nothing to the run's time; kept in the workspace's cache, so
    another run on the same data and split (a compare set's next member) reads them."""
    train_end = data.split_dates()["train"][1]
    cache = workspace / BASELINE_CACHE
    return (baseline_forecasts, data.levels, train_end, origin_dates(data), data.horizon, cache)


def _finish(data: ModelData, model, attention_model, baselines, config: TrainConfig) -> Outcome:
    predictions, paths = predict_forecaster(data, model, attention_model)
    if not np.isfinite(predictions["predicted"]).all():
        raise UserError("The model predicted non-finite values; try a lower learning rate.")
    shares = attribution_shares(model, test_inputs(data))
    paths = replace(paths, attribution=shares.astype("float32"))
    train = data.split_dates()["train"]
    scores = score_run(
        data.levels,
        predictions,
        paths,
        train,
        config.interval_level,
        baselines=baselines,
        prices=not isinstance(config, SpreadConfig),
    )
    fields = dict(
        metrics=scores.metrics,
        naive=scores.naive,
        verdict=scores.verdict,
        baselines=scores.baselines,
        by_step=scores.by_step,
        intervals=scores.intervals,
        returns=scores.returns,
        moves=scores.moves,
        attribution=attribution_summary(shares, config.inputs),
        warnings=data.warnings + ([band_warning(**scores.band_broke)] if scores.band_broke else []),
        **seed_scores(data.levels, predictions, scores, train, seeds_of(config)),
    )
    return Outcome({"predictions": predictions}, scores.paths, fields)


def _summary(record: RunRecord) -> dict:
    return {
        "verdict": record.verdict,
        "warnings": record.warnings,
        "metrics": record.metrics,
        "naive": record.naive,
        "baselines": record.baselines,
        "by_step": record.by_step,
        "intervals": {
            k: record.intervals.get(k)
            for k in ("level", "method", "coverage", "mean_width", "score", "naive_score")
        },
        "returns": record.returns,
        "moves": record.moves,
        "attribution": record.attribution,
        "n_seeds": record.n_seeds,
        "seeds_agreeing": record.seeds_agreeing,
        "seeds": record.seeds,
    }


FORECAST = RunKind(
    "forecast",
    prepare=prepare_forecast,
    build=_build,
    finish=_finish,
    default_name=default_run_name,
    summary=_summary,
    alongside=_baselines,
    frame_for=with_spread_inputs,
)


def train_forecaster(
    frame: pd.DataFrame, data_desc: dict, config: TrainConfig, store: RunStore, **options
) -> dict:
    """Train one forecaster, save the run, return the summary the CLI prints. `options`
    are RunRequest's (emit, should_stop, checkpoint, bounds for a backtest fold's split,
    tags, run_id, name)."""
    return run(FORECAST, RunRequest(frame, data_desc, config, store, **options))


def repredict(run_id: str, store: RunStore) -> pd.DataFrame:
    """Recompute a saved run's test predictions from its saved model, data and settings."""
    saved = store.get(run_id)
    data = prepare_forecast(saved.dataset, saved.config)
    predictions, _ = predict_forecaster(data, saved.load_model())
    return predictions
