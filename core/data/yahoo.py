"""Yahoo Finance through yfinance, with a hard deadline and every failure as a UserError."""

from __future__ import annotations

import logging
import threading
from datetime import date

import pandas as pd

from core.data.frames import normalize_price_frame
from core.data.tickers import validate_ticker
from core.errors import UserError

DEFAULT_TIMEOUT_S = 20.0
_NETWORK_WORDS = ("resolve", "dns", "connect", "network", "timed out", "timeout", "unreachable")


class _CollectErrors(logging.Handler):
    """yfinance often logs a failure instead of raising; keep what it says."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _default_session():
    """A fresh HTTP session per fetch, the kind yfinance uses itself (curl_cffi, else requests).

    yfinance keeps one process-wide session; passing ours every time means a session set
    elsewhere (a test's fake, say) is never reused by accident.
    """
    try:
        from curl_cffi import requests as curl_requests

        return curl_requests.Session(impersonate="chrome")
    except ImportError:  # pragma: no cover - curl_cffi is a yfinance dependency
        import requests

        return requests.Session()


def _history(symbol: str, start, end, session, cache_dir: str | None) -> pd.DataFrame:
    import yfinance as yf

    if cache_dir:
        yf.set_tz_cache_location(cache_dir)

    def call(http):
        return yf.Ticker(symbol, session=http).history(
            start=start, end=end, interval="1d", auto_adjust=True
        )

    try:
        return call(session or _default_session())
    except Exception as exc:
        if session is not None or type(exc).__name__ != "ImpersonateError":
            raise
        # In a process that has imported TensorFlow, TensorFlow's bundled libcurl shadows
        # curl_cffi's and browser impersonation fails; plain requests still works.
        import requests

        return call(requests.Session())


def _explain(symbol: str, exc: BaseException | None, logged: list[str]) -> UserError:
    text = " ".join([str(exc) if exc else "", *logged]).lower()
    name = type(exc).__name__ if exc else ""
    if "ratelimit" in name.lower() or "too many requests" in text or "rate limit" in text:
        return UserError(
            "Yahoo Finance is rate-limiting requests right now. Wait a minute and try again, "
            "or use a bundled sample."
        )
    if any(word in text for word in _NETWORK_WORDS) or name in {"ConnectionError", "DNSError"}:
        return UserError(
            "Could not reach Yahoo Finance (no network connection?). "
            "Use a bundled sample or upload a CSV instead."
        )
    unknown = ("delisted", "no price data", "not found", "404 client error", "no data found")
    if exc is None or any(word in text for word in unknown):
        return UserError(
            f"Yahoo Finance has no daily prices for '{symbol}' in that range. Check the "
            "ticker (Yahoo spelling, e.g. BRK-B, ^GSPC) and the dates."
        )
    return UserError(f"Yahoo Finance failed for '{symbol}': {str(exc).splitlines()[0]}")


def fetch_yahoo(
    ticker: str,
    start: date | str | None = None,
    end: date | str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    session=None,
    cache_dir: str | None = None,
) -> pd.DataFrame:
    """Daily adjusted prices from Yahoo Finance as the canonical frame.

    yfinance can return an empty frame, log, raise, or block for minutes on a lossy
    network: the call runs in a daemon thread with a deadline, and every outcome becomes a
    frame or a UserError with a hint. `end` is inclusive here (yfinance's is exclusive).
    """
    symbol = validate_ticker(ticker)
    end_exclusive = (pd.Timestamp(end) + pd.Timedelta(days=1)).date() if end else None
    result: dict[str, object] = {}
    collector = _CollectErrors()
    logger = logging.getLogger("yfinance")

    def work() -> None:
        try:
            result["frame"] = _history(symbol, start, end_exclusive, session, cache_dir)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported to the user
            result["error"] = exc

    logger.addHandler(collector)
    try:
        thread = threading.Thread(target=work, name=f"yahoo-{symbol}", daemon=True)
        thread.start()
        thread.join(timeout)
    finally:
        logger.removeHandler(collector)
    if thread.is_alive():
        raise UserError(
            f"Yahoo Finance did not answer within {timeout:.0f} s (slow or no network). "
            "Use a bundled sample or upload a CSV instead."
        )
    if "error" in result:
        raise _explain(symbol, result["error"], collector.messages)
    frame = result.get("frame")
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise _explain(symbol, None, collector.messages)
    return normalize_price_frame(frame, what=f"Yahoo Finance data for {symbol}")
