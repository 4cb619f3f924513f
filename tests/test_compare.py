"""Univariate against multivariate: the compare maths on ground truth (many cheap
simulations for the rates), trained compare sets whose right answer is known, the CLI,
and the Train and Predictions pages."""

import html
import json
import os
import time

import numpy as np
import pytest

from core.config import CompareConfig, TrainConfig
from core.errors import UserError
from core.experiments.compare_sets import pair_set, set_runs, submit_pair_set
from core.forecasting.headtohead import head_to_head, rolling_rel_mae, skill_curve
from core.jobs.manager import JobManager
from core.pipeline.forecast import train_forecaster
from core.present.comparison import compare_runs
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
    assert "better, a difference unlikely to be chance at the 5 % level" in comparison.sentence


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
    # one run a side, its 2 seeds trained together
    assert [(r["side"], r["seed"], r["n_seeds"]) for r in result["runs"]] == [
        ("uni", 0, 2),
        ("multi", 0, 2),
    ]
    assert [len(answer["per_seed"]), answer["seeds"]] == [2, 2]
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


def test_a_set_is_queued_whole_or_not_at_all(workspace, monkeypatch):
    monkeypatch.setenv("LAGLENS_MAX_QUEUED_PER_PERSON", "100")  # the server's limit, here
    monkeypatch.setenv("LAGLENS_MAX_JOBS", "24")
    data = tiny_dataset(["MSFT"])
    manager = JobManager(max_parallel=0)  # nothing starts: only the queue is under test
    config = tiny_config(features=["close", "MSFT_close"], seed=4)
    set_id, jobs = submit_pair_set(manager, data.frame, data.describe(), config, CompareConfig())
    assert [(j.config.seed, j.config.n_seeds) for j in jobs] == [(4, 3), (4, 3)]
    assert [len(j.config.inputs) for j in jobs] == [1, 2]
    assert jobs[0].label.endswith("univariate, window 10, 3 seeds")
    assert jobs[1].label.endswith("bivariate, window 10, 3 seeds")
    assert {j.group for j in jobs} == {set_id}
    filler = tiny_config()
    while manager.room() > 1:
        manager.submit("forecast", data.frame, data.describe(), filler, "filler")
    with pytest.raises(UserError, match="queue has room for 1"):
        submit_pair_set(manager, data.frame, data.describe(), config, CompareConfig())
    assert sum(j.group == "" for j in manager.jobs()) == 21  # the refused set queued nothing
    manager.stop(jobs[0].id)  # one Stop: the whole set
    assert [manager.get(j.id).status for j in jobs] == ["cancelled", "cancelled"]
    assert set_runs(RunStore(), set_id) == []


def test_the_two_sides_train_at_once_on_a_core_each_and_stop_together(workspace):
    data = tiny_dataset(["MSFT"])
    manager = JobManager()  # one job at a time, but a set's two sides start together
    config = tiny_config(features=["close", "MSFT_close"], epochs=200, early_stopping=False)
    _, jobs = submit_pair_set(
        manager, data.frame, data.describe(), config, CompareConfig(n_seeds=2)
    )
    alone = manager.submit("forecast", data.frame, data.describe(), tiny_config(), "after the set")
    deadline = time.monotonic() + 120
    while not all(len(manager.get(j.id).history) >= 1 for j in jobs):
        assert time.monotonic() < deadline, [manager.get(j.id).status for j in jobs]
        time.sleep(0.2)
    running = [manager.get(j.id) for j in jobs]
    assert [j.status for j in running] == ["running", "running"]
    assert sorted(c for j in running for c in j.cores) == [0, 1]
    for job in running:  # each worker is pinned to its core, one thread
        pid = json.loads((manager.jobs_dir / job.id / "worker.pid").read_text())["pid"]
        assert os.sched_getaffinity(pid) == set(job.cores)
    assert manager.get(alone.id).status == "queued"  # the set is not an excuse to overbook
    row = running[0].history[0]  # the live curve of every member
    assert len(row["member_losses"]) == len(row["member_val_losses"]) == 2
    manager.stop(jobs[1].id)  # one Stop: both sides
    ended = [manager.wait(j.id, timeout=120) for j in jobs]
    assert [j.status for j in ended] == ["stopped", "stopped"]
    assert manager.wait(alone.id, timeout=120).status == "finished"


