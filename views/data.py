"""Data page: pick a source, ticker and range; see the prices, stats and stationarity."""

from datetime import date

import streamlit as st

from core import fmt
from core.data import SAMPLE_NAMES, list_samples, load_dataset
from core.data.datasets import csv_label
from core.data.summary import stationarity_table, summarize_prices
from core.errors import UserError
from core.present import charts
from core.present.sentences import stationarity_sentence
from ui import source_picker


@st.cache_data(show_spinner=False)
def cached_stationarity(close):
    """The ADF table as shown, and the sentence its p-values say."""
    table = stationarity_table(close)
    shown = fmt.table(table, {"ADF statistic": fmt.num, "p-value": fmt.pvalue})
    return shown, stationarity_sentence(table["p-value"].to_dict())


@st.cache_data(show_spinner=False, max_entries=4)
def cached_figures(frame):
    """The two Data charts, built once per dataset (they are the page's largest cost)."""
    return charts.candlestick_with_volume(frame), charts.differencing_figure(frame["close"])


def load(source, ticker, start, end, extras, csv_file=None, extra_files=()) -> bool:
    """Load into session state; on any failure show the error, keep the old dataset and
    return False."""
    try:
        dataset = load_dataset(
            source, ticker, start, end, extras, csv_file=csv_file, extra_csv_files=extra_files
        )
    except UserError as exc:
        st.error(fmt.md(exc), icon=":material/error:")
        return False
    except Exception as exc:  # noqa: BLE001 - never a traceback in the UI
        st.error(f"Could not load the data: {exc}. Try a bundled sample.", icon=":material/error:")
        return False
    st.session_state["dataset"] = dataset
    st.rerun()  # so the sidebar, drawn before this page, names the new dataset


st.title("Data")

in_use = st.session_state.get("dataset")
source = source_picker(in_use)
same = in_use is not None and in_use.source == source  # the form starts from what is in use
with st.form("data_form"):
    cols = st.columns([1, 1, 1, 2])
    csv_file, extra_files = None, []
    if source == "sample":
        samples = list_samples()
        ticker = cols[0].selectbox(
            "Ticker",
            samples,
            index=samples.index(in_use.ticker) if same and in_use.ticker in samples else 0,
            format_func=lambda t: f"{t} ({SAMPLE_NAMES[t]})",
        )
        start_default, end_default = date(2000, 3, 1), date(2013, 3, 1)
    else:
        if source == "csv":
            csv_file = st.file_uploader(
                "Price CSV (Yahoo-style: Date, Open, High, Low, Close, Volume)",
                type=["csv", "gz", "txt"],
            )
            ticker = cols[0].text_input(  # named by its file, as extra files are
                "Name for this series", value=csv_label(csv_file.name) if csv_file else "CSV"
            )
            extra_files = st.file_uploader(
                "Extra series as CSV files (optional; each named by its file name)",
                type=["csv", "gz", "txt"],
                accept_multiple_files=True,
            )
            start_default = end_default = None  # empty: the file's own first and last day
        else:
            ticker = cols[0].text_input(
                "Ticker (Yahoo spelling)", value=in_use.ticker if same else "AAPL"
            )
            start_default, end_default = date(2015, 1, 1), date.today()
    hint = "Empty: the file's own first and last day." if source == "csv" else None
    start = cols[1].date_input("Start", start_default, min_value=date(1970, 1, 1), help=hint)
    end = cols[2].date_input("End", end_default, min_value=date(1970, 1, 1), help=hint)
    if source == "sample":
        extras = cols[3].multiselect(
            "Extra tickers for a multivariate dataset",
            samples,
            default=[t for t in in_use.extras if t in samples] if same else [],
        )
    else:
        extra_text = cols[3].text_input(
            "Extra tickers for a multivariate dataset (comma-separated)",
            help=f"Bundled samples work offline: {', '.join(list_samples())}",
        )
        extras = [t for t in (s.strip() for s in extra_text.split(",")) if t]
    submitted = st.form_submit_button("Load data", type="primary")

failed = False
if submitted:
    with st.spinner("Loading prices..."):
        failed = not load(source, ticker, start, end, extras, csv_file, extra_files)

dataset = st.session_state.get("dataset")
if dataset is None:
    st.info("No dataset loaded yet. The bundled samples always work offline.")
    st.stop()

if failed:  # the notes below belong to the dataset still in use, not to the refused one
    st.caption(f"Still using {fmt.md(dataset.name)}, shown below.")
else:
    for warning in dataset.warnings:
        st.warning(warning, icon=":material/warning:")
    for notice in dataset.notices:
        st.info(notice, icon=":material/info:")

frame = dataset.frame
price_figure, differencing = cached_figures(frame)
st.subheader(dataset.name)
st.plotly_chart(price_figure, key="price_chart")

summary = summarize_prices(frame)
c = st.columns(3) + st.columns(3)  # two rows: a date needs a third of the width
c[0].metric("First date", fmt.date(summary["first_date"]))
c[1].metric("Last date", fmt.date(summary["last_date"]))
c[2].metric("Trading days", f"{summary['rows']:,}")
c[3].metric("Mean daily log return", fmt.sig(summary["mean_log_return"]))
c[4].metric("SD of daily log return", fmt.sig(summary["std_log_return"]))
c[5].metric(
    "Largest drawdown",
    fmt.pct(summary["max_drawdown"]),
    help=f"Trough on {fmt.date(summary['max_drawdown_date'])}",
)

st.subheader("Stationarity: raw price vs differenced")
st.caption(
    "Augmented Dickey-Fuller test (statsmodels). A p-value below 0.05 suggests the series is "
    "stationary (its mean and spread do not wander)."
)
with st.spinner("Testing stationarity..."):
    table, sentence = cached_stationarity(frame["close"])
st.dataframe(table, width="stretch")
st.caption(sentence)
st.plotly_chart(differencing, key="diff_chart")
if dataset.extras:
    st.page_link(
        "views/relationships.py",
        label="Which of these series leads, and their spread: the Relationships page",
        icon=":material/timeline:",
    )
    st.subheader("Columns available for a multivariate model")
    digits = {c: (lambda v: fmt.num(v, 0)) if "volume" in c else fmt.num for c in frame.columns}
    st.dataframe(fmt.table(frame.tail(5), digits), width="stretch")
