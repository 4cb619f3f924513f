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
                if "core.worker" in (proc / "cmdline").read_text():
                    continue
                maps = (proc / "maps").read_text()
            except (OSError, ProcessLookupError):
                continue
            if "libtensorflow" in maps or "_pywrap_tensorflow" in maps:
                return True
        return False


@contextmanager
def streamlit_server(
    workspace: Path, log_path: Path, via_make: bool = False, script: str = "app.py"
):
    """Start the app on a free port (through `make run` itself if via_make); yield
    Server(url, pid); stop the whole process group afterwards."""
    port = free_port()
    env = {**os.environ, "LAGLENS_WORKSPACE": str(workspace), "LAGLENS_WARM_WORKER": "1"}
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
def chromium_page(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chrome-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
