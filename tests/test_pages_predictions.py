"""The Predictions page through AppTest, on runs trained for real (tiny)."""

import pytest
from streamlit.testing.v1 import AppTest

from core.forecast import train_forecaster
from core.report import shift_label
from core.runs import RunStore
from tests.conftest import ROOT
from tests.helpers import figure_of, tiny_config, tiny_dataset


@pytest.fixture
def two_runs(workspace):
    store = RunStore()
    uni = tiny_dataset()
    multi = tiny_dataset(["MSFT"])
    a = train_forecaster(uni.frame, uni.describe(), tiny_config(name="uni raw"), store)
    b = train_forecaster(
        multi.frame,
        multi.describe(),
        tiny_config(
            name="multi diff attention",
            transform="diff",
            model="seq2seq_attention",
            horizon=3,
            features=["close", "MSFT_close"],
        ),
        store,
    )
    return a["run_id"], b["run_id"]


def open_page(run_ids) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/predictions.py").run()
    at.multiselect[0].set_value(list(run_ids)).run()
    assert not at.exception, at.exception
    return at


def test_one_run_metrics_table_and_shift_slider(two_runs):
    at = open_page([two_runs[0]])
    table = at.dataframe[0].value
    assert list(table.index) == ["model", "naive (tomorrow = today)"]
    rmse0 = table.loc["model", "RMSE"]
    assert table.loc["model", "RMSE"] == pytest.approx(RunStore().get(two_runs[0]).metrics["rmse"])
    at.slider(key="shift_k").set_value(-1).run()
    assert not at.exception
    rmse1 = at.dataframe[0].value.loc[shift_label(-1), "RMSE"]
    assert rmse1 != pytest.approx(rmse0)
    chart = figure_of(next(c for c in at.get("plotly_chart") if "pred_chart" in c.proto.id))
    assert [t["name"] for t in chart["data"]] == [
        "actual",
        "naive (tomorrow = today)",
        "prediction shifted -1 d",
    ]
    assert any("k = " in i.value for i in at.info)  # the lag sentence


def test_seq2seq_attention_run_shows_horizon_and_heatmap(two_runs):
    at = open_page([two_runs[1]])
    keys = [c.proto.id for c in at.get("plotly_chart")]
    for key in ("horizon_chart", "horizon_errors", "attention", "change_scatter", "future_chart"):
        assert any(key in k for k in keys), key
    assert any("predicts changes" in c.value for c in at.caption)


def test_two_runs_compare_side_by_side(two_runs):
    at = open_page(list(two_runs))
    table = at.dataframe[0].value
    assert list(table.index) == ["naive (tomorrow = today)", "uni raw", "multi diff attention"]
    assert {"RMSE", "MASE", "best lag", "change corr"} <= set(table.columns)
    compare = figure_of(next(c for c in at.get("plotly_chart") if "compare_chart" in c.proto.id))
    assert [t["name"] for t in compare["data"]] == [
        "actual",
        "naive (tomorrow = today)",
        "uni raw",
        "multi diff attention",
    ]


def test_no_runs_says_what_to_do(workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/predictions.py").run()
    assert not at.exception
    assert "Train page" in at.info[0].value


def test_the_verdict_leads_and_the_lag_views_agree(two_runs):
    from core.evaluation import VERDICTS

    run = RunStore().get(two_runs[0])
    at = open_page([two_runs[0]])
    first_box = (at.success or at.info or at.error)[0].value
    assert run.record.verdict in VERDICTS and first_box.lower().startswith(run.record.verdict)
    assert f"best lag {run.metrics['best_lag']}" in first_box
    lag = figure_of(next(c for c in at.get("plotly_chart") if "lag_chart" in c.proto.id))
    star = next(t for t in lag["data"] if t["name"] == "best lag")
    assert star["x"] == [run.metrics["best_lag"]]
    sentence = next(i.value for i in at.info if "k = " in i.value)
    assert f"k = {run.metrics['best_lag']}" in sentence or "no day in particular" in sentence
    at.slider(key="shift_k").set_value(1).run()
    shifted = at.dataframe[0].value.index[0]
    assert "look-ahead" in shifted and "+1" in shifted
    assert any("not a forecast" in w.value for w in at.warning)
