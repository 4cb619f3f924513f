"""What a setting is: its Spec (label, default, choices, limits, help), the `setting(...)`
field that carries one, and the Settings base class of every settings dataclass.

The settings dataclasses themselves live with what they configure: the runs' in
core/config.py, each model family's own in its module under core/models/. The CLI makes a
flag and the pages a widget from every Spec, and `check_bounds` refuses the same
out-of-range values everywhere.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from core.errors import UserError


@dataclass(frozen=True)
class Spec:
    """What a page widget and a CLI flag need to know about one setting."""

    name: str
    label: str
    default: Any
    help: str = ""
    choices: dict[str, str] | None = None
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    unit: str = ""


def setting(default, label: str, help: str = "", **limits) -> Any:
    """A dataclass field carrying its Spec (choices, lo, hi, step, unit) as metadata."""
    kind = {"default_factory": default} if callable(default) else {"default": default}
    return field(**kind, metadata={"label": label, "help": help, **limits})


class Settings:
    """Settings saved with a run as JSON; unknown keys (from older runs) are ignored."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def __getitem__(self, name: str):
        """Read a setting by name, as run.json spells it (config["window"])."""
        return getattr(self, name)

    @classmethod
    def specs(cls) -> list[Spec]:
        out = []
        for f in fields(cls):
            if f.metadata.get("nested"):  # a settings object of its own (a model's knobs)
                continue
            default = f.default_factory() if f.default is MISSING else f.default
            meta = dict(f.metadata)
            out.append(Spec(f.name, meta.pop("label", f.name), default, **meta))
        return out

    @classmethod
    def spec(cls, name: str) -> Spec:
        return next(s for s in cls.specs() if s.name == name)

    def check_bounds(self) -> None:
        """Refuse a value outside its field's choices or limits, naming the limits (and
        those of the settings held inside, such as a model's own)."""
        for f in fields(self):
            if f.metadata.get("nested"):
                getattr(self, f.name).check_bounds()
        for s in self.specs():
            value = getattr(self, s.name)
            if s.choices is not None and value not in s.choices:
                raise UserError(
                    f"Unknown {s.name} '{value}'; choose one of {', '.join(s.choices)}."
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise UserError(f"{s.label} must be a finite number; {value} is not.")
            lo = -float("inf") if s.lo is None else s.lo
            hi = float("inf") if s.hi is None else s.hi
            if isinstance(value, (int, float)) and not lo <= value <= hi:
                if s.hi is None:
                    raise UserError(
                        f"{s.label} must be at least {s.lo}{s.unit}; {value} is too small."
                    )
                raise UserError(
                    f"{s.label} must be between {s.lo} and {s.hi}{s.unit}; "
                    f"{value} is outside {s.lo} to {s.hi}."
                )
