"""The live job panel the Train and Anomalies pages share: progress, live loss curves,
stop, the queue (whose job is whose), an interrupted job's way back, and the result."""

from __future__ import annotations

import streamlit as st

from core import fmt
from core.errors import UserError
from core.kinds import KINDS, kinds_in_panel
from core.present import charts
from ui import manager, person, show_error

POLL_SECONDS = 1.0
MINE = "my_jobs"  # this browser session's job ids


# Why the two curves can sit far apart (a new user reads it as a bug).
LOSS_NOTE = (
    "Losses are on the scaled target. The validation loss is measured on other days than the "
    "training loss, after the epoch, without dropout: when those days were calmer (smaller "
    "moves, smaller errors) it sits well below the training loss. Compare each curve with "
    "itself: falling, then flat, is learning; validation rising while training falls is "
    "overfitting."
)


def follow(kind: str, job_id: str) -> None:
    """Make the live panel show this job (set before the panel's picker is drawn), and
    remember it as this session's."""
    st.session_state[f"job_picker_{kind}"] = job_id
    st.session_state.setdefault(MINE, set()).add(job_id)


def start_jobs(kind: str, submit) -> None:
    """Queue jobs with `submit()` (it returns them), follow the first, and let the live
    panel start polling; a refusal is shown with its hint and nothing else happens."""
    refused = f"refused_{kind}"  # the panel's last result is then an earlier job's
    try:
        jobs = submit()
    except UserError as exc:
        st.session_state[refused] = True
        show_error(exc)
        return
    except Exception as exc:  # noqa: BLE001
        st.session_state[refused] = True
        show_error(exc, "Could not start training")
        return
    st.session_state.pop(refused, None)
    for job in reversed(jobs):  # every one is this session's; the panel shows the first
        follow(kind, job.id)
    st.rerun(scope="app")


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def queue_lines(all_jobs: list, mine: set) -> tuple[str, dict[str, str]]:
    """The queue in one caption (running first, then waiting in the order they will start:
    fair share across people; this session's marked) and, for each waiting job, where it
    stands."""
    active = [j for j in all_jobs if j.status == "running"]
    shown = {j.id for j in all_jobs}
    active += [j for j in manager().waiting_order() if j.id in shown]
    if not active:
        return "", {}
    names = [
        f"{i + 1}. {fmt.md(j.label)} ({j.status}{', yours' if j.id in mine else ''})"
        for i, j in enumerate(active)
    ]
    places = {}
    for i, j in enumerate(active):
        if j.status == "queued":
            ahead = ", ".join(fmt.md(a.label) for a in active[:i])
            places[j.id] = f"Waiting: {ordinal(i + 1)} in the queue, after {ahead}."
            if held := manager().held_back(j.id):
                places[j.id] += f" It waits because {held}."
    return "Queue: " + " · ".join(names), places


def _resume(kind: str, job_id: str, mode: str) -> None:
    """Button callback (it runs before the widgets are drawn, so it may pick the new job)."""
    try:
        new = manager().resume(job_id, mode)
    except UserError as exc:
        st.session_state["resume_error"] = str(exc)
        return
    follow(kind, new.id)


def interrupted_actions(kind: str, job) -> None:
    """An interrupted job: what was kept, and Save / Resume."""
    st.info(job.kept, icon=":material/history:")
    c1, c2 = st.columns(2)
    save = c1.button(
        "Save the kept epochs as a run",
        key=f"save_{job.id}",
        disabled=not job.history,
        on_click=_resume,
        args=(kind, job.id, "save"),
    )
    resume = c2.button(
        "Resume training",
        key=f"resume_{job.id}",
        type="primary",
        on_click=_resume,
        args=(kind, job.id, "resume"),
    )
    if message := st.session_state.pop("resume_error", None):
        show_error(UserError(message))
    elif save or resume:
        st.rerun(scope="app")  # the panel starts polling the new job


