"""Fuzz target of sizing.cap: n new positions, score-weighted, whose top position's
proportional share is `max_single_position_size` x (1 + delta), delta at -epsilon, 0 and
+epsilon (the first pass's boundary), or whose runner-up's share once the leader is capped
is (the second pass's: what is left is shared again and may lift another position over
the cap); the opens' target weights must be the two-stage cap of behaviour.md section 5
(`oracles.capped_weights`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from hypothesis import strategies as st

from sim.fuzz import oracles
from sim.fuzz.documents import MONDAY, document, signal
from sim.fuzz.evidence import Evidence
from sim.fuzz.target import Mismatch, Target

TICKERS = ("SA", "SB", "SC", "SD", "SE", "SF")
TARGET = 0.95
"""target_total_allocation (the default)."""
TOLERANCE = 1e-9
MIN_SCORE = 0.66
"""The lowest score drawn: above min_score_new_position (0.65) with room for epsilon."""
_DAY = dt.timedelta(days=1)


LEADER = 1.0
"""The leader's score in a second-pass case (capped in the first pass)."""


@attrs.frozen
class CapCase:
    """`count` assets open on the first day. Pass 1: `top` scores the most, the others
    equally what puts the top's share of `target_total_allocation` at the cap x
    (1 + `delta`). Pass 2: a leader scores `LEADER`, `top` is the runner-up and the others
    score equally what puts the runner-up's share of what the capped leader leaves at the
    cap x (1 + `delta`)."""

    count: int
    cap: float
    top: float
    delta: float
    weekday: int
    stage: int = 1

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def others(self) -> float:
        share = self.cap * (1 + self.delta)
        if self.stage == 1:
            return self.top * (TARGET - share) / (share * (self.count - 1))
        return self.top * ((TARGET - self.cap) / share - 1) / (self.count - 2)

    @property
    def scores(self) -> list[float]:
        if self.stage == 1:
            return [self.top, *[self.others] * (self.count - 1)]
        return [LEADER, self.top, *[self.others] * (self.count - 2)]


def _viable(case: CapCase) -> bool:
    if case.stage == 2 and (case.count < 3 or case.top >= LEADER):
        return False
    if case.count * case.cap < TARGET + 0.01 or not MIN_SCORE <= case.others <= case.top:
        return False
    return case.stage == 1 or TARGET * LEADER / sum(case.scores) > case.cap * (1 + 1e-3)


def _cases() -> st.SearchStrategy[CapCase]:
    return st.builds(
        CapCase,
        count=st.integers(2, 6),
        cap=st.one_of(st.sampled_from((0.2, 0.25, 0.3)), st.floats(0.17, 0.5)),
        top=st.one_of(st.sampled_from((0.9, 0.95, 1.0)), st.floats(0.7, 1.0)),
        delta=st.sampled_from((-1e-6, 0.0, 1e-6)),
        weekday=st.integers(0, 4),
        stage=st.sampled_from((1, 2)),
    ).filter(_viable)


def _document(case: CapCase) -> dict[str, Any]:
    assets = TICKERS[: case.count]
    return document(
        f"fuzz-sizing-cap-p{case.stage}-n{case.count}-w{case.weekday}",
        description=(
            f"{case.count} assets open together, score-weighted, max_single_position_size"
            f" {case.cap!r}: in pass {case.stage} of the cap the share of the"
            f" {'top one' if case.stage == 1 else 'runner-up'} is the cap x (1 + {case.delta!r});"
            " the target weights are the two-stage cap of behaviour.md section 5."
        ),
        start=case.start,
        days=2,
        buckets={"Risk Assets": list(assets)},
        config={
            "position_size_scaling": "score_weighted",
            "max_single_position_size": case.cap,
            "base_position_size": min(0.1, case.cap),
            "volatility_position_scaling": False,
            "max_new_positions": case.count,
        },
        scores=[signal(a, case.start, s) for a, s in zip(assets, case.scores, strict=True)],
        trending=[signal(a, case.start, 0.9) for a in assets],
    )


def _check(case: CapCase, ev: Evidence) -> list[Mismatch]:
    day = case.start
    expected = oracles.capped_weights(case.scores, case.cap, TARGET)
    out: list[Mismatch] = []
    for asset, want in zip(TICKERS, expected, strict=False):
        opens = [d for d in ev.decisions_of(asset, frozenset({"open"})) if d.date == day]
        got = opens[0].to_weight if opens else None
        if got is not None and abs(got - want) <= TOLERANCE:
            continue
        sql = (
            "SELECT date, asset, json_extract(payload, '$.to_weight') AS to_weight FROM messages"
            f" WHERE kind = 'proposal' AND asset = '{asset}' AND date = '{day}'"
            " AND json_extract(payload, '$.action') = 'open'"
            f" AND ABS(json_extract(payload, '$.to_weight') - {want!r}) > {TOLERANCE}"
        )
        out.append(
            Mismatch(
                day,
                f"target weight of the open of {asset}, cap {case.cap!r}",
                f"{want:.9f}",
                "no open" if got is None else f"{got:.9f}",
                {
                    "sql": {
                        "label": f"{asset} opens at the two-stage cap's {want:.9f}",
                        "query": sql,
                    }
                },
            )
        )
    return out


CAP = Target(
    rule="sizing.cap",
    boundary="a position's proportional share: capped iff above max_single_position_size",
    cases=_cases,
    examples=(
        *(CapCase(5, 0.2, 0.95, d, 0) for d in (-1e-6, 0.0, 1e-6)),
        *(CapCase(5, 0.2, 0.9, d, 2, stage=2) for d in (-1e-6, 0.0, 1e-6)),
    ),
    build=_document,
    check=_check,
)
