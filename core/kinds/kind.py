"""What a kind of run declares, once: `Kind`, an entry of the kind table
(core/kinds/__init__.py).

A kind's module (forecast.py, spread.py, anomaly.py) holds everything the layers above need
to know of it without its training code: its settings class, the files a saved run of it
holds, whether it is a forecast of a series (listed on Predictions, scored, reported), the
job panel it shows in, its model's label, the sentence a finished job ends with, and the
flag that asks `core.cli train` for it. Its steps (prepare, build, finish) are
core/pipeline/<kind>.py, the entry of core/pipeline/kinds.py; the store and the pages read
runs of it without importing Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.spec import Settings


@dataclass(frozen=True)
class TrainFlag:
    """A `core.cli train` flag that makes the run one of this kind (--spread-with T)."""

    flag: str
    metavar: str
    help: str
    # (the flag's value, the target's ticker or "") -> tickers the dataset must hold; raises
    # UserError for a value it cannot take
    tickers: Callable[[str, str], list[str]]
    # (the flags' TrainConfig, the value, the flags given: None where not) -> its config
    config: Callable[[Any, str, dict], Settings]
    # The flags given (None where not given) -> UserError for one this kind cannot take.
    check_given: Callable[[dict], None] | None = None

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


@dataclass(frozen=True)
class Kind:
    key: str  # saved as run.json's kind
    config_class: type[Settings]
    files: tuple[str, ...]  # what a saved run of it must hold (its current names)
    forecast: bool  # a forecast of a series: listed on Predictions, scored, in reports
    panel: str  # the job panel it shows in: a page's panel lists the kinds with its key
    model_label: Callable[[Any], str]  # its model, as the runs table says it
    result: Callable[[dict], str]  # after "Saved run ...": what its job's summary says
    train_flag: TrainFlag | None = None
