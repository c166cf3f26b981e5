"""What a fuzz target is: a boundary rule's example generator and its oracle.

A `Target` places the rule's deciding quantity (days held, cycles in the window, a score)
at the rule's boundary and one step either side: `cases()` is a hypothesis strategy of
small case records (shrinking moves toward the smallest parameters), `boundary` are cases
always run first, `build(case)` is the scenario document of a case and `check(case,
evidence)` compares what the run recorded with the oracle (`sim.fuzz.oracles`), returning
a `Mismatch` for each disagreement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st

from sim.fuzz.evidence import Evidence


@attrs.frozen
class Mismatch:
    """One disagreement between the run and the oracle.

    Attributes:
        date: the simulated day it is about.
        what: the thing decided ("close of H, held 3 days, minimum 3").
        expected: what the oracle says should have happened.
        observed: what the run recorded.
        expect: the scenario `expect` item stating the oracle's outcome (it fails on the
            run that disagreed), for the scenario file written out.
    """

    date: dt.date
    what: str
    expected: str
    observed: str
    expect: Mapping[str, Any]

    def line(self) -> str:
        """`<date> <what>: expected <expected>, observed <observed>`."""
        return f"{self.date} {self.what}: expected {self.expected}, observed {self.observed}"


@attrs.frozen
class Target:
    """The fuzz target of one rule.

    Attributes:
        rule: the catalogue id of the rule (`python run.py rules`).
        boundary: one line: the deciding quantity and where its boundary is.
        cases: a hypothesis strategy of case records.
        examples: cases always run before the generated ones (the boundary at defaults).
        build: case -> scenario document (`sim.fuzz.documents.document`).
        check: (case, evidence) -> the mismatches with the oracle (none: the rule held).
    """

    rule: str
    boundary: str
    cases: Callable[[], st.SearchStrategy[Any]]
    examples: Sequence[Any]
    build: Callable[[Any], dict[str, Any]]
    check: Callable[[Any, Evidence], list[Mismatch]]


def decision_item(
    asset: str, action: str, day: dt.date, *, present: bool, **match: str
) -> dict[str, Any]:
    """An `expect: decision` item: at least one (`present`) or no decision on `asset`
    with `action` on `day` matching `match` (outcome, decided_by)."""
    item: dict[str, Any] = {"asset": asset, "action": action, **match, "between": [day, day]}
    item.update({"min": 1} if present else {"max": 0})
    return {"decision": item}


def notice_item(event: str, asset: str, day: dt.date, *, present: bool) -> dict[str, Any]:
    """An `expect: notice` item: at least one (`present`) or no `event` notice on `asset`
    on `day`."""
    item: dict[str, Any] = {"event": event, "asset": asset, "between": [day, day]}
    item.update({"min": 1} if present else {"max": 0})
    return {"notice": item}


def yes_no(flag: bool, yes: str, no: str) -> str:
    """`yes` or `no`."""
    return yes if flag else no
