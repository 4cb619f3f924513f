"""From the user's choice (source, ticker, range, extra tickers) to one aligned dataset."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd

from core import fmt
from core.data.csvfile import read_price_csv
from core.data.frames import CANONICAL_COLUMNS, MIN_ROWS, extra_column, slice_dates
from core.data.pricecache import PriceStore
from core.data.samples import list_samples, load_sample
from core.data.tickers import validate_ticker
from core.data.yahoo import fetch_yahoo
from core.errors import UserError

Source = Literal["sample", "yahoo", "csv"]
SOURCE_LABELS = {"sample": "Bundled sample", "yahoo": "Yahoo Finance", "csv": "CSV upload"}


@dataclass
class PriceResult:
    """Prices for one ticker plus what the user should be told about them."""

    ticker: str
    frame: pd.DataFrame
    source: Source
    notices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_prices(
    source: Source,
    ticker: str,
    start: date | str | None = None,
    end: date | str | None = None,
    *,
    csv_file=None,
    store: PriceStore | None = None,
    fetcher: Callable[..., pd.DataFrame] = fetch_yahoo,
) -> PriceResult:
    """Prices from one source, sliced to [start, end].

    Yahoo: a successful fetch refreshes the cache; a failed one never touches it and falls
    back to the cached copy with a warning that gives its date, else raises with a hint.
    """
    if source == "csv":
        if csv_file is None:
            raise UserError("Choose a CSV file to upload.")
        frame = read_price_csv(csv_file)
        symbol = validate_ticker(ticker) if ticker else "CSV"
    elif source == "sample":
        symbol = validate_ticker(ticker)
        frame = load_sample(symbol)
    elif source == "yahoo":
        symbol = validate_ticker(ticker)
        store = store or PriceStore()
        try:
            frame = fetcher(symbol, start, end, cache_dir=str(store.dir.parent / "yfinance"))
        except UserError as exc:
            cached = store.load(symbol)
            if cached is None:
                raise UserError(
                    f"{exc} No cached copy of {symbol} exists yet; the bundled samples "
                    f"({', '.join(list_samples())}) always work offline."
                ) from exc
            stamp = cached.fetched_at.astimezone().strftime("%Y-%m-%d %H:%M")
            result = PriceResult(symbol, slice_dates(cached.frame, start, end, symbol), source)
            result.warnings.append(f"{exc} Showing the cached copy fetched on {stamp}.")
            return result
        store.save(symbol, frame, source="yahoo")
    else:
        raise UserError(f"Unknown data source {source!r}.")

    result = PriceResult(symbol, slice_dates(frame, start, end, f"The {symbol} data"), source)
    dropped_nan = frame.attrs.get("dropped_nan", 0)
    dropped_dup = frame.attrs.get("dropped_duplicates", 0)
    if dropped_nan or dropped_dup:
        result.notices.append(
            f"Dropped {dropped_nan} row(s) with missing or unreadable values and {dropped_dup} duplicate date(s)."
        )
    if frame.attrs.get("conflicts"):
        result.warnings.append(f"The {symbol} data: {frame.attrs['conflicts']}")
    return result


@dataclass
class Dataset:
    """The target ticker's prices plus other tickers' closes, aligned on common dates."""

    ticker: str
    frame: pd.DataFrame  # open, high, low, close, volume, then <EXTRA>_close per extra ticker
    source: Source
    extras: list[str] = field(default_factory=list)
    dropped_dates: int = 0
    notices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        extra = f" + {', '.join(self.extras)}" if self.extras else ""
        return f"{self.ticker}{extra} ({SOURCE_LABELS[self.source].lower()})"

    def describe(self) -> dict:
        """JSON-ready description saved with every run."""
        return {
            "ticker": self.ticker,
            "source": self.source,
            "extras": list(self.extras),
            "start": str(self.frame.index[0].date()),
            "end": str(self.frame.index[-1].date()),
            "rows": int(len(self.frame)),
            "columns": list(self.frame.columns),
        }


def build_dataset(main: PriceResult, extras: list[PriceResult] | None = None) -> Dataset:
    """Inner-join the extra tickers' closes onto the main frame; count the dates dropped."""
    frame = main.frame[CANONICAL_COLUMNS].copy()
    notices, warnings = list(main.notices), list(main.warnings)
    names: list[str] = []
    union = frame.index
    for extra in extras or []:
        if extra.ticker == main.ticker or extra.ticker in names:
            continue
        names.append(extra.ticker)
        union = union.union(extra.frame.index)
        frame = frame.join(extra.frame["close"].rename(extra_column(extra.ticker)), how="inner")
        warnings += extra.warnings
    dropped = int(len(union) - len(frame))
    joined = [e for e in extras or [] if e.ticker in names]
    if names and len(frame) < MIN_ROWS:
        raise UserError(overlap_message(main, joined, frame))
    if names and dropped > len(frame):  # most dates lost: say which inputs cut them
        warnings.append(overlap_message(main, joined, frame, too_few=False))
    if names:
        notices.append(
            f"Aligned on {len(frame)} common trading days; {dropped} date(s) present in only "
            "some of the tickers were dropped."
        )
    frame = slice_dates(frame, what="The aligned dataset")
    frame.attrs = {}
    return Dataset(main.ticker, frame, main.source, names, dropped, notices, warnings)


