"""Predictions page: is the model predicting, or echoing yesterday's price? And does it
beat the classical baselines?"""

import streamlit as st

from core import fmt
from core.config import INTERVAL_LEVELS, TrainConfig
from core.forecasting.evaluation import (
    LAGS,
    best_lag,
    change_skill,
    lag_diagnostic,
    shift_prediction,
)
from core.kinds import FORECAST_KINDS
from core.present import charts, pagedata
from core.present.sentences import lag_sentence
from ui import run_store
from ui.predictions import (
    CHOSEN,
    attribution_section,
    compare_runs,
    downloads,
    future_section,
    multi_step_section,
    pick_runs,
)

VERDICT_BOX = {"beats naive": st.success, "worse than naive": st.error}

st.title("Predictions")
runs = {run.id: run for run in run_store().runs(kind=FORECAST_KINDS)}
if not runs:
    st.info("No saved runs yet. Train a model on the Train page first.")
    st.stop()

chosen = pick_runs(runs)
st.session_state[CHOSEN] = chosen
if not chosen:
    st.info("Pick at least one run.")
    st.stop()


@st.fragment
def lined_up(run, level: int, band: dict | None, rank_by: str) -> None:
    """The shift slider, the chart and the ranked table: a fragment, so moving the slider
    redraws only these."""
    shift = st.slider(
        f"Line the prediction up with the actual {pagedata.noun(run)} k days before (k = 1: "
        "an echo of yesterday lines up)",
        min(LAGS),
        max(LAGS),
        0,
        key="shift_k",
    )
    pred, previous = pagedata.run_series(run)[1:]
    lines = None
    if band is not None and shift == 0:
        lines = (*pagedata.band_series(band, index=pred.index), f"{level} % interval")
    chart = charts.predictions_chart(
        run.predictions["actual"],
        {
            "prediction" if shift == 0 else f"prediction shifted {shift:+d} d": shift_prediction(
                pred, shift
            )
        },
        previous,
        title=f"Test period: actual vs predicted {pagedata.noun(run)}",
        baselines=pagedata.baseline_lines(run),
        band=lines,
        y_title=pagedata.noun(run),
    )
    st.plotly_chart(chart, key="pred_chart")
    st.caption(
        (pagedata.band_caption(band, run.record.intervals) + " " if band else "")
        + "Click a name in the legend to show or hide a line: drift, ARIMA and ETS start hidden."
    )
    table = pagedata.ranked_table(run, shift, rank_by)
    index = {"_index": st.column_config.TextColumn(width="large")}  # a shifted row's label
    st.dataframe(pagedata.shown(table), width="stretch", column_config=index, key="metrics_table")
    if shift:
        st.warning(pagedata.shift_note(shift), icon=":material/visibility:")
    st.caption(" ".join([pagedata.RANKED_NOTE, pagedata.MASE_NOTE, pagedata.DIRECTION_NOTE]))
    if note := pagedata.returns_note(run):
        st.caption(note)


def one_run(run) -> None:
    actual, pred, previous = pagedata.run_series(run)
    st.caption(pagedata.describe_run(run))
    verdict, sentence = pagedata.verdict_of(run)
    VERDICT_BOX.get(verdict, st.info)(sentence, icon=":material/gavel:")
    for note in (pagedata.seeds_note(run), pagedata.tries_note(run, list(runs.values()))):
        if note:
            st.caption(note)
    for warning in run.record.warnings:
        st.warning(warning, icon=":material/warning:")
    c1, c2 = st.columns(2)
    level = c1.radio(
        "Prediction interval",
        list(INTERVAL_LEVELS),
        index=list(INTERVAL_LEVELS).index(run.config.interval_level),
        format_func=INTERVAL_LEVELS.get,
        horizontal=True,
        key="interval_level",
        help=TrainConfig.spec("interval_level").help,
    )
    rank_by = c2.selectbox(
        "Rank the table by",
        list(pagedata.RANK_BY),
        format_func=pagedata.METRIC_LABELS.get,
        key="rank_by",
    )
    band = pagedata.run_band(run, level)
    lined_up(run, level, band, rank_by)

    noun = pagedata.noun(run)
    st.subheader(f"Lag diagnostic: is the prediction just yesterday's {noun}?")
    diag = lag_diagnostic(actual, pred)
    st.plotly_chart(charts.lag_correlogram(diag), key="lag_chart")
    st.info(lag_sentence(best_lag(diag), diag, noun), icon=":material/lightbulb:")

    st.subheader(f"In change space: the forecast = yesterday's {noun} + a move")
    if note := pagedata.moves_note(run):
        st.info(note, icon=":material/straighten:")
    skill = change_skill(run.predictions["actual"], pred, previous)
    c1, c2 = st.columns(2)
    c1.metric("corr(predicted change, actual change)", fmt.num(skill["change_corr"]))
    c2.metric("Directional accuracy of changes", fmt.pct(skill["change_directional_accuracy"]))
    changes = run.predictions["actual_change"], run.predictions["predicted_change"]
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.change_series_chart(*changes), key="change_series")
    c2.plotly_chart(charts.change_scatter(*changes), key="change_scatter")
    if run.config.transform != "raw":
        st.caption(pagedata.CHANGES_NOTE)
    attribution_section(run)

    if run.config.horizon > 1:
        multi_step_section(run, band)
    if run.paths.future is not None:
        future_section(run, actual, level)
    export = run.predictions
    if band is not None:
        export = export.assign(lower=band["lower"][:, 0], upper=band["upper"][:, 0])
    downloads(run, export, lambda: pagedata.ranked_table(run, 0, rank_by))


if len(chosen) == 1:
    one_run(runs[chosen[0]])
else:
    compare_runs([runs[i] for i in chosen])
