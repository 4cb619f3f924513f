"""The bodies of the CLI's commands (core/cli.py parses the arguments and prints the
result): each takes the parsed arguments and returns what the command prints as JSON, or
raises UserError with the message a user sees."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from core.config import CompareConfig, Settings, TrainConfig, ray_address
from core.data import extra_column, load_dataset
from core.data.datasets import csv_label
from core.errors import UserError
from core.jobs.manager import JobManager
from core.kinds import FORECAST_KINDS, KINDS
from core.kinds.anomaly import AnomalyConfig
from core.pipeline.kinds import validate_config
from core.store.people import cli_person
from core.store.runs import RunStore
from core.workspace import atomic_write_bytes, make_dir, workspace_dir


def _dataset(args, extras: list[str] | None = None):
    """The data flags' dataset; extra CSV files (--with-csv) join like extra tickers."""
    files = split_list(getattr(args, "with_csv", None))
    for path in files:
        if not Path(path).is_file():
            raise UserError(f"--with-csv: no file {path}.")
    more = {"extra_csv_files": files}
    if args.sample:
        dataset = load_dataset("sample", args.sample, args.start, args.end, extras, **more)
    elif args.csv:
        label = csv_label(args.csv)  # named by its file, as extra files are
        dataset = load_dataset(
            "csv", label, args.start, args.end, extras, csv_file=args.csv, **more
        )
    else:
        dataset = load_dataset("yahoo", args.ticker, args.start, args.end, extras, **more)
    for note in dataset.notices:  # what the Data page says about the data, on stderr
        print(f"note: {note}", file=sys.stderr)
    for warning in dataset.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return dataset


