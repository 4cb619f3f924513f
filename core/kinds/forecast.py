"""The forecast kind: a forecaster of a price series (TrainConfig, core/config.py)."""

from __future__ import annotations

from core import fmt
from core.config import TrainConfig
from core.kinds.kind import Kind


def forecast_result(summary: dict) -> str:
    m, n = summary["metrics"], summary["naive"]
    return (
        f"Verdict: {summary.get('verdict', '?')} (relative MAE {fmt.num(m.get('rel_mae'))}). "
        f"Test RMSE {fmt.num(m['rmse'])} vs naive {fmt.num(n['rmse'])}. Open Predictions to "
        "see why."
    )


KIND = Kind(
    key="forecast",
    config_class=TrainConfig,
    files=("predictions.parquet", "dataset.parquet"),
    forecast=True,
    panel="forecast",
    model_label=lambda config: config.architecture.label,
    result=forecast_result,
)
