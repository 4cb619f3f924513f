"""The on-disk price cache: one Parquet file per ticker and interval, written atomically."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.data.tickers import validate_ticker
from core.workspace import atomic_write_bytes, make_dir, workspace_dir

_META_KEY = b"laglens"


@dataclass(frozen=True)
class CachedPrices:
    frame: pd.DataFrame
    fetched_at: datetime
    source: str


class PriceStore:
    """Cached prices under <workspace>/prices/, keyed by ticker and interval."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.dir = make_dir(workspace_dir(root) / "prices")

    def path(self, ticker: str, interval: str = "1d") -> Path:
        # validate_ticker admits only [A-Z0-9.-^=]; with the suffix no name can be '.' or '..'.
        symbol = validate_ticker(ticker)
        if interval not in {"1d", "1wk", "1mo"}:
            raise ValueError(f"unsupported interval {interval!r}")
        return self.dir / f"{symbol}__{interval}.parquet"

    def save(self, ticker: str, frame: pd.DataFrame, source: str, interval: str = "1d") -> Path:
        table = pa.Table.from_pandas(frame, preserve_index=True)
        meta = {"fetched_at": datetime.now(UTC).isoformat(), "source": source}
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()}
        )
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        path = self.path(ticker, interval)
        atomic_write_bytes(path, buffer.getvalue())
        return path

    def load(self, ticker: str, interval: str = "1d") -> CachedPrices | None:
        path = self.path(ticker, interval)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path)
            meta = json.loads(table.schema.metadata[_META_KEY])
        except (OSError, KeyError, ValueError, pa.ArrowInvalid):
            return None  # unreadable cache is as good as none; the next fetch rewrites it
        frame = table.to_pandas()
        frame.attrs = {}
        return CachedPrices(frame, datetime.fromisoformat(meta["fetched_at"]), meta["source"])
