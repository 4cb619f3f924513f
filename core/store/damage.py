"""Which saved runs are damaged, and why, so that one bad folder never takes the rest down.

A run folder is damaged when its run.json cannot be read, when a table it needs is missing
or does not read whole as Parquet, when its arrays do not read whole (every array of the
archive, its checksums verified), or when its model file is missing or not a complete Keras
archive (a zip). The tables and arrays are read in full once per version of the files (a
cache keyed by their sizes and modification times), so a bit flipped inside a page is found
by the listing, not by the page that opens the run; a model that is a complete zip but
still does not load is reported when loaded.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from core.kinds import KINDS
from core.store.migrate import table_files

META = "run.json"


def needs(kind: str) -> list[tuple[str, ...]]:
    """The files every run of a kind holds (its kind's declaration), each under any name a
    version gave it."""
    return [
        table_files(name.removesuffix(".parquet")) if name.endswith(".parquet") else (name,)
        for name in KINDS[kind].files
    ]


_CHECKED: dict[tuple, str] = {}  # (folder, its files' sizes and times) -> the verdict


def run_damage(path: Path) -> str:
    """Why this run folder cannot be used, in one phrase; "" when it is whole."""
    try:
        stamp = (str(path),) + tuple(
            (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.iterdir())
        )
    except OSError:
        stamp = None
    if stamp is not None and stamp in _CHECKED:
        return _CHECKED[stamp]
    why = _damage(path)
    if stamp is not None:
        _CHECKED[stamp] = why
    return why


def _damage(path: Path) -> str:
    try:
        meta = json.loads((path / META).read_text())
        kind = meta["kind"]
    except FileNotFoundError:
        return "run.json is missing"
    except (OSError, ValueError, TypeError, KeyError):
        return "run.json is truncated or unreadable"
    if not isinstance(kind, str) or kind not in KINDS:
        return f"run.json's kind {kind!r} is not one LagLens knows"
    for choices in needs(kind):
        found = [path / name for name in choices if (path / name).is_file()]
        if not found:
            return f"{choices[0]} is missing"
        try:
            pq.read_table(found[0])
        except Exception:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
            return f"{found[0].name} is damaged (not a readable Parquet file)"
    arrays = path / "arrays.npz"  # optional (older runs have none), but whole when there
    if arrays.exists():
        if not zipfile.is_zipfile(arrays):
            return "arrays.npz is damaged (not a complete NumPy archive)"
        try:
            with np.load(arrays, allow_pickle=False) as data:
                for key in data.files:
                    data[key]  # noqa: B018 - reading every array verifies its checksum
        except Exception:  # noqa: BLE001 - zipfile, zlib and NumPy raise several kinds
            return "arrays.npz is damaged (an array does not read whole)"
    model = path / "model.keras"
    if not model.is_file():
        return "model.keras is missing"
    if not zipfile.is_zipfile(model):
        return "model.keras is damaged (not a complete Keras archive)"
    return ""
