"""Ticker validation: checked before any network or file access."""

from __future__ import annotations

import re

from core.errors import UserError

# Yahoo syntax: letters, digits and . - ^ =, at least one letter or digit, at most 20 chars.
_TICKER = re.compile(r"^(?=.*[A-Z0-9])[A-Z0-9.\-^=]{1,20}$")


def validate_ticker(symbol: object) -> str:
    """Strip and upper-case a ticker; raise UserError unless it is Yahoo-style syntax."""
    text = str(symbol if symbol is not None else "").strip().upper()
    if not text:
        raise UserError("Enter a ticker symbol, for example AAPL, BRK-B or ^GSPC.")
    if not _TICKER.match(text):
        shown = text if len(text) <= 30 else text[:27] + "..."
        raise UserError(
            f"'{shown}' is not a ticker symbol. Use up to 20 letters, digits and . - ^ = "
            "(for example AAPL, BRK-B, ^GSPC, EURUSD=X, 005930.KS)."
        )
    return text
