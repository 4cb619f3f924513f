"""What a run computes besides its tables, typed: a forecaster's paths from every origin,
and an autoencoder's errors per window. Saved as arrays.npz (no pickles), read back as
these types; a part a run saved by an older version lacks is None."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

BASELINE_PREFIX = "baseline_"  # arrays.npz keys of the baselines' paths


@dataclass(frozen=True)
class ForecastPaths:
    """A forecaster's H-step paths (prices) from each origin, with the actual paths beside
    them. Origins are the last known day before each target, as "YYYY-MM-DD"."""

    origin_dates: np.ndarray  # test origins
    forecast_paths: np.ndarray  # (origins, H)
    actual_paths: np.ndarray  # (origins, H)
    # The validation forecasts: the prediction interval's first residuals.
    val_origin_dates: np.ndarray | None = None
    val_forecast_paths: np.ndarray | None = None
    val_actual_paths: np.ndarray | None = None
    attention: np.ndarray | None = None  # (origins, H, window): attention models
    # A seed set's members' own paths (seeds, origins, H); forecast_paths is their mean.
    seed_paths: np.ndarray | None = None
    # Each window day's and input's share of the predicted move (window, inputs): what it
    # depends on (core/models/attribution.py).
    attribution: np.ndarray | None = None
    future: np.ndarray | None = None  # the forecast beyond the last date (H,)
    future_dates: np.ndarray | None = None
    baselines: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (origins, H)

    @property
    def horizon(self) -> int:
        return int(np.shape(self.actual_paths)[1])

    @property
    def has_validation(self) -> bool:
        """Validation paths were kept (every run since prediction intervals)."""
        return self.val_forecast_paths is not None

    def with_baselines(self, paths: dict[str, np.ndarray]) -> ForecastPaths:
        return replace(self, baselines=dict(paths))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays.npz entries (the names runs have always used)."""
        arrays = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "baselines" and getattr(self, f.name) is not None
        }
        return arrays | {f"{BASELINE_PREFIX}{k}": v for k, v in self.baselines.items()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ForecastPaths:
        names = {f.name for f in fields(cls)} - {"baselines"}
        return cls(
            **{k: v for k, v in arrays.items() if k in names},
            baselines={
                k[len(BASELINE_PREFIX) :]: v
                for k, v in arrays.items()
                if k.startswith(BASELINE_PREFIX)
            },
        )


@dataclass(frozen=True)
class WindowErrors:
    """An autoencoder's reconstruction error per window, beside the trivial reconstruction's
    (every day replaced by its window's mean), by the window's last day."""

    window_error: np.ndarray
    window_mean_error: np.ndarray
    window_end_dates: np.ndarray

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> WindowErrors | None:
        if not {f.name for f in fields(cls)} <= set(arrays):
            return None  # saved before the reconstruction ratio was measured
        return cls(**{f.name: arrays[f.name] for f in fields(cls)})
