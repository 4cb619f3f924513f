"""Volatility, where a forecast can honestly beat naive: a daily estimate from OHLC, the
baselines every volatility forecast is judged against (naive, EWMA, HAR, GARCH), and the
loss that judges them (QLIKE, Patton 2011: robust to the noise of the estimate).

Everything is a daily *variance* (squared volatility, in log-return units). A forecast made
at the close of day t is for the mean variance of days t+1 ... t+H. Every baseline is fitted
on the training days only and then filtered forward, one day at a time, through the test
days without seeing any of them before its forecast.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.forecasting.evaluation import diebold_mariano_losses

ESTIMATORS = {"garman_klass": "Garman-Klass", "parkinson": "Parkinson"}
EWMA_LAMBDA = 0.94  # RiskMetrics
HAR_LAGS = (1, 5, 22)  # Corsi (2009): yesterday, the last week, the last month
_GK = 2 * math.log(2) - 1


def daily_variance(frame: pd.DataFrame, estimator: str = "garman_klass") -> tuple[pd.Series, dict]:
    """Each day's variance from its open, high, low and close (Garman-Klass, or Parkinson
    from the range alone); without high and low, the squared close-to-close log return.

    A day whose range is zero (high = low: tiny split-adjusted prices rounded away) or whose
    estimate is not positive is not a day of zero volatility: it takes its squared
    close-to-close return when that is positive, else the day before's estimate. `info`
    says which estimator was used and how many days were replaced."""
    close = frame["close"].astype(float)
    log_return = np.log(close).diff()
    ohlc = {"open", "high", "low"} <= set(frame.columns)
    if not ohlc:
        variance = log_return**2
        used = "squared returns"
    else:
        high, low = frame["high"].astype(float), frame["low"].astype(float)
        span = np.log(high / low) ** 2
        if estimator == "parkinson":
            variance = span / (4 * math.log(2))
        else:
            body = np.log(close / frame["open"].astype(float)) ** 2
            variance = 0.5 * span - _GK * body
        used = ESTIMATORS[estimator]
    bad = ~(variance > 0) | ~np.isfinite(variance)
    if not ohlc:
        bad.iloc[0] = False  # no return on day one: not a day replaced
    fixed = variance.where(~bad, log_return**2)
    fixed = fixed.where(fixed > 0).ffill().bfill()
    info = {"estimator": used, "replaced_days": int(bad.sum()), "days": int(len(variance))}
    return fixed.rename("variance"), info


def target(variance: pd.Series, horizon: int = 1) -> pd.Series:
    """At day t: the mean variance of days t+1 ... t+H (NaN where the days run out)."""
    ahead = variance[::-1].rolling(horizon).mean()[::-1]
    return ahead.shift(-1).rename("target")


def qlike(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """QLIKE per day: a/f - log(a/f) - 1 (0 for a perfect forecast; robust to a noisy a)."""
    ratio = np.asarray(actual, float) / np.asarray(forecast, float)
    return ratio - np.log(ratio) - 1


def naive(variance: pd.Series) -> pd.Series:
    """Tomorrow's variance = today's estimate."""
    return variance.rename("naive")


def ewma(variance: pd.Series, lam: float = EWMA_LAMBDA) -> pd.Series:
    """RiskMetrics' exponentially weighted average, on the daily estimate."""
    return variance.ewm(alpha=1 - lam, adjust=False).mean().rename("ewma")


def har_features(variance: pd.Series) -> pd.DataFrame:
    return pd.concat({f"mean_{lag}": variance.rolling(lag).mean() for lag in HAR_LAGS}, axis=1)


def har(variance: pd.Series, train_end: int, horizon: int = 1) -> pd.Series:
    """HAR by ordinary least squares (statsmodels) on logs: the log of the mean variance
    ahead on the logs of the last day's, week's and month's means, fitted on the days whose
    target lies in the training part (the first `train_end` days), then applied to every
    day; back from logs with Duan's smearing factor (the mean of exp(residual) on the
    training days), since exp of a mean log is below the mean. On logs because fat tails
    pull a fit on levels about: on simulated GARCH-t(4) with a burst, HAR on levels beat
    naive in 91 % of series, on logs in 100 % (tests/test_volatility.py)."""
    import statsmodels.api as sm

    x = sm.add_constant(np.log(har_features(variance)))
    y = np.log(target(variance, horizon)).rename("target")
    fit_rows = x.index[: max(train_end - horizon, 0)]
    sample = pd.concat([x.loc[fit_rows], y.loc[fit_rows]], axis=1).dropna()
    model = sm.OLS(sample["target"], sample.drop(columns="target")).fit()
    smearing = float(np.mean(np.exp(model.resid)))
    return (np.exp(x @ model.params) * smearing).rename("har")


