"""The anomaly kind: an LSTM autoencoder over return windows, whose reconstruction error
flags unusual days (steps: core/pipeline/anomaly.py)."""

from __future__ import annotations

from dataclasses import dataclass

from core import fmt
from core.config import fit_setting
from core.errors import UserError
from core.kinds.kind import Kind
from core.models.autoencoder import units as autoencoder_units
from core.spec import Settings, setting


@dataclass
class AnomalyConfig(Settings):
    """The LSTM autoencoder's settings. Saved with the run."""

    window: int = setting(30, "Window (days)", lo=5, hi=250, unit=" days")
    use_volume: bool = setting(True, "With volume", "Add the log change of volume to the returns.")
    units: int = autoencoder_units(32)
    # Chosen by benchmarks/bench_anomaly.py (docs/measurements.md): at 1e-3 and 20 epochs it
    # learned nothing, not even a planted pattern; at 1e-2 with early stopping it does.
    epochs: int = fit_setting("epochs", 60)
    batch_size: int = fit_setting("batch_size")
    learning_rate: float = fit_setting("learning_rate", 1e-2)
    train_frac: float = setting(
        0.7,
        "Training share",
        "The autoencoder learns ordinary days from this part.",
        lo=0.3,
        hi=0.95,
    )
    percentile: float = setting(
        99.0,
        "Threshold: percentile of the training days' scores",
        "Moves the threshold without retraining.",
        lo=50.0,
        hi=99.9,
        step=0.1,
    )
    seed: int = fit_setting("seed")
    backend: str = fit_setting("backend")
    loss: str = fit_setting("loss")
    early_stopping: bool = fit_setting("early_stopping")
    patience: int = fit_setting("patience")
    restore_best: bool = fit_setting("restore_best")

    @property
    def inputs(self) -> list[str]:
        return ["close", "volume"] if self.use_volume else ["close"]

    def validate(self, columns) -> None:
        self.check_bounds()
        missing = [c for c in self.inputs if c not in columns]
        if missing:
            raise UserError(f"The dataset has no column(s) {', '.join(missing)}.")


KIND = Kind(
    key="anomaly",
    config_class=AnomalyConfig,
    files=("scores.parquet", "dataset.parquet"),
    forecast=False,
    panel="anomaly",
    model_label=lambda config: "LSTM autoencoder",
    result=lambda summary: f"Threshold {fmt.sig(summary['threshold'])}.",
)
