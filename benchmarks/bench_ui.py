"""How the dashboard feels, measured in Chromium against `make run` on this machine.

Every number is printed beside its reference measured in the same run: each page's settle
time (click in the sidebar -> Streamlit idle and every chart drawn) and a slider move beside
the rerun of a trivial one-toggle Streamlit app (Streamlit's own floor here); the Train
page's rerun while a job trains beside the same page idle; the first loss point (warm
worker) beside a bare `import tensorflow`; and a long CSV (8,000 days, as MSFT 1986-2017)
uploaded on the Data page, from Load data until every chart and the stationarity table are
drawn (goal: 3 s on a quiet machine), beside the same floor; and a fresh browser session
(a new profile: nothing cached) on the warm server, to its first chart drawn (goal 4 s),
beside the same on a one-chart app (the floor: Streamlit's Plotly bundle fetched and parsed).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import chromium_page, settle_seconds, streamlit_server

med = statistics.median
PAGES = ["Data", "Relationships", "Train", "Predictions", "Anomalies", "Experiments"]
VISITS = 3
TOGGLE = "Multivariate: add other columns as inputs"
# What each page draws last: its settle time counts until that is on screen too.
LAST = {
    "Data": lambda page: page.locator(".js-plotly-plot").nth(1).locator(".main-svg").first,
    "Relationships": lambda page: page.get_by_text("Add series on the Data page"),
    "Train": lambda page: page.locator('[data-testid="stDataFrame"]:visible').first,
    "Predictions": lambda page: page.get_by_role("button", name="Download metrics (CSV)"),
    "Anomalies": lambda page: page.get_by_role("button", name="Download anomalous days (CSV)"),
    "Experiments": lambda page: page.get_by_text("No sweeps yet"),
}


def toggle_reruns(page, n: int = 8) -> list[float]:
    toggle, extra = page.get_by_text(TOGGLE), page.get_by_text("Extra input columns")
    out = []
    for i in range(n):
        state = "visible" if i % 2 == 0 else "hidden"
        out.append(
            settle_seconds(page, toggle.click, ready=lambda s=state: extra.wait_for(state=s))
        )
    return out


def page_visits(page) -> tuple[dict[str, float], dict[str, list[float]]]:
    """(first visit, revisits) settle seconds for every page, visited in turn."""
    nav = page.locator('[data-testid="stSidebarNav"]')
    first, again = {}, {name: [] for name in PAGES}
    for visit in range(VISITS + 1):
        for name in PAGES[1:] + PAGES[:1]:  # the app opened on Data: start elsewhere
            link = nav.get_by_role("link", name=name)
            last = LAST[name](page)
            seconds = settle_seconds(page, link.click, heading=name, ready=last.wait_for)
            if visit == 0:
                first[name] = seconds
            else:
                again[name].append(seconds)
    return first, again


def shift_moves(page, n: int = 6) -> list[float]:
    """The Predictions page's shift slider, one step at a time, right then back."""
    slider = page.get_by_role("slider").first
    legend = page.locator(".js-plotly-plot").first.locator(".legendtext")
    out = []
    for i in range(n):
        key, text = (
            ("ArrowRight", "prediction shifted +1 d") if i % 2 == 0 else ("ArrowLeft", "prediction")
        )
        slider.focus()
        out.append(
            settle_seconds(
                page,
                lambda k=key: page.keyboard.press(k),
                ready=lambda t=text: legend.filter(has_text=t).first.wait_for(),
            )
        )
    return out


def fresh_sessions(url: str, tmp: Path, heading: str, n: int = 3) -> list[float]:
    """Seconds from opening the address in a new browser profile to the first chart drawn."""
    out = []
    for i in range(n):
        with chromium_page(tmp / f"fresh-{heading}-{i}") as page:
            t0 = time.monotonic()
            page.goto(url)
            page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
            page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
            out.append(time.monotonic() - t0)
    return out


def chart_floor(tmp: Path) -> list[float]:
    """A fresh session's first chart on the one-chart app, its server warmed by one visit."""
    with streamlit_server(
        tmp / "chart-ws", tmp / "chart.log", script="benchmarks/baseline_chart_app.py"
    ) as base:
        fresh_sessions(base.url, tmp, "Baseline", n=1)
        return fresh_sessions(base.url, tmp, "Baseline")


def trivial_floor(tmp: Path) -> float:
    """The median rerun of the trivial one-toggle app: Streamlit's own floor here."""
    with (
        streamlit_server(
            tmp / "base-ws", tmp / "base.log", script="benchmarks/baseline_app.py"
        ) as base,
        chromium_page(tmp / "b1") as page,
    ):
        page.goto(base.url)
        page.get_by_text(TOGGLE).wait_for(timeout=60_000)
        return med(toggle_reruns(page))


def long_csv(folder: Path, days: int = 8000) -> Path:
    """A download-sized CSV: `days` trading days of a random walk from 1986."""
    import numpy as np
    import pandas as pd

    index = pd.bdate_range("1986-03-13", periods=days)
    price = 20 * np.exp(np.cumsum(np.random.default_rng(0).normal(0.0004, 0.02, days)))
    frame = pd.DataFrame(
        {"Open": price, "High": price * 1.01, "Low": price * 0.99, "Close": price},
        index=pd.Index(index, name="Date"),
    )
    frame["Adj Close"], frame["Volume"] = price, 1_000_000
    path = folder / "msft_1986_2017.csv"
    frame.round(4).to_csv(path)
    return path


