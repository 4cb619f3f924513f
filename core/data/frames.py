"""The canonical price frame and the normalization every source goes through."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.errors import UserError

PRICE_COLUMNS = ["open", "high", "low", "close"]
CANONICAL_COLUMNS = [*PRICE_COLUMNS, "volume"]
MIN_ROWS = 30

# Date formats seen in Yahoo-style exports; the one that parses the most rows wins.
_DATE_FORMATS = ["ISO8601", "%m/%d/%Y", "%d-%b-%y", "%d-%b-%Y", "%b %d, %Y"]


def _canonical_name(name: object) -> str:
    """'Adj. Close**' -> 'adjclose', ' Date ' -> 'date'."""
    return re.sub(r"[^a-z]", "", str(name).lower())


def _parse_dates(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_localize(None).dt.normalize()  # the exchange's local date
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    text = values.astype("string").str.strip()
    best = None
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if best is None or parsed.notna().sum() > best.notna().sum():
            best = parsed
    if best.dt.tz is not None:
        best = best.dt.tz_localize(None)
    return best


def _to_number(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.replace(",", "", regex=False).str.strip()
    return pd.to_numeric(text, errors="coerce").astype("float64")


def normalize_price_frame(raw: pd.DataFrame, what: str = "The data") -> pd.DataFrame:
    """Turn any Yahoo-shaped table into the canonical frame.

    Canonical: DatetimeIndex `date` (tz-naive, ascending, unique), float64 open/high/low/
    close/volume, prices adjusted by Adj Close / Close when an Adj Close column exists.
    frame.attrs["dropped_nan"] and ["dropped_duplicates"] count the rows removed.
    """
    frame = raw.copy()
    if frame.index.name is not None and _canonical_name(frame.index.name) in {"date", "datetime"}:
        frame = frame.reset_index()
    frame.columns = [_canonical_name(c) for c in frame.columns]
    frame = frame.rename(columns={"datetime": "date"})
    frame = frame.loc[:, ~frame.columns.duplicated()]
    missing = [c for c in ["date", *CANONICAL_COLUMNS] if c not in frame.columns]
    if missing:
        raise UserError(
            f"{what} is missing the column(s): {', '.join(missing)}. "
            "Expected a Yahoo-style table with Date, Open, High, Low, Close, Volume "
            "(Adj Close optional)."
        )
    if len(frame) == 0:
        raise UserError(f"{what} has no rows.")

    dates = _parse_dates(frame["date"])
    if dates.notna().sum() == 0:
        raise UserError(
            f"{what} has no dates that could be read. Use ISO (2024-01-31), M/D/YYYY "
            "or DD-Mon-YY dates."
        )
    numeric = {c: _to_number(frame[c]) for c in [*CANONICAL_COLUMNS, "adjclose"] if c in frame}
    out = pd.DataFrame(numeric)
    out.index = pd.DatetimeIndex(dates, name="date")

    before = len(out)
    out = out[out.index.notna()].dropna(subset=CANONICAL_COLUMNS)
    dropped_nan = before - len(out)
    out = out.sort_index()
    dup = out.index.duplicated(keep="first")
    dropped_duplicates = int(dup.sum())
    out = out[~dup]

    bad = (out[PRICE_COLUMNS] <= 0).any(axis=1)
    if bad.any():
        first = out.index[bad.to_numpy()][0].date()
        raise UserError(
            f"{what} has {int(bad.sum())} row(s) with zero or negative prices "
            f"(first on {first}). Prices must be positive."
        )
    if (out["volume"] < 0).any():
        raise UserError(f"{what} has negative volume values.")
    if "adjclose" in out:
        adj = out.pop("adjclose")
        factor = adj / out["close"]
        if factor.isna().any() or (factor <= 0).any():
            raise UserError(f"{what} has missing or non-positive Adj Close values.")
        out[PRICE_COLUMNS] = out[PRICE_COLUMNS].mul(factor, axis=0)
    if len(out) < MIN_ROWS:
        raise UserError(
            f"{what} has only {len(out)} usable row(s); at least {MIN_ROWS} are needed."
        )
    out = out[CANONICAL_COLUMNS].astype("float64")
    out.attrs = {"dropped_nan": int(dropped_nan), "dropped_duplicates": dropped_duplicates}
    return out


def slice_dates(frame: pd.DataFrame, start=None, end=None, what: str = "The data") -> pd.DataFrame:
    """Rows between start and end (inclusive); UserError when fewer than MIN_ROWS remain."""
    out = frame.loc[pd.Timestamp(start) if start else None : pd.Timestamp(end) if end else None]
    if len(out) < MIN_ROWS:
        raise UserError(
            f"{what} has only {len(out)} trading day(s) between {start or 'the start'} and "
            f"{end or 'the end'}; at least {MIN_ROWS} are needed. Widen the date range."
        )
    out = out.copy()
    out.attrs = dict(frame.attrs)
    return out


def extra_column(ticker: str) -> str:
    """The column an extra ticker's close gets in a multivariate dataset."""
    return f"{ticker}_close"


def column_kind(name: str) -> str:
    """'volume' for the volume column; 'level' for a spread (it can be 0 or negative, so it
    has no log); else 'price' (open/high/low/close and the extra tickers' closes)."""
    if name == "volume":
        return "volume"
    return "level" if name == "spread" or name.startswith("spread_with_") else "price"


def log_returns(close: pd.Series) -> pd.Series:
    """Daily log returns log(p_t / p_{t-1}); the first day has none (NaN)."""
    return np.log(close.astype(float)).diff()


def log_volume_change(volume: pd.Series) -> pd.Series:
    """Daily log change of volume; log1p so that a zero-volume day stays finite."""
    return np.log1p(volume.astype(float)).diff()
