"""Predictions page: is the model predicting, or echoing yesterday's price?"""

import numpy as np
import pandas as pd
import streamlit as st

from core import charts
from core.evaluation import (
    LAGS,
    best_lag,
    change_skill,
    horizon_errors,
    lag_diagnostic,
    lag_sentence,
    run_series,
    shift_prediction,
    shifted_metrics,
)
from core.features import MODELS, TRANSFORMS
from ui import run_store

MASE_NOTE = (
    "**MASE** = the model's mean absolute error / the naive forecast's in-sample error. "
    "Below 1 beats naive; about 1 is what daily stock prices usually give."
)

st.title("Predictions")
store = run_store()
runs = {run.id: run for run in store.runs(kind="forecast")}
if not runs:
    st.info("No saved runs yet. Train a model on the Train page first.")
    st.stop()

labels = {i: f"{r.name} ({r.meta.get('status')}, {i})" for i, r in runs.items()}
chosen = st.multiselect(
    "Runs",
    list(runs),
    default=list(runs)[:1],
    format_func=labels.get,
    help="Pick one run to inspect it, or several to compare them.",
)
if not chosen:
    st.info("Pick at least one run.")
    st.stop()


def describe(run) -> str:
    cfg = run.config
    inputs = (
        "multivariate: " + ", ".join(cfg["features"]) if len(cfg["features"]) > 1 else "univariate"
    )
    return (
        f"{run.meta['data'].get('ticker')} {cfg['target']}, {MODELS[cfg['model']]}, "
        f"{TRANSFORMS[cfg['transform']]}, {inputs}, window {cfg['window']}, horizon {cfg['horizon']}, "
        f"{run.meta['epochs_run']} epochs ({run.meta['status']})"
    )


