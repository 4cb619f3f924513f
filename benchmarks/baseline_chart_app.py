"""The smallest Streamlit app with one Plotly chart: a fresh browser session's floor (the
page, the websocket, and Streamlit's Plotly bundle fetched and parsed)."""

import plotly.graph_objects as go
import streamlit as st

st.title("Baseline")
st.plotly_chart(go.Figure(go.Scatter(y=[1, 2, 3])))
