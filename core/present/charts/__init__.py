"""Plotly figure builders, one module per page: pure functions, data in, go.Figure out."""

from core.present.charts.anomalies import anomaly_price_chart, anomaly_score_chart
from core.present.charts.compare import (
    correlograms_side_by_side,
    price_close_up,
    rolling_rel_mae_chart,
    skill_curves,
)
from core.present.charts.data import candlestick_with_volume, differencing_figure
from core.present.charts.experiments import paired_chart
from core.present.charts.predictions import (
    attention_heatmap,
    attention_ratio,
    attribution_heatmap,
    change_scatter,
    change_series_chart,
    horizon_error_chart,
    horizon_forecast_chart,
    lag_correlogram,
    predictions_chart,
)
from core.present.charts.relationships import (
    cross_correlogram_chart,
    rebased_chart,
    spread_zscore_chart,
)
from core.present.charts.train import loss_curves, loss_curves_side_by_side

__all__ = [
    "candlestick_with_volume",
    "differencing_figure",
    "loss_curves",
    "loss_curves_side_by_side",
    "predictions_chart",
    "lag_correlogram",
    "change_series_chart",
    "change_scatter",
    "horizon_forecast_chart",
    "horizon_error_chart",
    "attention_heatmap",
    "attribution_heatmap",
    "attention_ratio",
    "anomaly_price_chart",
    "anomaly_score_chart",
    "paired_chart",
    "skill_curves",
    "rolling_rel_mae_chart",
    "price_close_up",
    "correlograms_side_by_side",
    "rebased_chart",
    "cross_correlogram_chart",
    "spread_zscore_chart",
]
