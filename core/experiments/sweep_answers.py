"""What a sweep answers: a leaderboard of settings, and paired questions (does multivariate
beat univariate? does differencing beat raw prices?) with a Wilcoxon signed-rank test.

A pair is one independent unit (a dataset, or a backtest fold of one) seen both ways, the
other factors equal: the two sides differ in one factor only. Seeds are averaged within a
unit, not paired: seeds share the unit's test days, so pairing them would count that one
window's luck many times. One pair is an anecdote; the answer says how many pairs favour
each side, the median change in relative MAE and the test's p-value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.present.sentences import answer_sentence, many_tries_sentence

FACTORS = ["dataset", "inputs", "transform", "model", "seed"]
# name -> (factor, the tried level, the reference level, what the tried level is called)
QUESTIONS = {
    "multi_vs_uni": ("inputs", "multi", "uni", "Multivariate inputs"),
    "diff_vs_raw": ("transform", "diff", "raw", "Differencing"),
    "log_return_vs_raw": ("transform", "log_return", "raw", "Log returns"),
}


def trial_table(sweep: dict) -> pd.DataFrame:
    """One row per trial of a sweep: its factors, status, node, relative MAE, message."""
    rows = []
    for key, result in sweep.get("trials", {}).items():
        factors = dict(zip(FACTORS, key.split("|"), strict=True))
        metrics = result.get("metrics") or {}
        folds = [f["metrics"].get("rel_mae") for f in result.get("folds", [])]
        rows.append(
            {
                **factors,
                "status": result.get("status", ""),
                "node": result.get("node", ""),
                "rel_mae": metrics.get("rel_mae"),
                "fold_rel_mae": folds if len(folds) > 1 else None,
                "verdict": metrics.get("verdict", ""),
                "seconds": result.get("seconds"),
                "message": result.get("message", ""),
            }
        )
    columns = [*FACTORS, "status", "node", "rel_mae", "fold_rel_mae", "verdict", "seconds"]
    return pd.DataFrame(rows, columns=[*columns, "message"])


def fold_table(sweep: dict) -> pd.DataFrame:
    """Per-fold metrics of a sweep's backtest trials: dates, relative MAE, DM p, verdict."""
    rows = []
    for key, result in sweep.get("trials", {}).items():
        for fold in result.get("folds", []):
            m = fold["metrics"]
            rows.append(
                {
                    "trial": key.replace("|", " "),
                    "fold": fold["fold"],
                    "train_end": fold["train_end"],
                    "test": f"{fold['test_start']} to {fold['test_end']}",
                    "rel_mae": m.get("rel_mae"),
                    "dm_pvalue": m.get("dm_pvalue"),
                    "verdict": m.get("verdict"),
                }
            )
    return pd.DataFrame(rows)


def progress(sweep: dict) -> tuple[int, int]:
    """(trials ended: finished, failed or cancelled; trials in the grid)."""
    from core.experiments.trials import SweepSpec

    total = len(SweepSpec(**sweep["spec"]).trials())
    ended = sum(
        t.get("status") in ("finished", "failed", "cancelled") for t in sweep["trials"].values()
    )
    return ended, total


def leaderboard(table: pd.DataFrame) -> list[dict]:
    """Mean relative MAE +- its spread (SD) per setting (inputs, transform, model) over the
    finished trials of every dataset and seed, best first."""
    done = table[table["status"] == "finished"].astype({"rel_mae": float})
    if done.empty:
        return []
    grouped = done.groupby(["inputs", "transform", "model"])["rel_mae"]
    board = grouped.agg(mean="mean", sd="std", trials="count").reset_index()
    board["sd"] = board["sd"].fillna(0.0)
    return board.sort_values("mean").to_dict(orient="records")


