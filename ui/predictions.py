"""The Predictions page's longer sections: the multi-step view, the forecast beyond the
data, downloads, and the comparison of several runs. Streamlit calls only; the numbers
come from core/present/pagedata.py."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core import fmt
from core.forecasting.evaluation import horizon_errors, lag_diagnostic
from core.forecasting.headtohead import ROLLING_DAYS
from core.kinds import FORECAST_KINDS
from core.present import charts, comparison, pagedata
from core.present.labels import part_of
from core.present.report_html import runs_report
from ui import person


def multi_step_section(run, band: dict | None) -> None:
    """A seq2seq run: one origin's H-day path with its band, errors by step, attention."""
    paths, horizon = run.paths, run.config.horizon
    st.subheader(f"Multi-step: {horizon}-day forecasts")
    origins = list(paths.origin_dates)
    origin = st.select_slider(
        "Forecast origin (last known day)", origins, value=origins[len(origins) // 2]
    )
    view = pagedata.origin_view(run, origin)
    path_band = None
    if band is not None:
        lower, upper = pagedata.band_series(
            band, row=origins.index(origin), index=view["forecast"].index
        )
        path_band = (lower, upper, f"{band['level']} % interval")
    st.plotly_chart(
        charts.horizon_forecast_chart(
            view["history"],
            view["forecast"],
            view["actual"],
            title=f"Forecast from {origin}",
            band=path_band,
        ),
        key="horizon_chart",
    )
    errors = horizon_errors(paths.actual_paths, paths.forecast_paths)
    st.plotly_chart(
        charts.horizon_error_chart(errors, pagedata.naive_horizon_errors(run)), key="horizon_errors"
    )
    if run.record.by_step:
        st.dataframe(pagedata.shown(pagedata.by_step_table(run)), key="by_step", width="stretch")
    if view["attention"] is not None:
        st.plotly_chart(
            charts.attention_heatmap(view["attention"], view["input_dates"]), key="attention"
        )
        st.caption(pagedata.attention_note(view["attention"]))
        if note := pagedata.attention_against_attribution(
            run.paths.attention, run.paths.attribution
        ):
            st.caption(note)


def future_section(run, actual: pd.Series, level: int) -> None:
    st.subheader("Forecast beyond the data")
    future = pagedata.future_forecast(run)
    title = (
        f"Forecast for the next {len(future)} trading day(s) "
        f"after {actual.index[-1].date()} (not yet observed)"
    )
    bounds = pagedata.future_band(run, level)
    band = (*bounds, f"{level} % interval") if bounds is not None else None
    chart = charts.horizon_forecast_chart(actual.iloc[-40:], future, title=title, band=band)
    st.plotly_chart(chart, key="future_chart")


def downloads(run, export: pd.DataFrame, table: Callable[[], pd.DataFrame]) -> None:
    """The CSV files, made only when a button is clicked (full numbers, not the display text)."""
    c1, c2 = st.columns(2)
    csv = "text/csv"
    c1.download_button(
        "Download predictions (CSV)",
        lambda: export.to_csv().encode(),
        f"{run.id}-predictions.csv",
        csv,
    )
    c2.download_button(
        "Download metrics (CSV)", lambda: table().to_csv().encode(), f"{run.id}-metrics.csv", csv
    )
    report_button([run])


def report_button(runs: list) -> None:
    """One HTML file to share (charts, tables, settings, data hash), made when clicked."""
    name = runs[0].id if len(runs) == 1 else f"{len(runs)}-runs"
    st.download_button(
        "Download the report (HTML, opens offline)",
        lambda: runs_report(runs).encode(),
        f"laglens-{name}.html",
        "text/html",
        key=f"report_{name}",
    )


def compare_runs(selected) -> None:
    """Two or more runs on the same test days: the head-to-head sentence first, then the
    charts that show the difference (skill, rolling relative MAE), the lags side by side,
    a price close-up, each seed's test, and the loss curves."""
    compared = comparison.compare_runs(selected)
    with st.expander(f"The {len(selected)} runs", expanded=len(selected) <= 2):
        for run in selected:
            st.caption(f"**{fmt.md(run.name)}**: {pagedata.describe_run(run)}")
    forecasts = [r for r in selected if r.kind in FORECAST_KINDS]
    if len(forecasts) == len(selected):
        report_button(selected)
    if compared.problem:
        st.warning(compared.problem, icon=":material/block:")
        return
    answer = compared.head_to_head or {}
    box = {"tried": st.success, "reference": st.error}.get(answer.get("better"), st.info)
    box(fmt.md(compared.sentence), icon=":material/compare_arrows:")
    if not pagedata.same_test_days(selected):
        st.warning(
            f"These runs have different test periods: they are compared on the "
            f"{compared.common_days} test days they share."
        )
    table = pagedata.comparison_table(selected)
    st.dataframe(pagedata.shown(table), width="stretch", key="compare_table")
    st.caption(pagedata.MASE_NOTE)
    names = {run.id: run.name for run in selected}
    c1, c2 = st.columns(2)
    skill = {names[i]: s for i, s in compared.skill.items()}
    c1.plotly_chart(charts.skill_curves(skill), key="compare_skill")
    rolling = {names[i]: s for i, s in compared.rolling.items()}
    c2.plotly_chart(charts.rolling_rel_mae_chart(rolling, ROLLING_DAYS), key="compare_rolling")
    st.caption(comparison.SKILL_NOTE)
    diagnostics = {
        run.name: lag_diagnostic(pagedata.run_series(run)[0], run.predictions["predicted"])
        for run in selected
    }
    st.plotly_chart(charts.correlograms_side_by_side(diagnostics), key="compare_lags")
    predicted = {names[i]: s for i, s in compared.predicted.items()}
    chart = charts.price_close_up(
        compared.actual, compared.naive, predicted, noun=pagedata.noun(selected[0])
    )
    st.plotly_chart(chart, key="compare_chart")
    if answer.get("seeds", 0) > 1:
        st.dataframe(
            pagedata.shown(comparison.seed_table(compared)), width="stretch", key="compare_seeds"
        )
        st.caption(comparison.seed_table_note(compared))
    st.subheader("Loss curves")
    histories = {run.name: run.history for run in selected}
    st.plotly_chart(charts.loss_curves_side_by_side(histories), key="compare_loss")
    st.caption(comparison.LOSS_NOTE)
    st.download_button(
        "Download compared (CSV)",
        lambda: table.to_csv().encode(),
        "compared.csv",
        "text/csv",
    )


def attribution_section(run) -> None:
    """What the predicted move depends on: the heatmap (window day x input) and its
    sentence; nothing for runs saved before attribution."""
    shares = run.paths.attribution
    if shares is None:
        return
    st.subheader("What the predicted move depends on")
    st.plotly_chart(charts.attribution_heatmap(shares, run.config.inputs), key="attribution")
    st.caption(run.record.attribution.get("sentence", ""))


CHOSEN = "predictions.chosen"  # the runs this session last picked


def pick_runs(runs: dict) -> list[str]:
    """The run picker. It opens on your newest run trained on its own or in a compare set
    (a sweep's trials are answered on the Experiments page), with the rest of its set."""
    me = person().name
    direct = [r for r in runs.values() if not r.record.tags.get("sweep")]
    yours = [r for r in direct if r.record.owner == me]
    newest = (yours or direct or list(runs.values()))[0]
    in_set = newest.record.tags.get("compare")
    default = [i for i, r in runs.items() if in_set and r.record.tags.get("compare") == in_set]

    def label(i: str) -> str:
        run = runs[i]  # a sweep's trial says so in its name
        part = f", {part_of(run)}" if run.record.tags.get("compare") else ""
        part += f", {run.record.owner}'s" if run.record.owner != me else ""
        return f"{run.name} ({run.status}, {fmt.when(run.record.created)}{part})"

    return st.multiselect(
        "Runs",
        list(runs),
        default=still_chosen(runs, default or [newest.id]),
        format_func=label,
        help="Pick one run to inspect it, or several to compare them.",
    )


def still_chosen(runs: dict, fallback: list[str]) -> list[str]:
    """What the picker starts with: `fallback` (the newest run, or its compare set), unless
    runs this session picked were deleted since (by another session too): then it says so,
    and keeps the rest of the choice."""
    before = st.session_state.get(CHOSEN, [])
    kept = [i for i in before if i in runs]
    gone = [i for i in before if i not in runs]
    if not gone:
        return fallback
    shown = "the rest of your choice" if kept else "the newest run"
    st.warning(
        f"Run{'s' if len(gone) > 1 else ''} {', '.join(gone)} "
        f"{'were' if len(gone) > 1 else 'was'} deleted since you picked "
        f"{'them' if len(gone) > 1 else 'it'} (perhaps from another session); showing "
        f"{shown}.",
        icon=":material/delete:",
    )
    return kept or fallback
