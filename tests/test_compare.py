"""Univariate against multivariate: the compare maths on ground truth (many cheap
simulations for the rates), trained compare sets whose right answer is known, the CLI,
and the Train and Predictions pages."""

import json

import numpy as np
import pytest

from core.config import CompareConfig, TrainConfig
from core.errors import UserError
from core.experiments.pairs import pair_set, set_runs, submit_pair_set
from core.forecasting.compare import head_to_head, rolling_rel_mae, skill_curve
from core.jobs.manager import JobManager
from core.pipeline.forecast import train_forecaster
from core.present.compare import compare_runs
from core.store.runs import RunStore
from tests.helpers import (
    TINY_FLAGS,
    figure_of,
    last_json,
    run_cli,
    tiny_config,
    tiny_dataset,
    tiny_train_page,
)
from tests.test_verdict import leading_indicator, price_frame, random_walk

# ---------------------------------------------------------------- the maths, on ground truth


def test_naive_against_itself_has_a_skill_curve_of_exactly_zero():
    y = random_walk(300)
    naive = np.r_[y[0], y[:-1]]
    assert np.array_equal(skill_curve(y, naive, naive), np.zeros(300))
    better = naive + 0.5 * (y - naive)  # half of every move foreseen
    curve = skill_curve(y, better, naive)
    assert np.all(np.diff(curve) >= 0) and curve[-1] > 0  # rises wherever it beats naive
    rolling = rolling_rel_mae(y, better, naive, days=20)
    assert np.isnan(rolling[:19]).all() and np.allclose(rolling[19:], 0.5)


def _simulated_sides(rng, days=250, seeds=5, noise_tried=1.0, noise_reference=1.0, shared=1.0):
    """Actual one-day paths and each seed's forecasts: both sides share the setting's error
    (sd `shared`, what the setting gets wrong) plus each seed's own error."""
    y = np.cumsum(rng.normal(0, 1, days + 1))
    actual = y[1:, None]
    base = y[:-1, None]
    tried_setting = base + rng.normal(0, shared * noise_tried, (days, 1))
    reference_setting = base + rng.normal(0, shared * noise_reference, (days, 1))
    tried = [tried_setting + rng.normal(0, 0.5, (days, 1)) for _ in range(seeds)]
    reference = [reference_setting + rng.normal(0, 0.5, (days, 1)) for _ in range(seeds)]
    return actual, tried, reference


def test_equal_settings_are_rarely_called_different():
    """300 simulations where neither side is better: the head-to-head test on the
    seed-averaged forecasts calls a difference at about its 5 % level, not more."""
    rng = np.random.default_rng(0)
    calls = [head_to_head(*_simulated_sides(rng)) for _ in range(300)]
    significant = np.mean([c["dm_pvalue"] < 0.05 for c in calls])
    tried_better = np.mean([c["dm_pvalue"] < 0.05 and c["dm_stat"] < 0 for c in calls])
    assert significant <= 0.085, significant
    assert tried_better <= 0.05, tried_better
    assert all(c["seeds"] == 5 and 0 <= c["seeds_agreeing"] <= 5 for c in calls)


def test_a_truly_better_setting_is_found():
    rng = np.random.default_rng(1)
    calls = [head_to_head(*_simulated_sides(rng, noise_tried=0.6)) for _ in range(200)]
    found = np.mean([c["dm_pvalue"] < 0.05 and c["rel_mae_ratio"] < 1 for c in calls])
    assert found >= 0.9, found
    assert np.median([c["seeds_agreeing"] for c in calls]) == 5


# ---------------------------------------------------------------- trained, right answer known


def _train_set(frame, config, n_seeds, store):
    runs = []
    for _side, member in pair_set(config, CompareConfig(n_seeds=n_seeds)):
        runs.append(train_forecaster(frame, {"ticker": "SYN"}, member, store)["run_id"])
    return [store.get(i) for i in runs]


def test_an_input_that_leads_the_target_wins_the_head_to_head(workspace):
    config = TrainConfig(
        features=["close", "LEAD_close"], window=10, units=16, epochs=12, seed=0, patience=4
    )
    runs = _train_set(leading_indicator(), config, 2, RunStore())
    comparison = compare_runs(runs)
    answer = comparison.head_to_head
    assert [s.label for s in comparison.sides] == ["bivariate (SYN with LEAD)", "univariate"]
    assert answer["better"] == "tried" and answer["dm_pvalue"] < 0.05, answer
    assert answer["rel_mae_ratio"] < 0.9 and answer["seeds_agreeing"] == 2
    uni_end = max(comparison.skill[r.id].iloc[-1] for r in comparison.sides[1].runs)
    multi_end = min(comparison.skill[r.id].iloc[-1] for r in comparison.sides[0].runs)
    assert multi_end > uni_end
    assert comparison.sentence.startswith("Bivariate (SYN with LEAD) against univariate: MAE")
    assert "better, and the test says it is not luck" in comparison.sentence


def test_a_useless_extra_input_is_not_called_better(workspace):
    rng_walk = random_walk(700, seed=3)
    frame = price_frame(random_walk(700, seed=2), NOISE_close=rng_walk)
    config = TrainConfig(features=["close", "NOISE_close"], window=10, units=8, epochs=2)
    comparison = compare_runs(_train_set(frame, config, 5, RunStore()))
    answer = comparison.head_to_head
    assert answer["seeds"] == 5 and answer["better"] != "tried", answer
    assert comparison.common_days == len(comparison.runs[0].predictions)


