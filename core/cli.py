"""Headless commands over the page's own code path.

python -m core.cli train (--sample T | --csv PATH | --ticker T) [--with A,B] [--features ...]
       [a flag for every TrainConfig field: --model, --transform, --train-frac, ...]
python -m core.cli runs [--workspace DIR]
python -m core.cli anomalies (--sample T | --csv PATH | --ticker T) [every AnomalyConfig field]

The settings flags are generated from the dataclasses in core/config.py, with their
choices, defaults and limits. `train` and `anomalies` print one JSON object as their last
stdout line; progress goes to stderr. Bad input prints the message (no traceback) and
exits 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from core.config import AnomalyConfig, Settings, TrainConfig
from core.data import extra_column, load_dataset
from core.errors import UserError
from core.jobs import JobManager
from core.runs import RunStore
from core.windows import validate_config
from core.workspace import workspace_dir


def _add_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--sample", help="a bundled sample ticker (works offline)")
    source.add_argument("--csv", help="a Yahoo-style price CSV")
    source.add_argument(
        "--ticker", help="a Yahoo Finance ticker (needs the network or a cached copy)"
    )
    parser.add_argument("--start", default=None)
    parser.add_argument("--end", default=None)
    parser.add_argument("--workspace", default=None)


def _dataset(args, extras: list[str] | None = None):
    if args.sample:
        return load_dataset("sample", args.sample, args.start, args.end, extras)
    if args.csv:
        return load_dataset("csv", "CSV", args.start, args.end, extras, csv_file=args.csv)
    return load_dataset("yahoo", args.ticker, args.start, args.end, extras)


def _split_list(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _run_job(manager: JobManager, kind: str, dataset, config: dict, label: str) -> dict:
    job = manager.submit(kind, dataset.frame, dataset.describe(), config, label)
    seen = 0
    while True:
        try:
            job = manager.wait(job.id, timeout=1.0)
        except TimeoutError:
            job = manager.get(job.id)
        for row in job.history[seen:]:
            print(
                f"epoch {row['epoch']}/{job.total_epochs} loss {row['loss']:.5f} "
                f"val_loss {row['val_loss']:.5f}",
                file=sys.stderr,
            )
        seen = len(job.history)
        if not job.active:
            break
    if job.status == "failed":
        raise UserError(job.error)
    return job.result


def add_settings(parser: argparse.ArgumentParser, cls: type[Settings]) -> None:
    """One flag per field of a settings dataclass, with its choices, default and limits."""
    group = parser.add_argument_group(f"{cls.__name__} settings")
    for spec in cls.specs():
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
    dataset = _dataset(args, _split_list(args.with_))
    config = settings_from_args(TrainConfig, args)
    config.features = list(config.features) + [
        extra_column(t) for t in dataset.extras if extra_column(t) not in config.features
    ]
    validate_config(config, dataset.frame)
    manager = JobManager(args.workspace)
    return _run_job(manager, "forecast", dataset, config.to_dict(), config.name or dataset.name)


def cmd_anomalies(args) -> dict:
    from core.anomaly import top_anomalies

    dataset = _dataset(args)
    config = settings_from_args(AnomalyConfig, args)
    validate_config(config, dataset.frame)
    manager = JobManager(args.workspace)
    result = _run_job(manager, "anomaly", dataset, config.to_dict(), f"{dataset.ticker} anomalies")
    run = RunStore(args.workspace).get(result["run_id"])
    top = top_anomalies(run, config.percentile, limit=args.top)
    return {
        "run_id": run.id,
        "threshold": result["threshold"],
        "top": [
            {"date": str(day.date()), "score": float(row.score), "return": float(row.log_return)}
            for day, row in top.iterrows()
        ],
    }


def cmd_runs(args) -> None:
    table = RunStore(args.workspace).table(kind=None if args.all else "forecast")
    if table.empty:
        print(f"No runs yet in {workspace_dir(args.workspace) / 'runs'}.")
        return
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.cli", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a forecaster and save the run")
    _add_source(train)
    train.add_argument("--with", dest="with_", help="extra tickers, comma-separated (multivariate)")
    add_settings(train, TrainConfig)

    runs = sub.add_parser("runs", help="list saved runs")
    runs.add_argument("--workspace", default=None)
    runs.add_argument("--all", action="store_true", help="include anomaly-detector runs")

    anomalies = sub.add_parser(
        "anomalies", help="train an LSTM autoencoder and list anomalous days"
    )
    _add_source(anomalies)
    add_settings(anomalies, AnomalyConfig)
    anomalies.add_argument("--top", type=int, default=20)
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
        result = cmd_train(args) if args.command == "train" else cmd_anomalies(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(_clean(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
