"""Saved runs compared on the same test days, as the compare view and the CLI show them:
sides (runs of one setting, its seeds), skill curves, rolling relative MAE, the
head-to-head test and its sentence. Reads runs; the maths is core/forecasting/headtohead.py."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.forecasting.headtohead import (
    ROLLING_DAYS,
    better,
    common_origins,
    head_to_head,
    on_origins,
    rolling_rel_mae,
    skill_curve,
)
from core.present.sentences import head_to_head_sentence
from core.store.runs import Run

SETTING_FREE = ("seed", "n_seeds", "name")  # settings that do not make another side
LOSS_NOTE = (
    "Each run's losses are divided by its own first-epoch training loss: runs with "
    "different transforms or scalings measure loss in different units, so only how far "
    "each curve falls compares, not its height."
)
SKILL_NOTE = (
    "**Skill** adds up, day by day, how much smaller each run's absolute error was than "
    "naive's: naive is the zero line, a run's curve rises where it beats naive and falls "
    "where it loses. The **rolling relative MAE** shows the same over the last "
    f"{ROLLING_DAYS} days: below 1 the run was better than naive then."
)


@dataclass
class Side:
    """The runs of one setting (one per seed, or seed sets), with the label a reader sees."""

    label: str
    runs: list[Run]


def seed_forecasts(run: Run) -> list[np.ndarray]:
    """Each seed's forecast paths (origins x H) of a run: a seed set's members, else the
    run's own forecast."""
    seeds = run.paths.seed_paths
    return [run.paths.forecast_paths] if seeds is None else list(seeds)


@dataclass
class Comparison:
    runs: list[Run]
    problem: str = ""  # why these runs cannot be compared ("" when they can)
    dates: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([]))
    actual: pd.Series | None = None  # the target on the common days
    naive: pd.Series | None = None
    predicted: dict[str, pd.Series] = field(default_factory=dict)  # run id -> step 1
    skill: dict[str, pd.Series] = field(default_factory=dict)  # run id -> skill curve
    rolling: dict[str, pd.Series] = field(default_factory=dict)  # run id -> rolling rel. MAE
    sides: list[Side] = field(default_factory=list)
    head_to_head: dict | None = None  # sides[0] (tried) against sides[1] (reference)
    sentence: str = ""

    @property
    def common_days(self) -> int:
        return len(self.dates)


def inputs_label(run: Run) -> str:
    """univariate; bivariate (AAPL with MSFT); multivariate (AAPL with volume and ^GSPC)."""
    extras = [c.removesuffix("_close") for c in run.config.inputs[1:]]
    if not extras:
        return "univariate"
    kind = "bivariate" if len(extras) == 1 else "multivariate"
    names = extras[0] if len(extras) == 1 else ", ".join(extras[:-1]) + " and " + extras[-1]
    return f"{kind} ({run.record.data.get('ticker', '?')} with {names})"


