"""The smallest Streamlit app with the same toggle as the Train page: Streamlit's own rerun floor."""

import streamlit as st

st.title("Baseline")
if st.toggle("Multivariate: add other columns as inputs"):
    st.multiselect("Extra input columns", ["open", "high"], default=["open", "high"])
