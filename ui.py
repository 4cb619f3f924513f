"""Streamlit glue shared by the pages: the process-wide job manager, the run store, errors."""

from __future__ import annotations

import streamlit as st

from core.runs import RunStore
from core.training import JobManager
from core.workspace import workspace_dir


@st.cache_resource
def job_manager(root: str) -> JobManager:
    """One job manager per server process (and workspace), shared by every browser session."""
    return JobManager(root)


def manager() -> JobManager:
    return job_manager(str(workspace_dir()))


def run_store() -> RunStore:
    return RunStore()


def show_error(exc: Exception, what: str = "That did not work") -> None:
    """A readable message, never a traceback."""
    from core.data import DataError

    if isinstance(exc, DataError):
        st.error(str(exc), icon=":material/error:")
    else:
        st.error(f"{what}: {exc}", icon=":material/error:")


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
