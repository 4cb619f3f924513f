"""A real `streamlit run` server on a loopback port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.conftest import ROOT, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class Server(NamedTuple):
    url: str
    pid: int

    def loaded_tensorflow(self) -> bool:
        """Whether a process of the server's group other than a training worker (the streamlit
        server itself, also when started through make) has TensorFlow's library mapped."""
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.getpgid(int(proc.name)) != self.pid:
                    continue
                if "core.jobs.worker" in (proc / "cmdline").read_text():
                    continue
                maps = (proc / "maps").read_text()
            except (OSError, ProcessLookupError):
                continue
            if "libtensorflow" in maps or "_pywrap_tensorflow" in maps:
                return True
        return False


@contextmanager
def streamlit_server(
    workspace: Path,
    log_path: Path,
    via_make: bool = False,
    script: str = "app.py",
    options: tuple[str, ...] = (),
    env: dict | None = None,
    port: int | None = None,
):
    """Start the app on a free port (through `make run` itself if via_make); yield
    Server(url, pid); stop the whole process group afterwards. `options`: more
    `streamlit run` flags (--secrets.files ...); `env`: more environment."""
    port = port or free_port()
    env = {
        **os.environ,
        "LAGLENS_WORKSPACE": str(workspace),
        "LAGLENS_WARM_WORKER": "1",
        **(env or {}),
    }
    if via_make:
        command = ["make", "-s", "run", f"PORT={port}"]
    else:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            *options,
        ]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield Server(url, proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def chromium_page(tmp_path: Path, extra_args: tuple[str, ...] = ()):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chrome-profile"),
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, *extra_args],
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


# A page has settled when Streamlit is idle (no "Running" status, no stale element, no
# skeleton), every Plotly chart has drawn, and the browser's main thread is free: it stays
# so for QUIET_MS of animation frames none more than FRAME_GAP_MS apart (a busy main thread,
# parsing or drawing a big chart, shows as a long gap between frames, never as quiet).
QUIET_MS = 300
FRAME_GAP_MS = 100
_SETTLED_JS = """
async ([heading, quiet, gap]) => {
  const idle = () => {
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    if (document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')) return false;
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
      if (!plot.querySelector('.main-svg')) return false;
    }
    if (!heading) return true;
    return [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === heading);
  };
  let since = null, previous = performance.now();
  for (;;) {
    await new Promise(r => requestAnimationFrame(r));
    const now = performance.now();
    const smooth = now - previous <= gap;
    previous = now;
    if (!smooth || !idle()) { since = null; continue; }
    if (since === null) since = now;
    if (now - since >= quiet) return since;
  }
}
"""


def settle_seconds(page, action, heading: str | None = None, ready=None) -> float:
    """Seconds from `action()` until the page has settled (see _SETTLED_JS), optionally on a
    page titled `heading`, after `ready()` (a wait for the element that shows the action took
    effect) returns. The quiet period itself is not counted."""
    began = page.evaluate("performance.now()")
    action()
    page.wait_for_timeout(50)  # let Streamlit receive the rerun before judging idleness
    if ready is not None:
        ready()
    settled = page.evaluate(_SETTLED_JS, [heading, QUIET_MS, FRAME_GAP_MS])
    return (settled - began) / 1000
