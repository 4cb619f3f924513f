"""Relationships between a target series and another, before training on both: which one
leads (the cross-correlogram of daily log returns, Granger causality both ways), how
levels mislead (the correlation of prices beside that of returns), and the spread between
two (its beta, the Engle-Granger cointegration test, the half-life of mean reversion).

Every figure is fitted on the training part only; the lead is measured again on the test
part, out of sample. One sign everywhere: k > 0 means the other series moves k days
before the target.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from core.data.summary import one_blas_thread

MAX_LAG = 10  # the cross-correlogram's k = -MAX_LAG..MAX_LAG
GRANGER_MAX_LAG = 5  # lags tried for Granger causality, chosen by AIC
SIGNIFICANCE = 0.05
PERFECT = 0.999  # |corr| of returns at some lag from which two series are one


def log_returns(prices: pd.Series) -> pd.Series:
    return np.log(prices.astype(float)).diff().dropna()


def cross_correlogram(target: pd.Series, other: pd.Series, lags: int = MAX_LAG) -> pd.Series:
    """corr(other_{t-k}, target_t) of daily log returns for k = -lags..lags, on the days
    both have (k > 0: the other series moves k days before the target)."""
    a, b = log_returns(target), log_returns(other)
    joined = pd.concat([a, b], axis=1, join="inner").to_numpy()
    x, y = joined[:, 1], joined[:, 0]
    out = {}
    for k in range(-lags, lags + 1):
        if k >= 0:
            xs, ys = x[: len(x) - k], y[k:]
        else:
            xs, ys = x[-k:], y[: len(y) + k]
        out[k] = float(np.corrcoef(xs, ys)[0, 1]) if len(xs) > 2 else float("nan")
    return pd.Series(out, name="corr").rename_axis("k")


def band(n: int, tests: int = 1) -> float:
    """The |corr| a white-noise pair exceeds with probability 5 % in any of `tests` lags
    (Bonferroni): 1.96 / sqrt(n) for one lag."""
    z = -special.ndtri(SIGNIFICANCE / (2 * tests))
    return float(z / np.sqrt(n))


def corr_pvalue(r: float, n: int) -> float:
    """Two-sided p-value of a correlation r over n pairs (Pearson's t with n - 2 degrees of
    freedom); NaN when r is."""
    if not np.isfinite(r) or n < 4:
        return float("nan")
    t = r * np.sqrt((n - 2) / max(1.0 - r * r, 1e-300))
    return float(2 * special.stdtr(n - 2, -abs(t)))


def lead_on_test(r_train: float, r_test: float, n_test: int) -> str:
    """The training days' lead re-measured on the test days, against the test days' own
    band (one lag, chosen before the test days were seen): "held" (the same sign, beyond the
    band), "reversed" (the other sign, beyond it) or "faded" (within it); "" without test
    days."""
    if not np.isfinite(r_test) or n_test < 4:
        return ""
    if abs(r_test) <= band(n_test):
        return "faded"
    return "held" if np.sign(r_test) == np.sign(r_train) else "reversed"


def lead(correlogram: pd.Series, n: int) -> int:
    """The lead in days: the k != 0 with the largest |corr| if it clears the band corrected
    for the 2 * MAX_LAG lags looked at (k > 0: the other series leads; k < 0: the target
    does), else 0 (no lead)."""
    others = correlogram.drop(0).dropna()
    if others.empty:
        return 0
    k = int(others.abs().idxmax())
    return k if abs(others[k]) > band(n, len(others)) else 0


def granger_pvalues(target: pd.Series, other: pd.Series) -> dict:
    """Granger causality of daily log returns both ways, in a VAR whose lag order (1 to
    GRANGER_MAX_LAG) is chosen by AIC: p_to_target (other -> target), p_from_target."""
    from statsmodels.tsa.api import VAR

    data = pd.concat([log_returns(target), log_returns(other)], axis=1, join="inner")
    data.columns = ["target", "other"]
    model = VAR(data.to_numpy())
    order = model.select_order(GRANGER_MAX_LAG).aic
    fitted = model.fit(max(int(order), 1))
    return {
        "lags": max(int(order), 1),
        "p_to_target": float(fitted.test_causality(0, [1], kind="f").pvalue),
        "p_from_target": float(fitted.test_causality(1, [0], kind="f").pvalue),
    }


@dataclass(frozen=True)
class Spread:
    beta: float  # log A = alpha + beta * log B, least squares on the training part
    alpha: float
    coint_p: float  # Engle-Granger, training part
    half_life: float  # days; inf when the spread does not revert

    def series(self, a: pd.Series, b: pd.Series) -> pd.Series:
        """spread = log A - beta * log B (alpha left out: the z-score removes the mean)."""
        return np.log(a.astype(float)) - self.beta * np.log(b.astype(float))


def half_life(spread: pd.Series) -> float:
    """Days for a deviation to halve under an AR(1) with a constant fitted to the spread:
    ln 0.5 / ln phi; infinite when phi >= 1 (no reversion)."""
    s = spread.to_numpy(float)
    x = np.column_stack([np.ones(len(s) - 1), s[:-1]])
    phi = float(np.linalg.lstsq(x, s[1:], rcond=None)[0][1])
    return float(np.log(0.5) / np.log(phi)) if 0 < phi < 1 else float("inf")


def fit_spread(a: pd.Series, b: pd.Series) -> Spread:
    """The spread of A on B from the rows given (the training part), with the Engle-Granger
    test and the half-life of its mean reversion."""
    from statsmodels.tsa.stattools import coint

    la, lb = np.log(a.astype(float)), np.log(b.astype(float))
    x = np.column_stack([np.ones(len(lb)), lb.to_numpy()])
    alpha, beta = (float(v) for v in np.linalg.lstsq(x, la.to_numpy(), rcond=None)[0])
    with warnings.catch_warnings():  # nearly collinear legs: statsmodels' rank warnings
        warnings.simplefilter("ignore")
        p = float(coint(la.to_numpy(), lb.to_numpy())[1])
    return Spread(beta, alpha, p, half_life(la - beta * lb))


def error_correction(target: pd.Series, other: pd.Series, lags: int) -> dict:
    """Which series the spread pulls back: a VECM of the two log prices (cointegration rank
    1, the constant inside the relation; statsmodels), each series' loading on the lagged
    deviation and its p-value. A loading that is significant means past levels predict that
    series' returns, a channel a Granger test on returns alone does not see."""
    from statsmodels.tsa.vector_ar.vecm import VECM

    data = np.log(pd.concat([target, other], axis=1, join="inner").astype(float)).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = VECM(data, k_ar_diff=max(lags - 1, 0), coint_rank=1, deterministic="ci").fit()
    alpha, p = fit.alpha.ravel(), fit.pvalues_alpha.ravel()
    return {
        "alpha_target": float(alpha[0]),
        "p_target": float(p[0]),
        "alpha_other": float(alpha[1]),
        "p_other": float(p[1]),
    }


