"""A kind of run is declared once (core/kinds/): every reader takes what it knows of a kind
from its declaration, and a kind declared beside the others is found by each of them."""

from dataclasses import replace

import pytest

from core.kinds import CONFIGS, FORECAST_KINDS, KINDS, kinds_in_panel
from core.pipeline.kinds import RUN_KINDS
from core.store.damage import needs
from tests.helpers import TINY_SAMPLE_FLAGS, run_cli


def test_every_declared_kind_has_its_steps_and_every_reader_reads_the_table():
    assert set(KINDS) == set(RUN_KINDS) == set(CONFIGS)
    assert FORECAST_KINDS == ("forecast", "spread")
    assert kinds_in_panel("forecast") == ("forecast", "spread")  # a spread job on the Train page
    assert kinds_in_panel("anomaly") == ("anomaly",)
    assert needs("anomaly") == [("scores.parquet", "predictions.parquet"), ("dataset.parquet",)]
    assert needs("spread") == [("predictions.parquet",), ("dataset.parquet",)]


def test_a_kind_added_to_the_table_is_listed_panelled_and_checked(monkeypatch, workspace):
    """A new kind's declaration is all the store, the runs table and the job panel need."""
    import core.kinds
    import core.store.damage

    fake = replace(KINDS["spread"], key="volatility", files=("vol.parquet", "dataset.parquet"))
    monkeypatch.setitem(core.kinds.KINDS, "volatility", fake)
    assert "volatility" in core.kinds.kinds_in_panel("forecast")
    assert core.store.damage.needs("volatility") == [("vol.parquet",), ("dataset.parquet",)]
    folder = workspace / "runs" / "r1"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text('{"kind": "volatility"}')
    assert core.store.damage.run_damage(folder) == "vol.parquet is missing"
    (folder / "run.json").write_text('{"kind": "weather"}')
    assert "not one LagLens knows" in core.store.damage.run_damage(folder)


@pytest.mark.integration
def test_the_train_flag_of_a_kind_refuses_a_spread_with_itself():
    out = run_cli("train", *TINY_SAMPLE_FLAGS, "--spread-with", "aapl")
    assert out.returncode == 2 and "A spread of AAPL with itself is 0" in out.stderr
    assert "Traceback" not in out.stderr
