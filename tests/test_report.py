"""A report to share: one self-contained HTML file of a run (or several, or a sweep) that
opens offline in a browser, makes no request, and carries the run's own numbers."""

import html
import json

from core import fmt
from core.pipeline.forecast import train_forecaster
from core.present import pagedata
from core.present.report_html import data_hash, runs_report
from core.store.runs import RunStore
from tests.browser import chromium_page
from tests.helpers import run_cli, tiny_config, tiny_dataset


def test_the_report_opens_offline_makes_no_request_and_says_the_runs_numbers(workspace, tmp_path):
    data = tiny_dataset(["MSFT"])
    config = tiny_config(features=["close", "MSFT_close"], n_seeds=2)
    result = train_forecaster(data.frame, data.describe(), config, RunStore())
    run = RunStore().get(result["run_id"])
    page_html = runs_report([run])
    assert page_html.count('<script type="text/javascript">/**') <= 1  # plotly.js once
    for text in (
        pagedata.verdict_of(run)[1],
        pagedata.seeds_note(run),
        run.record.attribution["sentence"],
        data_hash(run),
        run.id,
    ):
        assert html.escape(text) in page_html, text
    # the data line names every series; settings read as the Train page labels them
    assert "AAPL + MSFT (sample)" in page_html
    assert "<th>Transform</th>" in page_html and "<td>raw price</td>" in page_html
    assert "train_frac" not in page_html and "<th>Units per layer</th>" in page_html

    # The CLI writes the same report; a bad id or a bad file name is a message and exit 2.
    out = tmp_path / "report.html"
    done = run_cli("report", run.id, "--out", str(out), workspace=workspace)
    assert done.returncode == 0, done.stderr[-800:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["runs"] == [run.id]
    bad = run_cli("report", "20200101-000000-abcdef", "--out", str(out), workspace=workspace)
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr
    wrong = run_cli("report", run.id, "--out", str(tmp_path / "r.pdf"), workspace=workspace)
    assert wrong.returncode == 2 and "should end in .html" in wrong.stderr

    # Chromium with the network cut: every chart draws, and nothing is requested.
    requests = []
    with chromium_page(tmp_path) as page:
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith("file://") else route.abort()
            ),
        )
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.as_uri())
        page.locator(".js-plotly-plot").nth(3).wait_for(timeout=30_000)
        body = page.inner_text("body")
    assert requests == [out.as_uri()]
    assert fmt.num(run.metrics["rel_mae"]) in body  # the ranked table's relative MAE
    assert pagedata.verdict_of(run)[1] in body
