"""core/fmt.py: every number on screen goes through here, so its rules are pinned down."""

import math

import numpy as np
import pandas as pd
import pytest

from core import fmt


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (1e-24, "< 0.001"),
        (0.000999, "< 0.001"),
        (0.001, "0.001"),
        (0.00123456, "0.00123"),
        (0.0421234, "0.0421"),
        (0.5, "0.5"),
        (0.99999, "1"),
        (1.0, "1"),
        (float("nan"), "–"),
        (None, "–"),
    ],
)
def test_p_values_have_at_most_three_significant_digits(p, shown):
    assert fmt.pvalue(p) == shown
    digits = shown.lstrip("< 0.").replace(".", "")
    assert len(digits) <= 3


def test_missing_values_never_read_none_or_nan():
    for value in (None, float("nan"), np.nan, pd.NA, pd.NaT):
        for formatter in (fmt.num, fmt.sig, fmt.pct, fmt.pvalue, fmt.date, fmt.text, fmt.duration):
            assert formatter(value) == "–"
    table = fmt.table(
        pd.DataFrame({"a": [1.5, None], "b": ["x", None], "c": [True, False]}), {"a": fmt.num}
    )
    assert table.to_numpy().tolist() == [["1.500", "x", "yes"], ["–", "–", "no"]]


def test_shares_are_percentages_and_counts_agree_with_their_noun():
    assert fmt.pct(0.501) == "50.1 %"
    assert fmt.pct(1) == "100.0 %"
    assert fmt.signed_pct(-0.034) == "-3.4 %"
    assert fmt.count(1, "epoch") == "1 epoch"
    assert fmt.count(3, "epoch") == "3 epochs"
    assert fmt.count(3270, "trading day") == "3,270 trading days"
    assert fmt.count(2, "index", "indices") == "2 indices"


def test_numbers_dates_and_durations():
    assert fmt.num(1234.5678, 2) == "1,234.57"
    assert fmt.num(-0.0001, 2) == "0.00"  # no "-0.00"
    assert fmt.sig(0.000123456) == "0.000123"
    assert fmt.sig(12345.6) == "12,346"
    assert fmt.sig(-0.0303) == "-0.0303"
    assert "e" in fmt.sig(1.7e-23)  # too small for a decimal, still 3 digits
    assert fmt.date(pd.Timestamp("2013-02-25")) == "2013-02-25"  # never "00:00:00"
    assert fmt.date("2013-02-25T00:00:00") == "2013-02-25"
    assert fmt.when("2026-11-24T14:05:33") == "2026-11-24 14:05"
    assert fmt.duration(42) == "0:42"
    assert fmt.duration(3723) == "1:02:03"
    assert fmt.text(math.inf) == "inf"


def test_a_table_with_a_date_index_shows_days():
    frame = pd.DataFrame({"v": [0.1234]}, index=pd.DatetimeIndex(["2013-02-25"], name="date"))
    shown = fmt.table(frame, {"v": fmt.pct})
    assert list(shown.index) == ["2013-02-25"] and shown.index.name == "date"
    assert shown.iloc[0, 0] == "12.3 %"


def test_markdown_in_a_name_is_escaped_and_plain_text_is_untouched():
    assert fmt.md("my *best* [run](x) $5 a_b") == r"my \*best\* \[run\](x) \$5 a\_b"
    assert fmt.md("AAPL LSTM, raw price, window 20 (2)") == "AAPL LSTM, raw price, window 20 (2)"
