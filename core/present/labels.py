"""Labels: a run's default name, and the saved-runs table as people read it. The store
returns runs; the words and the columns are chosen here."""

from __future__ import annotations

import pandas as pd

from core import fmt
from core.config import BACKENDS, MODELS, SPREAD_INPUT, TRANSFORM_LABELS, TrainConfig
from core.forecasting.baselines import ALL_BASELINES
from core.kinds import KINDS
from core.kinds.anomaly import AnomalyConfig
from core.store.runs import Run


def default_run_name(config: TrainConfig, data_desc: dict) -> str:
    """'AAPL LSTM, first difference, univariate, window 60' (the job manager numbers
    repeats)."""
    inputs = inputs_word(config)
    model = config.architecture.name_of(config)
    horizon = f", horizon {config.horizon}" if config.horizon > 1 else ""
    seeds = f", {config.n_seeds} seeds" if getattr(config, "n_seeds", 1) > 1 else ""
    return (
        f"{data_desc.get('ticker', '?')} {model}, {transform_label(config)}, "
        f"{inputs}, window {config.window}{horizon}{seeds}"
    )


def transform_label(config: TrainConfig) -> str:
    """'raw price', 'first difference'; a spread's own labels ('raw spread')."""
    return type(config).spec("transform").choices[config.transform]


def extra_series_note(ticker: str, partners: list[str]) -> str:
    """Under the Train page's multivariate switch: which series are here, and where others
    come from (`partners`: the extra series' close columns)."""
    own = "its own open, high, low and volume"
    if not partners:
        return (
            f"{ticker} alone is loaded: a multivariate model can add {own}. Other series "
            "(tickers, or CSV files) are added on the Data page, under Extra tickers."
        )
    names = ", ".join(fmt.md(c.removesuffix("_close")) for c in partners)
    return f"Inputs on offer: {own}, and {names} (added on the Data page)."


def inputs_word(config: TrainConfig) -> str:
    """univariate (the target alone), bivariate (one more input) or multivariate."""
    extra = len(config.inputs) - 1
    return "univariate" if extra == 0 else "bivariate" if extra == 1 else "multivariate"


def default_detector_name(config: AnomalyConfig, data_desc: dict) -> str:
    return f"{data_desc.get('ticker', '?')} autoencoder, window {config.window}"


# What decides things first (the verdict and the errors against naive), then what the run
# was, then when; the id last.
TABLE_COLUMNS = [
    "name",
    "owner",
    "part of",
    "verdict",
    "rel. MAE",
    "seeds",
    "best baseline",
    "its rel. MAE",
    "MASE",
    "test RMSE",
    "model",
    "transform",
    "inputs",
    "ticker",
    "status",
    "backend",
    "saved",
    "id",
]


def best_baseline(run: Run) -> tuple[str, float | None]:
    """The baseline with the lowest relative MAE on the run's test days (naive's is 1), by
    its short name; ("", None) for runs saved before baselines."""
    scored = {
        name: scores["rel_mae"]
        for name, scores in run.record.baselines.items()
        if name in ALL_BASELINES and not ALL_BASELINES[name].direction_only
    }
    if not scored:
        return "", None
    name = min(scored, key=scored.get)
    return ALL_BASELINES[name].label.split(" (")[0], scored[name]


RUNS_TABLE_NOTE = (
    "**rel. MAE** = the MAE divided by naive's MAE on the same test days: 1 is naive, below "
    "1 is better. **MASE** divides by naive's error on the training part instead, so when the "
    "test days move more than the training days, naive itself scores far above 1 (MASE 5.7 "
    "beside rel. MAE 1.000 is a model as good as naive). **seeds**: how many seeds were "
    "trained together and how many agree with the run's verdict on their own."
)


def seeds_cell(run: Run) -> str:
    """'2 of 3 agree' for a seed set, '1' for a run of one seed ("" before seed sets)."""
    n, agreeing = len(run.record.seeds), run.record.seeds_agreeing
    if not n or agreeing is None:
        return ""
    return "1" if n == 1 else f"{agreeing} of {n} agree"


