"""The bundled real daily prices under data/samples/ (see SOURCES.md there)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from core.data.frames import normalize_price_frame
from core.data.tickers import validate_ticker
from core.errors import UserError

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "samples"

# ticker -> (file, ticker value in a long-format file or None for a one-ticker file)
_SAMPLES: dict[str, tuple[str, str | None]] = {
    "AAPL": ("stocks.csv.gz", "AAPL"),
    "MSFT": ("stocks.csv.gz", "MSFT"),
    "IBM": ("stocks.csv.gz", "IBM"),
    "GOOG": ("stocks.csv.gz", "GOOG"),
    "FB": ("stocks.csv.gz", "FB"),
    "^GSPC": ("sp500.csv.gz", None),
    "^IXIC": ("nasdaq.csv.gz", None),
}
SAMPLE_NAMES = {
    "AAPL": "Apple",
    "MSFT": "Microsoft",
    "IBM": "IBM",
    "GOOG": "Alphabet (Google)",
    "FB": "Meta (Facebook)",
    "^GSPC": "S&P 500 index",
    "^IXIC": "NASDAQ Composite index",
}


def list_samples() -> list[str]:
    """Tickers that ship with LagLens and work offline."""
    return list(_SAMPLES)


@lru_cache(maxsize=4)
def _read_file(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLES_DIR / name)


@lru_cache(maxsize=16)
def _load(ticker: str) -> pd.DataFrame:
    file, key = _SAMPLES[ticker]
    raw = _read_file(file)
    if key is not None:
        raw = raw[raw["Ticker"] == key].drop(columns="Ticker")
    return normalize_price_frame(raw, what=f"The {ticker} sample")


def load_sample(ticker: str) -> pd.DataFrame:
    """The canonical, split- and dividend-adjusted frame of one bundled ticker."""
    symbol = validate_ticker(ticker)
    if symbol not in _SAMPLES:
        raise UserError(f"There is no bundled sample for {symbol}. Samples: {', '.join(_SAMPLES)}.")
    return _load(symbol).copy()