def split_list(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _run_job(manager: JobManager, kind: str, dataset, config: Settings, label: str, args) -> dict:
    person = cli_person(args.user)
    desc = dataset.describe()
    return _follow(manager, manager.submit(kind, dataset.frame, desc, config, label, person=person))


def _manager(args) -> JobManager:
    """The CLI's job manager: the job in this process, or on the cluster (--address)."""
    address = ray_address(args.address)
    return JobManager(args.workspace, in_process=address is None, address=address)


def _follow(manager: JobManager, job) -> dict:
    """Print a job's epochs to stderr until it ends; its summary, or UserError. A job
    queued again (its cluster node was lost) is followed on in the job that carries it."""
    seen = 0
    while True:
        try:
            job = manager.wait(job.id, timeout=1.0)
        except TimeoutError:
            job = manager.get(job.id)
        if job.status == "resumed":
            print(f"{job.error} Carried on in job {job.result['by']}.", file=sys.stderr)
            job = manager.get(job.result["by"])  # it replays its kept epochs: not printed again
            continue
        for i, row in enumerate(job.history[seen:], start=seen):
            took = f" ({job.epoch_times[i]:.2f} s)" if i < len(job.epoch_times) else ""
            print(
                f"epoch {row['epoch']}/{job.total_epochs} loss {row['loss']:.5f} "
                f"val_loss {row['val_loss']:.5f}{took}",
                file=sys.stderr,
            )
        seen = len(job.history)
        if not job.active:
            break
    if job.status == "failed":
        raise UserError(job.error)
    if job.resumable:
        raise UserError(
            f"{job.error} {job.kept} Job id {job.id}: "
            f"`python -m core.cli train --resume {job.id} [--save-kept]`."
        )
    return job.result


def settings_from_args(cls: type[Settings], args: argparse.Namespace):
    """The settings the flags give; a forecaster's model knob (--units ...) only when it was
    given."""
    knobs = _knobs(args) if "model_settings" in {f.name for f in fields(cls)} else {}
    given = {spec.name: getattr(args, spec.name) for spec in cls.specs()}
    return cls(**{k: v for k, v in given.items() if v is not None}, **knobs)


def _knobs(args: argparse.Namespace) -> dict:
    from core.models import model_specs

    return {n: getattr(args, n) for n in model_specs() if getattr(args, n, None) is not None}


def cmd_train(args) -> dict:
    if args.resume:
        manager = _manager(args)
        job = manager.resume(args.resume, "save" if args.save_kept else "resume")
        return _follow(manager, job)
    if not (args.sample or args.csv or args.ticker):
        raise UserError("Give the data: --sample T, --csv PATH or --ticker T (or --resume JOB_ID).")
    extras = split_list(args.with_)
    # a kind other than a price forecast, asked for by its flag (--spread-with T)
    asked = [k for k in KINDS.values() if k.train_flag and getattr(args, k.train_flag.dest)]
    if len(asked) > 1:
        raise UserError(f"Pick one of {', '.join(k.train_flag.flag for k in asked)}.")
    kind, value = (asked[0], getattr(args, asked[0].train_flag.dest)) if asked else (None, "")
    if kind is not None:
        if kind.train_flag.check_given:  # flags given with it that it cannot take
            kind.train_flag.check_given(vars(args))
        target = args.sample or args.ticker or ""
        extras += [t for t in kind.train_flag.tickers(value, target) if t not in extras]
    dataset = _dataset(args, extras)
    config = settings_from_args(TrainConfig, args)
    config.features = list(config.features) + [
        extra_column(t) for t in dataset.extras if extra_column(t) not in config.features
    ]
    if kind is not None:
        config = kind.train_flag.config(config, value, vars(args))
    kind = kind.key if kind is not None else "forecast"
    validate_config(config, dataset.frame)
    manager = _manager(args)
    from core.pipeline.kinds import RUN_KINDS

    label = config.name or RUN_KINDS[kind].default_name(config, dataset.describe())
    return _run_job(manager, kind, dataset, config, label, args)


def cmd_compare(args) -> dict:
    """Univariate against multivariate, each side a seed set of N seeds, the two sides
    trained at once in worker processes of a core each; the comparison with its
    head-to-head test."""
    from core.experiments.compare_sets import set_runs, submit_pair_set
    from core.present.comparison import compare_runs, comparison_summary

    dataset = _dataset(args, split_list(args.with_))
    config = settings_from_args(TrainConfig, args)
    config.features = list(config.features) + [
        extra_column(t) for t in dataset.extras if extra_column(t) not in config.features
    ]
    compare = settings_from_args(CompareConfig, args)
    address = ray_address(args.address)  # else workers: the two sides train at once
    manager = JobManager(args.workspace, address=address)
    set_id, jobs = submit_pair_set(
        manager, dataset.frame, dataset.describe(), config, compare, cli_person(args.user)
    )
    for i, job in enumerate(jobs, start=1):
        print(f"side {i}/{len(jobs)}: {job.label}", file=sys.stderr)
        _follow(manager, job)
    return comparison_summary(set_id, compare_runs(set_runs(RunStore(args.workspace), set_id)))


def cmd_relate(args) -> dict:
    """Which series leads, Granger both ways, levels against returns, the spread: one entry
    per extra series."""
    from core.present.relationships import relate_summary, relationships

    extras = split_list(args.with_)
    if (args.sample or args.ticker or "").upper() in [e.upper() for e in extras]:
        raise UserError(
            f"{(args.sample or args.ticker).upper()} is the target itself: a spread of a series "
            "with itself is 0. Pick another series for --with."
        )
    split = TrainConfig(train_frac=args.train_frac, val_frac=args.val_frac)
    split.validate(["close"])  # the shares' limits, and a test part left over
    dataset = _dataset(args, extras)
    target = dataset.describe().get("ticker", "target")
    return relate_summary(target, relationships(dataset.frame, target, dataset.extras, split))


def cmd_anomalies(args) -> dict:
    from core.forecasting.detectors import compare_detectors
    from core.pipeline.anomaly import top_anomalies
    from core.present.labels import default_detector_name
    from core.present.sentences import detector_sentence

    dataset = _dataset(args)
    config = settings_from_args(AnomalyConfig, args)
    validate_config(config, dataset.frame)
    manager = JobManager(args.workspace, in_process=True)
    label = default_detector_name(config, dataset.describe())
    result = _run_job(manager, "anomaly", dataset, config, label, args)
    run = RunStore(args.workspace).get(result["run_id"])
    top = top_anomalies(run, config.percentile, limit=args.top)
    compared = compare_detectors(run.scores, result["threshold"], config.window)
    return {
        "run_id": run.id,
        "threshold": result["threshold"],
        # what the page shows beside the days: did it learn anything, and does it add to a
        # rolling z-score of the same values
        "recon_ratio_test": run.metrics.get("recon_ratio_test"),
        "zscore_overlap": {
            "flagged": compared["n"],
            "also_zscore_top": len(compared["common"]),
            "chance": compared["chance"],
            "sentence": detector_sentence(compared, run.metrics.get("recon_ratio_test")),
        },
        "top": [
            {"date": str(day.date()), "score": float(row.score), "return": float(row.log_return)}
            for day, row in top.iterrows()
        ],
    }


def cmd_backtest(args) -> dict:
    from core.experiments.backtest import backtest

    dataset = _dataset(args, split_list(args.with_))
    config = settings_from_args(TrainConfig, args)
    config.features = list(config.features) + [
        extra_column(t) for t in dataset.extras if extra_column(t) not in config.features
    ]
    validate_config(config, dataset.frame)

    def emit(event: dict) -> None:
        if event.get("type") == "fold":
            print(f"fold {event['fold']}/{event['folds']}", file=sys.stderr)

    store, owner = RunStore(args.workspace), cli_person(args.user).name
    return backtest(dataset.frame, dataset.describe(), config, args.folds, store, emit, owner=owner)


# The sweep's grid flags replace these single settings.
SWEEP_GRID = ("transform", "model", "seed", "features", "name", "target")


def cmd_sweep(args) -> dict:
    from core.experiments.sweep_answers import sweep_summary
    from core.experiments.sweeps import run_sweep
    from core.experiments.trials import TRIAL_SETTINGS, SweepSpec, load_trial_dataset

    datasets = [f"sample:{t}" for t in split_list(args.sample)]
    datasets += [f"csv:{Path(f).resolve()}" for f in split_list(args.csv)]
    datasets += [f"ticker:{t}" for t in split_list(args.ticker)]
    defaults = {spec.name: spec.default for spec in TrainConfig.specs()} | TRIAL_SETTINGS
    settings = (
        TRIAL_SETTINGS
        | {
            name: getattr(args, name)
            for name in defaults
            if name not in SWEEP_GRID and getattr(args, name) != defaults[name]
        }
        | _knobs(args)
    )
    spec = SweepSpec(
        datasets=datasets,
        inputs=split_list(args.inputs),
        transforms=split_list(args.transforms),
        models=split_list(args.models),
        seeds=[_int(s, "--seeds") for s in split_list(args.seeds)],
        folds=args.folds,
        multi_features=split_list(args.multi_features),
        extra_tickers=split_list(args.with_),
        settings=settings,
        start=args.start,
        end=args.end,
        person=cli_person(args.user).name,
    )
    spec.check()
    for dataset in spec.datasets:  # a bad file or ticker stops the sweep before it starts
        load_trial_dataset(spec, dataset)

    def progress(sweep: dict) -> None:
        done = sum(t.get("status") in ("finished", "failed") for t in sweep["trials"].values())
        print(f"trials done {done}/{len(spec.trials())}", file=sys.stderr)

    sweep = run_sweep(spec, args.workspace, args.workers, args.address, args.sweep_id, progress)
    return sweep_summary(sweep)


def _int(text: str, flag: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise UserError(
            f"{flag} takes whole numbers separated by commas; '{text}' is not one."
        ) from exc


def cmd_runs(args) -> None:
    from core.present.labels import runs_table

    whole, damaged = RunStore(args.workspace).scan()
    kinds = None if args.all else FORECAST_KINDS
    table = runs_table([r for r in whole if kinds is None or r.kind in kinds])
    if table.empty:
        print(f"No runs yet in {workspace_dir(args.workspace) / 'runs'}.")
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if damaged:  # listed apart, as on the Train page: they cannot be opened
        print(f"\nDamaged runs ({len(damaged)}): not listed above, cannot be opened")
        for run_id, why in damaged:
            print(f"  {run_id}: {why}")


def cmd_jobs(args) -> None:
    """The job table as an operator reads it: every job of every server on this workspace."""
    import pandas as pd

    from core.jobs.table import TABLE, open_table

    rows = open_table(
        make_dir(workspace_dir(args.workspace) / "jobs", writable=True) / TABLE
    ).rows()
    if not rows:
        print("No jobs yet.")
        return
    table = pd.DataFrame([vars(r) for r in rows])
    for column in ("created", "started", "ended", "heartbeat"):
        stamps = pd.to_datetime(table[column], unit="s", utc=True).dt.tz_convert(None)
        table[column] = stamps.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    shown = ["id", "person", "kind", "status", "created", "started", "ended", "server", "worker"]
    print(table[shown + ["attempts", "error"]].to_string(index=False))


def cmd_delete(args) -> dict:
    """Delete your own run (an instructor: any run); another person's is refused, exit 2."""
    store, person = RunStore(args.workspace), cli_person(args.user)
    store.delete(args.run_id, by=person)
    return {"deleted": args.run_id, "by": person.name}


def cmd_report(args) -> dict:
    """One self-contained HTML file of the runs named (a comparison when several)."""
    from core.present.report_html import runs_report

    store = RunStore(args.workspace)
    runs = [store.get(run_id) for run_id in args.run_ids]  # an unknown id: its message
    forecast = [r for r in runs if r.kind in FORECAST_KINDS]
    if len(forecast) != len(runs):
        raise UserError("A report covers forecast runs; an anomaly detector run has none.")
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--out {out} should end in .html: the report is one HTML file.")
    text = runs_report(runs)
    try:  # a temporary file renamed over the old report: a full disk leaves the old one whole
        atomic_write_bytes(out, text.encode("utf-8"))
    except OSError as exc:
        kept = " The previous report there is unchanged." if out.exists() else ""
        raise UserError(f"Could not write {out}: {exc.strerror or exc}.{kept}") from exc
    return {"out": str(out), "runs": [r.id for r in runs], "bytes": len(text.encode())}
