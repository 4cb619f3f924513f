"""Headless commands over the page's own code path.

python -m core.cli train (--sample T | --csv PATH | --ticker T) [--with A,B] [--features ...]
       [a flag for every TrainConfig field: --model, --transform, --train-frac, ...]
python -m core.cli train --resume JOB_ID [--save-kept]   (an interrupted job)
python -m core.cli compare (--sample T | --csv PATH | --ticker T) --with A,B [--n-seeds N]
       [TrainConfig flags]   (univariate against multivariate, N seeds each)
python -m core.cli relate (--sample T | --csv PATH | --ticker T) --with A,B [--with-csv F,G]
python -m core.cli runs [--workspace DIR]
python -m core.cli anomalies (--sample T | --csv PATH | --ticker T) [every AnomalyConfig field]
python -m core.cli backtest (--sample T | --csv PATH | --ticker T) --folds K [TrainConfig flags]
python -m core.cli sweep [--sample A,B] [--csv F,G] [--ticker T,U] --inputs uni,multi
       --transforms raw,diff --models lstm --seeds 0,1 [--folds K] [--workers N]
       [--address HOST:PORT] [--sweep-id ID (resume)] [TrainConfig flags: --epochs, ...]

The settings flags are generated from the dataclasses in core/config.py, with their
choices, defaults and limits. `train`, `compare` and `anomalies` print one JSON object as their last
stdout line; progress goes to stderr. Bad input prints the message (no traceback) and
exits 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import fields
from pathlib import Path

from core.config import (
    FORECAST_KINDS,
    MODELS,
    AnomalyConfig,
    CompareConfig,
    Settings,
    SpreadConfig,
    TrainConfig,
)
from core.data import extra_column, load_dataset
from core.errors import UserError
from core.jobs.manager import JobManager
from core.pipeline.kinds import validate_config
from core.store.runs import RunStore
from core.workspace import disk_problem, workspace_dir


def _add_source(parser: argparse.ArgumentParser, required: bool = True) -> None:
    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument("--sample", help="a bundled sample ticker (works offline)")
    source.add_argument("--csv", help="a Yahoo-style price CSV")
    source.add_argument(
        "--ticker", help="a Yahoo Finance ticker (needs the network or a cached copy)"
    )
    parser.add_argument("--start", type=_date_arg, default=None, help="first day, YYYY-MM-DD")
    parser.add_argument("--end", type=_date_arg, default=None, help="last day, YYYY-MM-DD")
    parser.add_argument("--workspace", default=None)


def _dataset(args, extras: list[str] | None = None):
    """The data flags' dataset; extra CSV files (--with-csv) join like extra tickers."""
    files = _split_list(getattr(args, "with_csv", None))
    for path in files:
        if not Path(path).is_file():
            raise UserError(f"--with-csv: no file {path}.")
    more = {"extra_csv_files": files}
    if args.sample:
        return load_dataset("sample", args.sample, args.start, args.end, extras, **more)
    if args.csv:
        return load_dataset("csv", "CSV", args.start, args.end, extras, csv_file=args.csv, **more)
    return load_dataset("yahoo", args.ticker, args.start, args.end, extras, **more)


