"""Price data: sources (bundled samples, Yahoo Finance, CSV), validation and the disk cache."""

from core.data.csvfile import read_price_csv
from core.data.datasets import (
    SOURCE_LABELS,
    Dataset,
    PriceResult,
    build_dataset,
    load_dataset,
    load_prices,
)
from core.data.frames import (
    CANONICAL_COLUMNS,
    MIN_ROWS,
    column_kind,
    extra_column,
    log_returns,
    log_volume_change,
    normalize_price_frame,
)
from core.data.pricecache import CachedPrices, PriceStore
from core.data.samples import SAMPLE_NAMES, list_samples, load_sample
from core.data.tickers import validate_ticker
from core.data.yahoo import fetch_yahoo

__all__ = [
    "CANONICAL_COLUMNS",
    "MIN_ROWS",
    "SAMPLE_NAMES",
    "SOURCE_LABELS",
    "CachedPrices",
    "Dataset",
    "PriceResult",
    "PriceStore",
    "build_dataset",
    "extra_column",
    "fetch_yahoo",
    "list_samples",
    "load_dataset",
    "load_prices",
    "load_sample",
    "log_returns",
    "log_volume_change",
    "column_kind",
    "normalize_price_frame",
    "read_price_csv",
    "validate_ticker",
]
