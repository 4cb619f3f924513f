"""Streamlit glue shared by the pages: the process-wide job manager, the run store, errors."""

from __future__ import annotations

import os

import streamlit as st

from core.config import Settings
from core.errors import UserError
from core.jobs.manager import JobManager
from core.store.runs import RunStore
from core.workspace import workspace_dir


@st.cache_resource
def job_manager(root: str) -> JobManager:
    """One job manager per server process (and workspace), shared by every browser session,
    with a warm worker so the first loss point does not wait for TensorFlow's import."""
    warm = os.environ.get("LAGLENS_WARM_WORKER", "1") != "0"
    return JobManager(root, warm_worker=warm)


def manager() -> JobManager:
    return job_manager(str(workspace_dir()))


def run_store() -> RunStore:
    return RunStore()


def show_error(exc: Exception, what: str = "That did not work") -> None:
    """A readable message, never a traceback."""
    if isinstance(exc, UserError):
        st.error(str(exc), icon=":material/error:")
    else:
        st.error(f"{what}: {exc}", icon=":material/error:")


def setting_input(where, cls: type[Settings], name: str, **kwargs):
    """The widget for one setting, with the label, default, limits and help of its Spec in
    core/config.py (choices: a selectbox, or radio=True; bool: a toggle; numbers: a number
    input; text: a text input). kwargs go to the widget (value=, key=, disabled=...)."""
    spec = cls.spec(name)
    value = kwargs.pop("value", spec.default)
    common = {"help": spec.help or None, **kwargs}
    if spec.choices:
        options = list(spec.choices)
        widget = where.radio if common.pop("radio", False) else where.selectbox
        extra = {"horizontal": True} if widget == where.radio else {}
        return widget(
            spec.label,
            options,
            index=options.index(value),
            format_func=spec.choices.get,
            **extra,
            **common,
        )
    if isinstance(spec.default, bool):
        return where.toggle(spec.label, value=value, **common)
    if isinstance(spec.default, (int, float)):
        return where.number_input(
            spec.label, min_value=spec.lo, max_value=spec.hi, value=value, step=spec.step, **common
        )
    return where.text_input(spec.label, value=value, **common)


def share_slider(where, cls: type[Settings], name: str, **kwargs) -> float:
    """A fraction setting (train_frac, val_frac) as a slider in percent; returns the fraction."""
    spec = cls.spec(name)
    percent = where.slider(
        f"{spec.label} %",
        round(spec.lo * 100),
        round(spec.hi * 100),
        round(spec.default * 100),
        step=round((spec.step or 0.05) * 100),
        help=spec.help or None,
        **kwargs,
    )
    return percent / 100


def rename_or_delete(store: RunStore, table) -> None:
    """Rename or delete one saved run of the table shown (ids and names)."""
    with st.expander("Rename or delete a run"):
        names = dict(zip(table["id"], table["name"], strict=True))
        run_id = st.selectbox("Run", list(names), format_func=lambda i: f"{names[i]} ({i})")
        new_name = st.text_input("New name", value=names.get(run_id, ""))
        c1, c2 = st.columns(2)
        if c1.button("Rename"):
            try:
                store.rename(run_id, new_name)
                st.rerun()
            except UserError as exc:
                show_error(exc)
        confirm = c2.checkbox("Yes, delete this run")
        if c2.button("Delete", disabled=not confirm):
            store.delete(run_id)
            st.rerun()


def damaged_runs(store: RunStore) -> None:
    """Damaged run folders, each with why, and a way to delete them; the rest work as usual."""
    damaged = store.damaged()
    if not damaged:
        return
    with st.expander(f"Damaged runs ({len(damaged)}): not listed, cannot be opened"):
        for run_id, why in damaged:
            c1, c2 = st.columns([4, 1])
            c1.markdown(f"`{run_id}`: {why}")
            if c2.button("Delete", key=f"delete_damaged_{run_id}"):
                store.delete(run_id)
                st.rerun()
