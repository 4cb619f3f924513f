"""Who acts: the person a run, job or sweep belongs to, and who may change what.

Without sign-in (one person's laptop) every run belongs to SINGLE_USER. Signed in, a person
is named by their e-mail address (st.user on the pages; `--user` or $LAGLENS_USER in the
CLI). Instructors, named in $LAGLENS_INSTRUCTORS (comma-separated addresses), may delete or
rename any run and cancel any job. Everyone may read every run: a class learns from each
other. The store checks these rules itself, so a hidden button is never the only guard.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.errors import UserError

SINGLE_USER = "local"  # the one implicit owner when nobody signs in


def instructors() -> set[str]:
    """The instructors' names, from $LAGLENS_INSTRUCTORS (the one place they are set)."""
    raw = os.environ.get("LAGLENS_INSTRUCTORS", "")
    return {name.strip().lower() for name in raw.split(",") if name.strip()}


@dataclass(frozen=True)
class Person:
    name: str = SINGLE_USER

    @property
    def instructor(self) -> bool:
        return self.name.lower() in instructors()

    def check_may_change(self, owner: str, what: str) -> None:
        """Refuse, with the reason, to change what `owner` owns (unless it is theirs, or
        they teach the class)."""
        if owner == self.name or self.instructor:
            return
        raise UserError(
            f"{what} belongs to {owner}: only {owner} or an instructor can change it. "
            "You can read it, and train your own."
        )


SOLO = Person()  # the single user: every run's owner when nobody signs in


def person_named(name: str | None) -> Person:
    """The person a name stands for: the single user when none is given."""
    name = (name or "").strip()
    return Person(name or SINGLE_USER)


def cli_person(flag: str | None = None) -> Person:
    """The CLI's person: --user, else $LAGLENS_USER, else the single user."""
    return person_named(flag or os.environ.get("LAGLENS_USER"))
