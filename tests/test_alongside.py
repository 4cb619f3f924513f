"""A run's baselines are fitted in a process of their own while its model trains
(core/pipeline/alongside.py): the same answers, its errors raised here, nothing left behind."""

import operator
import os

import numpy as np
import pandas as pd
import pytest

from core.forecasting.evaluation import run_positions
from core.pipeline.alongside import Alongside
from core.pipeline.forecast import origin_dates, train_forecaster
from core.pipeline.prepare import prepare_forecast
from core.pipeline.scoring import baseline_forecasts, score_run
from core.store.runs import RunStore
from tests.helpers import pid_after, tiny_config, tiny_dataset


def test_the_call_runs_in_another_process_and_answers_here():
    here = Alongside(pid_after, 0)
    assert here.process is not None
    assert here.result() not in (None, os.getpid())
    assert here.process is None and here.input is None  # its input file is gone


def test_baselines_alongside_equal_the_ones_fitted_in_place():
    ds = tiny_dataset()
    data = prepare_forecast(ds.frame, tiny_config(model="seq2seq", horizon=3))
    args = (data.levels, data.split_dates()["train"][1], origin_dates(data), data.horizon)
    paths, fitted = Alongside(baseline_forecasts, *args).result()
    in_place_paths, in_place_fitted = baseline_forecasts(*args)
    assert fitted == in_place_fitted and fitted["arima"].startswith("ARIMA(")
    for name, p in in_place_paths.items():
        np.testing.assert_array_equal(paths[name], p)
        assert p.shape == (len(origin_dates(data)), 3)


def test_an_error_in_the_process_is_raised_here_with_its_message():
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Alongside(operator.truediv, 1, 0).result()


def test_a_process_that_dies_is_replaced_by_the_work_done_in_place():
    work = Alongside(pid_after, 1)
    work.process.kill()
    assert work.result() == os.getpid()


def test_leaving_unasked_stops_the_process_and_removes_its_input():
    with Alongside(pid_after, 60) as work:
        process, path = work.process, work.input
        assert process.poll() is None  # still sleeping
    assert process.returncode is not None  # killed and reaped, not left running
    assert not path.exists()


def test_a_process_with_one_core_works_in_place(monkeypatch):
    monkeypatch.setenv("LAGLENS_ONE_THREAD", "1")  # a sweep's trial
    work = Alongside(pid_after, 0)
    assert work.process is None
    assert work.result() == os.getpid()


def test_a_runs_saved_scores_equal_scoring_it_again_in_place(workspace):
    ds = tiny_dataset()
    config = tiny_config(model="seq2seq", horizon=2)
    run = RunStore().get(train_forecaster(ds.frame, ds.describe(), config, RunStore())["run_id"])
    paths = run.paths.with_baselines({})
    levels = prepare_forecast(run.dataset, run.config).levels
    assert len(run_positions(levels, paths)["test"]) == len(run.predictions)
    again = score_run(levels, run.predictions, paths, run.train_dates, config.interval_level)
    np.testing.assert_equal(again.baselines, run.record.baselines)  # NaN equals NaN here
    assert again.metrics == pytest.approx(run.metrics)
    for name in again.baselines:
        np.testing.assert_array_equal(again.paths.baselines[name], run.paths.baselines[name])


def test_a_process_fits_the_baselines_of_one_data_and_split_once(monkeypatch):
    """A sweep's Ray worker runs many trials on the same data and split."""
    import core.pipeline.scoring

    fits = []
    real = core.pipeline.scoring.forecast_baselines
    monkeypatch.setattr(core.pipeline.scoring, "_FITTED", {})
    monkeypatch.setattr(
        core.pipeline.scoring, "forecast_baselines", lambda *a: fits.append(a[1]) or real(*a)
    )
    data = prepare_forecast(tiny_dataset().frame, tiny_config())
    train_end, origins = data.split_dates()["train"][1], origin_dates(data)
    first = baseline_forecasts(data.levels, train_end, origins, 1)
    first[0]["naive"][:] = 0.0  # a caller's change does not reach the remembered answer
    second = baseline_forecasts(data.levels, train_end, origins, 1)
    assert len(fits) == 1 and second[1] == first[1]
    assert np.all(second[0]["naive"][:, 0] == data.levels.loc[pd.to_datetime(origins)].values)
    earlier = data.levels.index[data.levels.index.get_loc(pd.Timestamp(train_end)) - 20]
    baseline_forecasts(data.levels, earlier.strftime("%Y-%m-%d"), origins, 1)  # another split
    baseline_forecasts(data.levels, train_end, origins, 2)  # another horizon
    assert len(fits) == 3
