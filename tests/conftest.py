"""Shared fixtures: every test gets its own workspace; nothing touches the network."""

import os
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
