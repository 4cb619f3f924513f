"""The Data page through Streamlit's AppTest: what a user sees, errors included."""

from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data import load_dataset
from tests.conftest import ROOT
from tests.helpers import tiny_dataset
from tests.test_data import make_csv


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()


def test_opens_on_data_page_with_the_aapl_sample_chart(app):
    assert not app.exception
    assert not app.error
    assert app.title[0].value == "Data"
    assert "AAPL" in app.subheader[0].value
    charts = app.get("plotly_chart")
    assert len(charts) >= 2
    labels = {m.label: m.value for m in app.metric}
    assert labels["First date"] == "2000-03-01" and labels["Trading days"] == "3,270"
    assert "Dataset in use: **AAPL" in app.sidebar.caption[0].value
    table = app.dataframe[0].value
    assert float(table.loc["price", "p-value"]) > 0.05  # three significant digits at most
    assert table.loc["first difference", "p-value"] == "< 0.001"  # never 1.7e-13
    assert list(table["stationary (p < 0.05)"]) == ["no", "yes", "yes"]
    assert all(len(v) <= 10 for v in labels.values())  # a third of the width holds each card
    # the sentence under the table follows its numbers
    said = next(c.value for c in app.caption if c.value.startswith("No evidence that the price"))
    assert said.startswith(
        f"No evidence that the price is stationary (p = {table.loc['price', 'p-value']})"
    )


def test_the_stationarity_sentence_says_what_the_test_found():
    from core.present.sentences import stationarity_sentence

    passes = stationarity_sentence({"price": 0.0004, "first difference": 1e-9, "log return": 1e-9})
    assert passes.startswith("Unusually for a price, this one passes the ADF test (p < 0.001)")
    assert "No evidence" not in passes
    fails = stationarity_sentence({"price": 0.41, "first difference": 1e-9, "log return": 1e-9})
    assert fails.startswith("No evidence that the price is stationary (p = 0.41)")
    assert "its differences are (" in fails


def test_daily_candles_leave_no_weekend_gaps():
    from core.present.charts import candlestick_with_volume

    frame = tiny_dataset(start="2012-11-01").frame  # about 40 days: daily candles
    layout = candlestick_with_volume(frame).to_dict()["layout"]
    assert layout["xaxis"]["rangebreaks"][0]["bounds"] == ["sat", "mon"]


def test_page_does_not_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys; from streamlit.testing.v1 import AppTest;"
        "AppTest.from_file('app.py', default_timeout=60).run();"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_invalid_ticker_shows_an_error_and_keeps_the_dataset(app):
    app.radio(key="data_source").set_value("Yahoo Finance").run()
    app.text_input[0].set_value("../etc")
    app.button[0].click().run()
    assert not app.exception
    assert any("is not a ticker symbol" in e.value for e in app.error)
    assert app.session_state["dataset"].ticker == "AAPL"


def test_malformed_csv_shows_an_error_and_no_exception(app):
    app.radio(key="data_source").set_value("CSV upload").run()
    app.file_uploader[0].set_value(("bad.csv", b"foo,bar\n1,2\n", "text/csv"))
    app.button[0].click().run()
    assert not app.exception
    assert any("missing the column" in e.value for e in app.error)
    assert app.session_state["dataset"].ticker == "AAPL"
    # the dataset still in use is named, and its notes do not sit under this file's error
    assert any(c.value.startswith("Still using AAPL") for c in app.caption)
    assert not app.warning and not app.info


def test_good_csv_upload_replaces_the_dataset(app):
    app.radio(key="data_source").set_value("CSV upload").run()
    app.file_uploader[0].set_value(("ok.csv", make_csv(n=60).encode(), "text/csv"))
    app.date_input[0].set_value(date(2024, 1, 1))
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert len(app.session_state["dataset"].frame) == 60