def sides_of(runs: list[Run]) -> list[Side]:
    """Runs grouped by their data and settings but the seed, in the order first seen. Sides
    that differ in their inputs alone are labelled by them; others by their run names."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        settings = [(k, v) for k, v in run.record.config.items() if k not in SETTING_FREE]
        key = repr((sorted(settings), sorted(run.record.data.items())))  # the same data, too
        groups.setdefault(key, []).append(run)
    sides = list(groups.values())
    configs = [s[0].record.config for s in sides]
    differ = {k for c in configs for k in c if k not in SETTING_FREE and c[k] != configs[0].get(k)}
    same_data = all(s[0].record.data == sides[0][0].record.data for s in sides)
    by_inputs = differ <= {"features"} and same_data  # they differ in their inputs alone
    return [
        Side(inputs_label(s[0]) if by_inputs else s[0].name.split(", seed")[0], s) for s in sides
    ]


def compare_runs(runs: list[Run]) -> Comparison:
    """Every run on the days they all forecast; with exactly two sides, the one with more
    inputs (or the second picked) is tried against the other, seeds averaged."""
    out = Comparison(runs)
    origins = common_origins([run.paths.origin_dates for run in runs])
    if len(origins) == 0:
        out.problem = (
            "These runs share no test day, so they cannot be compared: pick runs trained on "
            "the same dataset and split."
        )
        return out
    horizon = min(run.config.horizon for run in runs)
    first = runs[0]
    actual = on_origins(first.paths.actual_paths, first.paths.origin_dates, origins)[:, :horizon]
    for run in runs[1:]:
        theirs = on_origins(run.paths.actual_paths, run.paths.origin_dates, origins)[:, :horizon]
        if not np.allclose(theirs, actual, rtol=1e-9, atol=1e-9):
            out.problem = (
                f"'{run.name}' forecasts another series than '{first.name}' on the same days, "
                "so they cannot be compared: pick runs of one dataset and target."
            )
            return out
    rows = first.predictions.index[
        pd.Index(first.paths.origin_dates.astype(str)).get_indexer(origins)
    ]
    out.dates = pd.DatetimeIndex(rows)
    naive_all = first.predictions["naive"].to_numpy()
    naive = on_origins(naive_all[:, None], first.paths.origin_dates, origins)[:, 0]
    out.actual = pd.Series(actual[:, 0], index=out.dates)
    out.naive = pd.Series(naive, index=out.dates)

    def common(run: Run, forecast: np.ndarray) -> np.ndarray:  # on the common days
        return on_origins(forecast, run.paths.origin_dates, origins)[:, :horizon]

    paths, seeds = {}, {}
    for run in runs:
        paths[run.id] = common(run, run.paths.forecast_paths)
        seeds[run.id] = [common(run, f) for f in seed_forecasts(run)]
        step1 = paths[run.id][:, 0]
        out.predicted[run.id] = pd.Series(step1, index=out.dates)
        out.skill[run.id] = pd.Series(skill_curve(actual[:, 0], step1, naive), index=out.dates)
        out.rolling[run.id] = pd.Series(
            rolling_rel_mae(actual[:, 0], step1, naive), index=out.dates
        )
    out.sides = sides_of(runs)
    if len(out.sides) == 2:
        reference, tried = out.sides
        if len(reference.runs[0].config.inputs) > len(tried.runs[0].config.inputs):
            reference, tried = tried, reference
        out.sides = [tried, reference]
        out.head_to_head = head_to_head(  # seed i with seed i, seed sets opened up
            actual,
            [p for r in tried.runs for p in seeds[r.id]],
            [p for r in reference.runs for p in seeds[r.id]],
        )
        out.head_to_head["better"] = better(out.head_to_head)
        out.sentence = head_to_head_sentence(out.head_to_head, tried.label, reference.label)
    elif len(out.sides) == 1:
        out.sentence = (
            "These runs share one setting (seeds of it): pick runs of two settings for a "
            "head-to-head test."
        )
    else:
        out.sentence = (
            f"These runs have {len(out.sides)} settings: pick the runs of two of them for a "
            "head-to-head test."
        )
    return out


def seed_table(comparison: Comparison) -> pd.DataFrame:
    """Each seed's own head-to-head test beside the seed-averaged one."""
    answer = comparison.head_to_head
    columns = {"rel_mae_ratio": "MAE ratio", "dm_pvalue": "DM p-value"}
    rows = {
        f"seed pair {i + 1}": {label: s[key] for key, label in columns.items()}
        for i, s in enumerate(answer["per_seed"])
    }
    rows["seeds averaged"] = {label: answer[key] for key, label in columns.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def seed_table_note(comparison: Comparison) -> str:
    tried, reference = (side.label for side in comparison.sides)
    return (
        f"MAE ratio = {tried}'s MAE / {reference}'s, on the same days; below 1: "
        f"{tried} was more accurate. Seed pair i trained both sides with the same seed."
    )


def comparison_summary(set_id: str, comparison: Comparison) -> dict:
    """The CLI's JSON for a compare set: every run's metrics and verdict, the sides, and
    the head-to-head answer with its sentence."""
    answer = dict(comparison.head_to_head or {})
    if answer:
        answer["sentence"] = comparison.sentence
    return {
        "set": set_id,
        "common_days": comparison.common_days,
        "problem": comparison.problem,
        "sides": [side.label for side in comparison.sides],  # tried, reference
        "runs": [
            {
                "run_id": run.id,
                "side": run.record.tags.get("side", ""),
                "seed": run.config.seed,
                "n_seeds": run.record.n_seeds,
                "seeds": run.record.seeds,  # a seed set's seeds, each on its own
                "inputs": inputs_label(run),
                "verdict": run.record.verdict,
                "metrics": run.metrics,
            }
            for run in comparison.runs
        ],
        "head_to_head": answer,
    }
