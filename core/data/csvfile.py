"""Reading a user's CSV export (Yahoo Finance style) into the canonical frame."""

from __future__ import annotations

import csv
import io

import pandas as pd

from core.data.frames import normalize_price_frame
from core.errors import UserError

MAX_CSV_BYTES = 50 * 1024 * 1024
MAX_CSV_ROWS = 100_000  # about 400 years of trading days; parsing stays well under a second


def read_price_csv(path_or_file) -> pd.DataFrame:
    """Parse a price CSV (path or file-like); raise UserError naming the problem.

    frame.attrs["dropped_nan"] / ["dropped_duplicates"] say how many rows were removed.
    """
    if hasattr(path_or_file, "read"):
        raw_bytes = path_or_file.read()
        if hasattr(path_or_file, "seek"):
            path_or_file.seek(0)
    else:
        try:
            with open(path_or_file, "rb") as fh:
                raw_bytes = fh.read(MAX_CSV_BYTES + 1)
        except OSError as exc:
            raise UserError(f"Could not open the file: {exc.strerror or exc}.") from exc
    if isinstance(raw_bytes, str):
        raw_bytes = raw_bytes.encode()
    if len(raw_bytes) > MAX_CSV_BYTES:
        raise UserError("The file is larger than 50 MB; upload daily prices only.")
    if raw_bytes[:2] == b"\x1f\x8b":
        import gzip

        try:
            raw_bytes = gzip.decompress(raw_bytes)
        except OSError as exc:
            raise UserError("The file looks gzip-compressed but could not be unpacked.") from exc
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError("The file is not a text CSV (it is not UTF-8 encoded).") from exc
    if not text.strip():
        raise UserError(
            "The file is empty. Upload a CSV with Date, Open, High, Low, Close, Volume."
        )
    rows = text.count("\n") - 1  # the header line aside
    if rows > MAX_CSV_ROWS:
        raise UserError(
            f"The file has {rows:,} rows; LagLens takes at most {MAX_CSV_ROWS:,} "
            "(about 400 years of daily prices). Upload daily prices, or a shorter period."
        )
    try:
        delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    try:
        raw = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(f"The file could not be read as CSV: {exc}".splitlines()[0]) from exc
    return normalize_price_frame(raw, what="The CSV file")
