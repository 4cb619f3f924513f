"""The one place that knows where LagLens keeps its files, and how it writes them."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

DEFAULT_WORKSPACE = Path("workspace")


def workspace_dir(override: str | os.PathLike | None = None) -> Path:
    """The workspace root: `override`, else $LAGLENS_WORKSPACE, else ./workspace (created)."""
    root = Path(override or os.environ.get("LAGLENS_WORKSPACE") or DEFAULT_WORKSPACE)
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temp file + rename, so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: dict) -> None:
    """A JSON object, written atomically (non-finite floats as JSON's NaN / Infinity)."""
    atomic_write_bytes(path, json.dumps(data, default=float).encode())


def read_json(path: Path) -> dict | None:
    """A JSON object from disk; None if it is missing, truncated or not an object."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
