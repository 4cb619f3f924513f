"""The canonical price frame and the normalization every source goes through."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.errors import UserError

PRICE_COLUMNS = ["open", "high", "low", "close"]
CANONICAL_COLUMNS = [*PRICE_COLUMNS, "volume"]
MIN_ROWS = 30

# Date formats seen in price exports; the one that parses the most rows wins, and two that
# parse equally well but disagree (3/4/2015: March 4 or 3 April?) are refused, not guessed.
_DATE_FORMATS = [
    "ISO8601",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%b %d, %Y",
    "%Y%m%d",
]
# A time of day followed by a UTC offset ('2015-01-02 00:00:00-05:00', offsets changing with
# daylight saving): the written clock time is the exchange's own, so the offset is dropped.
_OFFSET = re.compile(r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$")
_DATE_NAMES = ("datetime", "timestamp", "datum", "fecha")  # headers that name the date
# The days a daily price can have: no exchange's daily prices start before 1800, and pandas'
# nanosecond dates end in 2262 (a date outside is a typo or an empty cell read as year 1).
EARLIEST_DAY = pd.Timestamp("1800-01-01")
LATEST_DAY = pd.Timestamp("2262-01-01")
MAX_PRICE = 1e12  # above any listed price in any currency; larger is a unit or format error

# The two ways a spreadsheet writes 1234.5: '1,234.5' (decimal point) or '1.234,5' (decimal
# comma). A value is read in the format every value of the file agrees with.
_POINT = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?")
_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d*)?(?:[eE][+-]?\d+)?")


# Thousands separators that are never a decimal one: a space, a no-break space (U+00A0, as
# French exports write 1 234,56), a narrow no-break space (U+202F), a thin space (U+2009)
# and the Swiss apostrophes (1'234.56, and the typographic one).
_GROUPING = re.compile("[ \u00a0\u202f\u2009'\u2019]")


def _canonical_name(name: object) -> str:
    """'Adj. Close**' -> 'adjclose', ' Date ' -> 'date'."""
    return re.sub(r"[^a-z]", "", str(name).lower())


def _dates_as(text: pd.Series, fmt: str) -> pd.Series:
    """The values read in one format; a value that does not fit is NaT."""
    try:
        return pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, TypeError, OverflowError):  # e.g. offsets left mixed: none read
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")


def _parse_dates(values: pd.Series, what: str) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_localize(None).dt.normalize()  # the exchange's local date
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    text = values.astype("string").str.strip().str.replace(_OFFSET, r"\1", regex=True)
    text = text.mask(text.str.contains(r":\d\d\s*[+-]", regex=True, na=False))  # a cut offset
    iso = _dates_as(text, "ISO8601")
    if iso.notna().sum() == text.notna().sum():  # no other format reads ISO dates differently
        return iso.dt.tz_localize(None) if iso.dt.tz is not None else iso
    parsed = {"ISO8601": iso}
    for fmt in _DATE_FORMATS[1:]:
        parsed[fmt] = _dates_as(text, fmt)
    best = max(parsed.values(), key=lambda p: int(p.notna().sum()))
    count = int(best.notna().sum())
    rivals = [f for f, p in parsed.items() if int(p.notna().sum()) == count]
    if count and len(rivals) > 1 and not all(parsed[f].equals(best) for f in rivals):
        raise UserError(
            f"{what} has dates that read two ways ({text.dropna().iloc[0]}: month first or "
            "day first?). Use ISO dates (2024-01-31) so no day is read as a month."
        )
    if best.dt.tz is not None:
        best = best.dt.tz_localize(None)
    return best


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # '+.e5' fits the pattern's shape but is no number
        return np.nan


def _to_numbers(frame: pd.DataFrame, columns: list[str], what: str, delimiter: str):
    """The columns as float64, each text value read in the one number format the whole file
    agrees with; a file mixing the two, or one where a value reads two ways, is refused.
    A value that fits neither format is missing (its row is dropped and counted)."""
    out, texts = {}, {}
    for column in columns:
        if pd.api.types.is_numeric_dtype(frame[column]):
            out[column] = frame[column].astype("float64")
        else:
            texts[column] = [
                _GROUPING.sub("", v.strip()) if isinstance(v, str) else "" for v in frame[column]
            ]
    if not texts:
        return out
    cells = [v for values in texts.values() for v in values if any(ch.isdigit() for ch in v)]
    point = {v for v in set(cells) if _POINT.fullmatch(v)}
    comma = {v for v in set(cells) if _COMMA.fullmatch(v)}
    only_point = next((v for v in cells if v in point and v not in comma), None)
    only_comma = next((v for v in cells if v in comma and v not in point), None)
    if only_point and only_comma:
        raise UserError(
            f"{what} mixes number formats: '{only_point}' has a decimal point and "
            f"'{only_comma}' a decimal comma. Export every column the same way."
        )
    if not only_point and not only_comma:
        two_ways = next((v for v in cells if "," in v or "." in v), None)
        if two_ways is not None and ("," in two_ways or delimiter != ","):
            raise UserError(
                f"{what} has numbers that read two ways ('{two_ways}': a thousands separator "
                "or a decimal one?). Export prices with their decimals, or without "
                "thousands separators."
            )
    if only_comma:
        table = {v: _float(v.replace(".", "").replace(",", ".")) for v in comma}
    else:
        table = {v: _float(v.replace(",", "")) for v in point}
    for column, values in texts.items():
        out[column] = pd.Series(
            [table.get(v, np.nan) for v in values], index=frame.index, dtype="float64"
        )
        # A value with digits that reads in neither format is a format the reader does not
        # know, not a missing value: refuse it rather than drop its row without a word.
        unread = [v for v in values if any(ch.isdigit() for ch in v) and v not in table]
        if unread:
            raise UserError(
                f"{what} has {len(unread)} value(s) in its {column} column that are not numbers "
                f"in any format it reads (first: '{unread[0]}'). Export plain numbers: a decimal "
                "point or a decimal comma, thousands separated by nothing, a space or an "
                "apostrophe."
            )
    return out


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
    frame = frame.rename(columns=dict.fromkeys(_DATE_NAMES, "date"))
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

    dates = _parse_dates(frame["date"], what)
    if dates.notna().sum() == 0:
        raise UserError(
            f"{what} has no dates that could be read. Use ISO (2024-01-31), M/D/YYYY, "
            "D/M/YYYY, D.M.YYYY or DD-Mon-YY dates."
        )
    columns = [c for c in [*CANONICAL_COLUMNS, "adjclose"] if c in frame]
    delimiter = raw.attrs.get("delimiter", ",")
    out = pd.DataFrame(_to_numbers(frame, columns, what, delimiter))
    out.index = pd.DatetimeIndex(dates, name="date")

    known = out.index[out.index.notna()]
    odd = known[(known < EARLIEST_DAY) | (known > LATEST_DAY)]
    if len(odd):
        raise UserError(
            f"{what} has {len(odd)} date(s) no daily price can have (first: "
            f"{odd[0].date().isoformat()}); dates must lie between {EARLIEST_DAY:%Y-%m-%d} "
            f"and {LATEST_DAY:%Y-%m-%d}. Is a date column empty or mistyped?"
        )
    before = len(out)
    out = out[out.index.notna()].dropna(subset=CANONICAL_COLUMNS)
    dropped_nan = before - len(out)
    out = out.sort_index(kind="stable")  # a day's rows stay in the file's order
    repeated = out[out.index.duplicated(keep=False)]
    conflicts = [
        (day, rows) for day, rows in repeated.groupby(level=0) if len(rows.drop_duplicates()) > 1
    ]
    dup = out.index.duplicated(keep="first")
    dropped_duplicates = int(dup.sum())
    out = out[~dup]

    values = out[[c for c in [*CANONICAL_COLUMNS, "adjclose"] if c in out]]
    huge = ~np.isfinite(values).all(axis=1) | (values[PRICE_COLUMNS] > MAX_PRICE).any(axis=1)
    if huge.any():
        first = out.index[huge.to_numpy()][0].date()
        raise UserError(
            f"{what} has {int(huge.sum())} row(s) with infinite or impossibly large values "
            f"(first on {first}; prices above {MAX_PRICE:.0e} are taken for an export error)."
        )
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
            + (f" {dropped_nan} row(s) had missing or unreadable values." if dropped_nan else "")
        )
    out = out[CANONICAL_COLUMNS].astype("float64")

    out.attrs = {"dropped_nan": int(dropped_nan), "dropped_duplicates": dropped_duplicates}
    if conflicts:  # the same day twice with different prices: which row was kept, said
        day, rows = conflicts[0]
        kept, other = rows["close"].iloc[0], rows["close"].iloc[1]
        out.attrs["conflicts"] = (
            f"{len(conflicts)} date(s) appear more than once with different prices; the "
            f"file's first row of each is kept (first: {day.date()}, close {kept:g} kept, "
            f"{other:g} dropped)."
        )
    return out


def parse_day(value, what: str = "The date"):
    """A start or end date as a date; UserError naming the value when it is none."""
    try:
        day = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise UserError(f"{what} '{value}' is not a date; use YYYY-MM-DD (2015-01-31).") from exc
    if pd.isna(day):
        raise UserError(f"{what} '{value}' is not a date; use YYYY-MM-DD (2015-01-31).")
    return day.tz_localize(None).date() if day.tz is not None else day.date()


def slice_dates(frame: pd.DataFrame, start=None, end=None, what: str = "The data") -> pd.DataFrame:
    """Rows between start and end (inclusive); UserError when fewer than MIN_ROWS remain."""
    first = pd.Timestamp(parse_day(start, "The start date")) if start else None
    last = pd.Timestamp(parse_day(end, "The end date")) if end else None
    out = frame.loc[first:last]
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