def test_an_uploaded_file_keeps_its_own_dates(app):
    """A 2013-2018 download loaded as it comes: every day of it, none cut to a default range
    (before: 2015-01-01 to today, 846 of 1,260 days kept; a file before 2015 was refused)."""
    days = pd.bdate_range("2013-01-02", "2017-12-29")
    lines = ["Date,Open,High,Low,Close,Adj Close,Volume"] + [
        f"{d:%Y-%m-%d},{100 + i % 7},{101 + i % 7},{99 + i % 7},{100.5 + i % 7},1,{1000 + i}"
        for i, d in enumerate(days)
    ]
    app.radio(key="data_source").set_value("CSV upload").run()
    app.file_uploader[0].set_value(("googl_2013_2018.csv", "\n".join(lines).encode(), "text/csv"))
    assert app.date_input[0].value is None and app.date_input[1].value is None
    app.button[0].click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    frame = app.session_state["dataset"].frame
    assert len(frame) == len(days) and frame.index[0] == days[0] and frame.index[-1] == days[-1]


def test_sample_with_extra_tickers_builds_a_multivariate_dataset(app):
    app.multiselect[0].set_value(["MSFT", "^GSPC"])
    app.button[0].click().run()
    assert not app.exception
    dataset = app.session_state["dataset"]
    assert dataset.extras == ["MSFT", "^GSPC"]
    assert any("common trading days" in i.value for i in app.info)


def test_long_series_are_thinned_for_display_only_with_their_extremes_kept():
    from core.data import load_dataset
    from core.present.charts import candlestick_with_volume, differencing_figure
    from core.present.charts.common import DISPLAY_POINTS
    from tests.helpers import values

    frame = load_dataset("sample", "AAPL").frame  # 3,270 days
    candles = candlestick_with_volume(frame)
    assert candles.layout.title.text.startswith("Weekly candles")
    weekly = candles.data[0]
    assert len(weekly.x) < 700 and max(weekly.high) == frame["high"].max()  # no peak lost
    assert sum(candles.data[1].y) == frame["volume"].sum()  # volume summed per week
    short = candlestick_with_volume(frame.iloc[-200:])
    assert short.layout.title.text.startswith("Daily candles") and len(short.data[0].x) == 200
    lines = differencing_figure(frame["close"])
    for trace, full in zip(lines.data, (frame["close"], frame["close"].diff()), strict=False):
        shown = values(trace.y)
        assert len(shown) == DISPLAY_POINTS
        assert max(shown) == full.max() and min(shown) == full.min()  # spikes stay visible


def test_the_server_watches_no_files_and_the_icon_is_local():
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert 'fileWatcherType = "none"' in config  # no walk of .venv, no inotify overflow
    page_config = (ROOT / "app.py").read_text().split("set_page_config")[1].splitlines()[0]
    assert ":material/" not in page_config  # a material page icon is fetched from Google


def test_the_source_and_form_start_from_the_dataset_in_use(tmp_path, workspace):
    """Back on the Data page with a CSV in use, Source says CSV upload (one click on Load
    would otherwise replace the file with the sample); a sample dataset keeps its tickers."""
    path = tmp_path / "googl_2009_2013.csv"
    path.write_text(make_csv(300))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = load_dataset("csv", "GOOGL-2009-2013", csv_file=str(path))
    at.run()
    assert at.radio(key="data_source").value == "CSV upload"
    at.switch_page("views/train.py").run()
    at.switch_page("views/data.py").run()
    assert at.radio(key="data_source").value == "CSV upload"
    at.radio(key="data_source").set_value("Bundled sample").run()  # the user's pick
    at.switch_page("views/train.py").run()
    at.switch_page("views/data.py").run()
    assert at.radio(key="data_source").value == "Bundled sample"

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = load_dataset("sample", "MSFT", None, None, ["^GSPC"])
    at.run()
    assert at.selectbox[0].value == "MSFT" and at.multiselect[0].value == ["^GSPC"]
