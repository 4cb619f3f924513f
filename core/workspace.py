"""The one place that knows where LagLens keeps its files, and how it writes them."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

from core.errors import UserError

DEFAULT_WORKSPACE = Path("workspace")
CHOOSE_ANOTHER = (
    "Choose another folder with LAGLENS_WORKSPACE=/path/to/folder (make run, the app) or "
    "--workspace /path/to/folder (the command line)."
)
_FULL = (errno.ENOSPC, errno.EDQUOT)
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def workspace_dir(override: str | os.PathLike | None = None) -> Path:
    """The workspace root: `override`, else $LAGLENS_WORKSPACE, else ./workspace (created)."""
    root = Path(override or os.environ.get("LAGLENS_WORKSPACE") or DEFAULT_WORKSPACE)
    make_dir(root)
    return root.resolve()


def make_dir(path: Path, writable: bool = False) -> Path:
    """`path`, created if missing; UserError naming the folder when it cannot be created
    (or, with `writable`, cannot be written: a read-only disk, no permission)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(disk_problem(exc, path) or f"Cannot create {path}: {exc}.") from exc
    if writable and not os.access(path, os.W_OK):
        raise UserError(f"The folder {path.resolve()} is not writable. {CHOOSE_ANOTHER}")
    return path


def disk_problem(exc: OSError, where: Path | None = None) -> str | None:
    """What a failed write means for the user (a full disk, a read-only or forbidden
    folder), with what to do; None for any other error."""
    text = str(exc)
    place = Path(where or exc.filename or "the workspace")
    if exc.errno in _FULL or "No space left" in text or "Disk quota" in text:
        return (
            f"The disk is full: could not write {place} (no space left on the device). Free "
            f"some space and try again; saved runs are untouched. {CHOOSE_ANOTHER}"
        )
    if exc.errno in _NOT_WRITABLE or "Read-only file system" in text:
        folder = place if place.is_dir() or not place.suffix else place.parent
        reason = exc.strerror or "not writable"
        return f"The folder {folder} is not writable ({reason}). {CHOOSE_ANOTHER}"
    return None


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
