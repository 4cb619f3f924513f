"""A report to share: one self-contained HTML file of a run, a comparison or a sweep.

Everything a reader needs to judge the result without LagLens: the verdict sentences, the
charts (interactive, with plotly.js embedded once, so the file opens offline and makes no
request), the tables, the settings, the seeds, the data's source, range and hash, and the
package versions. The Predictions and Experiments pages offer it as a download; `python -m
core.cli report RUN_ID... --out FILE.html` writes the same file.
"""

from __future__ import annotations

import hashlib
import html
import json
from importlib import metadata

import pandas as pd
import plotly.io as pio

from core import fmt
from core.forecasting.evaluation import best_lag, lag_diagnostic
from core.forecasting.headtohead import ROLLING_DAYS
from core.present import charts, comparison, pagedata
from core.present.sentences import lag_sentence
from core.store.runs import Run

PACKAGES = ("keras", "tensorflow", "jax", "statsmodels", "arch", "pandas", "numpy", "plotly")
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
p.verdict { font-size: 1.1em; background: #f4f6fa; padding: 0.8em; border-radius: 6px; }
table { border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }
td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: left; }
.note { color: #555; } .warn { color: #a15c00; }
"""


class _Figures:
    """Figures as HTML: plotly.js inline with the first only (the file stays offline)."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, fig) -> str:
        out = pio.to_html(
            fig, include_plotlyjs=self.first, full_html=False, config={"displaylogo": False}
        )
        self.first = False
        return out


def _p(text: str, cls: str = "note") -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>' if text else ""


def _table(frame: pd.DataFrame, index: bool = True) -> str:
    return frame.to_html(index=index, escape=True, border=0, na_rep="–")


def data_hash(run: Run) -> str:
    """sha256 of the run's saved data (index and every column), the first 16 hex digits."""
    frame = run.dataset
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _run_section(run: Run, figure: _Figures) -> str:
    actual, pred, previous = pagedata.run_series(run)
    verdict, sentence = pagedata.verdict_of(run)
    band = pagedata.run_band(run, run.config.interval_level)
    lines = (*pagedata.band_series(band, index=pred.index), "band") if band else None
    parts = [
        f"<h2>{html.escape(run.name)}</h2>",
        _p(pagedata.describe_run(run)),
        _p(sentence, "verdict"),
        *(_p(w, "warn") for w in run.record.warnings),
        _p(pagedata.seeds_note(run)),
        _p(pagedata.moves_note(run)),
        _p(pagedata.band_caption(band, run.record.intervals) if band else ""),
        figure(
            charts.predictions_chart(
                run.predictions["actual"],
                {"prediction": pred},
                previous,
                title=f"Test period: actual vs predicted {pagedata.noun(run)}",
                baselines=pagedata.baseline_lines(run),
                band=lines,
                y_title=pagedata.noun(run),
            )
        ),
        "<h3>The model beside the baselines, on the same test days</h3>",
        _table(pagedata.shown(pagedata.ranked_table(run))),
        _p(pagedata.returns_note(run)),
    ]
    diag = lag_diagnostic(actual, pred)
    parts += [
        figure(charts.lag_correlogram(diag)),
        _p(lag_sentence(best_lag(diag), diag, pagedata.noun(run))),
    ]
    changes = run.predictions["actual_change"], run.predictions["predicted_change"]
    parts.append(figure(charts.change_scatter(*changes)))
    if run.paths.attribution is not None:
        parts += [
            figure(charts.attribution_heatmap(run.paths.attribution, run.config.inputs)),
            _p(run.record.attribution.get("sentence", "")),
        ]
    if run.record.by_step and len(run.record.by_step) > 1:
        parts.append(_table(pagedata.shown(pagedata.by_step_table(run))))
    return "\n".join(parts) + _provenance(run)


def _provenance(run: Run) -> str:
    data = run.record.data
    first, last = run.dataset.index[0].date(), run.dataset.index[-1].date()
    extras = f" + {', '.join(data['extras'])}" if data.get("extras") else ""
    facts = {
        "run id": run.id,
        "saved": run.record.created,
        "data": f"{data.get('ticker', '?')}{extras} ({data.get('source', '?')}), {first} to {last}, "
        f"{fmt.count(len(run.dataset), 'day')}",
        "data hash (sha256)": data_hash(run),
        "split": json.dumps(run.record.split_dates),
        "seeds": ", ".join(str(s["seed"]) for s in run.record.seeds) or str(run.config.seed),
        "status": f"{run.status}, {fmt.count(run.record.epochs_run, 'epoch')}",
    }
    settings = pd.DataFrame.from_dict(settings_rows(run.config), orient="index", columns=["value"])
    return (
        "<h3>Where it comes from</h3>"
        + _table(pd.DataFrame({"": list(facts.values())}, index=list(facts)))
        + "<h3>Settings</h3>"
        + _table(settings)
    )


def settings_rows(config) -> dict[str, str]:
    """A run's settings as the Train page labels them (its model's own knobs included),
    choices by their labels: "Transform: first difference", never "transform: diff"."""
    rows = {}
    for holder in (config, getattr(config, "model_settings", None)):
        for spec in type(holder).specs() if holder is not None else ():
            value = getattr(holder, spec.name)
            if spec.choices:
                value = spec.choices.get(value, value)
            elif isinstance(value, list):
                value = ", ".join(map(str, value))
            rows[spec.label] = fmt.text(value) if value != "" else "–"
    return rows


def _page(title: str, body: str) -> str:
    stamp = pd.Timestamp.now().isoformat(timespec="seconds")
    packages = ", ".join(f"{k} {v}" for k, v in versions().items())
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"{_p(f'LagLens report, written {stamp}. Packages: {packages}.')}"
        f"{body}</body></html>"
    )


