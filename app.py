"""LagLens: the router. Page config, navigation over views/, and the shared sidebar.

The pages live in views/, not pages/: Streamlit lists a pages/ folder on its own (as
old-style pages that skip this router) when a page is opened by its address."""

from pathlib import Path

import streamlit as st

from core import fmt
from core.config import backend_problem
from core.data import load_dataset
from core.errors import UserError
from ui import manager, person, sign_in_configured

# A local icon: a :material/...: page icon is fetched from fonts.gstatic.com, and the app
# makes no outside request.
ICON = Path(__file__).parent / "assets" / "favicon.png"
st.set_page_config(page_title="LagLens", page_icon=str(ICON), layout="wide")

PAGES = [
    st.Page("views/data.py", title="Data", icon=":material/database:", default=True),
    st.Page("views/relationships.py", title="Relationships", icon=":material/timeline:"),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/predictions.py", title="Predictions", icon=":material/insights:"),
    st.Page("views/anomalies.py", title="Anomalies", icon=":material/crisis_alert:"),
    st.Page("views/experiments.py", title="Experiments", icon=":material/science:"),
]

if sign_in_configured() and not st.user.is_logged_in:
    # A shared server ([auth] in .streamlit/secrets.toml): nothing is shown before sign-in.
    st.title("LagLens")
    st.write(
        "This server is shared: sign in, and the runs and jobs you start are kept under your "
        "name. You can read everyone's runs; only yours can you rename or delete."
    )
    st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")
    st.stop()

page = st.navigation(PAGES)
try:
    manager()  # the job manager starts its warm worker now, while the user looks at the data
except UserError as exc:  # a workspace that cannot be written: say which, and what to do
    st.error(fmt.md(exc), icon=":material/error:")
    st.stop()

if "dataset" not in st.session_state:
    # A fresh, offline install shows real data with no input at all.
    st.session_state["dataset"] = load_dataset("sample", "AAPL")

with st.sidebar:
    dataset = st.session_state["dataset"]
    st.caption(f"Dataset in use: **{dataset.name}**, {len(dataset.frame):,} trading days")
    if sign_in_configured():
        me = person()
        role = " (instructor)" if me.instructor else ""
        st.caption(f"Signed in as **{fmt.md(me.name)}**{role}")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
    if problem := backend_problem():
        st.warning(problem, icon=":material/warning:")

page.run()
