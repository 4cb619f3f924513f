"""The Data page's relationships section: which series leads, levels against returns, the
spread. Computed once per dataset (st.cache_data); the maths is core/forecasting/."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import fmt
from core.data.frames import extra_column
from core.errors import UserError
from core.forecasting.relationships import zscore
from core.present import charts
from core.present.relationships import TARGET, rebased, relationships, split_dates
from ui import show_error

LABELS = {
    "lead_days": "lead (days)",
    "corr_at_lead": "r at the lead",
    "test_corr_at_lead": "r at the lead, test days",
    "corr_same_day": "r same day",
    "granger_p_to_target": "Granger p (it -> target)",
    "granger_p_from_target": "Granger p (target -> it)",
    "level_corr": "r of prices",
    "return_corr": "r of returns",
    "coint_p": "cointegration p",
    "beta": "spread beta",
    "half_life_days": "half-life (days)",
}


@st.cache_data(max_entries=4, show_spinner="Relating the series…")
def cached_relationships(frame: pd.DataFrame, target: str, extras: tuple[str, ...]) -> list[dict]:
    return relationships(frame, target, list(extras))


def relationships_section(dataset) -> None:
    st.subheader("Which series leads, and the spread")
    frame = dataset.frame
    columns = [TARGET] + [extra_column(t) for t in dataset.extras]
    names = {TARGET: dataset.ticker} | {extra_column(t): t for t in dataset.extras}
    # every series drawn first, whatever the tests below make of them
    log_y = st.toggle(
        "Log scale", value=True, key="rebased_log", help="Equal steps = equal % moves."
    )
    st.plotly_chart(charts.rebased_chart(rebased(frame, columns), names, log_y), key="rebased")
    try:
        pairs = cached_relationships(dataset.frame, dataset.ticker, tuple(dataset.extras))
    except UserError as exc:
        show_error(exc)
        return
    for pair in pairs:
        st.info(pair["sentence"], icon=":material/timeline:")
    grams = {p["series"]: p["correlogram"] for p in pairs}
    chart = charts.cross_correlogram_chart(
        grams, pairs[0]["band"], pairs[0]["band_corrected"], dataset.ticker
    )
    st.plotly_chart(chart, key="cross_correlogram")
    train_end, test_start = split_dates(frame)
    st.caption(
        f"Training days up to {fmt.date(train_end)} (the split every run of this dataset "
        f"uses); test days from {fmt.date(test_start)}. A lead is called only when it clears "
        "the band corrected for all 20 lags looked at. Granger: a VAR of the two return "
        "series, lags chosen by AIC up to 5."
    )
    table = pd.DataFrame({p["series"]: {LABELS[k]: p[k] for k in LABELS} for p in pairs})
    formats = dict.fromkeys(LABELS.values(), fmt.num) | _column_formats()
    # a row per measure, a column per series: eleven measures never fit side by side
    shown = fmt.table(table.T, formats).T
    st.dataframe(shown, width="stretch", key="relationships_table")
    other = st.selectbox("Spread of the target with", [p["series"] for p in pairs])
    pair = next(p for p in pairs if p["series"] == other)
    spread = pair["spread"].series(frame[TARGET], frame[extra_column(other)])
    title = f"z-score of log {dataset.ticker} - {fmt.num(pair['beta'], 2)} x log {other}"
    st.plotly_chart(
        charts.spread_zscore_chart(zscore(spread, train_end), train_end, title), key="spread"
    )
    st.info(pair["spread_sentence"], icon=":material/compare_arrows:")


def _column_formats() -> dict:
    p_values = ("Granger p (it -> target)", "Granger p (target -> it)", "cointegration p")
    return {
        **{c: fmt.pvalue for c in p_values},
        "lead (days)": lambda v: fmt.text(int(v)),
        "half-life (days)": lambda v: fmt.num(v, 1),
    }