def zscore(spread: pd.Series, train_end) -> pd.Series:
    """The spread standardized by its training part's mean and standard deviation."""
    train = spread.loc[:train_end]
    return (spread - train.mean()) / train.std()


def relate(target: pd.Series, other: pd.Series, train_end, test_start) -> dict:
    """Every figure of one pair: the lead and its correlations on the training part and on
    the test part, Granger both ways, level against return correlation, the spread. Only
    rows up to `train_end` (a date) enter the training figures; the test figures start on
    the day before `test_start` (its first return is test_start's)."""
    train_t, train_o = target.loc[:train_end], other.loc[:train_end]
    before = target.index[max(target.index.get_loc(pd.Timestamp(test_start)) - 1, 0)]
    test_t, test_o = target.loc[before:], other.loc[before:]
    gram = cross_correlogram(train_t, train_o)
    n = len(log_returns(train_t))
    k = lead(gram, n)
    test_gram = cross_correlogram(test_t, test_o) if len(test_t) > MAX_LAG + 3 else None
    nan = float("nan")
    no_ec = dict.fromkeys(("alpha_target", "p_target", "alpha_other", "p_other"), nan)
    # A perfect relationship (the same series, a multiple of it, or one shifted by days) is
    # an answer, not something to test: the VAR and the cointegration regression of two
    # series that are one would be singular.
    perfect = bool(np.nanmax(np.abs(gram.to_numpy())) >= PERFECT)
    if perfect:
        k = int(gram.abs().idxmax())  # the lag at which they are one, 0 included
        granger = {"p_to_target": nan, "p_from_target": nan, "lags": 0}
        la, lb = np.log(train_t.astype(float)), np.log(train_o.astype(float))
        beta = float(np.polyfit(lb.to_numpy(), la.to_numpy(), 1)[0]) if np.ptp(lb) else nan
        spread, ec = Spread(beta, nan, nan, nan), no_ec
    else:
        with one_blas_thread():  # statsmodels' many small regressions (core/data/summary.py)
            granger = granger_pvalues(train_t, train_o)
            spread = fit_spread(train_t, train_o)
            ec = (
                error_correction(train_t, train_o, granger["lags"])
                if spread.coint_p < SIGNIFICANCE
                else no_ec
            )
    n_test = len(log_returns(test_t)) - abs(k)  # the pairs at lag k on the test days
    r_test = float(test_gram[k]) if test_gram is not None else float("nan")
    return {
        "perfect": perfect,
        "lead_days": k,
        "corr_at_lead": float(gram[k]),
        "corr_same_day": float(gram[0]),
        "test_corr_at_lead": r_test,
        "test_days": n_test,
        "test_band": band(n_test) if n_test > 0 else float("nan"),
        "test_pvalue": corr_pvalue(r_test, n_test),
        "lead_on_test": lead_on_test(float(gram[k]), r_test, n_test) if k else "",
        "band": band(n),
        "band_corrected": band(n, 2 * MAX_LAG),
        "granger_p_to_target": granger["p_to_target"],
        "granger_p_from_target": granger["p_from_target"],
        "granger_lags": granger["lags"],
        "level_corr": float(np.corrcoef(train_t, train_o)[0, 1]),
        "return_corr": float(gram[0]),
        "coint_p": spread.coint_p,
        "beta": spread.beta,
        "half_life_days": spread.half_life,
        "ec_alpha_target": ec["alpha_target"],
        "ec_p_target": ec["p_target"],
        "ec_alpha_other": ec["alpha_other"],
        "ec_p_other": ec["p_other"],
        "train_days": n,
        "correlogram": gram,
        "test_correlogram": test_gram,
        "spread": spread,
    }
