"""How the dashboard feels, measured in Chromium against `make run` on this machine.

Each number is printed beside its reference measured in the same run: rerun time beside a
trivial one-toggle Streamlit app (Streamlit's own floor here) and while a job trains; the
first loss point (with the warm worker) beside a bare `import tensorflow`. The cold start
without the warm worker is compared in bench_training.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import chromium_page, streamlit_server

med = statistics.median


def timed(action, done) -> float:
    began = time.monotonic()
    action()
    done()
    return time.monotonic() - began


def toggle_reruns(page, n: int = 12) -> list[float]:
    toggle = page.get_by_text("Multivariate: add other columns as inputs")
    extra = page.get_by_text("Extra input columns")
    out = []
    for i in range(n):
        state = "visible" if i % 2 == 0 else "hidden"
        out.append(timed(toggle.click, lambda state=state: extra.wait_for(state=state)))
    return out


def start_and_wait_for_loss(page, epochs: int) -> float:
    page.get_by_label("Epochs", exact=True).fill(str(epochs))
    page.get_by_label("Epochs", exact=True).press("Enter")
    page.wait_for_timeout(500)
    return timed(
        lambda: page.get_by_role("button", name="Start training").click(),
        lambda: page.locator(".js-plotly-plot").first.wait_for(timeout=120_000),
    )


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    with (
        streamlit_server(
            tmp / "base-ws", tmp / "base.log", script="benchmarks/baseline_app.py"
        ) as base,
        chromium_page(tmp / "b1") as page,
    ):
        page.goto(base.url)
        page.get_by_text("Multivariate: add other columns as inputs").wait_for(timeout=60_000)
        baseline = toggle_reruns(page)

    began = time.monotonic()
    with (
        streamlit_server(tmp / "ws", tmp / "server.log", via_make=True) as server,
        chromium_page(tmp / "b2") as page,
    ):
        page.goto(server.url)
        page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
        first_chart = time.monotonic() - began
        page.wait_for_timeout(8000)  # let the warm worker finish importing TensorFlow

        nav = page.locator('[data-testid="stSidebarNav"]')
        to_train, to_data = [], []
        for _ in range(3):
            to_train.append(
                timed(
                    lambda: nav.get_by_role("link", name="Train").click(),
                    lambda: page.get_by_role("button", name="Start training").wait_for(),
                )
            )
            to_data.append(
                timed(
                    lambda: nav.get_by_role("link", name="Data").click(),
                    lambda: page.locator(".js-plotly-plot").nth(1).wait_for(),
                )
            )
        nav.get_by_role("link", name="Train").click()
        page.get_by_role("button", name="Start training").wait_for()

        idle = toggle_reruns(page)
        warm_first_loss = start_and_wait_for_loss(page, 300)
        busy = toggle_reruns(page)
        page.get_by_role("button", name="Stop").click()
        tf_in_server = server.loaded_tensorflow()

    began = time.monotonic()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True)
    tf_import = time.monotonic() - began
    print(__doc__.strip().splitlines()[0])
    print(f"make run -> first chart (warm .venv):       {first_chart:6.2f} s")
    print(f"page switch Data -> Train (median of 3):   {med(to_train):6.2f} s")
    print(f"page switch Train -> Data, 2 charts drawn: {med(to_data):6.2f} s")
    print(f"rerun, trivial Streamlit app (floor):      {med(baseline):6.2f} s")
    print(
        f"rerun, Train page idle:                    {med(idle):6.2f} s   page/floor = {med(idle) / med(baseline):.2f}"
    )
    print(
        f"rerun, Train page while a job trains:      {med(busy):6.2f} s   busy/idle = {med(busy) / med(idle):.2f}"
    )
    print(f"bare `import tensorflow`:                  {tf_import:6.2f} s")
    print(
        f"Train click -> first loss point, warm:     {warm_first_loss:6.2f} s   warm/import = {warm_first_loss / tf_import:.2f}"
    )
    print(f"TensorFlow loaded in the Streamlit process: {tf_in_server}")


if __name__ == "__main__":
    main()