def part_of(run: Run) -> str:
    """The sweep or compare set a run was trained in ("" for a run trained on its own)."""
    tags = run.record.tags
    if tags.get("sweep"):
        return f"sweep {tags['sweep']}"
    return f"compare set {tags['compare']}" if tags.get("compare") else ""


def runs_table(runs: list[Run]) -> pd.DataFrame:
    """One row per run (TABLE_COLUMNS), in the order given (the store lists newest first);
    model and transform by label."""
    rows = []
    for run in runs:
        kind = KINDS[run.kind]
        forecast = kind.forecast
        cfg = run.config
        rows.append(
            {
                "id": run.id,
                "name": run.name,
                "owner": run.record.owner,
                "part of": part_of(run),
                "saved": run.record.created[:16].replace("T", " "),
                "ticker": run.record.data.get("ticker", ""),
                "inputs": inputs_word(cfg) if forecast else "",
                "transform": transform_label(cfg) if forecast else "",
                "model": kind.model_label(cfg),
                "status": run.status,
                "backend": BACKENDS[cfg.backend],
                "verdict": run.record.verdict,
                "rel. MAE": run.metrics.get("rel_mae"),
                "seeds": seeds_cell(run) if forecast else "",
                **dict(zip(("best baseline", "its rel. MAE"), best_baseline(run), strict=True)),
                "test RMSE": run.metrics.get("rmse"),
                "MASE": run.metrics.get("mase"),
            }
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def input_label(column: str) -> str:
    """An input column as the Train page lists it: an extra ticker's close by its ticker
    (short enough for a chip: "^GSPC", not "^GSPC_cl..."), a spread input says what it is."""
    if column.endswith("_close") and not column.startswith(SPREAD_INPUT):
        return column.removesuffix("_close")
    if not column.startswith(SPREAD_INPUT):
        return column
    partner = column.removeprefix(SPREAD_INPUT).removesuffix("_close")
    return f"spread with {partner} (log target - beta x log {partner})"


def shapes_table(config: TrainConfig) -> pd.DataFrame:
    """The configured model's layers with their output shapes, "batch" for the batch, and
    what each passes on (return_sequences), from the settings alone."""
    from core.models import layer_shapes

    rows = [
        {
            "layer": name,
            "output shape": "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")",
            "what goes on": note,
        }
        for name, shape, note in layer_shapes(config, len(config.inputs))
    ]
    if getattr(config, "n_seeds", 1) > 1:
        rows.append(
            {
                "layer": f"x {config.n_seeds} seeds",
                "output shape": f"{config.n_seeds} x (batch, {config.horizon})",
                "what goes on": "this network once per seed, side by side; the forecast is their mean",
            }
        )
    return pd.DataFrame(rows)


# The sweep's tables as people read them (core/fmt.py): labels, not keys; no "None".
SWEEP_FORMATS = {
    "rel_mae": fmt.num,
    "mean": fmt.num,
    "sd": fmt.num,
    "dm_pvalue": fmt.pvalue,
    "seconds": fmt.duration,
    "transform": lambda v: TRANSFORM_LABELS.get(v, fmt.text(v)),
    "model": lambda v: MODELS.get(v, fmt.text(v)),
    "inputs": lambda v: {"uni": "univariate", "multi": "multivariate"}.get(v, fmt.text(v)),
    "dataset": lambda v: f"{v[7:]} (sample)" if str(v).startswith("sample:") else fmt.text(v),
    "node": lambda v: fmt.text(v)[:8],  # a Ray node id: its first digits tell nodes apart
}
SWEEP_NAMES = {"rel_mae": "rel. MAE", "dm_pvalue": "DM p-value", "train_end": "training ends"}


def sweep_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A sweep's table (trials, leaderboard, folds) as the Experiments page shows it."""
    frame = frame.drop(columns=["fold_rel_mae"], errors="ignore")  # the folds' table shows them
    if "node" in frame and frame["node"].nunique() <= 1:  # one machine: nothing to tell apart
        frame = frame.drop(columns="node")
    return fmt.table(frame, SWEEP_FORMATS).rename(columns=SWEEP_NAMES)
