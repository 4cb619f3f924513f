"""A requests.Session that answers like Yahoo Finance, so tests run yfinance's real parsing."""

from __future__ import annotations

import json
import time

import pandas as pd
import requests

from core.data import load_sample
from core.data.samples import SAMPLES_DIR


def raw_sample_rows(ticker: str, start: str, end: str) -> pd.DataFrame:
    """Unadjusted O/H/L/C/V plus Adj Close, as Yahoo stores them, from the bundled file."""
    raw = pd.read_csv(SAMPLES_DIR / "stocks.csv.gz")
    raw = raw[raw["Ticker"] == ticker].copy()
    raw["Date"] = pd.to_datetime(raw["Date"])
    return raw[(raw["Date"] >= start) & (raw["Date"] <= end)].set_index("Date")


def chart_json(symbol: str, rows: pd.DataFrame) -> dict:
    """The /v8/finance/chart response body, in Yahoo's format (timestamps at the 09:30 open)."""
    opens = rows.index.tz_localize("America/New_York") + pd.Timedelta(hours=9, minutes=30)
    stamps = [int(ts.timestamp()) for ts in opens]
    return {
        "chart": {
            "result": [
                {
                    "meta": {
                        "currency": "USD",
                        "symbol": symbol,
                        "exchangeName": "NMS",
                        "fullExchangeName": "NasdaqGS",
                        "instrumentType": "EQUITY",
                        "firstTradeDate": 345479400,
                        "regularMarketTime": stamps[-1],
                        "hasPrePostMarketData": True,
                        "gmtoffset": -18000,
                        "timezone": "EST",
                        "exchangeTimezoneName": "America/New_York",
                        "regularMarketPrice": float(rows["Close"].iloc[-1]),
                        "chartPreviousClose": float(rows["Close"].iloc[0]),
                        "priceHint": 2,
                        "currentTradingPeriod": {
                            "pre": {
                                "timezone": "EST",
                                "start": stamps[-1] - 19800,
                                "end": stamps[-1],
                                "gmtoffset": -18000,
                            },
                            "regular": {
                                "timezone": "EST",
                                "start": stamps[-1],
                                "end": stamps[-1] + 23400,
                                "gmtoffset": -18000,
                            },
                            "post": {
                                "timezone": "EST",
                                "start": stamps[-1] + 23400,
                                "end": stamps[-1] + 37800,
                                "gmtoffset": -18000,
                            },
                        },
                        "dataGranularity": "1d",
                        "range": "",
                        "validRanges": [
                            "1d",
                            "5d",
                            "1mo",
                            "3mo",
                            "6mo",
                            "1y",
                            "2y",
                            "5y",
                            "10y",
                            "ytd",
                            "max",
                        ],
                    },
                    "timestamp": stamps,
                    "events": {},
                    "indicators": {
                        "quote": [
                            {
                                "open": rows["Open"].tolist(),
                                "high": rows["High"].tolist(),
                                "low": rows["Low"].tolist(),
                                "close": rows["Close"].tolist(),
                                "volume": rows["Volume"].astype(int).tolist(),
                            }
                        ],
                        "adjclose": [{"adjclose": rows["Adj Close"].tolist()}],
                    },
                }
            ],
            "error": None,
        }
    }


NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}


class FakeYahooSession(requests.Session):
    """Answers the cookie, crumb and chart URLs yfinance calls; records every URL asked."""

    def __init__(self, symbol="AAPL", start="2012-01-03", end="2012-06-29", delay=0.0):
        super().__init__()
        self.symbol = symbol
        self.rows = raw_sample_rows(symbol, start, end)
        self.delay = delay
        self.urls: list[str] = []

    def _response(self, url: str, status: int, body: bytes, ctype: str) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp._content = body
        resp.url = url
        resp.headers["Content-Type"] = ctype
        resp.encoding = "utf-8"
        return resp

    def request(self, method, url, *args, **kwargs):  # noqa: D401 - requests' signature
        self.urls.append(url)
        if self.delay:
            time.sleep(self.delay)
        if "fc.yahoo.com" in url:
            return self._response(url, 404, b"", "text/html")
        if "/v1/test/getcrumb" in url:
            return self._response(url, 200, b"fakeCrumb123", "text/plain")
        if "/v8/finance/chart/" in url:
            symbol = url.rsplit("/", 1)[-1]
            if symbol == self.symbol:
                body = chart_json(symbol, self.rows)
                return self._response(url, 200, json.dumps(body).encode(), "application/json")
            return self._response(url, 404, json.dumps(NOT_FOUND).encode(), "application/json")
        return self._response(url, 404, b"{}", "application/json")


def expected_adjusted_close(symbol: str, start: str, end: str) -> pd.Series:
    return load_sample(symbol).loc[start:end, "close"]
