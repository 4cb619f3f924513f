"""The whole path in Chromium, as a new user goes, plus the same path with bad input.

`make screenshots` runs this with LAGLENS_SCREENSHOTS=docs/screenshots; otherwise the
screenshots go to the test's temporary folder.
"""

import os
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from core.forecasting.evaluation import VERDICTS
from core.store.runs import RunStore
from tests.browser import chromium_page, streamlit_server

NO_EXCEPTION = '[data-testid="stException"]'


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("LAGLENS_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def settle(page, seconds: float = 0.6) -> None:
    """Let Streamlit finish the rerun a widget change started."""
    page.wait_for_timeout(int(seconds * 1000))
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


def check(page) -> None:
    assert page.locator(NO_EXCEPTION).count() == 0, page.locator(NO_EXCEPTION).first.inner_text()


def go(page, name: str, ready_text: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name).click()
    page.get_by_role("heading", name=ready_text).first.wait_for(timeout=60_000)
    settle(page)
    check(page)


def set_number(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    settle(page, 0.3)


def epoch_metric(page) -> int:
    text = (
        page.locator('[data-testid="stMetric"]')
        .filter(has_text="Epoch")
        .locator('[data-testid="stMetricValue"]')
        .first.inner_text()
    )
    return int(text.split("/")[0])


def wait_for_text(page, pattern: str, timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = page.inner_text("body")
        if re.search(pattern, body):
            return body
        check(page)
        page.wait_for_timeout(300)
    failure = Path(os.environ.get("LAGLENS_SCREENSHOTS") or "/tmp") / "laglens-failure.png"
    page.screenshot(path=str(failure), full_page=True)
    raise AssertionError(f"never saw {pattern!r} (screenshot: {failure})")


def grid_cells(page) -> list[str]:
    """The text of every table cell on screen (Streamlit's grid keeps an accessible copy)."""
    return page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_inner_texts()


TRUNCATED_METRICS_JS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
  .filter(e => [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1))
  .map(e => e.innerText)"""


def assert_readable(page) -> None:
    """What issue 15 fixed, on the page in view: no 'None' or 'nan' cells, no number with
    more than 6 decimals (p-values have at most 3 significant digits), no cut-off metric card."""
    page.wait_for_timeout(300)
    cells = grid_cells(page)
    assert not [c for c in cells if c.strip() in ("None", "nan", "NaN", "<NA>")], cells
    assert not [c for c in cells if re.search(r"\d\.\d{7,}|e-\d\d", c)], cells
    assert page.evaluate(TRUNCATED_METRICS_JS) == []


def significant_digits(text: str) -> int:
    """How many significant digits a number as shown has ('< 0.001' -> 1, '0.0421' -> 3)."""
    digits = re.sub(r"[^0-9]", "", text.split("e")[0]).lstrip("0")
    return len(digits)


def column_cells(page, table: int, column: int) -> list[str]:
    """One column of one table on screen, by position (the row label is column 0)."""
    grid = page.locator('[data-testid="stDataFrame"]').nth(table)
    grid.scroll_into_view_if_needed()
    cells = grid.locator(f'[data-testid^="glide-cell-{column}-"]')
    cells.first.wait_for(state="attached", timeout=10_000)
    return cells.all_inner_texts()


def open_app(page, server) -> None:
    """Open the app and wait until the Data page has drawn its first chart."""
    page.goto(server.url)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    settle(page)
    check(page)


def shot(page, path: Path, anchor: str | None = None) -> None:
    """Screenshot the viewport; Streamlit scrolls inside its own container, so bring the
    interesting element (a CSS selector) into view first."""
    if anchor:
        page.locator(anchor).first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    page.screenshot(path=str(path))


def legend(page, chart: int = 0, entries: int = 1) -> list[str]:
    """The legend of the page's chart number `chart`, once it shows at least `entries`
    names (a chart can be on the page a moment before Plotly has drawn its legend)."""
    names = page.locator(".js-plotly-plot").nth(chart).locator(".legendtext")
    deadline = time.monotonic() + 30
    while names.count() < entries and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    return names.all_text_contents()


def pick_option(page, box: str, name) -> None:
    """Open a select box and click an option; a rerun that ends just after the list opened
    can close it (seen once on a loaded machine), so open it again, up to three times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    option = page.get_by_role("option", name=name).first
    for attempt in range(3):
        settle(page)
        page.get_by_role("combobox", name=box).click()
        try:
            option.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    option.click()


def test_new_user_walkthrough(tmp_path, workspace, shots):
    with (
        streamlit_server(workspace, tmp_path / "server.log") as server,
        chromium_page(tmp_path) as page,
    ):
        outside = []  # the app makes no outside request (fonts, icons, telemetry)
        page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
        # 1. the AAPL sample is on screen with its chart
        open_app(page, server)
        assert "AAPL" in page.inner_text("body")
        assert_readable(page)
        p_values = column_cells(page, 0, 2)  # the stationarity table's p-value column
        assert len(p_values) == 3 and p_values[1] == "< 0.001"
        assert all(significant_digits(p) <= 3 for p in p_values), p_values
        # the sentence under the table follows its own p-value
        wait_for_text(
            page, rf"No evidence that the price is stationary \(p = {re.escape(p_values[0])}\)"
        )
        shot(page, shots / "01-data.png")

        # 2. MSFT and ^GSPC as extra inputs
        extras = page.get_by_role("combobox", name="Extra tickers for a multivariate dataset")
        for ticker in ("MSFT", "^GSPC"):
            extras.click()
            page.keyboard.type(ticker)
            page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Load data").click()
        wait_for_text(page, r"Aligned on 3270 common trading days")
        assert "AAPL + MSFT, ^GSPC" in page.locator('[data-testid="stSidebar"]').inner_text()
        # the relationships of the three, on their own page: who leads, the spread
        go(page, "Relationships", "Relationships")
        wait_for_text(page, r"Which series leads, and the spread")
        wait_for_text(page, r"No lead: MSFT and AAPL move together on the same day")
        wait_for_text(
            page,
            r"The spread log AAPL [-+] [0-9.]+ x log MSFT "
            r"(is cointegrated|shows no evidence of cointegration)",
        )
        gram = page.locator(".js-plotly-plot").filter(has_text="Cross-correlation").first
        gram.evaluate("e => e.scrollIntoView({block: 'start'})")
        assert_readable(page)
        shot(page, shots / "07-relationships.png")

        # 3. a small univariate LSTM; the loss chart grows while it trains
        go(page, "Train", "Train")
        set_number(page, "Window (lookback days)", 20)
        set_number(page, "Units per layer", 16)
        set_number(page, "Epochs", 200)
        page.get_by_text("Early stopping", exact=True).click()
        settle(page, 0.3)
        clicked = time.monotonic()
        page.get_by_role("button", name="Start training").click()
        seen = set()
        while len(seen) < 3:
            page.wait_for_timeout(250)
            check(page)
            if page.locator(".js-plotly-plot").count():
                seen.add(epoch_metric(page))
            assert time.monotonic() - clicked < 120, "no loss points"
        assert len({e for e in seen if e > 0}) >= 2  # at least two chart updates observed
        shot(page, shots / "02-training.png", '[data-testid="stProgress"]')

        # 4. leave the Train page during training and come back: still running, chart continues
        go(page, "Data", "Data")
        page.wait_for_timeout(1500)
        go(page, "Train", "Train")
        wait_for_text(page, r": running")
        before = epoch_metric(page)
        page.wait_for_timeout(2500)
        assert epoch_metric(page) > before

        # 5. stop it early: saved as stopped
        page.get_by_role("button", name="Stop").click()
        wait_for_text(page, r"Saved run \S+ \(stopped")
        settle(page, 1.5)  # the page reruns once to list the saved run
        assert [r.meta["status"] for r in RunStore(workspace).runs()] == ["stopped"]

        # ... then a small multivariate one, to the end, twice with the same settings
        set_number(page, "Window (lookback days)", 20)
        set_number(page, "Units per layer", 16)
        set_number(page, "Epochs", 3)
        page.get_by_text("Multivariate: add other columns as inputs").click()
        settle(page)
        earlier = ""  # the previous job's "Saved run" line can still be on the page
        for _ in range(2):
            page.get_by_role("button", name="Start training").click()
            settle(page)
            fresh = rf"Saved run (?!{earlier or '-'})(\S+) \(finished"
            saved = wait_for_text(page, fresh)
            job_id = earlier = re.search(fresh, saved).group(1)
            picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Job").first
            shown = (
                picker.inner_text()
                + " "
                + picker.evaluate(
                    "e => [...e.querySelectorAll('input')].map(i => i.value).join(' ')"
                )
            )
            assert f"({job_id})" in shown, shown  # the job picker names the job by the run's id
            assert "1 epochs" not in saved and "3 epochs" in saved
            assert RunStore(workspace).get(job_id).status == "finished"
        runs = RunStore(workspace).runs()
        assert sorted(r.meta["status"] for r in runs) == ["finished", "finished", "stopped"]
        assert len(runs[0].config["features"]) > 1 and len(runs[2].config["features"]) == 1
        names = [r.name for r in runs]
        assert len(set(names)) == 3 and names[0] == f"{names[1]} (2)", names  # unique defaults
        assert names[1] == "AAPL LSTM, raw price, multivariate, window 20"  # readable
        page.wait_for_timeout(1500)  # the saved-runs table lists the new run at once
        cells = grid_cells(page)
        assert names[0] in cells and "LSTM" in cells and "raw price" in cells  # labels, not keys
        assert_readable(page)

        # 6. Predictions: move the lag slider, then compare the two runs
        go(page, "Predictions", "Predictions")
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        assert "prediction" in legend(page)
        assert re.search(
            r"Echoes yesterday|No better than naive|Worse than naive|Beats naive",
            page.inner_text("body"),
        )  # the verdict leads the page
        assert "90 % interval" in legend(page)  # the band, with the baselines in the legend
        assert {"ARIMA", "exponential smoothing (ETS)"} <= set(legend(page))
        wait_for_text(page, r"no higher than always-up.s is no skill")  # under the ranked table
        assert_readable(page)
        dm = [c for c in column_cells(page, 0, 3) if c != "–"]  # the DM p-value column
        assert dm and all(significant_digits(p) <= 3 for p in dm), dm
        shot(page, shots / "03-predictions.png", '[data-testid="stDataFrame"]')
        page.get_by_role("slider").first.focus()
        page.keyboard.press("ArrowRight")  # k = +1: an echo of yesterday lines up
        settle(page)
        wait_for_text(page, r"prediction shifted \+1 d")
        assert "prediction shifted +1 d" in legend(page)
        wait_for_text(page, r"it is not a forecast")
        # the change scatter: one scale, the diagonal drawn
        scatter = page.locator(".js-plotly-plot").filter(has_text="Predicted vs actual change")
        scatter.first.scroll_into_view_if_needed()
        assert "predicted = actual" in scatter.first.locator(".legendtext").all_text_contents()
        # ... and compare it with the univariate run: the head-to-head sentence leads
        pick_option(page, "Runs", re.compile("univariate"))
        page.keyboard.press("Escape")
        settle(page)
        # the two differ in more than their inputs (window, units), so their names say which
        wait_for_text(page, r"multivariate, window 20.* against .*univariate.*: MAE [0-9.]+ %")
        wait_for_text(page, r"on one seed: .*One seed is an anecdote")
        skill = legend(page, 0)  # the first chart: skill against naive, naive the zero line
        assert skill[0] == "naive (tomorrow = today)" and len(skill) == 3, skill
        assert any("univariate" in name for name in skill[1:])
        verdicts = [c for c in column_cells(page, 0, 1) if c != "–"]  # both runs' verdicts
        assert len(verdicts) == 2 and all(v in VERDICTS for v in verdicts), verdicts
        wait_for_text(page, r"Prices, the last 60 test days")  # the close-up, not an overlay
        assert_readable(page)

        # ... then the pair in one click: univariate and multivariate over 3 seeds each
        go(page, "Train", "Train")  # the form kept its settings while the user was away
        assert page.get_by_label("Epochs", exact=True).input_value() == "3"
        assert page.get_by_label("Window (lookback days)", exact=True).input_value() == "20"
        assert page.get_by_role(
            "switch", name="Multivariate: add other columns as inputs"
        ).is_checked()
        set_number(page, "Epochs", 1)
        page.get_by_text("Compare univariate vs multivariate").click()
        settle(page)
        page.get_by_role("button", name="Train the set (2 runs of 3 seeds)").click()
        deadline = time.monotonic() + 420
        while len(RunStore(workspace).runs()) < 5 and time.monotonic() < deadline:
            page.wait_for_timeout(1000)
            check(page)
        members = [r for r in RunStore(workspace).runs() if r.record.tags.get("compare")]
        assert sorted((r.record.tags["side"], r.record.n_seeds) for r in members) == [
            ("multi", 3),
            ("uni", 3),
        ]
        go(page, "Predictions", "Predictions")  # the newest set is picked whole
        wait_for_text(page, r"ultivariate \(AAPL with .*\) against univariate: .* 3 seeds averaged")
        wait_for_text(page, r"of 3 seeds point the same way")
        assert len(legend(page, 0, entries=3)) == 3  # naive and the two sides' skill curves
        verdicts = [c for c in column_cells(page, 0, 1) if c != "–"]
        assert len(verdicts) == 2 and all(v in VERDICTS for v in verdicts), verdicts
        wait_for_text(page, r"seeds averaged")  # the seeds' own tests, in a table
        assert_readable(page)
        sentence = page.locator('[data-testid="stAlert"]').first
        sentence.evaluate("e => e.scrollIntoView({block: 'start'})")  # sentence, table, charts
        shot(page, shots / "04-compare.png")
        # the set's report, as shared: it opens offline and leads with the same answer
        said = page.locator('[data-testid="stAlert"]').filter(has_text="against univariate")
        answer = said.first.inner_text().strip().splitlines()[-1]  # the sentence, not its icon
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the report (HTML, opens offline)").click()
        report = tmp_path / "aapl_compare_set.html"
        download.value.save_as(report)
        reader, asked = page.context.new_page(), []
        reader.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort()
        )
        reader.on("request", lambda r: asked.append(r.url))
        reader.goto(report.as_uri())
        reader.locator(".js-plotly-plot").nth(4).wait_for(timeout=30_000)
        text = reader.inner_text("body")
        reader.close()
        assert asked == [report.as_uri()]
        assert answer in text and "Skill against naive" in text and "seed pair 3" in text

        # 7. Anomalies: train the autoencoder
        go(page, "Anomalies", "Anomalies")
        set_number(page, "Epochs", 2)
        page.get_by_role("button", name="Train autoencoder").click()
        wait_for_text(page, r"Anomalous days\n", timeout_s=180)
        page.get_by_text("anomalous day").first.wait_for(timeout=30_000)
        settle(page)
        check(page)
        wait_for_text(page, r"window's mean")  # what the autoencoder adds, in one sentence
        assert_readable(page)
        shot(page, shots / "05-anomalies.png", '[data-testid="stMetric"]:has-text("Threshold")')
        # every page was visited and models trained: the server itself never loaded TensorFlow
        assert not server.loaded_tensorflow()
        assert outside == []


def test_bad_input_gives_readable_messages_and_the_app_stays_usable(tmp_path, workspace, shots):
    with (
        streamlit_server(workspace, tmp_path / "server.log") as server,
        chromium_page(tmp_path) as page,
    ):
        open_app(page, server)

        # an unknown ticker while offline
        page.get_by_text("Yahoo Finance", exact=True).click()
        settle(page)
        ticker = page.get_by_label("Ticker (Yahoo spelling)")
        ticker.fill("ZZZZQ")
        page.get_by_role("button", name="Load data").click()
        wait_for_text(page, r"Could not reach Yahoo Finance|did not answer|no daily prices")
        assert "bundled samples" in page.inner_text("body")
        check(page)
        shot(page, shots / "06-offline-ticker.png", '[data-testid="stAlert"]')

        # a malformed CSV upload
        page.get_by_text("CSV upload", exact=True).click()
        settle(page)
        bad = tmp_path / "bad.csv"
        bad.write_text("when,what\nyesterday,up\n")
        page.locator('input[type="file"]').first.set_input_files(str(bad))
        settle(page)
        page.get_by_role("button", name="Load data").click()
        wait_for_text(page, r"missing the column\(s\)")
        check(page)
        assert page.locator(".js-plotly-plot").count() >= 1  # the AAPL chart is still there
        wait_for_text(page, r"Still using AAPL")  # no old notes under the new file's error

        # a real download, 2013-2017: loaded with its own dates, none cut to a default range
        good = tmp_path / "googl_2013_2018.csv"
        days = [
            d for d in (date(2013, 1, 2) + timedelta(n) for n in range(1824)) if d.weekday() < 5
        ]
        rows = [
            f"{d},{100 + i % 9},{101 + i % 9},{99 + i % 9},{100 + i % 9},1,{1000 + i}"
            for i, d in enumerate(days)
        ]
        good.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(rows) + "\n")
        page.locator('input[type="file"]').first.set_input_files(str(good))
        settle(page)
        page.get_by_role("button", name="Load data").click()
        wait_for_text(page, rf"First date\s+{days[0]}")
        wait_for_text(page, rf"Last date\s+{days[-1]}")
        check(page)
        # named by its file, in the sidebar and in sentences: never "CSV"
        assert "GOOGL-2013-2018" in page.locator('[data-testid="stSidebar"]').inner_text()
        go(page, "Relationships", "Relationships")
        wait_for_text(page, r"holds one series \(GOOGL-2013-2018\)")

        # a window longer than the data
        go(page, "Train", "Train")
        set_number(page, "Window (lookback days)", 4000)
        page.get_by_role("button", name="Start training").click()
        wait_for_text(page, r"too few for a window of 4000")
        check(page)
        assert RunStore(workspace).runs() == []

        # still usable: back to Data, the chart renders, the source still the file's
        go(page, "Data", "Data")
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        check(page)
        assert page.get_by_role("radio", name="CSV upload").is_checked()
