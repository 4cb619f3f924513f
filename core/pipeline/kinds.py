"""The run-kind steps table: for every kind of run (declared in core/kinds/), the steps that
make one, an entry of core/pipeline/runner.py's RunKind. The worker runs a job through its
kind's entry; a kind's steps are one module here (forecast.py, spread.py, anomaly.py) and
one entry below."""

from __future__ import annotations

import pandas as pd

from core.config import Settings
from core.pipeline.anomaly import ANOMALY
from core.pipeline.forecast import FORECAST
from core.pipeline.runner import RunKind
from core.pipeline.spread import SPREAD

RUN_KINDS: dict[str, RunKind] = {kind.key: kind for kind in (FORECAST, SPREAD, ANOMALY)}


def kind_of(config: Settings) -> RunKind:
    """The entry whose settings class `config` is an instance of."""
    return next(k for k in RUN_KINDS.values() if type(config) is k.config_class)


def validate_config(config: Settings, frame: pd.DataFrame) -> list[str]:
    """Every check a run makes before training, without training (no TensorFlow). Raises
    UserError for impossible settings; returns the warnings the run would carry."""
    kind = kind_of(config)
    frame = kind.frame_for(frame, config) if kind.frame_for else frame
    return kind.prepare(frame, config, None).warnings
