"""One forecasting run: prepare -> fit -> predict -> score -> save.

Runs in the worker process (Keras is imported inside the functions that need it).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.config import TrainConfig
from core.errors import UserError
from core.forecasting.windows import ModelData
from core.pipeline.alongside import Alongside
from core.pipeline.fitting import fit_model, record_of_fit, seed_everything, use_backend
from core.pipeline.prepare import prepare_forecast
from core.pipeline.scoring import baseline_forecasts, score_run
from core.present.labels import default_run_name
from core.store.runs import RunStore


def predict_forecaster(data: ModelData, model, attention_model=None) -> tuple[pd.DataFrame, dict]:
    """Test-period predictions (one step ahead, as prices and as changes), every test
    origin's H-step path, attention weights, and the forecast beyond the last date."""
    rows = data.target_rows("test")
    ds = data.windows("test", batch_size=256)
    scaled = model.predict(ds, verbose=0)
    previous = data.previous_level(rows)
    paths = data.to_prices(scaled, previous)
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
    val_scaled = model.predict(data.windows("val", batch_size=256), verbose=0)
    arrays = {
        "origin_dates": origin_dates(data),
        "forecast_paths": paths.astype("float64"),
        "actual_paths": actual.astype("float64"),
        # The validation forecasts: the prediction interval's first residuals.
        "val_origin_dates": origin_dates(data, "val"),
        "val_forecast_paths": data.to_prices(val_scaled, data.previous_level(val_rows)),
        "val_actual_paths": data.actual_paths(val_rows).astype("float64"),
    }
    if attention_model is not None:
        arrays["attention"] = attention_model.predict(ds, verbose=0).astype("float32")
    future_scaled = model.predict(data.last_window(), verbose=0)
    last_date = data.levels.index[-1]
    arrays["future"] = data.to_prices(future_scaled, data.levels.iloc[-1:].to_numpy())[0]
    arrays["future_dates"] = _dates(
        pd.bdate_range(last_date + pd.offsets.BDay(1), periods=data.horizon)
    )
    return predictions, arrays


def origin_dates(data: ModelData, part: str = "test") -> np.ndarray:
    """The forecast origins of a part (the last known day before each target), as dates."""
    return _dates(data.index[data.target_rows(part) - 1])


def _dates(index: pd.DatetimeIndex) -> np.ndarray:
    return index.strftime("%Y-%m-%d").to_numpy().astype(str)


def train_forecaster(
    frame: pd.DataFrame,
    data_desc: dict,
    config: TrainConfig,
    store: RunStore,
    emit: Callable[[dict], None] = lambda event: None,
    should_stop: Callable[[], bool] = lambda: False,
    checkpoint=None,
    bounds: list[tuple[int, int]] | None = None,
    tags: dict | None = None,
    run_id: str = "",
    name: str = "",
) -> dict:
    """Train one forecaster, save the run, return the summary the CLI prints. `bounds`
    fixes the split (a backtest fold); `tags` are kept with the run (sweep, fold);
    `checkpoint` keeps each epoch on disk and resumes from it (core/store/checkpoint.py); a job
    passes its own id and name, so the saved run has the id and name shown while it ran."""
    data = prepare_forecast(frame, config, bounds)
    dates = data.split_dates()
    # The baselines need no model: fitted in a process of their own while the model trains
    # (core/pipeline/alongside.py), they add almost nothing to the run's time.
    with Alongside(
        baseline_forecasts, data.levels, dates["train"][1], origin_dates(data), data.horizon
    ) as baselines:
        use_backend(config.backend, store.root)
        from core.forecasting.architectures import build_forecaster

        started = time.monotonic()  # the run's seconds: after the import, as in the app
        seed_everything(config.seed)
        model, attention_model = build_forecaster(config, data.values.shape[1])
        fitted = fit_model(model, data, config, emit, should_stop, checkpoint)
        predictions, arrays = predict_forecaster(data, model, attention_model)
        if not np.isfinite(predictions["predicted"]).all():
            raise UserError("The model predicted non-finite values; try a lower learning rate.")
        scores = score_run(
            data.levels,
            predictions,
            arrays,
            dates["train"],
            config.interval_level,
            baselines=baselines.result(),
        )
    name = name or config.name or default_run_name(config, data_desc)
    record = record_of_fit(
        "forecast",
        name,
        config,
        data_desc,
        data,
        fitted,
        started,
        metrics=scores.metrics,
        naive=scores.naive,
        verdict=scores.verdict,
        baselines=scores.baselines,
        by_step=scores.by_step,
        intervals=scores.intervals,
        warnings=data.warnings,
        tags=tags or {},
        id=run_id,
    )
    store.save(record, {"predictions": predictions}, frame, arrays, model=model)
    return {
        "run_id": record.id,
        "status": record.status,
        "epochs_run": record.epochs_run,
        "seconds": round(record.seconds, 2),
        "verdict": record.verdict,
        "warnings": record.warnings,
        "metrics": scores.metrics,
        "naive": scores.naive,
        "baselines": scores.baselines,
        "by_step": scores.by_step,
        "intervals": {k: scores.intervals[k] for k in ("level", "coverage", "mean_width")},
    }


def repredict(run_id: str, store: RunStore) -> pd.DataFrame:
    """Recompute a saved run's test predictions from its saved model, data and settings."""
    run = store.get(run_id)
    predictions, _ = predict_forecaster(prepare_forecast(run.dataset, run.config), run.load_model())
    return predictions