def _add_extras(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--with", dest="with_", help="extra tickers, comma-separated")
    parser.add_argument(
        "--with-csv", dest="with_csv", help="extra series from CSV files, comma-separated paths"
    )


def _date_arg(text: str) -> str:
    """A --start/--end date, refused by argparse (exit 2, a message) when it is none."""
    from core.data.frames import parse_day

    try:
        return str(parse_day(text, "The date"))
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _split_list(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _run_job(manager: JobManager, kind: str, dataset, config: Settings, label: str) -> dict:
    return _follow(manager, manager.submit(kind, dataset.frame, dataset.describe(), config, label))


def _follow(manager: JobManager, job) -> dict:
    """Print a job's epochs to stderr until it ends; its summary, or UserError."""
    seen = 0
    while True:
        try:
            job = manager.wait(job.id, timeout=1.0)
        except TimeoutError:
            job = manager.get(job.id)
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


def add_settings(
    parser: argparse.ArgumentParser, cls: type[Settings], skip: tuple[str, ...] = ()
) -> None:
    """One flag per field of a settings dataclass, with its choices, default and limits."""
    group = parser.add_argument_group(f"{cls.__name__} settings")
    for spec in cls.specs():
        if spec.name in skip:
            continue
        flag = "--" + spec.name.replace("_", "-")
        limits = f"; {spec.lo} to {spec.hi}" if spec.lo is not None and spec.hi is not None else ""
        text = f"{spec.label}. {spec.help}".strip().rstrip(".") + "."
        if isinstance(spec.default, bool):
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=spec.default, help=text
            )
        elif isinstance(spec.default, list):
            default = ",".join(spec.default)
            group.add_argument(
                flag,
                type=_split_list,
                default=spec.default,
                help=f"{text} Comma-separated (default {default}).",
            )
        else:
            group.add_argument(
                flag,
                type=type(spec.default),
                default=spec.default,
                choices=list(spec.choices) if spec.choices else None,
                help=f"{text} (default {spec.default!r}{limits})",
            )


def settings_from_args(cls: type[Settings], args: argparse.Namespace):
    return cls(**{spec.name: getattr(args, spec.name) for spec in cls.specs()})


def cmd_train(args) -> dict:
    if args.resume:
        manager = JobManager(args.workspace, in_process=True)
        job = manager.resume(args.resume, "save" if args.save_kept else "resume")
        return _follow(manager, job)
    if not (args.sample or args.csv or args.ticker):
        raise UserError("Give the data: --sample T, --csv PATH or --ticker T (or --resume JOB_ID).")
    extras = _split_list(args.with_)
    partner = (args.spread_with or "").strip().upper()
    if partner and partner == (args.sample or args.ticker or "").strip().upper():
        raise UserError(f"A spread of {partner} with itself is 0: pick another --spread-with.")
    dataset = _dataset(args, extras + ([partner] if partner and partner not in extras else []))
    config = settings_from_args(TrainConfig, args)
    config.features = list(config.features) + [
        extra_column(t) for t in dataset.extras if extra_column(t) not in config.features
    ]
    kind = "forecast"
    if partner:
        config, kind = spread_settings(config, partner), "spread"
    validate_config(config, dataset.frame)
    manager = JobManager(args.workspace, in_process=True)
    from core.pipeline.kinds import RUN_KINDS

    label = config.name or RUN_KINDS[kind].default_name(config, dataset.describe())
    return _run_job(manager, kind, dataset, config, label)


def spread_settings(config: TrainConfig, partner: str) -> SpreadConfig:
    """The train flags as a spread run's settings: the target's close against the partner's,
    its other inputs kept; window-relative scaling (the flags' default) becomes standard."""
    column = extra_column(partner)
    settings = {f.name: getattr(config, f.name) for f in fields(TrainConfig)}
    inputs = [c for c in config.inputs if c not in (config.target, column)]
    settings.update(
        target="spread",
        features=["spread", *inputs],
        long=config.target,
        partner=column,
        scaling="standard" if config.scaling == "window" else config.scaling,
    )
    return SpreadConfig(**settings)


def cmd_compare(args) -> dict:
    """Univariate against multivariate, each side a seed set of N seeds, the two sides
    trained at once in worker processes of a core each; the comparison with its
    head-to-head test."""
    from core.experiments.pairs import set_runs, submit_pair_set
    from core.present.compare import compare_runs, comparison_summary

    dataset = _dataset(args, _split_list(args.with_))
    config = settings_from_args(TrainConfig, args)
    config.features = list(config.features) + [
        extra_column(t) for t in dataset.extras if extra_column(t) not in config.features
    ]
    compare = settings_from_args(CompareConfig, args)
    manager = JobManager(args.workspace)  # workers: the two sides train at once
    set_id, jobs = submit_pair_set(manager, dataset.frame, dataset.describe(), config, compare)
    for i, job in enumerate(jobs, start=1):
        print(f"side {i}/{len(jobs)}: {job.label}", file=sys.stderr)
        _follow(manager, job)
    return comparison_summary(set_id, compare_runs(set_runs(RunStore(args.workspace), set_id)))


def cmd_relate(args) -> dict:
    """Which series leads, Granger both ways, levels against returns, the spread: one entry
    per extra series."""
    from core.present.relationships import relate_summary, relationships

    extras = _split_list(args.with_)
    if (args.sample or args.ticker or "").upper() in [e.upper() for e in extras]:
        raise UserError(
            f"{(args.sample or args.ticker).upper()} is the target itself: a spread of a series "
            "with itself is 0. Pick another series for --with."
        )
    dataset = _dataset(args, extras)
    target = dataset.describe().get("ticker", "target")
    return relate_summary(target, relationships(dataset.frame, target, dataset.extras))


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
    result = _run_job(manager, "anomaly", dataset, config, label)
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

    dataset = _dataset(args, _split_list(args.with_))
    config = settings_from_args(TrainConfig, args)
    config.features = list(config.features) + [
        extra_column(t) for t in dataset.extras if extra_column(t) not in config.features
    ]
    validate_config(config, dataset.frame)

    def emit(event: dict) -> None:
        if event.get("type") == "fold":
            print(f"fold {event['fold']}/{event['folds']}", file=sys.stderr)

    return backtest(
        dataset.frame, dataset.describe(), config, args.folds, RunStore(args.workspace), emit
    )


# The sweep's grid flags replace these single settings.
SWEEP_GRID = ("transform", "model", "seed", "features", "name", "target")


def cmd_sweep(args) -> dict:
    from core.experiments.paired import sweep_summary
    from core.experiments.sweeps import SweepSpec, load_trial_dataset, run_sweep

    datasets = [f"sample:{t}" for t in _split_list(args.sample)]
    datasets += [f"csv:{Path(f).resolve()}" for f in _split_list(args.csv)]
    datasets += [f"ticker:{t}" for t in _split_list(args.ticker)]
    defaults = {spec.name: spec.default for spec in TrainConfig.specs()}
    settings = {
        name: getattr(args, name)
        for name in defaults
        if name not in SWEEP_GRID and getattr(args, name) != defaults[name]
    }
    spec = SweepSpec(
        datasets=datasets,
        inputs=_split_list(args.inputs),
        transforms=_split_list(args.transforms),
        models=_split_list(args.models),
        seeds=[_int(s, "--seeds") for s in _split_list(args.seeds)],
        folds=args.folds,
        multi_features=_split_list(args.multi_features),
        extra_tickers=_split_list(args.with_),
        settings=settings,
        start=args.start,
        end=args.end,
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


def cmd_report(args) -> dict:
    """One self-contained HTML file of the runs named (a comparison when several)."""
    from core.present.export import runs_report

    store = RunStore(args.workspace)
    runs = [store.get(run_id) for run_id in args.run_ids]  # an unknown id: its message
    forecast = [r for r in runs if r.kind in FORECAST_KINDS]
    if len(forecast) != len(runs):
        raise UserError("A report covers forecast runs; an anomaly detector run has none.")
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--out {out} should end in .html: the report is one HTML file.")
    text = runs_report(runs)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"Could not write {out}: {exc.strerror or exc}.") from exc
    return {"out": str(out), "runs": [r.id for r in runs], "bytes": len(text.encode())}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.cli", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a forecaster and save the run")
    _add_source(train, required=False)  # not with --resume
    train.add_argument(
        "--resume",
        metavar="JOB_ID",
        help="carry on an interrupted job from its kept epochs, with its settings",
    )
    train.add_argument(
        "--save-kept",
        action="store_true",
        help="with --resume: save the kept epochs as a run (marked interrupted), train no more",
    )
    _add_extras(train)
    train.add_argument(
        "--spread-with",
        metavar="TICKER",
        help="forecast the spread log(target) - beta x log(TICKER) instead (beta fitted on the "
        "training part; standard scaling; raw or diff)",
    )
    add_settings(train, TrainConfig)

    pair = sub.add_parser(
        "compare",
        help="train univariate and multivariate over N seeds and test one against the other",
    )
    _add_source(pair)
    _add_extras(pair)
    add_settings(pair, TrainConfig, skip=("n_seeds",))  # --n-seeds: the pair set's own
    add_settings(pair, CompareConfig)

    relate = sub.add_parser(
        "relate", help="which series leads, Granger both ways, spurious correlation, the spread"
    )
    _add_source(relate)
    _add_extras(relate)

    runs = sub.add_parser("runs", help="list saved runs")
    runs.add_argument("--workspace", default=None)
    runs.add_argument("--all", action="store_true", help="include anomaly-detector runs")

    anomalies = sub.add_parser(
        "anomalies", help="train an LSTM autoencoder and list anomalous days"
    )
    _add_source(anomalies)
    add_settings(anomalies, AnomalyConfig)
    anomalies.add_argument("--top", type=int, default=20)

    back = sub.add_parser("backtest", help="walk-forward backtest: K folds at the end")
    _add_source(back)
    _add_extras(back)
    back.add_argument("--folds", type=int, default=3, help="test folds (default 3)")
    add_settings(back, TrainConfig)

    sweep = sub.add_parser("sweep", help="a grid of trials on Ray, with paired answers")
    for flag in ("--sample", "--csv", "--ticker"):
        sweep.add_argument(flag, help=f"{flag[2:]}s, comma-separated")
    sweep.add_argument("--start", type=_date_arg, default=None, help="first day, YYYY-MM-DD")
    sweep.add_argument("--end", type=_date_arg, default=None, help="last day, YYYY-MM-DD")
    sweep.add_argument("--workspace", default=None)
    sweep.add_argument("--inputs", default="uni,multi", help="uni and/or multi")
    sweep.add_argument("--multi-features", default="close,volume", help="columns for multi")
    sweep.add_argument("--with", dest="with_", help="extra tickers for multi, comma-separated")
    sweep.add_argument("--transforms", default="raw", help="raw, diff, log_return")
    sweep.add_argument("--models", default="lstm", help=", ".join(MODELS))
    sweep.add_argument("--seeds", default="0", help="comma-separated")
    sweep.add_argument("--folds", type=int, default=0, help=">= 2: each trial is a backtest")
    sweep.add_argument("--workers", type=int, default=2, help="trials at once (embedded Ray)")
    sweep.add_argument("--address", default=None, help="join a Ray cluster (or RAY_ADDRESS)")
    sweep.add_argument("--sweep-id", default=None, help="resume this sweep")
    add_settings(sweep, TrainConfig, skip=SWEEP_GRID)

    report = sub.add_parser("report", help="write one self-contained HTML report of runs")
    report.add_argument("run_ids", nargs="+", metavar="RUN_ID")
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument("--workspace", default=None)
    return parser


def _clean(value):
    """JSON cannot say NaN; print null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "runs":
            cmd_runs(args)
            return 0
        commands = {
            "train": cmd_train,
            "compare": cmd_compare,
            "relate": cmd_relate,
            "anomalies": cmd_anomalies,
            "backtest": cmd_backtest,
            "sweep": cmd_sweep,
            "report": cmd_report,
        }
        result = commands[args.command](args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full or read-only disk: which folder, and what to do
        problem = disk_problem(exc)
        if problem is None:
            raise
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(json.dumps(_clean(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
