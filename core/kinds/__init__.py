"""The kinds of run, one module each (core/kinds/kind.py says what a kind declares), and
their table. Adding a kind is its module here, its steps in core/pipeline/ and a line in
each table."""

from __future__ import annotations

from core.kinds import anomaly, forecast, spread
from core.kinds.kind import Kind
from core.spec import Settings

KINDS: dict[str, Kind] = {k.key: k for k in (forecast.KIND, spread.KIND, anomaly.KIND)}
CONFIGS: dict[str, type[Settings]] = {key: k.config_class for key, k in KINDS.items()}
FORECAST_KINDS = tuple(key for key, k in KINDS.items() if k.forecast)  # forecasts of a series


def kinds_in_panel(panel: str) -> tuple[str, ...]:
    """The kinds whose jobs a page's live panel lists."""
    return tuple(key for key, k in KINDS.items() if k.panel == panel)
