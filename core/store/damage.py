"""Which saved runs are damaged, and why, so that one bad folder never takes the rest down.

A run folder is damaged when its run.json cannot be read, when a table it needs is missing
or is not a readable Parquet file, or when its model file is missing or not a complete
Keras archive (a zip). The checks read footers and directories only, so listing stays
fast; a model that is a complete zip but still does not load is reported when loaded.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

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


def run_damage(path: Path) -> str:
    """Why this run folder cannot be used, in one phrase; "" when it is whole."""
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
            pq.read_metadata(found[0])
        except Exception:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
            return f"{found[0].name} is damaged (not a readable Parquet file)"
    arrays = path / "arrays.npz"  # optional (older runs have none), but whole when there
    if arrays.exists() and not zipfile.is_zipfile(arrays):
        return "arrays.npz is damaged (not a complete NumPy archive)"
    model = path / "model.keras"
    if not model.is_file():
        return "model.keras is missing"
    if not zipfile.is_zipfile(model):
        return "model.keras is damaged (not a complete Keras archive)"
    return ""
