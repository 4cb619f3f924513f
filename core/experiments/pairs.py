"""Univariate against multivariate as one set: the same settings with and without the extra
inputs, over N seeds, on the same split and test days, as jobs of the normal queue.

Every member is a forecast job tagged {"compare": set id, "side": uni | multi, "seed": s};
its baselines come from the workspace's baseline cache after the first member fitted them
(core/pipeline/scoring.py), so the set fits them once.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from core.config import FORECAST_KINDS, CompareConfig, TrainConfig
from core.errors import UserError
from core.jobs.manager import JobManager
from core.jobs.state import Job
from core.pipeline.kinds import RUN_KINDS, kind_of, validate_config
from core.store.runs import Run, RunStore

SIDES = ("uni", "multi")


def pair_set(config: TrainConfig, compare: CompareConfig) -> list[tuple[str, TrainConfig]]:
    """(side, settings) of every member: univariate seeds first, then multivariate; seeds
    config.seed, config.seed + 1, ... on both sides."""
    compare.check_bounds()
    if not config.multivariate:
        raise UserError(
            "Comparing univariate with multivariate needs extra inputs: switch on "
            "Multivariate and pick at least one extra column or ticker (CLI: --features or "
            "--with)."
        )
    # each member is one seed: the comparison averages its seeds itself (paired units)
    uni = replace(config, features=[config.target], name="", n_seeds=1)
    multi = replace(config, name="", n_seeds=1)
    return [
        (side, replace(base, seed=config.seed + k))
        for side, base in (("uni", uni), ("multi", multi))
        for k in range(compare.n_seeds)
    ]


def submit_pair_set(
    manager: JobManager,
    frame: pd.DataFrame,
    data_desc: dict,
    config: TrainConfig,
    compare: CompareConfig,
) -> tuple[str, list[Job]]:
    """Queue every member of the set; (set id, its jobs in order). Nothing is queued when
    the settings are refused, nor when the queue has no room for the whole set."""
    members = pair_set(config, compare)
    for side in SIDES:  # the seeds of a side share everything validation looks at
        validate_config(next(m for s, m in members if s == side), frame)
    if manager.room() < len(members):
        raise UserError(
            f"The set is {len(members)} jobs and the queue has room for {manager.room()} now: "
            "wait for some jobs to finish, or use fewer seeds."
        )
    set_id = RunStore.new_id()
    jobs = []
    for side, member in members:
        label = (
            f"{RUN_KINDS[kind_of(member).key].default_name(member, data_desc)}, seed {member.seed}"
        )
        tags = {"compare": set_id, "side": side, "seed": member.seed}
        kind = kind_of(member).key  # a forecast, or a spread forecast
        jobs.append(manager.submit(kind, frame, data_desc, member, label, tags=tags))
    return set_id, jobs


def set_runs(store: RunStore, set_id: str) -> list[Run]:
    """The saved runs of a set, univariate first, each side by seed."""
    runs = [run for run in store.runs(FORECAST_KINDS) if run.record.tags.get("compare") == set_id]
    return sorted(runs, key=lambda r: (SIDES.index(r.record.tags["side"]), r.record.tags["seed"]))
