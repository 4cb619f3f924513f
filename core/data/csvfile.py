"""Reading a user's CSV export (Yahoo Finance style) into the canonical frame.

Every limit is checked the way the parser sees the file: the size after decompression
(a gzip is unpacked as a stream and stopped at the limit), the rows after the line endings
are made one kind (a CR-only file has as many rows as pandas will read). The separator is
taken from the header line, and the number format (decimal point or decimal comma) from
the values themselves, in frames.py.
"""

from __future__ import annotations

import io
import os
import re
import zlib

import pandas as pd

from core.data.frames import normalize_price_frame
from core.errors import UserError

MAX_CSV_BYTES = 50 * 1024 * 1024
MAX_CSV_ROWS = 100_000  # about 400 years of trading days; parsing stays well under a second
# A price table has a handful of columns (a wide export a few dozen); a file far wider is
# refused before the parser builds a column for every field (50,000 fields in a 4 MB file
# took 37 s and 700 MB to parse).
MAX_CSV_COLUMNS = 200
_CHUNK = 1 << 20
DELIMITERS = (",", ";", "\t", "|")


def _read_bounded(path_or_file) -> bytes:
    """At most MAX_CSV_BYTES + 1 bytes of the file (enough to know it is too large)."""
    if hasattr(path_or_file, "read"):
        raw = path_or_file.read(MAX_CSV_BYTES + 1)
        if hasattr(path_or_file, "seek"):
            path_or_file.seek(0)
        return raw.encode() if isinstance(raw, str) else raw
    try:
        with open(path_or_file, "rb") as fh:  # read(n) would reserve n bytes up front
            return fh.read(min(os.fstat(fh.fileno()).st_size, MAX_CSV_BYTES) + 1)
    except OSError as exc:
        raise UserError(f"Could not open the file: {exc.strerror or exc}.") from exc


def _gunzip_bounded(raw: bytes) -> bytes:
    """Unpack a gzip as a stream and stop as soon as it passes the size limit, so a small
    file that unpacks to gigabytes (a gzip bomb) costs at most the limit in memory."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    data = raw
    try:
        while data:
            out += inflater.decompress(data, _CHUNK)
            if len(out) > MAX_CSV_BYTES:
                raise UserError(
                    "The file unpacks to more than 50 MB; upload daily prices only "
                    "(a compressed file is checked by its unpacked size)."
                )
            data = inflater.unconsumed_tail
            if not data and inflater.eof and inflater.unused_data:
                data, inflater = inflater.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS)
        out += inflater.flush()
    except zlib.error as exc:
        raise UserError("The file looks gzip-compressed but could not be unpacked.") from exc
    if not inflater.eof:
        raise UserError("The file looks gzip-compressed but is cut short (incomplete gzip).")
    if len(out) > MAX_CSV_BYTES:
        raise UserError("The file unpacks to more than 50 MB; upload daily prices only.")
    return bytes(out)


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with its BOM (Excel's 'Unicode text'), else the
    Windows code page a spreadsheet writes: prices and headers are ASCII in all of them."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UserError("The file claims UTF-16 but its text is damaged.") from exc
    if (utf16 := _utf16_without_bom(raw)) is not None:
        return utf16
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise UserError("The file is not a text CSV (it holds binary data).")
    return text


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 saved without its byte-order mark: ASCII text with a zero byte beside every
    character (after it: little-endian, before it: big-endian); None for anything else."""
    head = raw[:4096]
    if len(head) < 8 or len(head) % 2:
        head = head[: len(head) - len(head) % 2]
    for zeros, encoding in ((head[1::2], "utf-16-le"), (head[0::2], "utf-16-be")):
        if zeros and zeros.count(0) >= 0.9 * len(zeros):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UserError(
                    f"The file looks like {encoding.upper()} text but is damaged."
                ) from exc
    return None


def _delimiter(text: str) -> str:
    """The separator the header line uses most (',' when it uses none)."""
    header = next((line for line in text.split("\n") if line.strip()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _rows(text: str) -> int:
    """Data rows as the parser sees them: the non-empty lines, the header aside."""
    body = text.strip("\n")
    if not body:
        return 0
    return body.count("\n") - len(re.findall("\n(?=\n)", body))


def read_price_csv(path_or_file) -> pd.DataFrame:
    """Parse a price CSV (path or file-like); raise UserError naming the problem.

    frame.attrs["dropped_nan"] / ["dropped_duplicates"] say how many rows were removed.
    """
    raw_bytes = _read_bounded(path_or_file)
    if len(raw_bytes) > MAX_CSV_BYTES:
        raise UserError("The file is larger than 50 MB; upload daily prices only.")
    if raw_bytes[:2] == b"\x1f\x8b":
        raw_bytes = _gunzip_bounded(raw_bytes)
    text = _decode(raw_bytes)
    if not text.strip():
        raise UserError(
            "The file is empty. Upload a CSV with Date, Open, High, Low, Close, Volume."
        )
    # One kind of line ending, so the row count below is the parser's own (a CR-only file
    # is as many rows to pandas as to this count).
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rows = _rows(text)
    if rows > MAX_CSV_ROWS:
        raise UserError(
            f"The file has {rows:,} rows; LagLens takes at most {MAX_CSV_ROWS:,} "
            "(about 400 years of daily prices). Upload daily prices, or a shorter period."
        )
    delimiter = _delimiter(text)
    widest = max(line.count(delimiter) for line in text.split("\n")) + 1
    if widest > MAX_CSV_COLUMNS:
        raise UserError(
            f"The file has a line of {widest:,} fields; a price table has a handful (Date, "
            f"Open, High, Low, Close, Volume) and LagLens reads at most {MAX_CSV_COLUMNS}. "
            "Export one ticker's daily prices."
        )
    try:
        raw = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, skipinitialspace=True, engine="c"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"The file could not be read as CSV: {detail}") from exc
    raw.attrs["delimiter"] = delimiter
    return normalize_price_frame(raw, what="The CSV file")