def long_csv_settles(page, path: Path, n: int = 3) -> list[float]:
    """Seconds from Load data until the Data page has drawn a long CSV's charts and table
    (n times, each a fresh upload: the page's caches cleared by a new file's content)."""
    out = []
    for i in range(n):
        page.get_by_text("CSV upload", exact=True).click()
        page.wait_for_timeout(500)
        text = path.read_text().replace(",1000000\n", f",{1_000_000 + i}\n")  # new content
        copy = path.with_name(f"msft_1986_2017_{i}.csv")
        copy.write_text(text)
        page.locator('input[type="file"]').first.set_input_files(str(copy))
        page.wait_for_timeout(500)
        button = page.get_by_role("button", name="Load data")
        table = page.get_by_text("The price is", exact=False)
        out.append(
            settle_seconds(
                page,
                button.click,
                ready=lambda t=table: (
                    page.get_by_text("8,000", exact=True).first.wait_for(timeout=120_000),
                    t.first.wait_for(timeout=120_000),
                ),
            )
        )
    return out


def make_runs(workspace: Path) -> None:
    """A raw and a differenced LSTM and an autoencoder on the full AAPL sample, so every page
    has something to draw."""
    common = ["--sample", "AAPL", "--workspace", str(workspace), "--epochs", "2"]
    for args in (
        ["train", "--window", "20", "--units", "16"],
        ["train", "--window", "20", "--units", "16", "--transform", "diff"],
        ["anomalies", "--window", "20"],
    ):
        subprocess.run(
            [sys.executable, "-m", "core.cli", *args, *common], check=True, capture_output=True
        )


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    make_runs(tmp / "ws")
    floor = trivial_floor(tmp)
    fresh_floor = chart_floor(tmp)

    began = time.monotonic()
    with streamlit_server(tmp / "ws", tmp / "server.log", via_make=True) as server:
        with chromium_page(tmp / "b2") as page:
            page.goto(server.url)
            page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
            first_chart = time.monotonic() - began
            page.wait_for_timeout(8000)  # let the warm worker finish importing TensorFlow
            first, again = page_visits(page)
            nav = page.locator('[data-testid="stSidebarNav"]')
            settle_seconds(
                page, nav.get_by_role("link", name="Predictions").click, heading="Predictions"
            )
            moves = shift_moves(page)
            settle_seconds(page, nav.get_by_role("link", name="Train").click, heading="Train")
            idle = toggle_reruns(page)
            epochs = page.get_by_label("Epochs", exact=True)
            epochs.fill("300")
            epochs.press("Enter")
            page.wait_for_timeout(500)
            t0 = time.monotonic()
            page.get_by_role("button", name="Start training").click()
            first_epoch = re.compile(r"^[1-9][0-9]*/300$")
            page.locator('[data-testid="stMetricValue"]', has_text=first_epoch).wait_for(
                timeout=120_000
            )
            warm_first_loss = time.monotonic() - t0
            busy = toggle_reruns(page)
            page.get_by_role("button", name="Stop").click()
            tf_in_server = server.loaded_tensorflow()
            settle_seconds(page, nav.get_by_role("link", name="Data").click, heading="Data")
            page.wait_for_timeout(3000)  # the stopped run saved: a quiet machine again
            long_loads = long_csv_settles(page, long_csv(tmp))
            page.wait_for_timeout(3000)
        fresh = fresh_sessions(server.url, tmp, "Data")  # new profiles, the server warm

    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True)
    tf_import = time.monotonic() - t0
    print(__doc__.strip().splitlines()[0])
    print(f"make run -> first chart (warm .venv): {first_chart:6.2f} s")
    print(
        f"fresh browser session -> first chart: {med(fresh):.2f} s (median of {len(fresh)}; "
        f"goal 4 s); one-chart app (floor) {med(fresh_floor):.2f} s, "
        f"ratio {med(fresh) / med(fresh_floor):.2f}"
    )
    print(f"trivial app rerun (floor):            {floor:6.2f} s")
    print(
        f"{'page':<14}{'first visit':>12}{'revisit (median of ' + str(VISITS) + ')':>28}{'revisit/floor':>15}"
    )
    for name in PAGES:
        print(
            f"{name:<14}{first[name]:>10.2f} s{med(again[name]):>26.2f} s{med(again[name]) / floor:>15.2f}"
        )
    print(f"{'shift slider':<14}{'':>12}{med(moves):>26.2f} s{med(moves) / floor:>15.2f}")
    print(
        f"Train page rerun idle: {med(idle):.2f} s, while a job trains: {med(busy):.2f} s (busy/idle {med(busy) / med(idle):.2f})"
    )
    print(
        f"Train click -> first loss point, warm: {warm_first_loss:.2f} s; bare import tensorflow {tf_import:.2f} s (ratio {warm_first_loss / tf_import:.2f})"
    )
    print(f"TensorFlow loaded in the Streamlit process: {tf_in_server}")
    print(
        f"8,000-day CSV: Load data -> charts and stationarity drawn {med(long_loads):.2f} s"
        f" (median of {len(long_loads)}; goal 3 s), {med(long_loads) / floor:.1f} x the floor"
    )


if __name__ == "__main__":
    main()
