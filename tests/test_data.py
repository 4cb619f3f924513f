"""The data layer: samples, CSV parsing, ticker validation, the store, Yahoo Finance."""

import io
import time

import numpy as np
import pandas as pd
import pytest

from core.data import (
    PriceStore,
    build_dataset,
    fetch_yahoo,
    list_samples,
    load_dataset,
    load_prices,
    load_sample,
    read_price_csv,
    validate_ticker,
)
from core.errors import UserError
from tests.conftest import network_reaches_yahoo
from tests.fake_yahoo import FakeYahooSession, expected_adjusted_close

# ---------------------------------------------------------------- samples

SAMPLE_FACTS = {
    "AAPL": (3270, "2000-03-01", "2013-03-01"),
    "MSFT": (3270, "2000-03-01", "2013-03-01"),
    "IBM": (3270, "2000-03-01", "2013-03-01"),
    "GOOG": (2148, "2004-08-19", "2013-03-01"),
    "FB": (196, "2012-05-18", "2013-03-01"),
    "^GSPC": (5031, "1999-01-04", "2018-12-31"),
    "^IXIC": (5031, "1999-01-04", "2018-12-31"),
}


def test_list_samples_names_every_bundled_ticker():
    assert set(list_samples()) == set(SAMPLE_FACTS)


@pytest.mark.parametrize("ticker", list(SAMPLE_FACTS))
def test_every_sample_loads_canonical(ticker):
    rows, first, last = SAMPLE_FACTS[ticker]
    frame = load_sample(ticker)
    assert len(frame) == rows
    assert str(frame.index[0].date()) == first and str(frame.index[-1].date()) == last
    assert frame.index.name == "date" and frame.index.tz is None
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert all(dtype == np.float64 for dtype in frame.dtypes)


def test_sample_spot_checks_match_sources():
    assert load_sample("^GSPC").loc["2008-09-29", "close"] == pytest.approx(1106.42, abs=0.01)
    assert load_sample("^IXIC").loc["2000-03-10", "close"] == pytest.approx(5048.62, abs=0.01)
    aapl = load_sample("aapl")["close"]
    assert aapl.pct_change().loc["2000-09-29"] == pytest.approx(-0.519, abs=0.001)


def test_adjusted_aapl_has_no_jump_at_the_2005_split():
    aapl = load_sample("AAPL")
    moves = aapl["close"].pct_change().loc["2005-02-25":"2005-03-02"]
    assert moves.abs().max() < 0.05  # unadjusted close halves on 2005-02-28
    # high/low/open are scaled by the same factor as close
    day = aapl.loc["2005-02-28"]
    assert day["low"] <= day["close"] <= day["high"]


def test_unknown_sample_is_a_data_error():
    with pytest.raises(UserError, match="no bundled sample for TSLA"):
        load_sample("TSLA")


# ---------------------------------------------------------------- tickers


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("aapl", "AAPL"),
        (" brk-b ", "BRK-B"),
        ("^gspc", "^GSPC"),
        ("eurusd=x", "EURUSD=X"),
        ("005930.KS", "005930.KS"),
    ],
)
def test_validate_ticker_accepts_yahoo_syntax(raw, clean):
    assert validate_ticker(raw) == clean


@pytest.mark.parametrize(
    "bad", ["../etc", "A/B", "", "   ", "X" * 30, "AA PL", "a;rm", "..", "^", "A\\B"]
)
def test_validate_ticker_rejects_hostile_input(bad):
    with pytest.raises(UserError):
        validate_ticker(bad)


def test_no_ticker_names_a_path_outside_the_workspace(workspace):
    store = PriceStore()
    for ticker in ["AAPL", "^GSPC", "BRK-B", "EURUSD=X", "...A"]:
        path = store.path(ticker)
        assert path.parent == (workspace / "prices").resolve()
    with pytest.raises(UserError):
        store.path("../../etc/passwd")


# ---------------------------------------------------------------- CSV

YAHOO_CSV = """Date,Open,High,Low,Close,Adj Close,Volume
{rows}"""


def make_csv(
    n=40,
    date_format="%Y-%m-%d",
    newest_first=False,
    header="Date,Open,High,Low,Close,Adj Close,Volume",
):
    dates = pd.bdate_range("2024-01-02", periods=n)
    lines = [header]
    order = range(n - 1, -1, -1) if newest_first else range(n)
    for i in order:
        p = 100 + i
        lines.append(
            f"{dates[i].strftime(date_format)},{p},{p + 1},{p - 1},{p + 0.5},{(p + 0.5) / 2},{1000 + i}"
        )
    return "\n".join(lines) + "\n"


def test_read_price_csv_iso_and_adjusts_by_adj_close():
    frame = read_price_csv(io.StringIO(make_csv()))
    assert len(frame) == 40
    assert frame["close"].iloc[0] == pytest.approx(100.5 / 2)  # scaled by Adj Close / Close
    assert frame["open"].iloc[0] == pytest.approx(50.0)
    assert frame.index[0] == pd.Timestamp("2024-01-02")


