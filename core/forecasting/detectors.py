"""What the LSTM autoencoder is measured against: a rolling z-score of the same daily values
over the same window, and how the two detectors' lists of unusual days compare.

The z-score detector standardizes each day's log return (and log change of volume) by the
mean and standard deviation of the W days before it, and scores the day by the mean of the
squared z-scores, the same shape as the autoencoder's mean squared reconstruction error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import fmt

VALUE_COLUMNS = ("log_return", "volume_change")
LEARNED_BELOW = 0.9  # reconstruction ratio under which the autoencoder learned structure
AGREE_FROM = 0.7  # share of top days in common from which the two lists agree


def zscore_scores(values: pd.DataFrame, window: int) -> pd.Series:
    """Each day's mean squared z-score over the value columns, each z against the W days
    before it (the day itself is not in its own mean); the first W days have none (NaN)."""
    columns = [c for c in VALUE_COLUMNS if c in values.columns]
    before = values[columns].shift(1).rolling(window, min_periods=window)
    z = (values[columns] - before.mean()) / before.std().replace(0, np.nan)
    return (z**2).mean(axis=1, skipna=False).rename("zscore")


def compare_detectors(scores: pd.DataFrame, threshold: float, window: int) -> dict:
    """The autoencoder's flagged days (score above the threshold) against the z-score's top
    days of the same number N, over the days both scored.

    Returns n (N), common, only_ae and only_z (dates), chance (the overlap two random lists
    of N would have on average), and zscore (the z-score per day)."""
    z = zscore_scores(scores, window)
    both = scores.index[z.notna()]
    ae = scores.loc[both, "score"]
    flagged = ae[ae > threshold].sort_values(ascending=False)
    n = len(flagged)
    top_z = z.loc[both].sort_values(ascending=False).head(n)
    common = flagged.index.intersection(top_z.index)
    return {
        "n": n,
        "common": common,
        "only_ae": flagged.index.difference(top_z.index),
        "only_z": top_z.index.difference(flagged.index),
        "chance": n * n / max(len(both), 1),
        "zscore": z,
    }


def detector_sentence(comparison: dict, ratio: float | None) -> str:
    """What the autoencoder adds on this series, in one sentence (with the numbers)."""
    n, common = comparison["n"], len(comparison["common"])
    if n == 0:
        return "The autoencoder flags no day at this threshold, so there is nothing to compare."
    share = common / n
    overlap = (
        f"{common} of its {fmt.count(n, 'flagged day')} are also among the rolling z-score's top "
        f"{n} ({fmt.pct(share, 0)}; two random lists would share about "
        f"{fmt.num(comparison['chance'], 1)})"
    )
    if ratio is None or not np.isfinite(ratio):
        return (
            f"{overlap[0].upper() + overlap[1:]}. How much it learned was not measured: the run "
            "predates the check; train it again to see."
        )
    learned = ratio < LEARNED_BELOW
    how = f"its reconstruction error is {fmt.num(ratio, 2)} x that of predicting each window's mean"
    only = len(comparison["only_ae"])
    if not learned and share >= AGREE_FROM:
        return f"It adds nothing on this series: {how}, so it learned little, and {overlap}."
    if not learned:
        return (
            f"It learned little ({how}), so the {only} day(s) only it flags reflect how it "
            f"fails to reconstruct noise rather than structure; {overlap}. Trust the z-score."
        )
    if share >= AGREE_FROM:
        return f"It adds little on this series: {how}, but {overlap}."
    return (
        f"It learned some structure ({how}) and flags {only} day(s) the z-score does not "
        f"(marked on the chart): those are what it adds. {overlap[0].upper() + overlap[1:]}."
    )
