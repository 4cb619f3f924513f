"""The runs' settings dataclasses: the one source of choices, defaults, bounds and help
text for everything a run is besides its model's own knobs (those are declared by the
model's family, core/models/, and held in `TrainConfig.model_settings`).

Each field says what it is with `setting(...)` (core/spec.py). The CLI generates a flag for
every field (core/cli.py), the pages take their widgets' labels, defaults and limits from
`spec()` (ui/__init__.py), and `check_bounds` refuses the same out-of-range values
everywhere.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from core.errors import UserError
from core.forecasting.transforms import SCALERS, TRANSFORMS
from core.models import ARCHITECTURES, model_specs
from core.spec import Settings, Spec, setting

__all__ = ["Settings", "Spec", "setting"]  # the spec's names, as the settings' readers know them

TRANSFORM_LABELS = {key: t.label for key, t in TRANSFORMS.items()}
SCALING_LABELS = {key: s.label for key, s in SCALERS.items()}
MODELS = {key: a.label for key, a in ARCHITECTURES.items()}  # the architecture table's labels
LOSSES = {"mse": "MSE", "huber": "Huber"}
# Keras 3 runs the same models on either; only the worker process imports one.
BACKENDS = {"tensorflow": "TensorFlow", "jax": "JAX"}
BACKEND_ENV = "LAGLENS_BACKEND"  # the whole app's default backend
# A process that has one core to itself (a sweep's trial, a side of a compare set trained
# beside the other): one thread for TensorFlow, XLA (JAX), the BLAS libraries and tf.data's
# own pool (core/forecasting/windows.py), set before the process imports them.
ONE_THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "LAGLENS_ONE_THREAD": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


def _chosen_backend() -> str:
    return os.environ.get(BACKEND_ENV, "").strip().lower()


# The default since it won the whole CLI job on a fresh workspace, not only the epoch
# (benchmarks/bench_speed.py; its figures are in docs/measurements.md, bench_speed).
DEFAULT_BACKEND = "jax"


def default_backend() -> str:
    """The backend runs use unless a run picks another: LAGLENS_BACKEND, else JAX (also when
    LAGLENS_BACKEND names no backend; backend_problem() says so)."""
    chosen = _chosen_backend()
    return chosen if chosen in BACKENDS else DEFAULT_BACKEND


RAY_ADDRESS_ENV = "LAGLENS_RAY_ADDRESS"  # a Ray cluster that trains every job (docs/operations.md)


def ray_address(given: str | None = None) -> str | None:
    """The Ray cluster jobs train on: `given` (the CLI's --address), else
    LAGLENS_RAY_ADDRESS; None: this machine's worker processes (the default)."""
    return (given or os.environ.get(RAY_ADDRESS_ENV, "")).strip() or None


def backend_problem() -> str:
    """What is wrong with LAGLENS_BACKEND, or ''."""
    chosen = _chosen_backend()
    if chosen and chosen not in BACKENDS:
        return (
            f"{BACKEND_ENV}={chosen!r} is not a backend ({', '.join(BACKENDS)}); using "
            f"{BACKENDS[DEFAULT_BACKEND]}."
        )
    return ""


INTERVAL_LEVELS = {80: "80 %", 90: "90 %", 95: "95 %"}


# The training loop's settings, shared by every kind of model (core/pipeline/fitting.py reads them).
_FIT_SETTINGS = {
    "epochs": (20, "Epochs", "At most; early stopping may end sooner.", dict(lo=1, hi=1000)),
    "batch_size": (32, "Batch size", "", dict(lo=1, hi=1024)),
    "learning_rate": (1e-3, "Learning rate", "Adam's step size.", dict(lo=1e-7, hi=1.0)),
    "loss": ("mse", "Loss", "", dict(choices=LOSSES)),
    "early_stopping": (True, "Early stopping", "", {}),
    "patience": (
        5,
        "Patience (epochs)",
        "With early stopping: epochs without a better validation loss before training ends.",
        dict(lo=1, hi=100),
    ),
    "restore_best": (True, "Restore the best weights when stopping early", "", {}),
    "seed": (0, "Seed", "One seed per run; the same seed reproduces it.", dict(lo=0, hi=2**31 - 1)),
    "backend": (
        default_backend(),  # read once, when the settings are defined
        "Keras backend",
        "The same model on JAX or TensorFlow. JAX (the default) compiles the training step "
        "with XLA and runs a whole job faster than TensorFlow on a CPU (docs/measurements.md). "
        f"A run reproduces on its own backend. The app's default comes from {BACKEND_ENV}.",
        dict(choices=BACKENDS),
    ),
}


def fit_setting(name: str, default=None) -> Any:
    """A fresh field for one of the training loop's settings (optionally another default)."""
    value, label, help, limits = _FIT_SETTINGS[name]
    return setting(value if default is None else default, label, help, **limits)


def takes_model_knobs(cls):
    """Let `cls(units=16, ...)` name a model's knobs beside the other settings, as the CLI,
    the pages and the sweeps do: they go into `model_settings`, and a knob the architecture
    does not have is refused, naming the ones it has."""
    generated = cls.__init__

    def __init__(self, *args, **kwargs):
        knobs = {k: kwargs.pop(k) for k in list(kwargs) if k in model_specs()}
        generated(self, *args, **kwargs)
        if not knobs or self.model not in ARCHITECTURES:
            return
        own = {s.name for s in self.architecture.settings.specs()}
        if foreign := sorted(set(knobs) - own):
            raise UserError(
                f"The {self.architecture.label} has no setting {', '.join(foreign)}; its own "
                f"settings are {', '.join(sorted(own))}."
            )
        self.model_settings = replace(self.model_settings, **knobs)

    cls.__init__ = __init__
    return cls


@takes_model_knobs
@dataclass
class TrainConfig(Settings):
    """Everything that defines a forecasting run besides the data. Saved with the run."""

    target: str = setting("close", "Target column")
    features: list[str] = setting(
        lambda: ["close"],
        "Input columns",
        "The target first; more columns make the model multivariate.",
    )
    transform: str = setting(
        "raw",
        "Transform",
        "Differenced models predict changes; prices are rebuilt from the last actual price.",
        choices=TRANSFORM_LABELS,
    )
    scaling: str = setting(
        "window",
        "Scaling",
        "Window-relative: each window divided by its own last value (leak-free, works at any "
        "price level). Standard and min-max are fit on the training part and cannot reach "
        "prices far outside it. Differenced transforms are standardized on the training part.",
        choices=SCALING_LABELS,
    )
    train_frac: float = setting(0.70, "Training share", lo=0.05, hi=0.95, step=0.05)
    val_frac: float = setting(0.15, "Validation share", lo=0.05, hi=0.5, step=0.05)
    window: int = setting(60, "Window (lookback days)", lo=2, hi=10_000, unit=" days")
    horizon: int = setting(
        1, "Horizon (days)", "Days predicted from each origin (seq2seq, TCN).", lo=1, hi=30
    )
    model: str = setting("lstm", "Architecture", choices=MODELS)
    # The architecture's own knobs: an instance of its family's settings class (a dict or
    # another family's settings are converted, keeping the knobs the two share).
    model_settings: Any = field(default=None, metadata={"nested": True})
    epochs: int = fit_setting("epochs")
    batch_size: int = fit_setting("batch_size")
    learning_rate: float = fit_setting("learning_rate")
    loss: str = fit_setting("loss")
    early_stopping: bool = fit_setting("early_stopping")
    patience: int = fit_setting("patience")
    restore_best: bool = fit_setting("restore_best")
    seed: int = fit_setting("seed")
    n_seeds: int = setting(
        1,
        "Seeds (trained together)",
        "N networks, seeds seed, seed + 1, ..., trained side by side as one run, each with its "
        "own early stopping; the verdict is on their averaged forecast, beside how many seeds "
        "agree with it, so one lucky seed cannot decide it.",
        lo=1,
        hi=10,
    )
    backend: str = fit_setting("backend")
    interval_level: int = setting(
        90,
        "Prediction interval",
        "The band's target coverage. Conformal: from the model's own recent errors, in price "
        "space, with no assumption that they are normal.",
        choices=INTERVAL_LEVELS,
    )
    name: str = setting("", "Run name (optional)")

    def __post_init__(self):
        architecture = ARCHITECTURES.get(self.model)
        if architecture is None:  # refused by check_bounds, naming the choices
            return
        knobs = self.model_settings
        if isinstance(knobs, architecture.settings):
            return
        if isinstance(knobs, Settings):
            knobs = asdict(knobs)
        self.model_settings = architecture.settings.from_dict(knobs or {})

    @classmethod
    def from_dict(cls, data: dict):
        """run.json's config; a flat one (saved before schema 3) holds the knobs beside the
        other settings."""
        known = {f.name for f in fields(cls)} - {"model_settings"}
        nested = data.get("model_settings")
        if nested is None:
            nested = {k: v for k, v in data.items() if k in model_specs()}
        return cls(**{k: v for k, v in data.items() if k in known}, model_settings=nested)

    @property
    def architecture(self):
        return ARCHITECTURES[self.model]

    @property
    def inputs(self) -> list[str]:
        """Input columns, the target first (univariate: the target alone)."""
        return [self.target] + [c for c in self.features if c != self.target]

    @property
    def multivariate(self) -> bool:
        return len(self.inputs) > 1

    @property
    def test_frac(self) -> float:
        return 1 - self.train_frac - self.val_frac

    def validate(self, columns) -> None:
        """Refuse impossible settings with a message, before anything trains."""
        self.check_bounds()
        if not self.target:
            raise UserError("Choose a target column.")
        missing = [c for c in self.inputs if c not in columns]
        if missing:
            raise UserError(
                f"The dataset has no column(s) {', '.join(missing)}. Columns: {', '.join(columns)}."
            )
        self.architecture.validate(self)
        if self.test_frac <= 1e-9:
            raise UserError("Train, validation and test must each get a share of the data.")


@dataclass
class CompareConfig(Settings):
    """Trains these settings twice, with and without the extra inputs, on the same split and
    test days, each over several seeds trained together; the two sides train at once, one
    core each. The Predictions page then tests one against the other."""

    n_seeds: int = setting(
        3,
        "Seeds per side",
        "Each side trains with seeds seed, seed + 1, ...; the head-to-head test compares the "
        "seed-averaged forecasts, so one lucky seed cannot decide it.",
        lo=1,
        hi=10,
    )


SPREAD_INPUT = "spread_with_"  # an input column spread_with_<partner>: the target's spread
