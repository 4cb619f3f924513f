"""Classical baselines, scored like models: naive, drift, ARIMA, ETS and always-up.

One interface: `fit(train)` once on the training part's target values, then
`forecast(levels, origins, horizon)` gives an (origins x H) array of price paths. Row i is
the forecast made at position origins[i] (the last known day) for the H days after it, and
reads levels[: origins[i] + 1] only: what a forecaster knows at that origin. `levels`
starts with the training values the baseline was fit on.

ARIMA and ETS are statsmodels state-space models, fitted once on the training part; the
Kalman filter then carries their state through the later data one observation at a time
with the same parameters (`apply`, refit=False), so the cost stays bounded.

Prices are modelled on the scale they move in: drift, ARIMA and ETS are fitted on the log
price and their forecasts mapped back (exp), so a model fitted on 2010's prices is not
weighed by 2020's dollar moves. A series that can be 0 or negative (a spread) stays in its
own units (`log=False`). A new baseline is a new class in BASELINES; nothing else changes.
"""

from __future__ import annotations

import warnings

import numpy as np

from core.data.summary import adf_test, kpss_test, one_blas_thread


class Baseline:
    """A forecaster that needs no training beyond `fit`."""

    name = ""
    label = ""
    # Scored on its direction alone (its price errors are naive's by design).
    direction_only = False
    log = False  # fitted on the log of the series (set by forecast_baselines)

    def fit(self, train: np.ndarray) -> Baseline:
        return self

    def forecast(self, levels: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> str:
        """What was fitted, in a few words (the chosen order, the smoothing kind)."""
        return self.label


class Naive(Baseline):
    name = "naive"
    label = "naive (tomorrow = today)"

    def forecast(self, levels, origins, horizon):
        return np.repeat(np.asarray(levels, float)[origins][:, None], horizon, axis=1)


class Drift(Naive):
    """Naive plus the training part's mean daily change, once per step."""

    name = "drift"
    label = "drift (naive + mean training change)"
    slope = 0.0

    def fit(self, train):
        train = _scaled(train, self.log)
        self.slope = float((train[-1] - train[0]) / max(len(train) - 1, 1))
        return self

    def forecast(self, levels, origins, horizon):
        steps = self.slope * np.arange(1, horizon + 1)
        naive = super().forecast(levels, origins, horizon)
        return naive * np.exp(steps) if self.log else naive + steps

    def describe(self):
        return self.label + (" on log price" if self.log else "")


class AlwaysUp(Naive):
    """A directional baseline: naive's price, nudged up by a hair, so it predicts "up" every
    day. Its directional accuracy is the test period's share of up days, the number a model
    that always says "up" reaches without any skill. Its price errors are naive's, so it is
    scored on direction only (no verdict)."""

    name = "always_up"
    label = "always up (direction only)"
    direction_only = True
    NUDGE = 1e-6

    def forecast(self, levels, origins, horizon):
        return super().forecast(levels, origins, horizon) * (
            1 + self.NUDGE * np.arange(1, horizon + 1)
        )


class StateSpaceBaseline(Baseline):
    """A statsmodels state-space model: the candidate with the lowest AIC on the training
    part, then filtered forward over later data with its parameters fixed."""

    result = None
    fit_options: dict = {}

    def candidates(self, train: np.ndarray) -> list:
        raise NotImplementedError

    def fit(self, train):
        # Built first: statsmodels' first import resets some warning filters to "always".
        models = self.candidates(_scaled(train, self.log))
        fits = []
        with warnings.catch_warnings():  # convergence chatter of the candidate fits
            warnings.simplefilter("ignore")
            for model in models:
                try:
                    fits.append(model.fit(**self.fit_options))
                except (np.linalg.LinAlgError, ValueError):
                    continue  # a degenerate candidate (a straight-line stretch, say)
        if not fits:  # none fits: the baseline is naive, and says so
            self.result = None
            return self
        self.result = min(fits, key=lambda r: r.aic if np.isfinite(r.aic) else np.inf)
        return self

    def forecast(self, levels, origins, horizon):
        """One filter pass over the data with the fitted parameters (apply, refit=False),
        then each origin's predicted state a_{o+1|o} carried H steps with the model's own
        system matrices: what `forecast(H)` does at that origin, for every origin at once."""
        origins = np.asarray(origins)
        if self.result is None:
            return Naive().forecast(levels, origins, horizon)
        applied = self.result.apply(_scaled(levels, self.log)[: origins[-1] + 1], refit=False)
        ssm = applied.filter_results
        design, transition = ssm.design[:, :, 0], ssm.transition[:, :, 0]
        obs_intercept, state_intercept = ssm.obs_intercept[0, 0], ssm.state_intercept[:, :1]
        state = ssm.predicted_state[:, origins + 1]
        paths = np.empty((len(origins), horizon))
        for step in range(horizon):
            paths[:, step] = (design @ state)[0] + obs_intercept
            state = transition @ state + state_intercept
        return np.exp(paths) if self.log else paths

    def scale_words(self) -> str:
        return " on log price" if self.log else ""


def differences(train: np.ndarray) -> int:
    """d for ARIMA: 0 only when both tests call the training part stationary (ADF rejects a
    unit root and KPSS does not reject stationarity, each at 5 %), else 1. ADF alone picks
    d = 0 on about 5 % of pure random walks, whose ARIMA then reverts to a mean that is not
    there."""
    with warnings.catch_warnings():  # a near-deterministic series: rank-deficient chatter
        warnings.simplefilter("ignore")
        adf, kpss = adf_test(train)["pvalue"], kpss_test(train)["pvalue"]
    return 0 if adf < 0.05 and kpss > 0.05 else 1


class Arima(StateSpaceBaseline):
    """ARIMA(p, d, q), p and q in 0..2 by AIC; d from the ADF and KPSS tests together (d = 0:
    with a constant)."""

    name = "arima"
    label = "ARIMA"
    MAX_ORDER = 2

    def candidates(self, train):
        from statsmodels.tsa.arima.model import ARIMA

        d = differences(train)
        trend = "c" if d == 0 else "n"
        orders = [(p, d, q) for p in range(self.MAX_ORDER + 1) for q in range(self.MAX_ORDER + 1)]
        return [ARIMA(train, order=order, trend=trend) for order in orders]

    def describe(self):
        if self.result is None:
            return "ARIMA: no candidate could be fitted (naive used)"
        return f"ARIMA{self.result.model.order}{self.scale_words()}"


class Ets(StateSpaceBaseline):
    """Exponential smoothing (additive errors): simple, or with a damped trend, by AIC."""

    name = "ets"
    label = "exponential smoothing (ETS)"
    fit_options = {"disp": False}

    def candidates(self, train):
        from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

        return [
            ExponentialSmoothing(train),
            ExponentialSmoothing(train, trend=True, damped_trend=True),
        ]

    def describe(self):
        if self.result is None:
            return "ETS: no candidate could be fitted (naive used)"
        kind = "ETS(A,Ad,N)" if self.result.model.trend else "ETS(A,N,N)"
        return kind + self.scale_words()


class Ar1(StateSpaceBaseline):
    """AR(1) with a constant: the series reverts to its mean (a spread's textbook model)."""

    name = "ar1"
    label = "AR(1), mean-reverting"

    def candidates(self, train):
        from statsmodels.tsa.arima.model import ARIMA

        return [ARIMA(train, order=(1, 0, 0), trend="c")]

    def describe(self):
        if self.result is None:
            return "AR(1): could not be fitted (naive used)"
        phi = float(self.result.params[1])
        return f"AR(1), phi = {phi:.3f}"


# The baselines of a price forecast; a spread run adds the mean-reverting AR(1).
BASELINES: dict[str, type[Baseline]] = {
    cls.name: cls for cls in (Naive, Drift, Arima, Ets, AlwaysUp)
}
SPREAD_BASELINES: dict[str, type[Baseline]] = {**BASELINES, Ar1.name: Ar1}
ALL_BASELINES = SPREAD_BASELINES  # every baseline any run may have, by name
BASELINE_LABELS = {name: cls.label for name, cls in ALL_BASELINES.items()}
_OWN_UNITS = ("naive", "always_up", "ar1")  # the same on either scale, or a spread's own model


def _scaled(values, log: bool) -> np.ndarray:
    values = np.asarray(values, float)
    return np.log(values) if log else values


def forecast_baselines(
    levels: np.ndarray,
    train_end: int,
    origins: np.ndarray,
    horizon: int,
    names: tuple[str, ...] = tuple(BASELINES),
    log: bool | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every baseline named fit on levels[:train_end] and forecast from `origins`:
    ({name: paths (origins x H)}, {name: what was fitted, with its scale}). `log`: fit on the
    log of the series (None: whenever every value is positive)."""
    values = np.asarray(levels, float)
    if log is None:
        log = bool(np.all(values[: origins[-1] + 1] > 0))
    paths, fitted = {}, {}
    with one_blas_thread():  # beside a training model: many small SVDs, no thread fights
        for name in names:
            paths[name], fitted[name] = _fit_and_forecast(
                name, values, train_end, origins, horizon, log
            )
    return paths, fitted


def _fit_and_forecast(name, values, train_end, origins, horizon, log) -> tuple[np.ndarray, str]:
    """One baseline fit on values[:train_end], its paths from `origins`, what was fitted."""
    baseline = ALL_BASELINES[name]()
    baseline.log = log and name not in _OWN_UNITS
    baseline.fit(values[:train_end])
    return baseline.forecast(values, origins, horizon), baseline.describe()
