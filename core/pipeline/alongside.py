"""A function call run in a fresh Python process while this one keeps working.

A run's baselines need no model, so they can be fitted while the model trains. Not on a
thread: Keras' fit loop and statsmodels' fitting both hold Python's lock for much of their
time, and a thread beside fit slowed both (5 epochs of the default job: fit 6.7 -> 9.5 s,
the baselines 2 -> 4.6 s). Keras at this size leaves the second core mostly idle; a
process of its own runs there. `python -m core.pipeline.alongside FILE` is that process: it reads a
pickled (function, args) from FILE and writes the pickled answer to stdout.

Where a process has one core to itself (a sweep's trial, LAGLENS_ONE_THREAD), the call
runs in place when its answer is asked for; so it does if the process cannot start or dies.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class Alongside:
    """`Alongside(fn, *args)` starts fn(*args) in its own process; `.result()` waits for
    it and returns its value or raises its exception; `.cancel()` (or leaving a `with`
    block without asking) stops it. fn must be a module-level function."""

    def __init__(self, fn: Callable, *args) -> None:
        self.call = (fn, args)
        self.process: subprocess.Popen | None = None
        self.input: Path | None = None
        if os.environ.get("LAGLENS_ONE_THREAD"):
            return
        try:
            handle, name = tempfile.mkstemp(prefix="laglens-alongside-", suffix=".pickle")
            self.input = Path(name)
            with os.fdopen(handle, "wb") as out:
                pickle.dump(self.call, out)
            self.process = subprocess.Popen(
                [sys.executable, "-m", "core.pipeline.alongside", name],
                cwd=ROOT,
                env={**os.environ, **ONE_THREAD},
                stdin=subprocess.DEVNULL,  # not a standby worker's job pipe
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # errors come back pickled; a crash reruns here
            )
        except (OSError, pickle.PicklingError, AttributeError, TypeError):
            self._forget()  # it runs in place when asked

    def result(self):
        fn, args = self.call
        if self.process is None:
            return fn(*args)
        out, _ = self.process.communicate()
        code = self.process.returncode
        self._forget()
        try:
            ok, value = pickle.loads(out) if code == 0 else (None, None)
        except (pickle.UnpicklingError, EOFError, ValueError, AttributeError, ImportError):
            ok = None
        if ok is None:  # the process died (killed, out of memory): do the work here
            return fn(*args)
        if ok:
            return value
        raise value

    def cancel(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        self._forget()

    def _forget(self) -> None:
        self.process = None
        if self.input is not None:
            self.input.unlink(missing_ok=True)
            self.input = None

    def __enter__(self) -> Alongside:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


def _main(path: str) -> None:
    os.nice(10)  # the caller's own work (Keras' threads) goes first when both want a core
    with open(path, "rb") as source:
        fn, args = pickle.load(source)
    os.unlink(path)  # read: nothing is left behind even if the caller is killed
    try:
        answer = (True, fn(*args))
    except Exception as error:  # noqa: BLE001 - handed to the caller, who raises it
        answer = (False, error)
    try:
        blob = pickle.dumps(answer)
    except (pickle.PicklingError, TypeError, AttributeError):  # an exception pickle refuses
        blob = pickle.dumps((False, RuntimeError(repr(answer[1]))))
    sys.stdout.buffer.write(blob)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _main(sys.argv[1])