def fmt_metrics(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(
        columns={
            "directional_accuracy": "directional accuracy",
            "mape": "MAPE %",
            "rmse": "RMSE",
            "mae": "MAE",
            "mase": "MASE",
        }
    )


# ================================================================= one run
if len(chosen) == 1:
    run = runs[chosen[0]]
    actual, pred, previous = run_series(run)
    test_actual = run.predictions["actual"]
    st.caption(describe(run))

    c1, c2 = st.columns([3, 1])
    shift = c1.slider(
        "Shift the prediction by k days (k = -1 moves it one day earlier)",
        min(LAGS),
        max(LAGS),
        0,
        key="shift_k",
    )
    show_naive = c2.toggle("Show naive (tomorrow = today)", value=True)
    shifted = shift_prediction(pred, shift)
    name = "prediction" if shift == 0 else f"prediction shifted {shift:+d} d"
    st.plotly_chart(
        charts.predictions_chart(
            test_actual,
            {name: shifted},
            previous if show_naive else None,
            title="Test period: actual vs predicted price",
        ),
        key="pred_chart",
    )
    table = shifted_metrics(run, shift)
    st.dataframe(
        fmt_metrics(table),
        width="stretch",
        key="metrics_table",
        column_config={
            c: st.column_config.NumberColumn(format="%.4f") for c in fmt_metrics(table).columns
        },
    )
    st.caption(
        MASE_NOTE + " Directional accuracy compares the sign of the predicted and actual move "
        "from yesterday; naive predicts no move, so it has none."
    )

    st.subheader("Lag diagnostic: is the prediction just yesterday's price?")
    diag = lag_diagnostic(actual, pred)
    st.plotly_chart(charts.lag_correlogram(diag), key="lag_chart")
    st.info(lag_sentence(best_lag(diag), diag), icon=":material/lightbulb:")

    st.subheader("In change space")
    skill = change_skill(test_actual, pred, previous)
    c1, c2 = st.columns(2)
    c1.metric("corr(predicted change, actual change)", f"{skill['change_corr']:.3f}")
    c2.metric("Directional accuracy of changes", f"{skill['change_directional_accuracy']:.1%}")
    c1, c2 = st.columns(2)
    c1.plotly_chart(
        charts.change_series_chart(
            run.predictions["actual_change"], run.predictions["predicted_change"]
        ),
        key="change_series",
    )
    c2.plotly_chart(
        charts.change_scatter(
            run.predictions["actual_change"], run.predictions["predicted_change"]
        ),
        key="change_scatter",
    )
    if run.config["transform"] != "raw":
        st.caption(
            "This model predicts changes. Its price line is yesterday's actual price plus a small "
            "predicted change, which is why it hugs the actual so closely: judge it by the "
            "change correlation and direction above, not by the price chart."
        )

    arrays = run.arrays
    horizon = int(run.config["horizon"])
    if horizon > 1 and "forecast_paths" in arrays:
        st.subheader(f"Multi-step: {horizon}-day forecasts")
        origins = list(arrays["origin_dates"])
        origin = st.select_slider(
            "Forecast origin (last known day)", origins, value=origins[len(origins) // 2]
        )
        i = origins.index(origin)
        at = actual.index.get_loc(pd.Timestamp(origin))
        target_dates = actual.index[at + 1 : at + 1 + horizon]
        history = actual.loc[:origin].iloc[-3 * horizon :]
        st.plotly_chart(
            charts.horizon_forecast_chart(
                history,
                pd.Series(arrays["forecast_paths"][i], index=target_dates),
                pd.Series(arrays["actual_paths"][i], index=target_dates),
                title=f"Forecast from {origin}",
            ),
            key="horizon_chart",
        )
        st.plotly_chart(
            charts.horizon_error_chart(
                horizon_errors(arrays["actual_paths"], arrays["forecast_paths"])
            ),
            key="horizon_errors",
        )
        if "attention" in arrays:
            window = int(run.config["window"])
            input_dates = [str(d.date()) for d in actual.loc[:origin].index[-window:]]
            st.plotly_chart(
                charts.attention_heatmap(arrays["attention"][i], input_dates), key="attention"
            )

    if "future" in arrays:
        st.subheader("Forecast beyond the data")
        future = pd.Series(arrays["future"], index=pd.to_datetime(arrays["future_dates"]))
        st.plotly_chart(
            charts.horizon_forecast_chart(
                actual.iloc[-40:],
                future,
                title=f"Forecast for the next {len(future)} trading day(s) "
                f"after {actual.index[-1].date()} (not yet observed)",
            ),
            key="future_chart",
        )

    export = run.predictions.assign(prediction_shifted=shifted.reindex(run.predictions.index))
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download predictions (CSV)",
        export.to_csv().encode(),
        f"{run.id}-predictions.csv",
        "text/csv",
    )
    c2.download_button(
        "Download metrics (CSV)", table.to_csv().encode(), f"{run.id}-metrics.csv", "text/csv"
    )

# ================================================================= compare
else:
    selected = [runs[i] for i in chosen]
    for run in selected:
        st.caption(f"**{run.name}**: {describe(run)}")
    first = selected[0]
    actual = first.predictions["actual"]
    series = {run.name: run.predictions["predicted"] for run in selected}
    st.plotly_chart(
        charts.predictions_chart(
            actual, series, first.predictions["naive"], title="Test period: runs compared"
        ),
        key="compare_chart",
    )
    naive = shifted_metrics(first, 0).loc["naive (tomorrow = today)"].copy()
    naive["best lag"], naive["change corr"] = first.naive.get("best_lag"), np.nan
    rows = {"naive (tomorrow = today)": naive}
    for run in selected:
        row = shifted_metrics(run, 0).loc["model"].copy()
        row["best lag"], row["change corr"] = (
            run.metrics.get("best_lag"),
            run.metrics.get("change_corr"),
        )
        rows[run.name] = row
    comparison = fmt_metrics(pd.DataFrame(rows).T)
    st.dataframe(comparison, width="stretch", key="compare_table")
    if len({tuple(r.predictions.index) for r in selected}) > 1:
        st.warning(
            "These runs have different test periods; naive is shown for the first run's days."
        )
    st.caption(MASE_NOTE)
    st.subheader("Loss curves")
    st.plotly_chart(
        charts.loss_curves_side_by_side({r.name: r.history for r in selected}), key="compare_loss"
    )
    st.download_button(
        "Download comparison (CSV)", comparison.to_csv().encode(), "comparison.csv", "text/csv"
    )
