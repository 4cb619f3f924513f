"""Numbers, dates and counts as people read them: the one place every page, table and
sentence formats them.

- Missing values read "–", never "None" or "nan".
- p-values have at most 3 significant digits; below 0.001 they read "< 0.001".
- Shares (directional accuracy, coverage, "says up") are percentages: "50.1 %".
- Dates are ISO days ("2013-02-25"); a time of day is shown only where it means something.
- Counts agree with their noun: "1 epoch", "3 epochs", "3,270 trading days".
Tables for display are turned into text with `table()`, column by column.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

MISSING = "–"
P_FLOOR = 0.001


def missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def num(value, digits: int = 3) -> str:
    """Fixed decimals with a thousands separator: num(1234.5678, 2) -> '1,234.57'."""
    if missing(value):
        return MISSING
    text = f"{float(value):,.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.00"


def sig(value, digits: int = 3) -> str:
    """`digits` significant digits, never in e-notation for everyday sizes:
    sig(0.000123456) -> '0.000123', sig(12345.6) -> '12,346'."""
    if missing(value):
        return MISSING
    x = float(value)
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
    if decimals > 12:  # too small to read as a decimal
        return f"{x:.{digits - 1}e}"
    return f"{x:,.{decimals}f}"


def pvalue(p) -> str:
    """'< 0.001' below the floor, else at most 3 significant digits ('0.0421', '0.5', '1')."""
    if missing(p):
        return MISSING
    p = float(p)
    if p < P_FLOOR:
        return f"< {P_FLOOR:g}"
    return f"{float(f'{p:.3g}'):g}"


def p_is(p) -> str:
    """For a sentence: 'p = 0.042', 'p < 0.001'."""
    shown = pvalue(p)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def pct(share, digits: int = 1) -> str:
    """A share in 0..1 as a percentage: pct(0.501) -> '50.1 %'."""
    if missing(share):
        return MISSING
    return f"{100 * float(share):.{digits}f} %"


def signed_pct(share, digits: int = 1) -> str:
    """A change as a signed percentage: signed_pct(-0.034) -> '-3.4 %'."""
    if missing(share):
        return MISSING
    return f"{100 * float(share):+.{digits}f} %"


def date(value) -> str:
    """An ISO day, whatever came in (Timestamp, datetime, date, ISO text)."""
    if missing(value) or value == "":
        return MISSING
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def when(value) -> str:
    """A moment to the minute: '2026-11-24 14:05'."""
    if missing(value) or value == "":
        return MISSING
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def count(n, noun: str, plural: str | None = None) -> str:
    """count(1, 'epoch') -> '1 epoch'; count(3270, 'trading day') -> '3,270 trading days'."""
    n = int(n)
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def duration(seconds) -> str:
    """'0:42', '12:05', '1:02:03'; missing -> '–'."""
    if missing(seconds):
        return MISSING
    total = max(int(round(float(seconds))), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def text(value) -> str:
    """Anything else: missing -> '–', True/False -> 'yes'/'no'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return MISSING if missing(value) else str(value)


def table(
    frame: pd.DataFrame, formats: dict[str, Callable[[object], str]] | None = None
) -> pd.DataFrame:
    """The frame as text for display: each column through its formatter in `formats` (by
    column name), the rest through text(); the index is kept (dates become ISO days)."""
    formats = formats or {}
    out = pd.DataFrame(
        {c: [formats.get(c, text)(v) for v in frame[c]] for c in frame.columns},
        index=frame.index,
    )
    if isinstance(out.index, pd.DatetimeIndex):
        out.index = [date(d) for d in out.index]
        out.index.name = frame.index.name
    return out


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~$"})


def md(text) -> str:
    """Text (a run name, a sentence that quotes one) safe inside Streamlit markdown: the
    characters that would make emphasis, links, HTML, tables or LaTeX are escaped, so
    'my *best* [run](x)' reads as typed."""
    return str(text).translate(_MARKDOWN)