def test_both_sides_start_on_warm_workers_each_pinned_to_its_core(workspace):
    """The app's manager keeps two workers warm: both sides start at once, neither pays for
    the imports (a cold one took up to a minute on a fresh machine)."""
    manager = JobManager(warm_worker=True)
    deadline = time.monotonic() + 120
    while len(manager._standbys) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    warm = {proc.pid for proc, _ in manager._standbys}
    data = tiny_dataset(["MSFT"])
    config = tiny_config(features=["close", "MSFT_close"], epochs=3)
    _, jobs = submit_pair_set(manager, data.frame, data.describe(), config, CompareConfig(2))
    first = {}
    while len(first) < 2:
        for job in jobs:
            if job.id not in first and manager.get(job.id).history:
                first[job.id] = time.monotonic()
        assert time.monotonic() < deadline + 60
        time.sleep(0.05)
    assert abs(first[jobs[0].id] - first[jobs[1].id]) < 5  # the bound, on 2 cores
    pids = [json.loads((manager.jobs_dir / j.id / "worker.pid").read_text())["pid"] for j in jobs]
    assert set(pids) == warm
    for job, pid in zip(jobs, pids, strict=True):
        cores = []
        for thread in os.listdir(f"/proc/{pid}/task"):
            try:
                cores.append(os.sched_getaffinity(int(thread)))
            except ProcessLookupError:
                pass  # a thread that ended since it was listed
        assert cores and all(c == set(manager.get(job.id).cores) for c in cores)
    assert [manager.wait(j.id, timeout=120).status for j in jobs] == ["finished", "finished"]
    manager.close()


def test_train_page_trains_the_set_and_predictions_compares_it(workspace):
    at = tiny_train_page(tiny_dataset(["MSFT"]))
    next(t for t in at.toggle if t.label.startswith("Multivariate")).set_value(True).run()
    next(t for t in at.toggle if t.label.startswith("Compare univariate")).set_value(True).run()
    seeds = next(w for w in at.number_input if w.label == CompareConfig.spec("n_seeds").label)
    assert seeds.value == 3
    labels = [w.label for w in at.number_input]  # "Seeds per side" decides, nothing else
    assert TrainConfig.spec("n_seeds").label not in labels
    seeds.set_value(2).run()
    next(b for b in at.button if b.label == "Train the set (2 runs of 2 seeds)").click().run()
    assert not at.exception and not at.error
    from ui import manager

    deadline = time.monotonic() + 120  # the panel speaks for the set while it trains
    while not any(j.status == "running" for j in manager().jobs()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    at.run()
    assert any(m.value.startswith("**Compare set** (2 runs): ") for m in at.markdown)
    assert [b.label for b in at.button if b.label.startswith("Stop")] == ["Stop the set"]
    for job in manager().jobs():
        manager().wait(job.id, timeout=300)
    at.run()
    (done,) = [s.value for s in at.success if "Saved run" in s.value]  # one message, both runs
    assert all(f"Saved run {j.run_id} (finished" in done for j in manager().jobs())
    runs = RunStore().runs("forecast")
    assert len(runs) == 2 and len({r.record.tags["compare"] for r in runs}) == 1
    assert [r.record.n_seeds for r in runs] == [2, 2]
    at.switch_page("views/predictions.py").run()
    assert not at.exception
    assert len(at.multiselect[0].value) == 2  # the newest set, picked whole
    sentence = next(
        box.value for box in [*at.info, *at.success, *at.error] if "against univariate" in box.value
    )
    assert "2 seeds averaged" in sentence
    skill = figure_of(next(c for c in at.get("plotly_chart") if "compare_skill" in c.proto.id))
    assert [t["name"] for t in skill["data"]][0] == "naive (tomorrow = today)"
    assert len(skill["data"]) == 3  # naive and the two sides
    assert skill["layout"]["modebar"]["orientation"] == "v"  # the toolbar spares the title
    table = at.dataframe[0].value
    assert {"verdict", "rel. MAE", "DM p-value"} <= set(table.columns)
    seeds_table = next(d.value for d in at.dataframe if "MAE ratio" in d.value.columns)
    assert list(seeds_table.index) == ["seed pair 1", "seed pair 2", "seeds averaged"]
    lags = figure_of(next(c for c in at.get("plotly_chart") if "compare_lags" in c.proto.id))
    assert len(lags["data"]) == 2
    assert json.dumps(figure_of(at.get("plotly_chart")[0]))  # every figure serializes

    # The set's shared report (the page's button, and `report ID1 ID2`) holds the answer:
    # the sentence, the skill curves, the lags side by side, the close-up, the seed pairs.
    out = workspace / "googl_compare_2012.html"
    done = run_cli("report", *[r.id for r in runs], "--out", str(out), workspace=workspace)
    assert done.returncode == 0, done.stderr[-800:]
    report = out.read_text()
    assert html.escape(sentence.replace("**", "")) in report
    assert "<title>2 runs compared: multivariate (AAPL with open, high" in report
    assert " against univariate</title>" in report
    for shown in ("Skill against naive", "seed pair 2", "Prices, the last", "Loss curves"):
        assert shown in report, shown
    assert report.count("naive (tomorrow = today)") >= 2  # skill curves and close-up
