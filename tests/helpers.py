"""Small datasets and configs that train in seconds."""

from core.config import TrainConfig
from core.data import load_dataset


def tiny_dataset(extras=None, start="2011-06-01", end="2012-12-31"):
    return load_dataset("sample", "AAPL", start, end, extras or [])


def tiny_config(**overrides) -> TrainConfig:
    base = dict(window=10, epochs=2, units=8, batch_size=32, seed=1, early_stopping=False)
    base.update(overrides)
    return TrainConfig(**base)


def figure_of(element):
    """The Plotly figure a page sent, as plain JSON with arrays decoded."""
    import json

    return json.loads(element.proto.spec)


def values(array) -> list:
    """A figure array: plain list, or Plotly's binary form {'dtype', 'bdata'[, 'shape']}."""
    import base64

    import numpy as np

    if isinstance(array, dict) and "bdata" in array:
        data = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
        if "shape" in array:
            data = data.reshape([int(s) for s in str(array["shape"]).split(",")])
        return data.tolist()
    return list(array)