def live_job_panel(kind: str) -> None:
    """Follow the jobs of one kind: progress, live loss curves, stop, queue, result.

    Redraws itself every second inside a fragment while a job is queued or running, so
    clicks elsewhere neither stop nor restart training; leaving and coming back resumes it.
    """
    kinds = kinds_in_panel(kind)  # a spread job shows in the Train page's panel
    jobs_now = [j for j in manager().jobs() if j.kind in kinds]
    active_at_start = any(j.active for j in jobs_now)
    saved_key = f"saved_jobs_{kind}"  # the jobs whose run this page run already lists
    st.session_state[saved_key] = {j.id for j in jobs_now if j.run_id}

    @st.fragment(run_every=POLL_SECONDS if active_at_start else None)
    def panel() -> None:
        all_jobs = [j for j in manager().jobs() if j.kind in kinds]
        if not all_jobs:
            st.info("No jobs yet. Configure the model above and start training.")
            return
        mine = st.session_state.get(MINE, set())
        by_id = {j.id: j for j in all_jobs}
        ids = list(by_id)
        picker = f"job_picker_{kind}"  # follow() sets it when a job starts
        if st.session_state.get(picker) not in ids:
            st.session_state[picker] = ids[-1]
        # a job queued again (its worker died) is followed by the job that carries it on
        while (by := by_id[st.session_state[picker]].result.get("by")) in by_id:
            st.session_state[picker] = by
        chosen = st.selectbox(
            "Job",
            ids,
            key=picker,
            format_func=lambda i: f"{by_id[i].label} ({i}){' · yours' if i in mine else ''}",
        )
        job = by_id[chosen]
        queue, places = queue_lines(all_jobs, mine)
        if queue:
            st.caption(queue)
        # a compare set speaks as one: both sides' states, progress and Stop, and one result
        members = [
            j for j in all_jobs if job.group and j.group == job.group and j.status != "resumed"
        ] or [job]
        running = [m for m in members if m.status == "running"]
        lead = max(running, key=lambda m: m.eta_seconds() or 0.0) if running else job
        if len(members) > 1:
            states = "; ".join(f"{fmt.md(m.label)}: {m.status}" for m in members)
            st.markdown(f"**Compare set** ({fmt.count(len(members), 'run')}): {states}")
        else:
            st.markdown(f"**{fmt.md(job.label)}**: {job.status}")
        cols = st.columns(3)
        cols[0].metric("Epoch", f"{len(lead.history)}/{lead.total_epochs}")
        cols[1].metric(
            "Elapsed",
            fmt.duration(lead.elapsed),
            help="Since the job started: loading the data and saving the run count too.",
        )
        eta = lead.eta_seconds()
        cols[2].metric(
            "Time left",
            "estimating…" if eta is None and lead.status == "running" else fmt.duration(eta),
            help="At most; early stopping may end sooner. Estimated from the batches done.",
        )
        for member in running:
            progress_bar(member, fmt.md(member.label) if len(members) > 1 else "")
        if running:
            whole = " the set" if len(members) > 1 else ""  # one Stop stops both sides
            if st.button(f"Stop{whole}", icon=":material/stop:", key=f"stop_{job.group or job.id}"):
                try:
                    manager().stop(running[0].id, by=person())
                    st.toast("Stopping after the current batch; the run will be saved as stopped.")
                except UserError as exc:
                    show_error(exc)
        elif job.status == "queued":
            st.caption(places.get(job.id, ""))
            if st.button("Cancel", key=f"cancel_{job.id}"):
                try:
                    manager().stop(job.id, by=person())
                except UserError as exc:
                    show_error(exc)
        if job.error:
            st.error(job.error, icon=":material/error:")
        if job.resumable:
            interrupted_actions(kind, job)
        if job.history or job.batch_losses:
            log_y = st.toggle("Log scale", key=f"log_scale_{kind}")
            # a compare set: both sides' curves, each with its seeds, side by side
            for column, each in zip(st.columns(len(members)), members, strict=True):
                column.plotly_chart(
                    charts.loss_curves(
                        each.history,
                        log_y,
                        title=fmt.md(each.label) if len(members) > 1 else "",
                        batch_losses=each.batch_losses,
                    ),
                    key=f"live_loss_{kind}"
                    + (f"_{members.index(each)}" if len(members) > 1 else ""),
                )
            st.caption(LOSS_NOTE)
        saved = [m for m in members if m.run_id]
        said = " ".join(result_sentence(m) for m in saved)
        if saved and st.session_state.get(f"refused_{kind}"):
            st.caption(f"Nothing new started. Earlier: {said}")
        elif saved and not running:
            if len(saved) > 1:
                said += " The Predictions page opens the set and tests one side against the other."
            st.success(said, icon=":material/check_circle:")
        elif job.status == "resumed":
            st.caption(f"Resumed as job {job.result.get('by', '?')}.")
        # When a job saves its run, or the last active job ends, rerun the page once: the
        # saved runs below list the new run (also while the next job trains), polling stops.
        newly_saved = {j.id for j in all_jobs if j.run_id} - st.session_state[saved_key]
        if newly_saved or (active_at_start and not any(j.active for j in all_jobs)):
            st.rerun()

    panel()


def progress_bar(job, label: str = "") -> None:
    """A running job's progress: the batch of the epoch, or, once training has ended, that
    the run is being saved (never "Epoch 6: batch 0/70" of a 5-epoch job)."""
    done = len(job.history)
    prefix = f"{label}: " if label else ""
    if job.stopped_at:
        st.progress(1.0, text=f"{prefix}stopped at {job.stopped_at}; saving the run…")
    elif job.saving:
        st.progress(1.0, text=f"{prefix}trained {fmt.count(done, 'epoch')}; testing and saving…")
    else:
        frac = (done + job.batch / max(job.batches, 1)) / max(job.total_epochs, 1)
        st.progress(
            min(frac, 1.0), text=f"{prefix}epoch {done + 1}: batch {job.batch}/{job.batches}"
        )


def result_sentence(job) -> str:
    r = job.result
    epochs = fmt.count(r["epochs_run"], "epoch")
    seconds = fmt.duration(r["seconds"])
    head = f"Saved run {job.run_id} ({job.status}, {epochs}; {seconds} to train and test)."
    return f"{head} {KINDS[job.kind].result(r)}"
