"""The Train page's model settings: architecture, its own settings, the training loop and
seeds. Labels, defaults and limits come from TrainConfig (core/config.py) and the
architecture's own settings class (core/models/); every enabled setting is remembered for
the session (ui.setting_input)."""

from __future__ import annotations

import streamlit as st

from core.config import TrainConfig
from core.models import ARCHITECTURES
from ui import setting_input


def model_settings(compare: bool = False) -> dict:
    """The model's settings; in a compare set the seeds are "Seeds per side" instead."""
    st.subheader("Model")
    model = setting_input(st, TrainConfig, "model")
    architecture = ARCHITECTURES[model]
    c1, c2 = st.columns(2)
    settings = dict(model=model, window=setting_input(c1, TrainConfig, "window"))
    horizon = architecture.default_horizon
    if architecture.multi_step:
        settings["horizon"] = setting_input(  # each architecture remembers its own
            c2, TrainConfig, "horizon", value=horizon, key=f"TrainConfig.horizon.{model}"
        )
    else:
        settings["horizon"] = setting_input(
            c2, TrainConfig, "horizon", disabled=True, help=architecture.horizon_problem(2)
        )
    own = architecture.settings  # its own knobs (layers, units, attention, filters ...)
    for i, spec in enumerate(own.specs()):
        settings[spec.name] = setting_input((c2, c1)[i % 2], own, spec.name)
    c1, c2, c3 = st.columns(3)
    settings["epochs"] = setting_input(c1, TrainConfig, "epochs")
    settings["batch_size"] = setting_input(c2, TrainConfig, "batch_size")
    settings["learning_rate"] = setting_input(c3, TrainConfig, "learning_rate", format="%.5f")
    c1, c2, c3 = st.columns(3)
    settings["loss"] = setting_input(c1, TrainConfig, "loss")
    early = settings["early_stopping"] = setting_input(c2, TrainConfig, "early_stopping")
    settings["patience"] = setting_input(c3, TrainConfig, "patience", disabled=not early)
    settings["restore_best"] = setting_input(st, TrainConfig, "restore_best", disabled=not early)
    c1, c2, c3, c4 = st.columns(4)
    settings["seed"] = setting_input(c1, TrainConfig, "seed")
    if not compare:
        settings["n_seeds"] = setting_input(c2, TrainConfig, "n_seeds")
    settings["interval_level"] = setting_input(c3, TrainConfig, "interval_level")
    settings["name"] = setting_input(c4, TrainConfig, "name").strip()
    with st.expander("Advanced"):
        settings["backend"] = setting_input(st, TrainConfig, "backend")
    return settings
