"""Headless commands over the page's own code path.

python -m core.cli train (--sample T | --csv PATH | --ticker T) [--with A,B] [--features ...]
       [a flag for every TrainConfig field: --model, --transform, --train-frac, ...]
       [--address HOST:PORT (train on that Ray cluster; or LAGLENS_RAY_ADDRESS)]
python -m core.cli train --resume JOB_ID [--save-kept]   (an interrupted job)
python -m core.cli compare (--sample T | --csv PATH | --ticker T) --with A,B [--n-seeds N]
       [TrainConfig flags] [--address HOST:PORT]   (univariate against multivariate)
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

from core.commands import (
    SWEEP_GRID,
    cmd_anomalies,
    cmd_backtest,
    cmd_compare,
    cmd_delete,
    cmd_jobs,
    cmd_relate,
    cmd_report,
    cmd_runs,
    cmd_sweep,
    cmd_train,
    split_list,
)
from core.config import MODELS, CompareConfig, Settings, TrainConfig
from core.errors import UserError
from core.experiments.trials import GRID, TRIAL_SETTINGS
from core.kinds import KINDS
from core.kinds.anomaly import AnomalyConfig
from core.workspace import disk_problem


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


def add_settings(
    parser: argparse.ArgumentParser,
    cls: type[Settings],
    skip: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
) -> None:
    """One flag per field of a settings dataclass (or of the fields `only` names), with its
    choices, default and limits."""
    group = parser.add_argument_group(f"{cls.__name__} settings")
    for spec in cls.specs():
        if spec.name in skip or (only is not None and spec.name not in only):
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
                type=split_list,
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


def add_model_settings(parser: argparse.ArgumentParser) -> None:
    """One flag per model knob of any architecture (--units, --layers, --filters ...); one
    not given keeps the chosen architecture's own default, one it does not have is refused."""
    from core.models import ARCHITECTURES, model_specs

    group = parser.add_argument_group("the architecture's own settings")
    for spec in model_specs().values():
        owners = [a.key for a in ARCHITECTURES.values() if spec in a.settings.specs()]
        limits = f", {spec.lo} to {spec.hi}" if spec.lo is not None and spec.hi is not None else ""
        group.add_argument(
            "--" + spec.name.replace("_", "-"),
            type=type(spec.default),
            default=None,
            choices=list(spec.choices) if spec.choices else None,
            help=f"{spec.label}. {spec.help}".strip().rstrip(".")
            + f" ({', '.join(owners)}; default {spec.default!r}{limits})",
        )


def _joined(name: str) -> str:
    return ",".join(map(str, GRID[name]))


def _add_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--address",
        metavar="HOST:PORT",
        default=None,
        help="train on the Ray cluster there (or LAGLENS_RAY_ADDRESS); default: this machine",
    )


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
    for kind in KINDS.values():  # the flag of each kind `train` can make (--spread-with)
        if kind.train_flag:
            flag = kind.train_flag
            train.add_argument(flag.flag, metavar=flag.metavar, help=flag.help)
    add_settings(train, TrainConfig)
    add_model_settings(train)
    _add_address(train)
    # given or not: a spread refuses a given window scaling, and starts from diff, not raw
    train.set_defaults(scaling=None, transform=None)

    pair = sub.add_parser(
        "compare",
        help="train univariate and multivariate over N seeds and test one against the other",
    )
    _add_source(pair)
    _add_extras(pair)
    add_settings(pair, TrainConfig, skip=("n_seeds",))  # --n-seeds: the pair set's own
    add_model_settings(pair)
    add_settings(pair, CompareConfig)
    _add_address(pair)

    relate = sub.add_parser(
        "relate", help="which series leads, Granger both ways, spurious correlation, the spread"
    )
    _add_source(relate)
    _add_extras(relate)
    add_settings(relate, TrainConfig, only=("train_frac", "val_frac"))  # the runs' split

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
    add_model_settings(back)

    sweep = sub.add_parser("sweep", help="a grid of trials on Ray, with paired answers")
    for flag in ("--sample", "--csv", "--ticker"):
        sweep.add_argument(flag, help=f"{flag[2:]}s, comma-separated")
    sweep.add_argument("--start", type=_date_arg, default=None, help="first day, YYYY-MM-DD")
    sweep.add_argument("--end", type=_date_arg, default=None, help="last day, YYYY-MM-DD")
    sweep.add_argument("--workspace", default=None)
    sweep.add_argument("--inputs", default=_joined("inputs"), help="uni and/or multi")
    sweep.add_argument("--multi-features", default="close,volume", help="columns for multi")
    sweep.add_argument("--with", dest="with_", help="extra tickers for multi, comma-separated")
    sweep.add_argument("--transforms", default=_joined("transforms"), help="raw, diff, log_return")
    sweep.add_argument("--models", default=_joined("models"), help=", ".join(MODELS))
    sweep.add_argument("--seeds", default=_joined("seeds"), help="comma-separated")
    sweep.add_argument("--folds", type=int, default=0, help=">= 2: each trial is a backtest")
    sweep.add_argument("--workers", type=int, default=2, help="trials at once (embedded Ray)")
    sweep.add_argument("--address", default=None, help="join a Ray cluster (or RAY_ADDRESS)")
    sweep.add_argument("--sweep-id", default=None, help="resume this sweep")
    add_settings(sweep, TrainConfig, skip=SWEEP_GRID)
    add_model_settings(sweep)
    sweep.set_defaults(**TRIAL_SETTINGS)  # a sweep's trials are short unless told otherwise

    report = sub.add_parser("report", help="write one self-contained HTML report of runs")
    report.add_argument("run_ids", nargs="+", metavar="RUN_ID")
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument("--workspace", default=None)

    jobs = sub.add_parser("jobs", help="the job table: every job of every server here")
    jobs.add_argument("--workspace", default=None)

    delete = sub.add_parser("delete", help="delete one of your runs (an instructor: any run)")
    delete.add_argument("run_id", metavar="RUN_ID")
    delete.add_argument("--workspace", default=None)
    for command in sub.choices.values():  # every command acts as someone
        command.add_argument(
            "--user",
            default=None,
            help="act as this person (default: $LAGLENS_USER, else the single local user)",
        )
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
        if args.command in ("runs", "jobs"):
            (cmd_runs if args.command == "runs" else cmd_jobs)(args)
            return 0
        commands = {
            "train": cmd_train,
            "compare": cmd_compare,
            "relate": cmd_relate,
            "anomalies": cmd_anomalies,
            "backtest": cmd_backtest,
            "sweep": cmd_sweep,
            "report": cmd_report,
            "delete": cmd_delete,
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
