"""Train page: configure a model, start it in the background, watch the loss live.

Labels, defaults and limits of every setting come from TrainConfig (core/config.py).
"""

import streamlit as st

from core import fmt
from core.config import SPREAD_INPUT, CompareConfig, TrainConfig
from core.errors import UserError
from core.experiments.compare_sets import submit_pair_set
from core.kinds import FORECAST_KINDS
from core.kinds.spread import SpreadConfig
from core.pipeline.kinds import RUN_KINDS, kind_of, validate_config
from core.present.labels import (
    extra_series_note,
    input_label,
    shapes_table,
)
from ui import (
    kept_choices,
    kept_widget,
    manager,
    person,
    saved_runs_table,
    setting_input,
    share_slider,
)
from ui.jobs import live_job_panel, start_jobs
from ui.train_form import model_settings

SPREAD_HELP = SpreadConfig.__doc__.split(" (")[0] + "."


st.title("Train")
dataset = st.session_state.get("dataset")
if dataset is None:
    st.info("Load a dataset on the Data page first.")
    st.stop()
frame = dataset.frame
st.caption(
    f"Dataset: **{dataset.name}**, {fmt.count(len(frame), 'trading day')}, "
    f"{frame.index[0].date()} to {frame.index[-1].date()}"
)


def data_settings() -> tuple[dict, CompareConfig | None]:
    st.subheader("Data")
    columns = list(frame.columns)
    target = st.selectbox("Target column", columns, index=columns.index("close"))
    partners = [c for c in columns if c.endswith("_close") and c != target]  # extra tickers
    spread = bool(partners) and st.toggle(
        "Forecast a spread with another series",
        help=SPREAD_HELP,
        **kept_widget("train.spread", False),
    )
    legs = {}
    if spread:
        partner = st.selectbox("Spread with", partners, format_func=lambda c: c[: -len("_close")])
        legs = {"partner": partner}
    multivariate = st.toggle(
        "Multivariate: add other columns as inputs",
        help="Univariate = the target's own history only. Multivariate = plus the columns below.",
        **kept_widget("train.multivariate", False),
    )
    st.caption(extra_series_note(dataset.ticker, partners))
    features, compare = [target], None
    if multivariate:
        others = [c for c in columns if c != target and c not in legs.values()]
        spreads = [f"{SPREAD_INPUT}{c}" for c in partners if not spread]  # spread inputs
        features += st.multiselect(
            "Extra input columns",
            others + spreads,
            format_func=input_label,
            help="A ticker stands for its closing price.",
            **kept_choices("train.extra_inputs", others + spreads, others),
        )
        if st.toggle(
            "Compare univariate vs multivariate",
            help=CompareConfig.__doc__,
            **kept_widget("train.compare", False),
        ):
            compare = CompareConfig(n_seeds=setting_input(st, CompareConfig, "n_seeds"))
    settings = dict(
        target=target,
        features=features,
        transform=setting_input(
            st, SpreadConfig if spread else TrainConfig, "transform", radio=True
        ),
        scaling=setting_input(st, SpreadConfig if spread else TrainConfig, "scaling", radio=True),
        train_frac=share_slider(st, TrainConfig, "train_frac"),
        val_frac=share_slider(st, TrainConfig, "val_frac"),
    )
    test_pct = round(100 * (1 - settings["train_frac"] - settings["val_frac"]))
    st.caption(f"Test share: {test_pct}% (chronological: train, then validation, then test)")
    return settings | legs, compare


@st.fragment
def configure_and_start() -> None:
    """Settings and Start. A fragment: changing a setting reruns only this part."""
    left, right = st.columns(2)
    with left:
        settings, compare = data_settings()
    with right:
        settings |= model_settings(compare is not None)
    partner = settings.pop("partner", None)
    config = TrainConfig(**settings)
    if partner:
        config = SpreadConfig.of(config, partner)
    kind = kind_of(config).key
    try:  # what the run would be warned about, before it trains
        warnings = validate_config(config, frame)
    except UserError:
        warnings = []  # Start shows the error
    for warning in warnings:
        st.warning(warning, icon=":material/warning:")
    with st.expander("The model's layers and tensor shapes"):
        st.dataframe(shapes_table(config), hide_index=True, width="stretch")
    desc = dataset.describe()
    if compare is not None:
        seeds = fmt.count(compare.n_seeds, "seed")
        if st.button(
            f"Train the set (2 runs of {seeds})", type="primary", icon=":material/play_arrow:"
        ):
            start_jobs(
                "forecast",
                lambda: submit_pair_set(manager(), frame, desc, config, compare, person())[1],
            )
    elif st.button("Start training", type="primary", icon=":material/play_arrow:"):

        def one_job() -> list:
            validate_config(config, frame)
            label = config.name or RUN_KINDS[kind].default_name(config, desc)
            return [manager().submit(kind, frame, desc, config, label, person=person())]

        start_jobs("forecast", one_job)


configure_and_start()

st.subheader("Training")
live_job_panel("forecast")

st.subheader("Saved runs")
saved_runs_table(FORECAST_KINDS)