SOURCE_NAMES = {"sample": "bundled sample", "yahoo": "Yahoo Finance", "csv": "CSV"}


def overlap_message(
    main: PriceResult, extras: list[PriceResult], common: pd.DataFrame, too_few: bool = True
) -> str:
    """Why a multivariate dataset came out short: each input's dates, and where (or
    whether) they overlap."""
    inputs = [main, *extras]
    spans = "; ".join(
        f"{p.ticker} ({SOURCE_NAMES.get(p.source, p.source)}) runs from "
        f"{fmt.date(p.frame.index[0])} to {fmt.date(p.frame.index[-1])}"
        for p in inputs
    )
    start = max(p.frame.index[0] for p in inputs)
    end = min(p.frame.index[-1] for p in inputs)
    if start > end:
        overlap = "These date ranges do not overlap at all."
    else:
        overlap = (
            f"They overlap only from {fmt.date(start)} to {fmt.date(end)}: "
            f"{fmt.count(len(common), 'common trading day')}"
            + (f", and at least {MIN_ROWS} are needed." if too_few else ".")
        )
    worst = min(extras, key=lambda p: len(p.frame.index.intersection(main.frame.index)))
    return (
        f"The inputs share {'too few' if too_few else 'few'} trading days. {spans}. {overlap} "
        f"Drop {worst.ticker} (it shares the fewest days with {main.ticker}), or pick extra "
        "tickers whose dates cover the main series."
    )


def csv_label(filename: str) -> str:
    """A CSV file's name as a series label: 'msft_2009_2018.csv' -> 'MSFT-2009-2018' (ticker
    characters only, at most 20); 'CSV' when nothing usable is left."""
    stem = re.sub(r"\.(csv|txt|gz)$", "", Path(str(filename)).name.lower())
    stem = re.sub(r"\.(csv|txt)$", "", stem)
    text = re.sub(r"[^A-Z0-9.\-^=]+", "-", stem.upper()).strip("-")[:20].strip("-")
    try:
        return validate_ticker(text)
    except UserError:
        return "CSV"


def load_dataset(
    source: Source,
    ticker: str,
    start=None,
    end=None,
    extras: list[str] | None = None,
    *,
    csv_file=None,
    extra_csv_files: list | None = None,
    store: PriceStore | None = None,
    fetcher: Callable[..., pd.DataFrame] = fetch_yahoo,
) -> Dataset:
    """Main ticker plus extra tickers and extra CSV files. Extras use the main source; with a
    CSV upload they come from the bundled samples when there is one, else from Yahoo
    Finance. Each extra CSV file (a path or an upload) is a series named by its file name,
    aligned on common dates like an extra ticker."""
    main = load_prices(source, ticker, start, end, csv_file=csv_file, store=store, fetcher=fetcher)
    loaded = []
    for raw in extras or []:
        symbol = validate_ticker(raw)
        extra_source: Source = source
        if source == "csv":
            extra_source = "sample" if symbol in list_samples() else "yahoo"
        loaded.append(load_prices(extra_source, symbol, start, end, store=store, fetcher=fetcher))
    taken = {main.ticker, *(p.ticker for p in loaded)}
    for file in extra_csv_files or []:
        label = csv_label(getattr(file, "name", file))
        n = 1
        while label in taken:  # two files of one name, or a file named like the target
            n += 1
            label = f"{csv_label(getattr(file, 'name', file))[:17]}-{n}"
        taken.add(label)
        loaded.append(load_prices("csv", label, start, end, csv_file=file))
    return build_dataset(main, loaded)
