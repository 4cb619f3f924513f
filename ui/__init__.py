"""Streamlit glue shared by the pages: the process-wide job manager, the run store, errors."""

from __future__ import annotations

import os

import streamlit as st

from core import fmt
from core.config import Settings, ray_address
from core.errors import UserError
from core.jobs.manager import JobManager
from core.present.labels import RUNS_TABLE_NOTE, runs_table
from core.store.people import SOLO, Person, person_named
from core.store.runs import RunStore
from core.workspace import workspace_dir


@st.cache_resource
def job_manager(root: str) -> JobManager:
    """One job manager per server process (and workspace), shared by every browser session,
    with a warm worker so the first loss point does not wait for TensorFlow's import."""
    warm = os.environ.get("LAGLENS_WARM_WORKER", "1") != "0"
    return JobManager(root, warm_worker=warm, address=ray_address())


def manager() -> JobManager:
    return job_manager(str(workspace_dir()))


def run_store() -> RunStore:
    return RunStore()


def sign_in_configured() -> bool:
    """An [auth] section in .streamlit/secrets.toml: every visitor signs in (st.login)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: one person, no sign-in
        return False


def person() -> Person:
    """Who this session acts as: the signed-in visitor (by e-mail address), or the single
    local user when sign-in is not configured."""
    if sign_in_configured() and st.user.is_logged_in:
        return person_named(st.user.get("email") or st.user.get("name") or st.user.get("sub"))
    return SOLO


def show_error(exc: Exception, what: str = "That did not work") -> None:
    """A readable message, never a traceback; what the user typed in it reads as typed."""
    if isinstance(exc, UserError):
        st.error(fmt.md(exc), icon=":material/error:")
    else:
        st.error(f"{what}: {fmt.md(exc)}", icon=":material/error:")


def remembered(key: str, default):
    """What the user last set a widget to in this session. Streamlit forgets a widget's
    value when its page is left (while a job it started keeps running); this copy, kept by
    `remember` on every change, does not."""
    return st.session_state.get(f"_kept.{key}", default)


def remember(key: str, widget: str | None = None) -> None:
    """on_change of a remembered widget: keep its new value for the session (`widget`: the
    widget's own key, when it is not `key`)."""
    st.session_state[f"_kept.{key}"] = st.session_state[widget or key]


SOURCES = {"Bundled sample": "sample", "Yahoo Finance": "yahoo", "CSV upload": "csv"}


def source_picker(in_use) -> str:
    """The Data page's Source: the one last picked in this session, else the one of the
    dataset in use (coming back never offers the bundled sample while a file is in use)."""
    picked = remembered("data.source", in_use.source if in_use is not None else "sample")
    label = st.radio(
        "Source",
        list(SOURCES),
        index=list(SOURCES.values()).index(picked),
        horizontal=True,
        key="data_source",
        on_change=lambda: st.session_state.update(
            {"_kept.data.source": SOURCES[st.session_state["data_source"]]}
        ),
    )
    return SOURCES[label]


def kept_widget(key: str, default) -> dict:
    """The kwargs that make a widget remembered: its key, its value, the callback."""
    return {"key": key, "on_change": remember, "args": (key,), "value": remembered(key, default)}


def kept_choices(key: str, options: list, default: list) -> dict:
    """kept_widget for a multiselect: its default is what the user last picked, less what
    these options lack (another dataset's columns). The widget's own key names its options,
    so a dataset with other columns gets a widget of its own."""
    picked = [o for o in remembered(key, default) if o in options]
    widget = f"{key}:{'|'.join(map(str, options))}"
    return {"key": widget, "on_change": remember, "args": (key, widget), "default": picked}


def setting_input(where, cls: type[Settings], name: str, **kwargs):
    """The widget for one setting, with the label, default, limits and help of its Spec in
    core/config.py (choices: a selectbox, or radio=True; bool: a toggle; numbers: a number
    input; text: a text input). kwargs go to the widget (value=, key=, disabled=...). An
    enabled setting is remembered for the session, across pages."""
    spec = cls.spec(name)
    value = kwargs.pop("value", spec.default)
    if not kwargs.get("disabled"):  # a disabled one shows what applies, not what was kept
        kept = kept_widget(kwargs.pop("key", f"{cls.__name__}.{name}"), value)
        value = kept.pop("value")
        kwargs |= kept
    common = {"help": spec.help or None, **kwargs}
    if spec.choices:
        options = list(spec.choices)
        widget = where.radio if common.pop("radio", False) else where.selectbox
        extra = {"horizontal": True} if widget == where.radio else {}
        return widget(
            spec.label,
            options,
            index=options.index(value if value in options else spec.default),
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
    kept = kept_widget(kwargs.pop("key", f"{cls.__name__}.{name}"), round(spec.default * 100))
    percent = where.slider(
        f"{spec.label} %",
        round(spec.lo * 100),
        round(spec.hi * 100),
        kept.pop("value"),
        step=round((spec.step or 0.05) * 100),
        help=spec.help or None,
        **kept,
        **kwargs,
    )
    return percent / 100


def rename_or_delete(store: RunStore, table) -> None:
    """Rename or delete one saved run of the table shown (ids and names). Each button acts
    on the run id it was drawn for, and the confirmation belongs to that run: when another
    session deletes the run first, nothing else is touched and the user is told."""
    with st.expander("Rename or delete a run"):
        me = person()
        mine = table[(table["owner"] == me.name) | me.instructor]
        if mine.empty:
            st.caption("You can rename or delete only your own runs; none of these is yours.")
            return
        names = dict(zip(mine["id"], mine["name"], strict=True))
        run_id = st.selectbox("Run", list(names), format_func=lambda i: f"{names[i]} ({i})")
        st.text_input("New name", value=names.get(run_id, ""), key=f"new_name_{run_id}")
        c1, c2 = st.columns(2)
        c1.button(
            "Rename", key=f"rename_{run_id}", on_click=_act_on_run, args=(store, "rename", run_id)
        )
        confirm = c2.checkbox("Yes, delete this run", key=f"confirm_delete_{run_id}")
        c2.button(
            "Delete",
            key=f"delete_{run_id}",
            disabled=not confirm,
            on_click=_act_on_run,
            args=(store, "delete", run_id),
        )


def run_action_outcome() -> None:
    """What the last Rename or Delete did (or why it did nothing), shown once."""
    outcome = st.session_state.pop("run_action", None)
    if outcome and outcome[0] == "error":
        st.error(outcome[1], icon=":material/error:")
    elif outcome:
        st.success(outcome[1], icon=":material/check:")


def _act_on_run(store: RunStore, action: str, run_id: str) -> None:
    """Rename or delete exactly the run the button was drawn for (a button callback)."""
    try:
        if not (store.dir / run_id).exists():
            raise UserError(
                f"Run {run_id} no longer exists (deleted in another session?); nothing was "
                f"{action}d."
            )
        if action == "rename":
            new_name = st.session_state.get(f"new_name_{run_id}", "")
            run = store.rename(run_id, new_name, by=person())
            message = f"Renamed run {run_id} to {fmt.md(run.name)}."
        else:
            if not st.session_state.get(f"confirm_delete_{run_id}"):
                raise UserError("Tick 'Yes, delete this run' first; nothing was deleted.")
            store.delete(run_id, by=person())
            message = f"Deleted run {run_id}."
        st.session_state["run_action"] = ("success", message)
    except UserError as exc:
        st.session_state["run_action"] = ("error", fmt.md(exc))


def damaged_runs(store: RunStore, damaged: list[tuple[str, str]] | None = None) -> None:
    """Damaged run folders, each with why, and a way to delete them; the rest work as usual.
    First, what the last Rename or Delete did (shown even when no run is left)."""
    run_action_outcome()
    damaged = store.damaged() if damaged is None else damaged
    if not damaged:
        return
    with st.expander(f"Damaged runs ({len(damaged)}): not listed, cannot be opened"):
        for run_id, why in damaged:
            c1, c2 = st.columns([4, 1])
            c1.markdown(f"`{run_id}`: {why}")
            if c2.button("Delete", key=f"delete_damaged_{run_id}"):
                store.delete(run_id, by=person())
                st.rerun()


WIDTHS = {"name": "medium", "inputs": "medium"}  # room for "multivariate"


def saved_runs_table(kinds) -> None:
    """The saved runs of these kinds (damaged ones apart), with rename and delete."""
    store = run_store()
    whole, damaged = store.scan()  # every run folder read once per rerun
    damaged_runs(store, damaged)
    me = person()
    listed = [run for run in whole if run.kind in kinds]
    listed.sort(key=lambda run: run.record.owner != me.name)  # yours first, newest first
    table = runs_table(listed)
    if table.empty:
        st.caption("No saved runs yet.")
        return
    shown = table if table["owner"].nunique() > 1 else table.drop(columns="owner")
    numbers = dict.fromkeys(["rel. MAE", "its rel. MAE", "MASE", "test RMSE"], fmt.num)
    wide = {c: st.column_config.TextColumn(width=w) for c, w in WIDTHS.items()}  # never "mu"
    st.dataframe(
        fmt.table(shown, numbers),
        hide_index=True,
        width="stretch",
        column_config=wide,
        key="saved_runs",
    )
    st.caption(RUNS_TABLE_NOTE)
    rename_or_delete(store, table)
