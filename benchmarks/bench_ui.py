"""How the dashboard feels, measured in Chromium against `make run` on this machine.

Prints: `make run` to the first chart; page switch time; rerun time (a toggle that shows a
widget) idle and while a job trains, as a ratio; first Train click to the first loss point
beside a bare `import tensorflow` (the worker's unavoidable start-up). Needs chromium.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import chromium_page, streamlit_server

ROOT = Path(__file__).resolve().parents[1]


def timed(action, done) -> float:
    began = time.monotonic()
    action()
    done()
    return time.monotonic() - began


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    began = time.monotonic()
    with (
        streamlit_server(tmp / "ws", tmp / "server.log", via_make=True) as server,
        chromium_page(tmp) as page,
    ):
        page.goto(server.url)
        page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
        first_chart = time.monotonic() - began

        nav = page.locator('[data-testid="stSidebarNav"]')
        switches = []
        for _ in range(3):
            switches.append(
                timed(
                    lambda: nav.get_by_role("link", name="Train").click(),
                    lambda: page.get_by_role("button", name="Start training").wait_for(),
                )
            )
            switches.append(
                timed(
                    lambda: nav.get_by_role("link", name="Data").click(),
                    lambda: page.locator(".js-plotly-plot").first.wait_for(),
                )
            )
        nav.get_by_role("link", name="Train").click()
        page.get_by_role("button", name="Start training").wait_for()

        toggle = page.get_by_text("Multivariate: add other columns as inputs")
        extra = page.get_by_text("Extra input columns")

        def rerun_times(n=6):
            out = []
            for i in range(n):
                state = "visible" if i % 2 == 0 else "hidden"
                out.append(timed(toggle.click, lambda state=state: extra.wait_for(state=state)))
            return out

        idle = rerun_times()
        page.get_by_label("Epochs", exact=True).fill("300")
        page.get_by_label("Epochs", exact=True).press("Enter")
        page.wait_for_timeout(500)
        first_loss = timed(
            lambda: page.get_by_role("button", name="Start training").click(),
            lambda: page.locator(".js-plotly-plot").first.wait_for(timeout=120_000),
        )
        busy = rerun_times()
        page.get_by_role("button", name="Stop").click()
        tf_in_server = server.loaded_tensorflow()

    began = time.monotonic()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True)
    tf_import = time.monotonic() - began
    med = statistics.median
    print(__doc__.strip().splitlines()[0])
    print(f"make run -> first chart (warm .venv):        {first_chart:6.2f} s")
    print(f"page switch (median of {len(switches)}):               {med(switches):6.2f} s")
    print(f"rerun, idle (median of {len(idle)}):                {med(idle):6.2f} s")
    print(
        f"rerun while a job trains (median of {len(busy)}):   {med(busy):6.2f} s   busy/idle = {med(busy) / med(idle):.2f}"
    )
    print(
        f"first Train click -> first loss point:       {first_loss:6.2f} s   vs bare `import tensorflow` "
        f"{tf_import:.2f} s (ratio {first_loss / tf_import:.2f})"
    )
    print(f"TensorFlow loaded in the Streamlit process:  {tf_in_server}")


if __name__ == "__main__":
    main()
