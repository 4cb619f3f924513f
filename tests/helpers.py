"""Small datasets and configs that train in seconds."""

from core.config import TrainConfig
from core.data import load_dataset

# The same on the command line: tiny_dataset()'s data, and tiny settings.
TINY_SAMPLE_FLAGS = ("--sample", "AAPL", "--start", "2011-06-01", "--end", "2012-12-31")
TINY_FLAGS = ("--epochs", 1, "--window", 10, "--units", 8)


def tiny_dataset(extras=None, start="2011-06-01", end="2012-12-31"):
    return load_dataset("sample", "AAPL", start, end, extras or [])


def tiny_config(**overrides) -> TrainConfig:
    """Tiny settings; a model without units (the TCN) gets its own default filters."""
    from core.models import ARCHITECTURES

    base = dict(window=10, epochs=2, units=8, batch_size=32, seed=1, early_stopping=False)
    base.update(overrides)
    own = {s.name for s in ARCHITECTURES[base.get("model", "lstm")].settings.specs()}
    if "units" not in own and "units" not in overrides:
        base.pop("units")
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


def run_cli(*args, workspace=None, timeout: int = 300):
    """`python -m core.cli ARGS [--workspace W]` as a user runs it; the finished process."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    tail = ["--workspace", str(workspace)] if workspace is not None else []
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *map(str, args), *tail],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def last_json(out) -> dict:
    """The JSON object a CLI command prints as its last stdout line (it must have exited 0)."""
    import json

    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def pid_after(seconds: float) -> int:
    """The process's id, after a pause (core.pipeline.alongside's tests: where did it run)."""
    import os
    import time

    time.sleep(seconds)
    return os.getpid()


def tiny_train_page(dataset):
    """The Train page through AppTest on `dataset`, with tiny window, units and epochs."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = dataset
    at.run()
    at.switch_page("views/train.py").run()
    for label, value in (("Window (lookback days)", 10), ("Units per layer", 8), ("Epochs", 1)):
        next(w for w in at.number_input if w.label == label).set_value(value)
    return at
