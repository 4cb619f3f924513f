"""A spread's defaults on real, mostly non-cointegrated pairs: which transform to start with.

Each bundled pair (2000-03 to 2013-03) trains the default LSTM on the spread log A - beta x
log B, once on the raw spread and once on its daily change (diff), everything else at the
defaults a spread run gets (standard scaling, 20 epochs, early stopping). Printed side by
side: the model's relative MAE (naive = 1), ARIMA's and the AR(1)'s on the same test days,
the verdict, and the Engle-Granger cointegration p-value of the pair on its training days.
A raw spread that wanders out of its training range lands far above naive; its change does
not wander. Results: docs/measurements.md, `## bench_spread_defaults`.
"""

from __future__ import annotations

import sys
import tempfile

from core.config import TrainConfig
from core.data import load_dataset
from core.kinds.spread import SpreadConfig
from core.pipeline.kinds import RUN_KINDS
from core.pipeline.runner import RunRequest, run
from core.present.relationships import relationships
from core.store.runs import RunStore

PAIRS = [("AAPL", "MSFT"), ("MSFT", "^GSPC"), ("IBM", "^GSPC"), ("^IXIC", "^GSPC")]


def one(frame, desc, partner: str, transform: str, store, epochs: int) -> dict:
    config = SpreadConfig.of(
        TrainConfig(features=["close", f"{partner}_close"], epochs=epochs),
        f"{partner}_close",
        transform=transform,
        scaling="standard",
    )
    summary = run(RUN_KINDS["spread"], RunRequest(frame, desc, config, store))
    saved = store.get(summary["run_id"])
    base = saved.record.baselines
    return {
        "rel_mae": saved.metrics["rel_mae"],
        "arima": base.get("arima", {}).get("rel_mae"),
        "ar1": base.get("ar1", {}).get("rel_mae"),
        "verdict": saved.record.verdict,
    }


def main(epochs: int = 20) -> None:
    store = RunStore(tempfile.mkdtemp())
    print(
        f"{'pair':14} {'coint p':>8} | {'transform':9} {'rel MAE':>8} {'ARIMA':>7} "
        f"{'AR(1)':>7}  verdict"
    )
    for target, partner in PAIRS:
        data = load_dataset("sample", target, None, None, [partner])
        pair = relationships(data.frame, target, [partner])[0]
        for transform in ("raw", "diff"):
            r = one(data.frame, data.describe(), partner, transform, store, epochs)
            fmt = lambda v: f"{v:7.3f}" if v is not None else "      –"  # noqa: E731
            print(
                f"{target + '-' + partner:14} {pair['coint_p']:8.3f} | {transform:9} "
                f"{r['rel_mae']:8.3f} {fmt(r['arima'])} {fmt(r['ar1'])}  {r['verdict']}",
                flush=True,
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
