"""The Train page through AppTest: start a tiny run, poll it to the end, bad settings refused."""

import time

from streamlit.testing.v1 import AppTest

from core.present.labels import RUNS_TABLE_NOTE
from core.store.runs import RunStore
from tests.conftest import ROOT
from tests.helpers import figure_of, tiny_config, tiny_dataset, values
from ui.jobs import LOSS_NOTE


def open_train_page(dataset=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = dataset or tiny_dataset()
    at.run()
    at.switch_page("views/train.py").run()
    assert not at.exception
    return at


def set_number(at, label, value):
    next(w for w in at.number_input if w.label == label).set_value(value)


def test_train_tiny_run_while_the_page_polls(workspace):
    at = open_train_page()
    set_number(at, "Window (lookback days)", 10)
    set_number(at, "Units per layer", 8)
    set_number(at, "Epochs", 3)
    set_number(at, "Seeds (trained together)", 2)  # two networks, one run, one curve
    at.run()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error
    polls, deadline = 0, time.monotonic() + 180
    while time.monotonic() < deadline:
        at.run()  # what the fragment's run_every does: a rerun while the job trains
        polls += 1
        assert not at.exception
        if any("Saved run" in s.value for s in at.success):
            break
        time.sleep(0.3)
    assert polls >= 3
    assert any("Saved run" in s.value for s in at.success), [m.value for m in at.markdown]
    loss = figure_of(next(c for c in at.get("plotly_chart") if "live_loss" in c.proto.id))
    traces = {trace["name"]: trace for trace in loss["data"]}
    assert list(traces)[:3] == ["train (batches)", "train", "validation"]  # the seeds' mean
    members = ["seed 1 (train)", "seed 2 (train)", "seed 1 (val.)", "seed 2 (val.)"]
    assert list(traces)[3:] == members  # and each seed's own curve, live
    assert len(values(traces["seed 2 (val.)"]["y"])) == 3
    assert values(traces["train"]["x"]) == [1, 2, 3] and len(values(traces["validation"]["y"])) == 3
    batch_x = values(traces["train (batches)"]["x"])
    assert batch_x == sorted(batch_x) and 0 < batch_x[0] and batch_x[-1] == 3.0
    runs = RunStore().runs()
    assert (
        len(runs) == 1 and runs[0].meta["epochs_run"] == 3 and runs[0].meta["status"] == "finished"
    )
    assert runs[0].meta["n_seeds"] == 2 and runs[0].config.n_seeds == 2
    table = at.dataframe[-1].value
    assert table.loc[0, "status"] == "finished" and table.loc[0, "inputs"] == "univariate"
    assert table.loc[0, "seeds"] == f"{runs[0].record.seeds_agreeing} of 2 agree"
    captions = [c.value for c in at.caption]
    assert LOSS_NOTE in captions  # why validation can sit under training
    assert RUNS_TABLE_NOTE in captions  # MASE beside rel. MAE, explained where both show

    # A later start that is refused: its error, and the old result no longer says "Saved run"
    # as if it were this start's.
    set_number(at, "Window (lookback days)", 365)
    at.run()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert any("too few for a window of 365" in e.value for e in at.error)
    assert not any("Saved run" in s.value for s in at.success)
    assert any(c.value.startswith("Nothing new started. Earlier: Saved run") for c in at.caption)


def test_bad_configuration_shows_an_error_and_starts_nothing(workspace):
    at = open_train_page()
    set_number(at, "Window (lookback days)", 365)
    at.run()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    assert any("too few for a window of 365" in e.value for e in at.error)
    assert RunStore().runs() == []


def test_multivariate_switch_offers_the_other_columns(workspace):
    at = open_train_page(tiny_dataset(["MSFT"]))
    next(t for t in at.toggle if t.label.startswith("Multivariate")).set_value(True).run()
    extra = next(m for m in at.multiselect if m.label == "Extra input columns")
    assert set(extra.value) == {"open", "high", "low", "volume", "MSFT_close"}


def test_the_form_keeps_its_settings_when_the_user_leaves_the_page(workspace):
    at = open_train_page(tiny_dataset(["MSFT"]))
    set_number(at, "Epochs", 3)
    at.run()
    set_number(at, "Epochs", 7)  # changed twice: the last value counts
    next(t for t in at.toggle if t.label.startswith("Multivariate")).set_value(True)
    at.selectbox(key="TrainConfig.model").set_value("gru")
    at.run()
    extra = next(m for m in at.multiselect if m.label == "Extra input columns")
    extra.set_value(["volume", "MSFT_close"]).run()
    assert not at.exception
    at.switch_page("views/data.py").run()
    at.switch_page("views/train.py").run()
    assert not at.exception
    assert next(w for w in at.number_input if w.label == "Epochs").value == 7
    assert next(t for t in at.toggle if t.label.startswith("Multivariate")).value is True
    assert at.selectbox(key="TrainConfig.model").value == "gru"
    extra = next(m for m in at.multiselect if m.label == "Extra input columns")
    assert extra.value == ["volume", "MSFT_close"]  # the columns picked, not all of them again


def test_the_compare_and_spread_toggles_are_kept_and_independent(workspace):
    at = open_train_page(tiny_dataset(["MSFT"]))
    toggle = lambda start: next(t for t in at.toggle if t.label.startswith(start))  # noqa: E731
    toggle("Multivariate").set_value(True).run()
    toggle("Compare univariate").set_value(True).run()
    toggle("Forecast a spread").set_value(True).run()  # the spread leaves compare on
    assert not at.exception
    assert toggle("Compare univariate").value is True
    assert any(b.label.startswith("Train the set") for b in at.button)
    at.switch_page("views/data.py").run()
    at.switch_page("views/train.py").run()
    assert toggle("Compare univariate").value is True and toggle("Forecast a spread").value


def test_the_train_page_says_where_extra_series_come_from(workspace):
    from core.data import load_dataset

    alone = open_train_page(load_dataset("sample", "AAPL"))
    said = [c.value for c in alone.caption if "Data page" in c.value]
    assert said == [
        "AAPL alone is loaded: a multivariate model can add its own open, high, low and "
        "volume. Other series (tickers, or CSV files) are added on the Data page, under "
        "Extra tickers."
    ]
    paired = open_train_page(tiny_dataset(["MSFT"]))
    assert any("and MSFT (added on the Data page)" in c.value for c in paired.caption)


def test_the_dataset_line_writes_its_days_as_the_data_page_does(workspace):
    from core.data import load_dataset

    at = open_train_page(load_dataset("sample", "AAPL"))
    assert any("3,270 trading days" in c.value for c in at.caption)


def test_run_names_say_the_horizon_and_the_attention():
    from core.present.labels import default_run_name

    config = tiny_config(model="seq2seq_attention", attention="bahdanau", horizon=5, n_seeds=3)
    assert default_run_name(config, {"ticker": "AAPL"}) == (
        "AAPL seq2seq + Bahdanau attention, raw price, univariate, window 10, horizon 5, 3 seeds"
    )


def test_a_job_queued_behind_ones_own_is_marked_yours_and_followed(workspace):
    from ui import manager

    at = open_train_page()
    set_number(at, "Window (lookback days)", 10)
    set_number(at, "Units per layer", 8)
    set_number(at, "Epochs", 40)
    at.run()
    next(b for b in at.button if b.label == "Start training").click().run()
    set_number(at, "Epochs", 2)
    at.run()
    next(b for b in at.button if b.label == "Start training").click().run()
    at.run()
    try:
        picker = at.selectbox(key="job_picker_forecast")
        second = next(j.id for j in manager().jobs() if j.total_epochs == 2)
        assert set(at.session_state["my_jobs"]) == {j.id for j in manager().jobs()}
        assert picker.value == second  # the panel follows the job just started
        assert all(option.endswith(" · yours") for option in picker.options)
        queue = next(c.value for c in at.caption if c.value.startswith("Queue"))
        assert queue.count("yours") == 2
    finally:
        for job in manager().jobs():
            manager().stop(job.id)


def test_an_extra_tickers_input_is_named_by_its_ticker():
    from core.present.labels import input_label

    assert input_label("^GSPC_close") == "^GSPC" and input_label("volume") == "volume"
    assert input_label("spread_with_MSFT_close").startswith("spread with MSFT")


def test_the_page_shows_the_models_layers_and_shapes_before_training(workspace):
    at = open_train_page(tiny_dataset(["MSFT"]))
    next(t for t in at.toggle if t.label.startswith("Multivariate")).set_value(True).run()
    set_number(at, "Seeds (trained together)", 3)
    at.run()
    table = next(d.value for d in at.dataframe if "output shape" in d.value.columns)
    inputs = len(at.multiselect[0].value) + 1  # the target and the extra columns
    assert table["output shape"].iloc[0] == f"(batch, 60, {inputs})"
    assert table["output shape"].iloc[-2] == "(batch, 1)"
    assert table["layer"].iloc[-1] == "x 3 seeds"
    assert "only the last state goes on" in " ".join(table["what goes on"])
