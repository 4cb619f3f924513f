"""Relationships page: which series leads, levels against returns, and the spread, for the
dataset in use. The section itself is ui/relationships.py; with one series, the page says
how to add others."""

import streamlit as st

from core import fmt
from core.data import list_samples
from ui.relationships import relationships_section

st.title("Relationships")
dataset = st.session_state.get("dataset")
if dataset is None or not dataset.extras:
    name = fmt.md(dataset.ticker) if dataset is not None else "the target"
    st.info(
        f"The dataset in use holds one series ({name}): there is nothing to relate it to "
        "yet. On the Data page, add extra series: pick extra tickers (the bundled samples "
        f"work offline: {', '.join(list_samples())}) or, with CSV upload, extra files. "
        "This page then shows which series leads, how their prices and returns move "
        "together, and the spread between them.",
        icon=":material/info:",
    )
    st.page_link("views/data.py", label="Add series on the Data page", icon=":material/database:")
    st.stop()
st.caption(f"Dataset: **{fmt.md(dataset.name)}**")
relationships_section(dataset)
