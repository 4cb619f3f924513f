"""Train page: configure a model, start it in the background, watch the loss live."""

import streamlit as st

from core.data import DataError
from core.features import (
    ATTENTIONS,
    LOSSES,
    MODELS,
    SCALINGS,
    TRANSFORMS,
    TrainConfig,
    validate_config,
)
from ui import follow, live_job_panel, manager, run_store, show_error

st.title("Train")
dataset = st.session_state.get("dataset")
if dataset is None:
    st.info("Load a dataset on the Data page first.")
    st.stop()
frame = dataset.frame
st.caption(
    f"Dataset: **{dataset.name}**, {len(frame)} trading days, "
    f"{frame.index[0].date()} to {frame.index[-1].date()}"
)


# ---------------------------------------------------------------- configuration
@st.fragment
def configure_and_start() -> None:
    """Settings and Start. A fragment: changing a setting reruns only this part."""
    left, right = st.columns(2)
    with left:
        st.subheader("Data")
        columns = list(frame.columns)
        target = st.selectbox("Target column", columns, index=columns.index("close"))
        multivariate = st.toggle(
            "Multivariate: add other columns as inputs",
            help="Univariate = the target's own history only. Multivariate = plus the columns below.",
        )
        features = [target]
        if multivariate:
            others = [c for c in columns if c != target]
            features += st.multiselect("Extra input columns", others, default=others)
        transform = st.radio(
            "Transform",
            list(TRANSFORMS),
            format_func=TRANSFORMS.get,
            horizontal=True,
            help="Differenced models predict changes; prices are rebuilt from the last actual price.",
        )
        scaling = st.radio(
            "Scaling (fit on the training part only)",
            list(SCALINGS),
            format_func=SCALINGS.get,
            horizontal=True,
        )
        train_pct = st.slider("Training share %", 40, 90, 70, step=5)
        val_pct = st.slider("Validation share %", 5, 40, 15, step=5)
        st.caption(
            f"Test share: {100 - train_pct - val_pct}% (chronological: train, then validation, then test)"
        )
    with right:
        st.subheader("Model")
        model = st.selectbox("Architecture", list(MODELS), format_func=MODELS.get)
        c1, c2 = st.columns(2)
        window = c1.number_input("Window (lookback days)", 2, 5000, 60)
        if model == "lstm":
            horizon = c2.number_input(
                "Horizon (days)", 1, 1, 1, disabled=True, help="The LSTM predicts one day ahead."
            )
            layers = c1.number_input("LSTM layers", 1, 3, 1)
        else:
            horizon = c2.number_input("Horizon (days)", 1, 30, 5)
            layers = 1
        units = c2.number_input("Units per layer", 4, 512, 64, step=4)
        dropout = c1.number_input("Dropout", 0.0, 0.9, 0.0, step=0.05)
        attention = "luong"
        if model == "seq2seq_attention":
            attention = c2.selectbox("Attention", list(ATTENTIONS), format_func=ATTENTIONS.get)
        c1, c2, c3 = st.columns(3)
        epochs = c1.number_input("Epochs", 1, 1000, 20)
        batch_size = c2.number_input("Batch size", 1, 1024, 32)
        learning_rate = c3.number_input("Learning rate", 1e-6, 1.0, 1e-3, format="%.5f")
        c1, c2, c3 = st.columns(3)
        loss = c1.selectbox("Loss", list(LOSSES), format_func=LOSSES.get)
        early = c2.toggle("Early stopping", value=True)
        patience = c3.number_input("Patience (epochs)", 1, 100, 5, disabled=not early)
        restore = st.toggle(
            "Restore the best weights when stopping early", value=True, disabled=not early
        )
        c1, c2 = st.columns(2)
        seed = c1.number_input("Seed", 0, 2**31 - 1, 0)
        name = c2.text_input("Run name (optional)")

    config = TrainConfig(
        target=target,
        features=features,
        transform=transform,
        scaling=scaling,
        train_frac=train_pct / 100,
        val_frac=val_pct / 100,
        window=int(window),
        horizon=int(horizon),
        model=model,
        layers=int(layers),
        units=int(units),
        dropout=float(dropout),
        attention=attention,
        epochs=int(epochs),
        batch_size=int(batch_size),
        learning_rate=float(learning_rate),
        loss=loss,
        early_stopping=early,
        patience=int(patience),
        restore_best=restore,
        seed=int(seed),
        name=name.strip(),
    )

    jobs = manager()
    if st.button("Start training", type="primary", icon=":material/play_arrow:"):
        try:
            validate_config(config, frame)
            label = (
                config.name
                or f"{dataset.ticker} {MODELS[model]} {transform} {'multi' if config.multivariate else 'uni'}"
            )
            job = jobs.submit("forecast", frame, dataset.describe(), config.to_dict(), label)
            follow("forecast", job.id)
        except DataError as exc:
            show_error(exc)
            return
        except Exception as exc:  # noqa: BLE001
            show_error(exc, "Could not start training")
            return
        st.rerun(scope="app")  # the live panel below starts polling


configure_and_start()


# ---------------------------------------------------------------- live view
st.subheader("Training")
live_job_panel("forecast")

# ---------------------------------------------------------------- saved runs
st.subheader("Saved runs")
store = run_store()
table = store.table()
if table.empty:
    st.caption("No saved runs yet.")
else:
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "test RMSE": st.column_config.NumberColumn(format="%.4f"),
            "MASE": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    with st.expander("Rename or delete a run"):
        names = dict(zip(table["id"], table["name"], strict=True))
        run_id = st.selectbox("Run", list(names), format_func=lambda i: f"{names[i]} ({i})")
        new_name = st.text_input("New name", value=names.get(run_id, ""))
        c1, c2 = st.columns(2)
        if c1.button("Rename"):
            try:
                store.rename(run_id, new_name)
                st.rerun()
            except DataError as exc:
                show_error(exc)
        confirm = c2.checkbox("Yes, delete this run")
        if c2.button("Delete", disabled=not confirm):
            store.delete(run_id)
            st.rerun()