def test_runs_are_compared_on_their_common_days_or_not_at_all(workspace):
    store = RunStore()
    early, late = tiny_dataset(end="2012-12-31"), tiny_dataset(end="2013-06-28")
    other = tiny_dataset().frame.assign(close=lambda f: f["close"] * 1.5)
    a = train_forecaster(early.frame, early.describe(), tiny_config(), store)["run_id"]
    b = train_forecaster(late.frame, late.describe(), tiny_config(), store)["run_id"]
    c = train_forecaster(other, early.describe(), tiny_config(), store)["run_id"]
    partial = compare_runs([store.get(a), store.get(b)])
    days_a, days_b = (len(store.get(i).predictions) for i in (a, b))
    assert not partial.problem and 0 < partial.common_days < min(days_a, days_b)
    assert "common test day" in partial.sentence and partial.head_to_head["seeds"] == 1
    assert "One seed is an anecdote" in partial.sentence
    different = compare_runs([store.get(a), store.get(c)])
    assert "forecasts another series" in different.problem and different.head_to_head is None
    earlier = tiny_dataset(start="2006-01-02", end="2007-06-29")
    d = train_forecaster(earlier.frame, earlier.describe(), tiny_config(), store)["run_id"]
    apart = compare_runs([store.get(a), store.get(d)])
    assert "share no test day" in apart.problem and apart.common_days == 0


# ---------------------------------------------------------------- CLI and pages


def test_cli_compare_on_a_downloaded_csv(tmp_path):
    csv = tmp_path / "aapl_2011_2012.csv"
    tiny_dataset().frame.rename_axis("Date").rename(columns=str.title).to_csv(csv)
    out = run_cli(
        "compare", "--csv", csv, "--with", "MSFT", *TINY_FLAGS, "--n-seeds", 2, workspace=tmp_path
    )
    result = last_json(out)
    answer = result["head_to_head"]
    assert {
        "rel_mae_ratio",
        "dm_pvalue",
        "seeds",
        "seeds_agreeing",
        "common_days",
        "sentence",
    } <= set(answer)
    assert answer["seeds"] == 2 and answer["common_days"] == result["common_days"] > 0
    assert [(r["side"], r["seed"]) for r in result["runs"]] == [
        ("uni", 0),
        ("uni", 1),
        ("multi", 0),
        ("multi", 1),
    ]
    assert all(r["verdict"] and "rel_mae" in r["metrics"] for r in result["runs"])
    assert result["sides"][0].startswith("bivariate") and result["sides"][1] == "univariate"
    assert len(list((tmp_path / "cache" / "baselines").iterdir())) == 1  # fitted once
    refused = run_cli("compare", "--csv", csv, *TINY_FLAGS, workspace=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "needs extra inputs" in refused.stderr
    too_many = run_cli(
        "compare", "--csv", csv, "--with", "MSFT", "--n-seeds", 11, workspace=tmp_path
    )
    assert too_many.returncode == 2 and "between 1 and 10" in too_many.stderr


def test_a_set_is_queued_whole_or_not_at_all(workspace):
    data = tiny_dataset(["MSFT"])
    manager = JobManager(max_parallel=0)  # nothing starts: only the queue is under test
    config = tiny_config(features=["close", "MSFT_close"], seed=4)
    set_id, jobs = submit_pair_set(manager, data.frame, data.describe(), config, CompareConfig())
    assert [j.settings.seed for j in jobs] == [4, 5, 6, 4, 5, 6]
    assert [len(j.settings.inputs) for j in jobs] == [1, 1, 1, 2, 2, 2]
    assert jobs[0].label.endswith("univariate, window 10, seed 4")
    assert jobs[3].label.endswith("bivariate, window 10, seed 4")
    with pytest.raises(UserError, match="queue has room for"):
        submit_pair_set(manager, data.frame, data.describe(), config, CompareConfig(n_seeds=10))
    assert len(manager.jobs()) == 6  # the refused set queued nothing
    for job in jobs:
        manager.stop(job.id)
    assert set_runs(RunStore(), set_id) == []


def test_train_page_trains_the_set_and_predictions_compares_it(workspace):
    at = tiny_train_page(tiny_dataset(["MSFT"]))
    next(t for t in at.toggle if t.label.startswith("Multivariate")).set_value(True).run()
    next(t for t in at.toggle if t.label.startswith("Compare univariate")).set_value(True).run()
    seeds = next(w for w in at.number_input if w.label == CompareConfig.spec("n_seeds").label)
    assert seeds.value == 3
    seeds.set_value(2).run()
    next(b for b in at.button if b.label == "Train the set (4 runs)").click().run()
    assert not at.exception and not at.error
    from ui import manager

    for job in manager().jobs():
        manager().wait(job.id, timeout=300)
    runs = RunStore().runs("forecast")
    assert len(runs) == 4 and len({r.record.tags["compare"] for r in runs}) == 1
    at.switch_page("views/predictions.py").run()
    assert not at.exception
    assert len(at.multiselect[0].value) == 4  # the newest set, picked whole
    sentence = next(
        box.value for box in [*at.info, *at.success, *at.error] if "against univariate" in box.value
    )
    assert "2 seeds averaged" in sentence
    skill = figure_of(next(c for c in at.get("plotly_chart") if "compare_skill" in c.proto.id))
    assert [t["name"] for t in skill["data"]][0] == "naive (tomorrow = today)"
    assert len(skill["data"]) == 5
    table = at.dataframe[0].value
    assert {"verdict", "rel. MAE", "DM p-value"} <= set(table.columns)
    seeds_table = next(d.value for d in at.dataframe if "MAE ratio" in d.value.columns)
    assert list(seeds_table.index) == ["seed pair 1", "seed pair 2", "seeds averaged"]
    lags = figure_of(next(c for c in at.get("plotly_chart") if "compare_lags" in c.proto.id))
    assert len(lags["data"]) == 4
    assert json.dumps(figure_of(at.get("plotly_chart")[0]))  # every figure serializes
