"""The Predictions page through AppTest, on runs trained for real (tiny)."""

import pytest
from streamlit.testing.v1 import AppTest

from core import fmt
from core.pipeline.forecast import train_forecaster
from core.present.pagedata import shift_label
from core.store.runs import RunStore
from tests.conftest import ROOT
from tests.helpers import figure_of, tiny_config, tiny_dataset, values


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
    at.switch_page("views/predictions.py").run()
    at.multiselect[0].set_value(list(run_ids)).run()
    assert not at.exception, at.exception
    return at


BASELINE_ROWS = {
    "naive (tomorrow = today)",
    "drift (naive + mean training change)",
    "ARIMA",
    "exponential smoothing (ETS)",
    "always up (direction only)",
}


def pred_chart(at) -> dict:
    return figure_of(next(c for c in at.get("plotly_chart") if "pred_chart" in c.proto.id))


def number(text: str) -> float:
    return float(text.replace(",", "").replace(" %", ""))


def test_one_run_metrics_table_and_shift_slider(two_runs):
    at = open_page([two_runs[0]])
    table = at.dataframe[0].value
    assert set(table.index) == {"model"} | BASELINE_ROWS
    rel = [number(v) for v in table["rel. MAE"] if v != "–"]
    assert rel == sorted(rel)  # ranked, best first
    assert table.loc["naive (tomorrow = today)", "rel. MAE"] == "1.000"
    run = RunStore().get(two_runs[0])
    assert table.loc["model", "RMSE"] == f"{run.metrics['rmse']:,.3f}"
    assert number(table.loc["ARIMA", "rel. MAE"]) == pytest.approx(
        run.record.baselines["arima"]["rel_mae"], abs=5e-4
    )
    assert table.loc["model", "verdict"] == run.record.verdict
    assert table.loc["model", "directional accuracy"].endswith(" %")  # a share reads as percent
    assert "None" not in table.to_numpy() and "nan" not in table.to_numpy()
    assert table.loc["always up (direction only)", "DM p-value"] == "–"  # not "nan"
    rmse0 = table.loc["model", "RMSE"]
    at.slider(key="shift_k").set_value(-1).run()
    assert not at.exception
    rmse1 = at.dataframe[0].value.loc[shift_label(-1), "RMSE"]
    assert rmse1 != rmse0
    traces = pred_chart(at)["data"]
    assert [t["name"] for t in traces] == [  # the actual price last: drawn on top
        "naive (tomorrow = today)",
        "drift (naive + mean training change)",
        "ARIMA",
        "exponential smoothing (ETS)",
        "prediction shifted -1 d",
        "actual",
    ]
    assert traces[-1]["legendrank"] < traces[0]["legendrank"]  # ... and first in the legend
    hidden = [t["name"] for t in traces if t.get("visible") == "legendonly"]
    assert hidden == [
        "drift (naive + mean training change)",
        "ARIMA",
        "exponential smoothing (ETS)",
    ]
    assert any("k = " in i.value for i in at.info)  # the lag sentence


def test_the_band_surrounds_the_prediction_and_follows_the_level(two_runs):
    at = open_page([two_runs[0]])
    traces = pred_chart(at)["data"]
    upper, lower = (values(t["y"]) for t in traces[:2])
    assert traces[1]["name"] == "90 % interval" and traces[1]["fill"] == "tonexty"
    pred = values(next(t for t in traces if t["name"] == "prediction")["y"])
    assert all(lo <= p <= hi for lo, p, hi in zip(lower, pred, upper, strict=True))
    run = RunStore().get(two_runs[0])
    caption = next(c.value for c in at.caption if "prediction interval" in c.value)
    assert f"{100 * run.record.intervals['coverage']:.1f} %" in caption
    assert "adaptive conformal" in caption and "on the log scale" in caption
    score, naive = (fmt.num(run.record.intervals[k], 2) for k in ("score", "naive_score"))
    assert f"is {score} against {naive} for naive's own band" in caption
    returns = next(c.value for c in at.caption if c.value.startswith("On log returns"))
    assert f"{fmt.num(run.record.returns['mae'] * 1e4, 1)} bp" in returns
    assert "Illustration only" in returns
    buttons = [b.proto.label for b in at.get("download_button")]
    assert "Download the report (HTML, opens offline)" in buttons
    moves = next(i.value for i in at.info if i.value.startswith("Forecast = yesterday's price"))
    assert f"({fmt.pct(run.record.moves['ratio'])} of them)" in moves
    fitted = at.dataframe[0].value["fitted (scale)"]
    assert any(str(v).startswith("ARIMA(") and str(v).endswith("on log price") for v in fitted)
    width90 = sum(u - lo for u, lo in zip(upper, lower, strict=True))
    at.radio(key="interval_level").set_value(80).run()
    traces = pred_chart(at)["data"]
    assert traces[1]["name"] == "80 % interval"
    upper, lower = (values(t["y"]) for t in traces[:2])
    assert sum(u - lo for u, lo in zip(upper, lower, strict=True)) < width90
    at.selectbox(key="rank_by").set_value("directional_accuracy").run()
    ranked = [number(v) for v in at.dataframe[0].value["directional accuracy"] if v != "–"]
    assert ranked == sorted(ranked, reverse=True)


