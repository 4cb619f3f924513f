"""What a model family declares, once: `Architecture`, an entry of the architecture table
(core/models/__init__.py). Each family's module (recurrent.py, seq2seq.py, tcn.py) holds its
settings dataclass, its horizon rule, its checks, its Keras builder, its layer shapes and
its display name, and exports its entries.

Every forecaster maps inputs (batch, window, inputs) to targets (batch, horizon). Keras is
imported inside the builders only, so the Streamlit process reads the table without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import UserError
from core.spec import Settings, setting

# (layer name, output shape with None for the batch, what it passes on): one row a layer.
ShapeRow = tuple[str, tuple, str]


def units_setting(default: int = 64) -> Any:
    return setting(
        default, "Units per layer", "Units in each recurrent layer.", lo=1, hi=1024, step=4
    )


def dropout_setting() -> Any:
    return setting(0.0, "Dropout", lo=0.0, hi=0.9, step=0.05)


@dataclass(frozen=True)
class Architecture:
    """One forecaster a user can pick. `config` below is a TrainConfig whose
    `model_settings` is an instance of `settings`."""

    key: str  # saved in run.json
    label: str
    settings: type[Settings]  # its own knobs, beyond the settings every run has
    build: Callable[[Any, int], tuple[Any, Any]]  # (config, n_inputs) -> (model, attention)
    shapes: Callable[[Any, int], list[ShapeRow]]  # the same model's layers, without Keras
    multi_step: bool = False  # forecasts a whole horizon from one origin
    default_horizon: int = 1  # the horizon the Train page and a sweep start with
    check: Callable[[Any], None] | None = None  # raises UserError for settings it cannot take
    describe: Callable[[Any], str] | None = None  # its name in a run's name, when not `label`

    def horizon_problem(self, horizon: int) -> str:
        """The horizon rule: what is wrong with `horizon` for this architecture, or ''."""
        if not self.multi_step and horizon != 1:
            return (
                f"The {self.label} predicts one day ahead: set the horizon to 1, or pick a "
                "model that forecasts a horizon (seq2seq, TCN)."
            )
        return ""

    def validate(self, config) -> None:
        if problem := self.horizon_problem(config.horizon):
            raise UserError(problem)
        if self.check is not None:
            self.check(config)

    def name_of(self, config) -> str:
        return self.describe(config) if self.describe else self.label
