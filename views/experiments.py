"""Experiments page: a sweep over datasets x inputs x transforms x models x seeds on Ray,
followed live, then answered: a leaderboard and paired tests."""

import os

import pandas as pd
import streamlit as st

from core import fmt
from core.config import MODELS, TRANSFORM_LABELS, TrainConfig
from core.data import list_samples
from core.errors import UserError
from core.experiments import sweep_answers
from core.experiments.sweep_answers import QUESTIONS
from core.experiments.sweeps import SweepSpec, SweepStore, launch_sweep, resume_sweep
from core.experiments.trials import GRID, INPUTS, TRIAL_SETTINGS
from core.present import charts
from core.present.labels import sweep_table as shown
from core.present.report_html import sweep_report
from ui import person, setting_input, show_error

st.title("Experiments")
st.caption(
    "One run is an anecdote: a different seed or year can flip it. A sweep trains every "
    "combination below on Ray (trials in parallel, one CPU each) and answers the paired "
    "questions with a Wilcoxon signed-rank test."
)
store = SweepStore()


with st.expander("New sweep", expanded=not store.sweeps()):
    c1, c2 = st.columns(2)
    datasets = c1.multiselect("Datasets (bundled samples)", list_samples(), ["AAPL", "MSFT"])
    inputs = c2.multiselect("Inputs", list(INPUTS), GRID["inputs"], help="multi = close + volume")
    transforms = c1.multiselect(
        "Transforms", list(TRANSFORM_LABELS), GRID["transforms"], format_func=TRANSFORM_LABELS.get
    )
    models = c2.multiselect("Models", list(MODELS), GRID["models"], format_func=MODELS.get)
    c1, c2, c3, c4 = st.columns(4)
    seeds = c1.text_input(
        "Seeds", ",".join(map(str, GRID["seeds"])), help="Comma-separated whole numbers."
    )
    folds = c2.number_input(
        "Backtest folds", 0, 10, 0, help="0: one train per trial; 2 or more: a backtest."
    )
    epochs = setting_input(c3, TrainConfig, "epochs", value=TRIAL_SETTINGS["epochs"])
    window = setting_input(c4, TrainConfig, "window", value=TRIAL_SETTINGS["window"])
    c1, c2 = st.columns(2)
    start = c1.text_input("From date (optional)", "2008-01-01")
    workers = c2.number_input("Trials at once", 1, os.cpu_count() or 1, min(2, os.cpu_count() or 1))
    if st.button("Start sweep", type="primary"):
        try:
            spec = SweepSpec(
                datasets=[f"sample:{d}" for d in datasets],
                inputs=inputs,
                transforms=transforms,
                models=models,
                seeds=[int(s) for s in seeds.split(",") if s.strip()],
                folds=int(folds),
                settings={"epochs": int(epochs), "window": int(window)},
                start=start or None,
                person=person().name,
            )
            st.session_state["sweep_id"] = launch_sweep(spec, workers=int(workers))
        except ValueError:
            show_error(UserError("Seeds are whole numbers separated by commas, e.g. 0,1,2."))
        except UserError as exc:
            show_error(exc)

sweeps = {s["id"]: s for s in store.sweeps()}
if not sweeps:
    st.info("No sweeps yet. Define one above and start it.")
    st.stop()
ids = list(sweeps)
chosen = st.selectbox(
    "Sweep",
    ids,
    index=ids.index(st.session_state.get("sweep_id", ids[0]))
    if st.session_state.get("sweep_id") in ids
    else 0,
    format_func=lambda i: f"{i} ({sweeps[i].get('status')})",
)


@st.fragment(run_every=2.0)
def follow(sweep_id: str) -> None:
    sweep = store.load(sweep_id)
    if sweep.get("status") != sweeps[sweep_id].get("status"):
        st.rerun()  # the whole page, so the picker above names the new status
    ended, total = sweep_answers.progress(sweep)
    running = sweep.get("status") in ("queued", "running")
    st.progress(
        ended / max(total, 1), text=f"{ended} of {total} trials ended ({sweep.get('status')})"
    )
    if sweep.get("message"):
        st.error(fmt.md(sweep["message"]))
    table = sweep_answers.trial_table(sweep)
    if running and st.button(
        "Stop the sweep", help="Cancels what has not finished; keeps the rest."
    ):
        store.request_stop(sweep_id)
    if sweep.get("status") == "interrupted" and st.button(
        "Resume the sweep", help="Runs the trials that did not finish; keeps the finished ones."
    ):
        try:
            resume_sweep(sweep_id, workers=int(sweep.get("workers", 2)))
        except UserError as exc:
            show_error(exc)
    st.dataframe(shown(table), width="stretch", hide_index=True, key=f"trials-{sweep_id}")
    for name, answer in sweep_answers.answers(table).items():
        factor, tried, reference, label = QUESTIONS[name]
        (st.success if answer["pvalue"] < 0.05 else st.info)(answer["sentence"])
        st.plotly_chart(
            charts.paired_chart(
                answer["points"], tried, reference, title=f"{label}: one point per pair"
            ),
            key=f"pairs-{name}",
        )
    if sweep.get("many_tries"):
        st.info(
            sweep_answers.many_tries_fields(sweep)["many_tries"]["sentence"],
            icon=":material/functions:",
        )
    board = sweep_answers.leaderboard(table)
    if board:
        st.subheader("Leaderboard: mean relative MAE per setting (SD across datasets and seeds)")
        st.dataframe(
            shown(pd.DataFrame(board)), width="stretch", hide_index=True, key="leaderboard"
        )
    folds_table = sweep_answers.fold_table(sweep)
    if not folds_table.empty:
        st.subheader("Backtest folds")
        st.dataframe(shown(folds_table), width="stretch", hide_index=True, key="folds")
    if not running:
        st.download_button(
            "Download the sweep report (HTML)",
            lambda: sweep_report(sweep, sweep_answers.sweep_summary(sweep), table).encode(),
            f"laglens-sweep-{sweep_id}.html",
            "text/html",
        )


follow(chosen)
