"""Univariate against multivariate as one set: the same settings with and without the extra
inputs, over N seeds, on the same split and test days.

The set is two jobs of the normal queue, one a side, each a seed set (its N seeds trained
together, core/models/seedset.py), tagged {"compare": set id, "side": uni | multi,
"seed": first seed}. The job manager starts the two together, each on a core of its own
(core/jobs/manager.py), and one Stop stops both. The second side's baselines come from the
workspace's baseline cache once the first fitted them (core/pipeline/scoring.py).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from core.config import CompareConfig, TrainConfig
from core.errors import UserError
from core.jobs.manager import JobManager
from core.jobs.state import Job
from core.kinds import FORECAST_KINDS
from core.pipeline.kinds import RUN_KINDS, kind_of, validate_config
from core.store.people import SOLO, Person
from core.store.runs import Run, RunStore

SIDES = ("uni", "multi")


def pair_set(config: TrainConfig, compare: CompareConfig) -> list[tuple[str, TrainConfig]]:
    """(side, settings) of each side, univariate first: a seed set of compare.n_seeds
    seeds, config.seed, config.seed + 1, ..., on both sides."""
    compare.check_bounds()
    if not config.multivariate:
        raise UserError(
            "Comparing univariate with multivariate needs extra inputs: switch on "
            "Multivariate and pick at least one extra column or ticker (CLI: --features or "
            "--with)."
        )
    # each side trains its seeds together; the comparison pairs seed i with seed i
    uni = replace(config, features=[config.target], name="", n_seeds=compare.n_seeds)
    return [("uni", uni), ("multi", replace(config, name="", n_seeds=compare.n_seeds))]


def submit_pair_set(
    manager: JobManager,
    frame: pd.DataFrame,
    data_desc: dict,
    config: TrainConfig,
    compare: CompareConfig,
    person: Person = SOLO,
) -> tuple[str, list[Job]]:
    """Queue every member of the set; (set id, its jobs in order). Nothing is queued when
    the settings are refused, nor when the queue has no room for the whole set."""
    members = pair_set(config, compare)
    for _, member in members:
        validate_config(member, frame)
    if manager.room(person) < len(members):
        raise UserError(
            f"The set is {len(members)} jobs and the queue has room for "
            f"{max(manager.room(person), 0)} more of yours now: wait for some jobs to finish."
        )
    set_id = RunStore.new_id()
    jobs = []
    with manager.together():  # the two sides start at once, a core each
        for side, member in members:
            label = RUN_KINDS[kind_of(member).key].default_name(member, data_desc)
            tags = {"compare": set_id, "side": side, "seed": member.seed}
            kind = kind_of(member).key  # a forecast, or a spread forecast
            jobs.append(
                manager.submit(kind, frame, data_desc, member, label, tags=tags, person=person)
            )
    return set_id, jobs


def set_runs(store: RunStore, set_id: str) -> list[Run]:
    """The saved runs of a set, univariate first, each side by seed."""
    runs = [run for run in store.runs(FORECAST_KINDS) if run.record.tags.get("compare") == set_id]
    return sorted(runs, key=lambda r: (SIDES.index(r.record.tags["side"]), r.record.tags["seed"]))