def test_read_price_csv_newest_first_and_dd_mon_yy():
    frame = read_price_csv(io.BytesIO(make_csv(date_format="%d-%b-%y", newest_first=True).encode()))
    assert frame.index.is_monotonic_increasing
    assert frame.index[0] == pd.Timestamp("2024-01-02")
    assert frame["volume"].iloc[0] == 1000


def test_read_price_csv_m_d_yyyy_and_odd_column_names(tmp_path):
    text = make_csv(date_format="%m/%d/%Y", header="date,OPEN,High,low,Close*,Adj. Close**,Volume")
    path = tmp_path / "prices.csv"
    path.write_text(text)
    frame = read_price_csv(path)
    assert len(frame) == 40 and frame.index[-1] == pd.bdate_range("2024-01-02", periods=40)[-1]


def test_read_price_csv_extra_columns_ignored():
    text = make_csv().replace("Volume\n", "Volume,Note\n", 1)
    frame = read_price_csv(io.StringIO(text))
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]


def test_read_price_csv_drops_and_counts_duplicates_and_nans():
    lines = make_csv().splitlines()
    lines.append(lines[5])  # duplicate date
    lines[10] = lines[10].replace(",", ",null,", 1).rsplit(",", 1)[0]  # a NaN price
    frame = read_price_csv(io.StringIO("\n".join(lines)))
    assert frame.attrs["dropped_duplicates"] == 1
    assert frame.attrs["dropped_nan"] == 1
    assert len(frame) == 39


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("Date,Close\n2024-01-02,1\n", "missing the column\\(s\\): open, high, low, volume"),
        ("foo,bar\n1,2\n", "missing the column"),
        (make_csv().replace("2024-", "x2024-"), "no dates that could be read"),
        (make_csv(n=10), "only 10 usable row"),
        (make_csv().replace(",101,102,100,", ",101,-102,100,", 1), "zero or negative prices"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a text CSV|missing the column"),
    ],
)
def test_read_price_csv_bad_input_names_the_problem(content, message):
    data = content if isinstance(content, bytes) else content.encode()
    with pytest.raises(UserError, match=message):
        read_price_csv(io.BytesIO(data))


# ---------------------------------------------------------------- the store


def test_store_round_trip(workspace):
    store = PriceStore()
    frame = load_sample("MSFT").iloc[:100]
    path = store.save("MSFT", frame, source="yahoo")
    assert path.exists() and path.parent == workspace.resolve() / "prices"
    cached = store.load("MSFT")
    pd.testing.assert_frame_equal(cached.frame, frame, check_freq=False)
    assert cached.source == "yahoo"
    assert (pd.Timestamp.now(tz="UTC") - pd.Timestamp(cached.fetched_at)).total_seconds() < 60
    assert store.load("IBM") is None
    assert not list(path.parent.glob("*.tmp"))


def _failing_fetcher(*args, **kwargs):
    raise UserError("Could not reach Yahoo Finance (no network connection?).")


def test_failing_fetch_leaves_cache_byte_identical_and_falls_back(workspace):
    store = PriceStore()
    good = load_sample("IBM").loc["2010-01-01":"2012-12-31"]
    path = store.save("IBM", good, source="yahoo")
    before = path.read_bytes()
    result = load_prices(
        "yahoo", "IBM", "2011-01-01", "2011-12-31", store=store, fetcher=_failing_fetcher
    )
    assert path.read_bytes() == before
    assert result.frame.index[0] >= pd.Timestamp("2011-01-01")
    assert len(result.frame) == len(good.loc["2011-01-01":"2011-12-31"])
    assert "Showing the cached copy fetched on" in result.warnings[0]


def test_failing_fetch_without_cache_points_to_samples():
    with pytest.raises(UserError, match="bundled samples"):
        load_prices("yahoo", "ZZZZ", store=PriceStore(), fetcher=_failing_fetcher)


def test_successful_fetch_refreshes_the_cache():
    store = PriceStore()
    frame = load_sample("AAPL").iloc[:60]
    result = load_prices("yahoo", "AAPL", store=store, fetcher=lambda *a, **k: frame)
    assert len(result.frame) == 60
    assert store.load("AAPL").source == "yahoo"


# ---------------------------------------------------------------- Yahoo through yfinance


def test_fetch_yahoo_parses_yahoo_chart_json_through_yfinance(workspace):
    session = FakeYahooSession("AAPL", "2012-01-03", "2012-06-29")
    frame = fetch_yahoo(
        "aapl", "2012-01-03", "2012-06-29", session=session, cache_dir=str(workspace / "yf")
    )
    assert any("/v8/finance/chart/AAPL" in url for url in session.urls)
    expected = expected_adjusted_close("AAPL", "2012-01-03", "2012-06-29")
    assert len(frame) == len(expected)
    assert list(frame.index) == list(expected.index)
    assert frame.index.tz is None and frame.index.name == "date"
    np.testing.assert_allclose(frame["close"], expected, rtol=1e-6)


