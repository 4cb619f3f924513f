"""Anomalies page: an LSTM autoencoder over return windows marks unusual days."""

import streamlit as st

from core import fmt
from core.errors import UserError
from core.forecasting.detectors import compare_detectors, threshold_for
from core.kinds.anomaly import AnomalyConfig
from core.pipeline.kinds import validate_config
from core.present import charts
from core.present.labels import default_detector_name
from core.present.sentences import SCORE_EXPLANATION, compared_days_note, detector_sentence
from ui import manager, person, run_store, setting_input, show_error
from ui.jobs import follow, live_job_panel

TABLE_LABELS = {
    "score": "score",
    "log_return": "log return",
    "volume_change": "volume change (log)",
    "zscore": "z-score (mean z²)",
}

st.title("Anomalies")
dataset = st.session_state.get("dataset")
if dataset is None:
    st.info("Load a dataset on the Data page first.")
    st.stop()
st.caption(
    f"Dataset: **{dataset.name}** (the autoencoder uses {dataset.ticker}'s close and volume)"
)

c1, c2, c3, c4, c5 = st.columns(5)
config = AnomalyConfig(
    window=setting_input(c1, AnomalyConfig, "window", key="ae_window"),
    use_volume=setting_input(c2, AnomalyConfig, "use_volume", key="ae_volume"),
    epochs=setting_input(c3, AnomalyConfig, "epochs", key="ae_epochs"),
    units=setting_input(c4, AnomalyConfig, "units", key="ae_units"),
    seed=setting_input(c5, AnomalyConfig, "seed", key="ae_seed"),
)
with st.expander("Advanced"):
    config.backend = setting_input(st, AnomalyConfig, "backend", key="ae_backend")
if st.button("Train autoencoder", type="primary", icon=":material/play_arrow:"):
    try:
        validate_config(config, dataset.frame)
        job = manager().submit(
            "anomaly",
            dataset.frame,
            dataset.describe(),
            config,
            default_detector_name(config, dataset.describe()),
            person=person(),
        )
        follow("anomaly", job.id)
    except UserError as exc:
        show_error(exc)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "Could not start training")

st.subheader("Training")
live_job_panel("anomaly")

runs = run_store().runs(kind="anomaly")
if not runs:
    st.stop()
st.subheader("Anomalous days")
by_id = {r.id: r for r in runs}
run = by_id[
    st.selectbox(
        "Autoencoder run",
        list(by_id),
        format_func=lambda i: f"{by_id[i].name} ({fmt.when(by_id[i].record.created)})",
    )
]
scores = run.scores
spec = AnomalyConfig.spec("percentile")
percentile = st.slider(
    spec.label,
    90.0,
    spec.hi,
    float(run.config.percentile),
    step=spec.step,
    key="ae_percentile",
    help=spec.help,
)
threshold = threshold_for(scores, percentile)
volume_note = " and log change of volume" if run.config.use_volume else ""
st.caption(
    SCORE_EXPLANATION.format(volume=volume_note, window=run.config.window, percentile=percentile)
)
flagged = scores[scores["score"] > threshold]
comparison = compare_detectors(scores, threshold, run.config.window)
ratio = run.metrics.get("recon_ratio_test")
n = comparison["n"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Threshold", fmt.sig(threshold))
c2.metric(
    "Anomalous days",
    f"{len(flagged)} ({fmt.pct(len(flagged) / len(scores))})",
    help=f"Of {fmt.count(len(scores), 'scored day')}.",
)
c3.metric(
    "Reconstruction ratio (test)",
    fmt.num(ratio, 2),
    help="The autoencoder's reconstruction error over that of predicting each window's own "
    "mean, on the test windows. Below 1: it learned structure; about 1: it learned nothing.",
)
c4.metric(
    "Also in the z-score's top days",
    f"{len(comparison['common'])} of {n}" if n else fmt.MISSING,
    help=f"The rolling z-score of the same values over the same {run.config.window} days "
    "ranks every day; this counts the autoencoder's flagged days among its top days of the "
    f"same number (from day {run.config.window + 1}: the z-score needs the days before).",
)
st.info(detector_sentence(comparison, ratio), icon=":material/compare_arrows:")
if note := compared_days_note(len(flagged), n, run.config.window):
    st.caption(note)
st.plotly_chart(
    charts.anomaly_price_chart(
        run.dataset["close"], flagged.index, comparison["only_ae"], comparison["only_z"]
    ),
    key="anomaly_price",
)
st.plotly_chart(
    charts.anomaly_score_chart(scores["score"], threshold, run.train_dates[1]),
    key="anomaly_score",
)
top = flagged.sort_values("score", ascending=False)
table = (
    top.drop(columns=["split", "close"])
    .assign(
        zscore=comparison["zscore"].reindex(top.index),
        also=top.index.isin(comparison["common"]),
    )
    .rename(columns={**TABLE_LABELS, "also": f"in the z-score's top {n}"})
)
table.index.name = "date"
st.dataframe(
    fmt.table(table.head(50), dict.fromkeys(TABLE_LABELS.values(), fmt.sig)),
    width="stretch",
    key="anomaly_table",
)
st.download_button(
    "Download anomalous days (CSV)",
    lambda: table.to_csv().encode(),
    f"{run.id}-anomalies.csv",
    "text/csv",
)
