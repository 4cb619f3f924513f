"""Many tries, corrected: a sweep's settings tested as a whole against naive.

The best of 48 settings looks good by chance. Hansen's test of Superior Predictive Ability
(SPA) asks whether any setting beats naive once all the tries are accounted for, and the
Model Confidence Set (MCS) keeps the settings (naive among them) that cannot be told apart
from the best. Both come from the `arch` package, on one loss series per setting.

A setting is (inputs, transform, model); its forecast on a day is the mean of its seeds'
forecasts. Its loss on a day is the absolute one-step error divided by naive's MAE on that
dataset's test days, so datasets of different price levels weigh alike; the datasets' (and
folds') test days are laid end to end. Only days every setting forecast count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MCS_SIZE = 0.10  # the confidence set holds the best with 90 % probability
REPS = 1000


def loss_table(sweep: dict, store) -> tuple[pd.DataFrame, pd.Series]:
    """(losses: one column per setting, one row per test day of every dataset end to end;
    naive's losses on the same days). Empty when no setting finished."""
    forecasts: dict[tuple, dict[str, list[pd.Series]]] = {}
    truth: dict[str, tuple[pd.Series, pd.Series]] = {}
    for key, result in sweep.get("trials", {}).items():
        if result.get("status") != "finished":
            continue
        dataset, inputs, transform, model, _seed = key.split("|")
        for i, run_id in enumerate(result.get("run_ids", [])):
            try:
                predictions = store.get(run_id).predictions
            except Exception:  # noqa: BLE001 - a deleted or damaged run leaves its trial out
                continue
            unit = f"{dataset}#{i}"  # a dataset, or one backtest fold of it
            forecasts.setdefault((inputs, transform, model), {}).setdefault(unit, []).append(
                predictions["predicted"]
            )
            truth.setdefault(unit, (predictions["actual"], predictions["naive"]))
    if not forecasts:
        return pd.DataFrame(), pd.Series(dtype=float)
    columns, naive_parts = {}, []
    for unit, (actual, naive) in sorted(truth.items()):
        days = actual.index
        for per_unit in forecasts.values():  # only the days every setting forecast
            if unit not in per_unit:
                days = days[:0]
                continue
            for series in per_unit[unit]:
                days = days.intersection(series.index)
        if len(days) == 0:
            continue
        scale = float(np.mean(np.abs(naive.loc[days] - actual.loc[days])))
        if not scale > 0:
            continue
        naive_parts.append((np.abs(naive.loc[days] - actual.loc[days]) / scale).to_numpy())
        for setting, per_unit in forecasts.items():
            mean = pd.concat([s.loc[days] for s in per_unit[unit]], axis=1).mean(axis=1)
            loss = (np.abs(mean - actual.loc[days]) / scale).to_numpy()
            columns.setdefault(" ".join(setting), []).append(loss)
    if not naive_parts:
        return pd.DataFrame(), pd.Series(dtype=float)
    losses = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    return losses, pd.Series(np.concatenate(naive_parts), name="naive")


def many_tries(losses: pd.DataFrame, naive: pd.Series, seed: int = 0) -> dict:
    """SPA's p-value (the consistent one) for "some setting beats naive", and the Model
    Confidence Set at 90 % over naive and every setting."""
    from arch.bootstrap import MCS, SPA

    spa = SPA(naive.to_numpy(), losses.to_numpy(), reps=REPS, seed=seed)
    spa.compute()
    everything = pd.concat([naive.rename("naive"), losses], axis=1)
    mcs = MCS(everything.to_numpy(), size=MCS_SIZE, reps=REPS, seed=seed)
    mcs.compute()
    names = list(everything.columns)
    included = [names[i] for i in mcs.included]
    mean = everything.mean()
    best = str(losses.mean().idxmin())
    # What the test could have found: the gain over naive a setting needs to be found at 80 %
    # power among this many tries, from the best setting's daily loss differences (a
    # Bonferroni bound: the SPA, which accounts for the settings' correlation, finds more).
    from scipy import stats

    diff = naive.to_numpy() - losses[best].to_numpy()
    z = stats.norm.isf(0.05 / losses.shape[1]) + stats.norm.ppf(0.8)
    detectable = float(z * np.std(diff, ddof=1) / np.sqrt(len(diff)) / mean["naive"])
    return {
        "settings": int(losses.shape[1]),
        "days": int(losses.shape[0]),
        "spa_pvalue": float(spa.pvalues["consistent"]),
        "best": best,
        "best_rel_mae": float(mean[best] / mean["naive"]),
        "confidence_set": sorted(included, key=lambda n: mean[n]),
        "naive_in_set": "naive" in included,
        "detectable_rel_mae": detectable,  # errors this much below naive's would be found
    }


def sweep_many_tries(sweep: dict, store) -> dict | None:
    """many_tries for a sweep's finished trials, or None when there is nothing to test."""
    losses, naive = loss_table(sweep, store)
    if losses.empty or len(naive) < 20:
        return None
    return many_tries(losses, naive)