def units(done: pd.DataFrame, factor: str) -> tuple[pd.DataFrame, list[str], str]:
    """Relative MAE per independent unit and level of `factor`, the seeds averaged: (rows,
    the columns that name a unit, what a unit is in words). With backtests (every trial
    has its folds' relative MAEs) a unit is one dataset's fold."""
    keys = [f for f in FACTORS if f not in (factor, "seed")]
    folds = done["fold_rel_mae"] if "fold_rel_mae" in done else pd.Series(dtype=object)
    if len(folds) and folds.map(lambda v: isinstance(v, list)).all():
        done = done.assign(fold=folds.map(lambda v: list(range(1, len(v) + 1))))
        done = done.explode(["fold_rel_mae", "fold"]).drop(columns="rel_mae")
        done = done.rename(columns={"fold_rel_mae": "rel_mae"}).astype({"rel_mae": float})
        keys, what = [*keys, "fold"], "one backtest fold of one dataset"
    else:
        what = "one dataset"
    seeds = done["seed"].nunique()
    if seeds > 1:
        what += f", its {seeds} seeds averaged"
    rows = done.groupby([factor, *keys], as_index=False)["rel_mae"].mean()
    return rows, keys, what


def paired_answer(table: pd.DataFrame, factor: str, tried: str, reference: str, label: str):
    """The paired comparison of `tried` against `reference` on `factor`, or None when the
    sweep has no such pair. change = tried's relative MAE / reference's - 1 (< 0: better)."""
    done = table[table["status"] == "finished"].astype({"rel_mae": float})
    if done.empty:
        return None
    rows, keys, unit = units(done, factor)
    a = rows[rows[factor] == tried].set_index(keys)["rel_mae"]
    b = rows[rows[factor] == reference].set_index(keys)["rel_mae"]
    common = a.index.intersection(b.index)
    if len(common) == 0:
        return None
    a, b = a.loc[common].to_numpy(), b.loc[common].to_numpy()
    change = a / b - 1
    if np.allclose(change, 0):
        pvalue = 1.0
    else:
        from scipy import stats  # a 1 s import, only when a comparison is asked for

        pvalue = float(stats.wilcoxon(change).pvalue)
    answer = {
        "pairs": int(len(change)),
        "tried_better": int(np.sum(change < 0)),
        "reference_better": int(np.sum(change > 0)),
        "median_change": float(np.median(change)),
        "pvalue": pvalue,
        "unit": unit,
        "points": [
            {
                "pair": " ".join(map(str, key if isinstance(key, tuple) else (key,))),
                reference: float(y),
                tried: float(x),
            }
            for key, x, y in zip(common, a, b, strict=True)
        ],
    }
    answer["sentence"] = answer_sentence(answer, label)
    return answer


def answers(table: pd.DataFrame) -> dict:
    """Every paired question the sweep can answer."""
    out = {}
    for name, (factor, tried, reference, label) in QUESTIONS.items():
        answer = paired_answer(table, factor, tried, reference, label)
        if answer is not None:
            out[name] = answer
    return out


def many_tries_fields(sweep: dict) -> dict:
    """The sweep's SPA p-value, its confidence set and the sentence (none before it ends)."""
    result = sweep.get("many_tries")
    if not result:
        return {"spa_pvalue": None, "confidence_set": None, "many_tries": None}
    return {
        "spa_pvalue": result["spa_pvalue"],
        "confidence_set": result["confidence_set"],
        "many_tries": {**result, "sentence": many_tries_sentence(result)},
    }


def sweep_summary(sweep: dict) -> dict:
    """The CLI's JSON for a sweep."""
    table = trial_table(sweep)
    status = table["status"].value_counts().to_dict() if not table.empty else {}
    nodes = sorted({r.get("node") for r in sweep["trials"].values() if r.get("node")})
    return {
        "engine": "ray",
        "sweep_id": sweep["id"],
        "status": sweep.get("status"),
        "address": sweep.get("address"),
        "trials": len(table),
        "finished": status.get("finished", 0),
        "failed": status.get("failed", 0),
        "cancelled": status.get("cancelled", 0),
        "skipped": sweep.get("skipped", 0),
        "nodes": nodes,
        "leaderboard": leaderboard(table),
        **many_tries_fields(sweep),
        "questions": {
            k: {x: v for x, v in a.items() if x != "points"} for k, a in answers(table).items()
        },
        "failures": table.loc[
            table["status"] == "failed", ["dataset", "inputs", "message"]
        ].to_dict(orient="records"),
    }
