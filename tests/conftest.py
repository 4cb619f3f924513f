"""Shared fixtures: every test gets its own workspace; nothing touches the network."""

import inspect
import os
import re
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch) -> Path:
    """A fresh LAGLENS_WORKSPACE per test, so tests never see each other's files."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("LAGLENS_WORKSPACE", str(ws))
    # In-process AppTests would each keep an idle TensorFlow worker; the browser tests
    # start real servers with it on, as users have it.
    monkeypatch.setenv("LAGLENS_WARM_WORKER", "0")
    monkeypatch.chdir(ROOT)
    return ws


def network_reaches_yahoo() -> bool:
    try:
        socket.getaddrinfo("query1.finance.yahoo.com", 443)
    except OSError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The app's default backend is JAX. This test process imports Keras on TensorFlow and trains
# in-process, and Keras cannot switch backends in a process, so the suite's own runs (and the
# CLI and servers it starts, which inherit this) use TensorFlow; the JAX default is tested in
# subprocesses without this variable (tests/test_backends.py).
os.environ.setdefault("LAGLENS_BACKEND", "tensorflow")


# ------------------------------------------------------------------ the tiers
# unit: no model trained, no process started (make test-fast); integration: trains a model,
# starts a worker, a CLI process or Ray; browser: Chromium. A test is integration when its
# source, its fixtures' or that of any test helper it calls (at any depth) does one of these;
# `@pytest.mark.integration` says so by hand where the source cannot show it.
BROWSER_FILES = {"test_browser.py", "test_walkthrough.py"}
INTEGRATION = re.compile(
    r"train_forecaster|train_anomaly_detector|run_cli\(|JobManager\(|subprocess|import ray|"
    r"run_sweep|launch_sweep|backtest\(|build_forecaster|build_autoencoder|RUN_KINDS\[|repredict|"
    r"\"(Start training|Train autoencoder|Train the set[^\"]*|Resume the sweep|Resume training)\"|"
    r"build_seed_set|submit_pair_set|\.fit\(|\.predict\(|tf_windows|fit_model|run_trial|"
    r"keras|tensorflow|jax"
)


def _source(function) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def _heavy(function, seen: set) -> bool:
    """Whether `function` (a test, fixture or helper) does integration work, following the
    test helpers and local functions it names."""
    if function in seen:
        return False
    seen.add(function)
    text = _source(function)
    if INTEGRATION.search(text):
        return True
    names = set(re.findall(r"\b([A-Za-z_]\w*)\b", text))
    scope = getattr(function, "__globals__", {})
    for name in names:
        helper = scope.get(name)
        module = getattr(helper, "__module__", "") or ""
        if inspect.isfunction(helper) and module.startswith("tests") and _heavy(helper, seen):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in BROWSER_FILES or "chromium_page(" in _source(item.function):
            item.add_marker(pytest.mark.browser)  # a browser file, or a test that opens one
            continue
        if item.get_closest_marker("integration"):
            continue
        functions = [item.function] + [
            defs[-1].func
            for name, defs in item._fixtureinfo.name2fixturedefs.items()
            if defs and getattr(defs[-1].func, "__module__", "").startswith("tests")
        ]
        seen: set = set()
        heavy = any(_heavy(f, seen) for f in functions)
        item.add_marker(pytest.mark.integration if heavy else pytest.mark.unit)