def _comparison_section(compared: comparison.Comparison, figure: _Figures) -> str:
    """What the Predictions page shows for runs picked together: the head-to-head sentence,
    the table, skill and rolling relative MAE, the lags side by side, the close-up, each
    seed pair's test and the loss curves."""
    runs = compared.runs
    parts = ["<h2>Side by side</h2>"]
    if compared.problem:
        return "".join(parts) + _p(compared.problem, "warn")
    parts.append(_p(_plain(compared.sentence), "verdict"))
    if not pagedata.same_test_days(runs):
        parts.append(
            _p(
                "These runs have different test periods: they are compared on the "
                f"{compared.common_days} test days they share.",
                "warn",
            )
        )
    parts += [
        _table(pagedata.shown(pagedata.comparison_table(runs))),
        _p(_plain(pagedata.MASE_NOTE)),
    ]
    names = {run.id: run.name for run in runs}
    skill = {names[i]: s for i, s in compared.skill.items()}
    rolling = {names[i]: s for i, s in compared.rolling.items()}
    parts += [
        figure(charts.skill_curves(skill)),
        figure(charts.rolling_rel_mae_chart(rolling, ROLLING_DAYS)),
        _p(_plain(comparison.SKILL_NOTE)),
    ]
    diagnostics = {
        run.name: lag_diagnostic(pagedata.run_series(run)[0], run.predictions["predicted"])
        for run in runs
    }
    predicted = {names[i]: s for i, s in compared.predicted.items()}
    parts += [
        figure(charts.correlograms_side_by_side(diagnostics)),
        figure(
            charts.price_close_up(
                compared.actual, compared.naive, predicted, noun=pagedata.noun(runs[0])
            )
        ),
    ]
    if (compared.head_to_head or {}).get("seeds", 0) > 1:
        parts += [
            "<h3>Each seed pair's own test</h3>",
            _table(pagedata.shown(comparison.seed_table(compared))),
            _p(comparison.seed_table_note(compared)),
        ]
    parts += [
        "<h3>Loss curves</h3>",
        figure(charts.loss_curves_side_by_side({run.name: run.history for run in runs})),
        _p(comparison.LOSS_NOTE),
    ]
    return "\n".join(parts)


def _plain(markdown: str) -> str:
    return markdown.replace("**", "")


def runs_report(runs: list[Run]) -> str:
    """One run's report; several runs' opens with their comparison, as the page shows it."""
    figure = _Figures()
    body, title = "", runs[0].name
    if len(runs) > 1:
        compared = comparison.compare_runs(runs)
        body += _comparison_section(compared, figure)
        title = f"{len(runs)} runs compared"
        if len(compared.sides) == 2 and not compared.problem:
            tried, reference = (side.label for side in compared.sides)
            title += f": {tried} against {reference}"
    body += "\n".join(_run_section(run, figure) for run in runs)
    return _page(title, body)


def sweep_report(sweep: dict, summary: dict, table: pd.DataFrame) -> str:
    """A sweep: its many-tries sentence, paired answers and every trial."""
    body = _p(summary.get("many_tries", {}).get("sentence", ""), "verdict")
    for answer in summary.get("questions", {}).values():
        body += _p(answer.get("sentence", ""))
    if summary.get("leaderboard"):
        body += "<h2>Leaderboard</h2>" + _table(pd.DataFrame(summary["leaderboard"]), index=False)
    body += "<h2>Every trial</h2>" + _table(table, index=False)
    spec = sweep.get("spec", {})
    body += "<h2>Settings</h2>" + _table(
        pd.DataFrame({"value": [json.dumps(v) for v in spec.values()]}, index=list(spec))
    )
    return _page(f"Sweep {sweep.get('id', '')}", body)
