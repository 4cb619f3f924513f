"""Streamlit glue shared by the pages: the process-wide job manager, the run store, errors."""

from __future__ import annotations

import os

import streamlit as st

from core import charts
from core.config import Settings
from core.errors import UserError
from core.jobs import JobManager
from core.runs import RunStore
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


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


POLL_SECONDS = 1.0


def follow(kind: str, job_id: str) -> None:
    """Make the live panel show this job (set before the panel's picker is drawn)."""
    st.session_state[f"job_picker_{kind}"] = job_id


def live_job_panel(kind: str) -> None:
    """Follow the jobs of one kind: progress, live loss curves, stop, queue, result.

    Redraws itself every second inside a fragment while a job is queued or running, so
    clicks elsewhere neither stop nor restart training; leaving and coming back resumes it.
    """
    active_at_start = any(j.active for j in manager().jobs() if j.kind == kind)

    @st.fragment(run_every=POLL_SECONDS if active_at_start else None)
    def panel() -> None:
        all_jobs = [j for j in manager().jobs() if j.kind == kind]
        if not all_jobs:
            st.info("No jobs yet. Configure the model above and start training.")
            return
        by_id = {j.id: j for j in all_jobs}
        ids = list(by_id)
        picker = f"job_picker_{kind}"  # follow() sets it when a job starts
        if st.session_state.get(picker) not in ids:
            st.session_state[picker] = ids[-1]
        chosen = st.selectbox(
            "Job",
            ids,
            key=picker,
            format_func=lambda i: f"{by_id[i].label} ({i})",  # the status is shown beside it
        )
        job = by_id[chosen]
        queued = [j for j in all_jobs if j.status == "queued"]
        if queued:
            st.caption("Queue: " + ", ".join(f"{i + 1}. {j.label}" for i, j in enumerate(queued)))
        done = len(job.history)
        cols = st.columns([2, 1, 1, 1])
        cols[0].markdown(f"**{job.label}**: {job.status}")
        cols[1].metric("Epoch", f"{done}/{job.total_epochs}")
        cols[2].metric("Elapsed", fmt_seconds(job.elapsed))
        cols[3].metric(
            "Time left",
            fmt_seconds(job.eta_seconds()),
            help="At most; early stopping may end sooner.",
        )
        if job.status == "running":
            frac = (done + job.batch / max(job.batches, 1)) / max(job.total_epochs, 1)
            st.progress(min(frac, 1.0), text=f"Epoch {done + 1}: batch {job.batch}/{job.batches}")
            if st.button("Stop", icon=":material/stop:", key=f"stop_{job.id}"):
                manager().stop(job.id)
                st.toast("Stopping after the current batch; the run will be saved as stopped.")
        elif job.status == "queued" and st.button("Cancel", key=f"cancel_{job.id}"):
            manager().stop(job.id)
        if job.error:
            st.error(job.error, icon=":material/error:")
        if job.history or job.batch_losses:
            log_y = st.toggle("Log scale", key=f"log_scale_{kind}")
            st.plotly_chart(
                charts.loss_curves(job.history, log_y, batch_losses=job.batch_losses),
                key=f"live_loss_{kind}",
            )
        if job.result:
            st.success(result_sentence(job), icon=":material/check_circle:")
        # When the last active job ends, rerun the page once: polling stops, saved runs refresh.
        if active_at_start and not any(j.active for j in all_jobs):
            st.rerun()

    panel()


def result_sentence(job) -> str:
    r = job.result
    head = f"Saved run {job.run_id} ({job.status}, {r['epochs_run']} epochs, {r['seconds']:.1f} s)."
    if "metrics" in r:
        m, n = r["metrics"], r["naive"]
        return (
            f"{head} Verdict: {r.get('verdict', '?')} (relative MAE {m.get('rel_mae', float('nan')):.3f}). "
            f"Test RMSE {m['rmse']:.3f} vs naive {n['rmse']:.3f}. Open Predictions to see why."
        )
    return f"{head} Threshold {r['threshold']:.3f}."