def test_seq2seq_attention_run_shows_horizon_and_heatmap(two_runs):
    at = open_page([two_runs[1]])
    keys = [c.proto.id for c in at.get("plotly_chart")]
    for key in (
        "horizon_chart",
        "horizon_errors",
        "attention",
        "attribution",
        "change_scatter",
        "future_chart",
    ):
        assert any(key in k for k in keys), key
    captions = " ".join(c.value for c in at.caption)
    run = RunStore().get(two_runs[1])
    assert run.record.attribution["sentence"] in captions  # what the move depends on
    assert "Attention puts" in captions and "the attribution puts" in captions
    heat = figure_of(next(c for c in at.get("plotly_chart") if "attribution" in c.proto.id))
    assert heat["data"][0]["y"] == ["close", "MSFT"]  # the inputs by name
    by_step = next(d.value for d in at.dataframe if "model MAE" in d.value.columns)
    assert list(by_step.index) == [1, 2, 3]
    assert {"model MAE", "naive MAE", "ARIMA MAE", "coverage", "band width"} <= set(by_step.columns)
    widths = [number(v) for v in by_step["band width"]]
    assert widths == sorted(widths)  # wider with h
    chart = figure_of(next(c for c in at.get("plotly_chart") if "horizon_errors" in c.proto.id))
    assert chart["layout"]["yaxis"]["title"]["text"] == "MAE"  # the table's unit
    bars = values(chart["data"][0]["y"])
    assert bars == pytest.approx([number(v) for v in by_step["model MAE"]], abs=6e-4)
    assert all(v.endswith(" %") for v in by_step["coverage"])
    assert any("predicts changes" in c.value for c in at.caption)


def test_two_runs_compare_side_by_side(two_runs):
    at = open_page(list(two_runs))
    table = at.dataframe[0].value
    assert list(table.index) == ["naive (tomorrow = today)", "uni raw", "multi diff attention"]
    assert {"RMSE", "MASE", "best lag", "change corr"} <= set(table.columns)
    compare = figure_of(next(c for c in at.get("plotly_chart") if "compare_chart" in c.proto.id))
    traces = compare["data"]
    assert [t["name"] for t in traces] == [
        "naive (tomorrow = today)",
        "uni raw",
        "multi diff attention",
        "actual",
    ]
    styles = {(t["line"]["color"], t["line"].get("dash", "solid")) for t in traces}
    assert len(styles) == 4  # no two lines look alike
    loss = figure_of(next(c for c in at.get("plotly_chart") if "compare_loss" in c.proto.id))
    assert {t["name"] for t in loss["data"] if t.get("showlegend") is not False} == {
        "train",
        "validation",
    }
    firsts = [values(t["y"])[0] for t in loss["data"] if t["name"] == "train"]
    assert firsts == [pytest.approx(1.0)] * 2  # each run's curve divided by its first epoch
    assert any("different units" in c.value for c in at.caption)