def test_fetch_yahoo_unknown_ticker_is_a_data_error(workspace):
    session = FakeYahooSession("AAPL")
    with pytest.raises(UserError, match="has no daily prices for 'NOSUCH'.*Check the ticker"):
        fetch_yahoo(
            "NOSUCH", "2012-01-03", "2012-06-29", session=session, cache_dir=str(workspace / "yf")
        )


def test_fetch_yahoo_has_a_deadline(workspace):
    session = FakeYahooSession("IBM", delay=3.0)
    started = time.monotonic()
    with pytest.raises(UserError, match="did not answer within 1 s"):
        fetch_yahoo(
            "IBM",
            "2012-01-03",
            "2012-06-29",
            timeout=1.0,
            session=session,
            cache_dir=str(workspace / "yf"),
        )
    assert time.monotonic() - started < 2.5


@pytest.mark.skipif(network_reaches_yahoo(), reason="this test checks the real offline failure")
def test_real_offline_fetch_is_a_data_error_and_falls_back_to_cache(workspace):
    with pytest.raises(UserError, match="Could not reach Yahoo Finance|did not answer"):
        fetch_yahoo("MSFT", "2012-01-01", "2012-12-31", timeout=20, cache_dir=str(workspace / "yf"))
    store = PriceStore()
    path = store.save("MSFT", load_sample("MSFT"), source="yahoo")
    before = path.read_bytes()
    result = load_prices("yahoo", "MSFT", "2012-01-01", "2012-12-31", store=store)
    assert path.read_bytes() == before
    assert result.warnings and "cached copy" in result.warnings[0]


@pytest.mark.skipif(network_reaches_yahoo(), reason="this test checks the real offline failure")
def test_real_offline_fetch_after_tensorflow_is_imported(tmp_path):
    """TensorFlow's libcurl breaks curl_cffi's impersonation in the same process; the fetch
    must still end as the plain offline message."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import tensorflow\n"
        "from core.data import fetch_yahoo\n"
        "from core.errors import UserError\n"
        "try:\n"
        f"    fetch_yahoo('IBM', '2012-01-01', '2012-12-31', cache_dir={str(tmp_path)!r})\n"
        "except UserError as exc:\n"
        "    print('UserError:', exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert "UserError: Could not reach Yahoo Finance" in out.stdout, out.stdout + out.stderr[-500:]


# ---------------------------------------------------------------- multivariate


def test_multivariate_dataset_aligns_on_common_dates_and_counts_drops():
    dataset = load_dataset("sample", "AAPL", "2012-01-01", "2013-03-01", ["MSFT", "^GSPC", "FB"])
    assert dataset.extras == ["MSFT", "^GSPC", "FB"]
    assert list(dataset.frame.columns)[-3:] == ["MSFT_close", "^GSPC_close", "FB_close"]
    fb_days = load_sample("FB").index
    assert dataset.frame.index[0] == fb_days[0]  # FB starts 2012-05-18
    assert dataset.dropped_dates == len(load_sample("AAPL").loc["2012-01-01":"2012-05-17"])
    assert not dataset.frame.isna().any().any()


def later_csv(start: str, end: str) -> io.StringIO:
    """A Yahoo-style CSV of a made-up series on business days from start to end."""
    days = pd.bdate_range(start, end)
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, len(days))))
    frame = pd.DataFrame(
        {"Date": days.strftime("%Y-%m-%d"), "Open": close, "High": close, "Low": close}
        | {"Close": close, "Volume": 1000}
    )
    return io.StringIO(frame.to_csv(index=False))


def test_inputs_that_do_not_overlap_are_named_with_their_dates(workspace):
    # the bundled MSFT sample ends on 2013-03-01; this CSV starts after it
    csv = later_csv("2013-06-03", "2016-12-30")
    with pytest.raises(UserError) as error:
        load_dataset("csv", "MINE", extras=["MSFT"], csv_file=csv)
    message = str(error.value)
    assert "MINE (CSV) runs from 2013-06-03 to 2016-12-30" in message
    assert "MSFT (bundled sample) runs from 2000-03-01 to 2013-03-01" in message
    assert "do not overlap at all" in message and "Drop MSFT" in message
    assert "Widen the date range" not in message  # not the old, wrong hint


def test_inputs_that_barely_overlap_are_warned_about_with_the_overlap():
    csv = later_csv("2013-01-02", "2016-12-30")
    dataset = load_dataset("csv", "MINE", extras=["MSFT"], csv_file=csv)
    assert len(dataset.frame) == 41
    assert any(
        "overlap only from 2013-01-02 to 2013-03-01: 41 common trading days" in w
        for w in dataset.warnings
    )


def test_build_dataset_ignores_the_target_as_its_own_extra():
    main = load_prices("sample", "IBM")
    dataset = build_dataset(main, [load_prices("sample", "IBM")])
    assert dataset.extras == [] and dataset.dropped_dates == 0


def test_range_too_short_is_a_data_error():
    with pytest.raises(UserError, match="at least 30"):
        load_dataset("sample", "AAPL", "2010-01-04", "2010-01-20")