def garch(frame: pd.DataFrame, variance: pd.Series, train_end: int, horizon: int = 1) -> pd.Series:
    """GARCH(1,1) on close-to-close returns, fitted by the `arch` package on the training
    part; then its recursion runs forward with those parameters from the fit's first
    variance (arch's backcast, of training days), so the forecast at day t uses returns up
    to t only. Scaled to the daily estimate by their ratio over the training part (the
    estimate may leave out the overnight move)."""
    from arch import arch_model

    returns = 100 * np.log(frame["close"].astype(float)).diff().fillna(0.0).to_numpy()
    fit = arch_model(returns[:train_end], mean="Constant", vol="GARCH", p=1, q=1).fit(disp="off")
    mu, omega = fit.params["mu"], fit.params["omega"]
    alpha, beta = fit.params["alpha[1]"], fit.params["beta[1]"]
    sigma2 = np.empty(len(returns) + 1)
    sigma2[0] = float(np.asarray(fit.conditional_volatility)[0]) ** 2
    for t, eps in enumerate(returns - mu):
        sigma2[t + 1] = omega + alpha * eps**2 + beta * sigma2[t]
    nxt = sigma2[1:]  # made at day t's close, for day t+1
    persistence, long_run = alpha + beta, omega / max(1 - alpha - beta, 1e-6)
    steps = [long_run + persistence**k * (nxt - long_run) for k in range(horizon)]
    forecast = pd.Series(np.mean(steps, axis=0) / 1e4, index=variance.index)
    scale = float(variance.iloc[:train_end].mean() / forecast.iloc[:train_end].mean())
    return (forecast * scale).rename("garch")


def skill(actual: np.ndarray, forecast: np.ndarray, reference: np.ndarray) -> dict:
    """A forecast against a reference on the same days: mean QLIKE of each, their ratio,
    and the Diebold-Mariano test on the QLIKE differences (stat < 0: the forecast is
    better)."""
    a, b = qlike(actual, forecast), qlike(actual, reference)
    dm = diebold_mariano_losses(a - b)
    return {
        "qlike": float(a.mean()),
        "rel_qlike": float(a.mean() / b.mean()),
        "dm_stat": dm["stat"],
        "dm_pvalue": dm["pvalue"],
    }


def beats(result: dict, alpha: float = 0.05) -> bool:
    """The verdict's "beats" on QLIKE: lower, and the DM test says it is not chance."""
    return result["rel_qlike"] < 1 and result["dm_stat"] < 0 and result["dm_pvalue"] < alpha


# ------------------------------------------------------------------ ground truth


def simulate_garch_ohlc(
    days: int,
    rng: np.random.Generator,
    steps: int = 78,
    constant: bool = False,
    shocks: str = "gaussian",
    burst: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Daily OHLC built from an intraday path (`steps` moves a day, opening at the day
    before's close) whose daily variance follows GARCH(1,1) (omega 2e-6, alpha 0.08, beta
    0.9) or stays constant; with the true variance of each day. A day's return is the sum of
    its moves, its shock Gaussian or Student-t(4) (`shocks="t4"`: fat tails; the moves are
    a Brownian bridge plus the day's shock spread evenly). `burst`: the variance is 16 times
    larger (moves 4 times) over the middle fifth of the days."""
    omega, alpha, beta = 2e-6, 0.08, 0.9
    noise = rng.standard_normal((days, steps))
    if shocks == "t4":
        day_shock = rng.standard_t(4, days) / math.sqrt(2.0)  # unit variance
        bridge = noise - noise.mean(axis=1, keepdims=True)
        unit = bridge / math.sqrt(steps) + day_shock[:, None] / steps
    else:
        unit = noise / math.sqrt(steps)
        day_shock = unit.sum(axis=1)
    boost = np.ones(days)
    if burst:
        boost[int(0.4 * days) : int(0.6 * days)] = 16.0
    variance = np.empty(days)
    v = omega / (1 - alpha - beta)
    for t in range(days):
        variance[t] = v * boost[t]  # the burst scales the moves, not the recursion
        r = math.sqrt(v) * day_shock[t]
        v = v if constant else omega + alpha * r**2 + beta * v
    moves = unit * np.sqrt(variance[:, None])
    path = np.cumsum(moves, axis=1)
    start = np.concatenate([[0.0], np.cumsum(path[:, -1])[:-1]])
    log_open = np.log(100.0) + start
    log_path = log_open[:, None] + path
    frame = pd.DataFrame(
        {
            "open": np.exp(log_open),
            "high": np.exp(np.maximum(log_path.max(axis=1), log_open)),
            "low": np.exp(np.minimum(log_path.min(axis=1), log_open)),
            "close": np.exp(log_path[:, -1]),
        },
        index=pd.bdate_range("2000-01-03", periods=days),
    )
    return frame, variance
