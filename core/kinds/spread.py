"""The spread kind: a forecaster whose target is the spread of two series, log A - beta x
log B (steps: core/pipeline/spread.py). A forecast like any other, shown with them."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from core.config import SCALING_LABELS, SPREAD_INPUT, TrainConfig, takes_model_knobs
from core.data import extra_column
from core.errors import UserError
from core.kinds.forecast import KIND as FORECAST
from core.kinds.kind import TrainFlag
from core.spec import setting

__all__ = ["KIND", "SPREAD_INPUT", "SPREAD_TRANSFORMS", "SpreadConfig"]

# A spread can be negative: it has no log return.
SPREAD_TRANSFORMS = {"raw": "raw spread", "diff": "first difference"}


@takes_model_knobs
@dataclass
class SpreadConfig(TrainConfig):
    """A forecaster whose target is the spread of two series, log A - beta x log B, with
    beta fitted on the training part (core/pipeline/spread.py). Scored like every run, on
    the spread's own scale, with a mean-reverting AR(1) among its baselines."""

    target: str = setting("spread", "Target column", "The spread, computed from the two legs.")
    features: list[str] = setting(
        lambda: ["spread"],
        "Input columns",
        "The spread first; more columns make the model multivariate.",
    )
    long: str = setting("close", "Spread of", "Series A of log A - beta x log B.")
    partner: str = setting("", "Spread with", "Series B of log A - beta x log B.")
    transform: str = setting(
        "diff",
        "Transform",
        "A spread of two prices that are not cointegrated wanders out of the range it had on "
        "the training days, and a model of its level lands well above naive there; its daily "
        "change does not wander (docs/measurements.md, bench_spread_defaults). Raw suits a "
        "spread that reverts to a level.",
        choices=SPREAD_TRANSFORMS,
    )
    scaling: str = setting(
        "standard",
        "Scaling",
        "A spread reverts to a level: a scaler fit on the training part keeps that level, "
        "window-relative scaling would lose it.",
        choices=SCALING_LABELS,
    )

    @classmethod
    def of(cls, config: TrainConfig, partner: str, **changes) -> SpreadConfig:
        """A price run's settings as the spread of its target with `partner` (a column): the
        target becomes the spread's first leg, its other inputs stay (less the partner)."""
        settings = {f.name: getattr(config, f.name) for f in fields(TrainConfig)}
        inputs = [c for c in config.inputs if c not in (config.target, partner)]
        settings.update(
            target="spread", features=["spread", *inputs], long=config.target, partner=partner
        )
        return cls(**settings | changes)

    def validate(self, columns) -> None:
        legs = [c for c in (self.long, self.partner) if c not in columns]
        if not self.partner:
            raise UserError("Choose the series to take the spread with (Spread with).")
        if legs:
            raise UserError(f"The dataset has no column(s) {', '.join(legs)} for the spread.")
        if self.long == self.partner:
            raise UserError("A spread of a series with itself is 0: pick another series.")
        if self.scaling == "window":
            raise UserError(
                "Window-relative scaling divides by the last value, and a spread can be 0: "
                "use standard or min-max scaling."
            )
        if self.transform == "log_return":
            raise UserError("A spread can be negative, so it has no log return: use raw or diff.")
        super().validate([*columns, "spread"])


def _partner(value: str, target: str) -> list[str]:
    partner = value.strip().upper()
    if partner == target.strip().upper():
        raise UserError(f"A spread of {partner} with itself is 0: pick another --spread-with.")
    return [partner]


def _refuse_window(given: dict) -> None:
    if given.get("scaling") == "window":
        raise UserError(
            "--spread-with takes --scaling standard or minmax: a spread can be 0, and "
            "window-relative scaling divides by the window's last value."
        )


def _from_train(config: TrainConfig, partner: str, given: dict) -> SpreadConfig:
    """`train --spread-with T`: the flags' settings as the spread of the target with T;
    a scaling or transform not given is the spread's default, not a price run's."""
    defaults = {
        name: SpreadConfig.spec(name).default
        for name in ("scaling", "transform")
        if given.get(name) is None
    }
    return SpreadConfig.of(config, extra_column(partner.strip().upper()), **defaults)


KIND = replace(  # a forecast in every other respect, shown with the price forecasts
    FORECAST,
    key="spread",
    config_class=SpreadConfig,
    train_flag=TrainFlag(
        "--spread-with",
        "TICKER",
        "forecast the spread log(target) - beta x log(TICKER) instead (beta fitted on the "
        "training part; standard scaling; raw or diff)",
        tickers=_partner,
        config=_from_train,
        check_given=_refuse_window,
    ),
)
