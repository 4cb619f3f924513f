"""What the LSTM autoencoder is measured against: a rolling z-score of the same daily values
over the same window, and how the two detectors' lists of unusual days compare.

The z-score detector standardizes each day's log return (and log change of volume) by the
mean and standard deviation of the W days before it, and scores the day by the mean of the
squared z-scores, the same shape as the autoencoder's mean squared reconstruction error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def day_scores(window_errors: np.ndarray) -> np.ndarray:
    """(windows, W, features) squared errors -> one score per day, averaged over the windows
    containing the day and over features."""
    n_windows, window, _ = window_errors.shape
    per_position = window_errors.mean(axis=2)
    total = np.zeros(n_windows + window - 1)
    count = np.zeros_like(total)
    for j in range(window):
        total[j : j + n_windows] += per_position[:, j]
        count[j : j + n_windows] += 1
    return total / count


def threshold_for(scores: pd.DataFrame, percentile: float) -> float:
    """The percentile of the training days' scores."""
    return float(np.percentile(scores.loc[scores["split"] == "train", "score"], percentile))


def window_mean_errors(windows: np.ndarray) -> np.ndarray:
    """The trivial reconstruction's error per window: every day of a window replaced by the
    window's own mean (per feature), squared error averaged over days and features."""
    return ((windows - windows.mean(axis=1, keepdims=True)) ** 2).mean(axis=(1, 2))


def recon_ratio(errors: np.ndarray, mean_error: np.ndarray) -> float:
    """The autoencoder's mean reconstruction error over the trivial one's: below 1 means it
    learned structure beyond each window's mean; about 1, that it learned nothing."""
    if len(mean_error) == 0:
        return float("nan")
    return float(np.mean(errors) / max(float(np.mean(mean_error)), 1e-12))
