"""The relationships view of a dataset: the target and each extra series, on the run's
split (core/forecasting/relationships.py does the maths), with a sentence per pair."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.config import TrainConfig
from core.data.frames import extra_column
from core.errors import UserError
from core.forecasting.relationships import relate
from core.forecasting.windows import split_bounds
from core.present.sentences import lead_sentence, spread_sentence

TARGET = "close"
PAIR_KEYS = (
    "lead_days",
    "corr_at_lead",
    "corr_same_day",
    "test_corr_at_lead",
    "test_days",
    "test_band",
    "test_pvalue",
    "lead_on_test",
    "train_days",
    "granger_p_to_target",
    "granger_p_from_target",
    "level_corr",
    "return_corr",
    "coint_p",
    "beta",
    "half_life_days",
    "ec_alpha_target",
    "ec_p_target",
    "ec_alpha_other",
    "ec_p_other",
)


def split_dates(frame: pd.DataFrame, config: TrainConfig | None = None) -> tuple:
    """(last training day, first test day) of the split runs of this dataset use."""
    config = config or TrainConfig()
    (_, train_end), (_, test_start), _ = split_bounds(
        len(frame), config.train_frac, config.val_frac
    )
    return frame.index[train_end - 1], frame.index[test_start]


def rebased(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every series rebased to 100 on the first day."""
    prices = frame[columns].astype(float)
    return 100 * prices / prices.iloc[0]


def relationships(
    frame: pd.DataFrame, target: str, extras: list[str], split: TrainConfig | None = None
) -> list[dict]:
    """One entry per extra series (in the order given): its figures, its correlograms, its
    spread and the two sentences, on the split of `split` (the runs' default split when
    None). Refuses what cannot be related, with the reason."""
    if not extras:
        raise UserError(
            "Relationships need at least one extra series: add a ticker (Data page: extra "
            "tickers; CLI: --with)."
        )
    if target in extras:
        raise UserError(f"{target} is the target itself: a spread of a series with itself is 0.")
    if len(frame) < 60:
        raise UserError(
            f"The series share {len(frame)} trading days; relating them needs at least 60."
        )
    names = {target: TARGET, **{t: extra_column(t) for t in extras}}
    for name, column in names.items():
        prices = frame[column].astype(float)
        if (prices <= 0).any() or np.ptp(np.log(prices)) == 0:
            raise UserError(
                f"{name}'s price is constant or not positive over these dates, so it has no "
                "returns to relate."
            )
    train_end, test_start = split_dates(frame, split)
    out = []
    for ticker in extras:
        pair = relate(frame[TARGET], frame[extra_column(ticker)], train_end, test_start)
        pair["series"] = ticker
        pair["sentence"] = lead_sentence(target, ticker, pair)
        pair["spread_sentence"] = spread_sentence(target, ticker, pair)
        out.append(pair)
    return out


def relate_summary(target: str, pairs: list[dict]) -> dict:
    """The CLI's JSON: one entry per extra series, in the order given."""
    return {
        "target": target,
        "pairs": [
            {"series": p["series"], **{k: p[k] for k in PAIR_KEYS}, "sentence": p["sentence"]}
            | {"spread_sentence": p["spread_sentence"]}
            for p in pairs
        ],
    }