def test_no_runs_says_what_to_do(workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("views/predictions.py").run()
    assert not at.exception
    assert "Train page" in at.info[0].value


def test_the_verdict_leads_and_the_lag_views_agree(two_runs):
    from core.forecasting.evaluation import VERDICTS

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


def test_a_run_name_with_markdown_reads_as_typed_in_the_compare_view(two_runs):
    name = "my *best* [run](http://example.invalid) $5"
    RunStore().rename(two_runs[0], name)
    at = open_page(list(two_runs))
    sentence = next(b.value for b in [*at.info, *at.success, *at.error] if " against " in b.value)
    assert r"my \*best\* \[run\](http://example.invalid) \$5" in sentence
    assert "[run](" not in sentence  # no link, no emphasis, no LaTeX
    assert any(r"**my \*best\* \[run\]" in c.value for c in at.caption)


def test_the_page_says_how_many_runs_share_these_test_days(workspace):
    other = tiny_dataset(start="2011-09-01")  # other test days: not counted
    train_forecaster(other.frame, other.describe(), tiny_config(epochs=1), RunStore())
    data = tiny_dataset()
    for seed in range(3):  # the newest of these is the run the page opens on
        train_forecaster(data.frame, data.describe(), tiny_config(epochs=1, seed=seed), RunStore())
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("views/predictions.py").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "This run is one of 3 saved runs of AAPL on these test days" in captions
    assert "below 0.0167 (Bonferroni)" in captions
    assert "One seed (seed 2) decides this verdict" in captions


def test_a_seed_sets_verdict_says_how_many_seeds_agree(workspace):
    data = tiny_dataset()
    config = tiny_config(epochs=1, seed=3, n_seeds=3)
    result = train_forecaster(data.frame, data.describe(), config, RunStore())
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("views/predictions.py").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "The verdict is on the average of 3 seeds' forecasts" in captions
    assert f"{result['seeds_agreeing']} of 3 seeds agree with it on their own" in captions
    for row in result["seeds"]:
        assert f"seed {row['seed']}: relative MAE {fmt.num(row['rel_mae'])}" in captions


def test_the_change_scatter_shows_an_echo_flat_on_one_scale_with_the_diagonal():
    import numpy as np
    import pandas as pd

    from core.present.charts import change_scatter

    rng = np.random.default_rng(0)
    actual = pd.Series(rng.normal(0, 5, 300))
    echo = pd.Series(rng.normal(0, 0.15, 300))  # moves 3 % of the real ones
    fig = change_scatter(actual, echo).to_dict()
    layout = fig["layout"]
    assert list(layout["xaxis"]["range"]) == list(layout["yaxis"]["range"])
    assert layout["yaxis"]["range"][1] >= np.abs(actual).max()  # the echo is not blown up
    diagonal = next(t for t in fig["data"] if t["name"] == "predicted = actual")
    assert list(diagonal["x"]) == list(diagonal["y"])


def test_a_run_deleted_by_another_session_is_said_not_silently_replaced(workspace):
    """Issue 40, item 10: the picker jumped to the newest run without a word when another
    session deleted the one shown."""
    import shutil

    legacy = ROOT / "tests" / "fixtures" / "legacy_workspace" / "runs"
    shutil.copytree(legacy, workspace / "runs")
    store = RunStore()
    older = store.runs("forecast")[-1]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("views/predictions.py").run()
    at.multiselect[0].set_value([older.id]).run()
    assert not at.warning
    store.delete(older.id)  # another session deletes it
    at.run()
    assert not at.exception
    said = [w.value for w in at.warning if "deleted since you picked it" in w.value]
    assert said and older.id in said[0] and "showing the newest run" in said[0]
    assert at.multiselect[0].value == [store.runs("forecast")[0].id]


def test_after_a_sweep_the_page_opens_the_users_own_run_and_counts_the_trials(workspace):
    """A sweep's trials are newer, but Predictions opens the run the user trained; the runs
    table and the many-tries note say which runs are one sweep's trials."""
    from core.present.labels import runs_table

    data, store = tiny_dataset(), RunStore()
    own = train_forecaster(data.frame, data.describe(), tiny_config(), store)["run_id"]
    tags = {"sweep": "20261203-101010-abcd", "trial": "uni raw lstm"}
    for seed in (0, 1):
        config = tiny_config(seed=seed, name=f"trial seed {seed} (sweep 20261203)")
        train_forecaster(data.frame, data.describe(), config, store, tags=tags)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = data
    at.run()
    at.switch_page("views/predictions.py").run()
    assert not at.exception and at.multiselect[0].value == [own]
    told = [c.value for c in at.caption if "saved runs of" in c.value]
    assert told and "one of 3 saved runs" in told[0]
    assert "(2 of them the trials of 1 sweep: each counts as a try)" in told[0]
    table = runs_table(store.runs())
    assert list(table["part of"]) == ["sweep 20261203-101010-abcd"] * 2 + [""]
