"""Small datasets and configs that train in seconds."""

from core.data import load_dataset
from core.features import TrainConfig


def tiny_dataset(extras=None, start="2011-06-01", end="2012-12-31"):
    return load_dataset("sample", "AAPL", start, end, extras or [])


def tiny_config(**overrides) -> TrainConfig:
    base = dict(window=10, epochs=2, units=8, batch_size=32, seed=1, early_stopping=False)
    base.update(overrides)
    return TrainConfig(**base)
