"""Predictions page: is the model predicting, or echoing yesterday's price?"""

import streamlit as st

from core import charts, report
from core.evaluation import (
    LAGS,
    best_lag,
    change_skill,
    horizon_errors,
    lag_diagnostic,
    lag_sentence,
    shift_prediction,
)
from ui import run_store

VERDICT_BOX = {"beats naive": st.success, "worse than naive": st.error}

st.title("Predictions")
runs = {run.id: run for run in run_store().runs(kind="forecast")}
if not runs:
    st.info("No saved runs yet. Train a model on the Train page first.")
    st.stop()

chosen = st.multiselect(
    "Runs",
    list(runs),
    default=list(runs)[:1],
    format_func=lambda i: f"{runs[i].name} ({runs[i].status}, {i})",
    help="Pick one run to inspect it, or several to compare them.",
)
if not chosen:
    st.info("Pick at least one run.")
    st.stop()


def one_run(run) -> None:
    actual, pred, previous = report.run_series(run)
    st.caption(report.describe_run(run))
    verdict, sentence = report.verdict_of(run)
    VERDICT_BOX.get(verdict, st.info)(sentence, icon=":material/gavel:")
    for warning in run.record.warnings:
        st.warning(warning, icon=":material/warning:")
    c1, c2 = st.columns([3, 1])
    shift = c1.slider(
        "Line the prediction up with the actual price k days before (k = 1: an echo of "
        "yesterday lines up)",
        min(LAGS),
        max(LAGS),
        0,
        key="shift_k",
    )
    show_naive = c2.toggle("Show naive (tomorrow = today)", value=True)
    shifted = shift_prediction(pred, shift)
    name = "prediction" if shift == 0 else f"prediction shifted {shift:+d} d"
    chart = charts.predictions_chart(
        run.predictions["actual"],
        {name: shifted},
        previous if show_naive else None,
        title="Test period: actual vs predicted price",
    )
    st.plotly_chart(chart, key="pred_chart")
    table = report.labelled(report.shifted_metrics(run, shift))
    formats = {c: st.column_config.NumberColumn(format="%.4f") for c in table.columns}
    st.dataframe(table, width="stretch", key="metrics_table", column_config=formats)
    if shift:
        st.warning(report.shift_note(shift), icon=":material/visibility:")
    st.caption(report.MASE_NOTE + " " + report.DIRECTION_NOTE)

    st.subheader("Lag diagnostic: is the prediction just yesterday's price?")
    diag = lag_diagnostic(actual, pred)
    st.plotly_chart(charts.lag_correlogram(diag), key="lag_chart")
    st.info(lag_sentence(best_lag(diag), diag), icon=":material/lightbulb:")

    st.subheader("In change space")
    skill = change_skill(run.predictions["actual"], pred, previous)
    c1, c2 = st.columns(2)
    c1.metric("corr(predicted change, actual change)", f"{skill['change_corr']:.3f}")
    c2.metric("Directional accuracy of changes", f"{skill['change_directional_accuracy']:.1%}")
    changes = run.predictions["actual_change"], run.predictions["predicted_change"]
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.change_series_chart(*changes), key="change_series")
    c2.plotly_chart(charts.change_scatter(*changes), key="change_scatter")
    if run.config.transform != "raw":
        st.caption(report.CHANGES_NOTE)

    arrays, horizon = run.arrays, run.config.horizon
    if horizon > 1 and "forecast_paths" in arrays:
        st.subheader(f"Multi-step: {horizon}-day forecasts")
        origins = list(arrays["origin_dates"])
        origin = st.select_slider(
            "Forecast origin (last known day)", origins, value=origins[len(origins) // 2]
        )
        view = report.origin_view(run, origin)
        st.plotly_chart(
            charts.horizon_forecast_chart(
                view["history"], view["forecast"], view["actual"], title=f"Forecast from {origin}"
            ),
            key="horizon_chart",
        )
        errors = horizon_errors(arrays["actual_paths"], arrays["forecast_paths"])
        naive_errors = report.naive_horizon_errors(run)
        st.plotly_chart(charts.horizon_error_chart(errors, naive_errors), key="horizon_errors")
        if view["attention"] is not None:
            heatmap = charts.attention_heatmap(view["attention"], view["input_dates"])
            st.plotly_chart(heatmap, key="attention")
            st.caption(report.attention_note(view["attention"]))

    if "future" in arrays:
        st.subheader("Forecast beyond the data")
        future = report.future_forecast(run)
        title = (
            f"Forecast for the next {len(future)} trading day(s) "
            f"after {actual.index[-1].date()} (not yet observed)"
        )
        chart = charts.horizon_forecast_chart(actual.iloc[-40:], future, title=title)
        st.plotly_chart(chart, key="future_chart")

    export = run.predictions.assign(prediction_shifted=shifted.reindex(run.predictions.index))
    c1, c2 = st.columns(2)
    csv = "text/csv"
    c1.download_button(
        "Download predictions (CSV)", export.to_csv().encode(), f"{run.id}-predictions.csv", csv
    )
    c2.download_button(
        "Download metrics (CSV)", table.to_csv().encode(), f"{run.id}-metrics.csv", csv
    )


def compare(selected) -> None:
    for run in selected:
        st.caption(f"**{run.name}**: {report.describe_run(run)}")
    first = selected[0]
    series = {run.name: run.predictions["predicted"] for run in selected}
    chart = charts.predictions_chart(
        first.predictions["actual"],
        series,
        first.predictions["naive"],
        title="Test period: runs compared",
    )
    st.plotly_chart(chart, key="compare_chart")
    comparison = report.comparison_table(selected)
    st.dataframe(comparison, width="stretch", key="compare_table")
    if not report.same_test_days(selected):
        st.warning(
            "These runs have different test periods; naive is shown for the first run's days."
        )
    st.caption(report.MASE_NOTE)
    st.subheader("Loss curves")
    histories = {run.name: run.history for run in selected}
    st.plotly_chart(charts.loss_curves_side_by_side(histories), key="compare_loss")
    st.download_button(
        "Download comparison (CSV)", comparison.to_csv().encode(), "comparison.csv", "text/csv"
    )


if len(chosen) == 1:
    one_run(runs[chosen[0]])
else:
    compare([runs[i] for i in chosen])
