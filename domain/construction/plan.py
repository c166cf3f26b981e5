"""The planner: one rebalance's `Plan`, from inputs to targets with every reason kept."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from domain import rules
from domain.construction.inputs import EPS, Limits, PlanInputs
from domain.construction.selection import Choice, Choices, select
from domain.construction.sizing import ResidualReport, size_positions


def _frozen(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


def _choices(value: Mapping[str, Choice]) -> Mapping[str, Choice]:
    """The plan's `Choices` as they are (built lazily); any other mapping frozen."""
    return value if isinstance(value, Choices) else _frozen(value)


@attrs.frozen
class Plan:
    """One rebalance's plan.

    Attributes:
        targets: asset -> target weight for every asset the plan holds (locked assets at
            their locked weight). A holding not in it is to be closed.
        choices: asset -> why it is in the plan or out of it, for every holding and every
            new candidate.
        overrides: Assets admitted beyond their bucket's limits by a smart override.
        bucket_slots: bucket -> slots (empty with bucket diversification off).
        bucket_scaling: bucket -> factor for every bucket scaled down to
            `max_bucket_allocation`.
        residual: What happened to the residual (cash bucket included).
        limits: The position limits applied.
        drawdown_factor: The drawdown multiplier applied (1.0 when none).
        missing_buckets: Buckets short of `min_buckets_represented` (0 when met).
    """

    targets: Mapping[str, float] = attrs.field(converter=_frozen)
    choices: Mapping[str, Choice] = attrs.field(converter=_choices)
    overrides: tuple[str, ...] = attrs.field(converter=tuple)
    bucket_slots: Mapping[str, int] = attrs.field(converter=_frozen)
    bucket_scaling: Mapping[str, float] = attrs.field(converter=_frozen)
    residual: ResidualReport
    limits: Limits
    drawdown_factor: float = 1.0
    missing_buckets: int = 0

    def column_codes(self, column: Mapping[str, int]) -> list[tuple[int, bool, str]]:
        """(column, selected, reason code) of every choice, in no particular order
        (`Choices.by_column`); `column` maps an asset to its column."""
        if isinstance(self.choices, Choices):
            return self.choices.by_column()
        return [(column[a], c.selected, c.reason) for a, c in self.choices.items()]

    def described(self, asset: str) -> tuple[str, str] | None:
        """(detail, rule id) of the asset's choice (None: not considered), without
        building its `Choice` (`Choices.described`)."""
        if isinstance(self.choices, Choices):
            return self.choices.described(asset)
        choice = self.choices.get(asset)
        return None if choice is None else (choice.detail, choice.rule)

    def components(self, asset: str) -> dict[str, Any]:
        """What the plan says about `asset`, for a proposal's payload.

        Returns:
            ``rank_score``, ``selection`` (the reason code), ``selection_detail``,
            ``bucket_override``, ``bucket_scale``, ``residual_added``, ``cash_bucket``
            (the plan's, same for every asset) and ``drawdown_factor``; the first three
            are None for an asset the plan did not consider. ``rule``: the rule behind
            the trade (the selection rule of an open or close, sizing.cap for a re-size
            of a kept holding; None when not considered); ``rules``: component -> the
            rule that set it, for the components a rule changed.
        """
        choice = self.choices.get(asset)
        bucket = choice.bucket if choice is not None else None
        scale = self.bucket_scaling.get(bucket) if bucket else None
        added = self.residual.added.get(asset)
        cash_bucket, plan_rules = self._plan_wide
        out = {
            "rank_score": None if choice is None else choice.rank_score,
            "selection": None if choice is None else choice.reason,
            "selection_detail": None if choice is None else choice.detail,
            "bucket_override": asset in self.overrides,
            "bucket_scale": 1.0 if scale is None else round(scale, 6),
            "residual_added": 0.0 if added is None else round(added, 6),
            "cash_bucket": cash_bucket,
            "drawdown_factor": self.drawdown_factor,
        }
        resize = choice is not None and choice.held and choice.selected
        out["rule"] = rules.CAP.id if resize else None if choice is None else choice.rule
        out["rules"] = _component_rules(out, choice, plan_rules)
        return out

    @functools.cached_property
    def _plan_wide(self) -> tuple[float, dict[str, str]]:
        """What `components` gives every asset alike: the cash bucket (rounded), and the
        rules of the cash bucket and the drawdown factor when they acted."""
        cash_bucket = round(self.residual.cash_bucket, 6)
        found = {}
        if cash_bucket:
            found["cash_bucket"] = rules.RESIDUAL.id
        if self.drawdown_factor != 1.0:
            found["drawdown_factor"] = rules.DRAWDOWN.id
        return cash_bucket, found


def _component_rules(
    components: Mapping[str, Any], choice: Choice | None, plan_rules: Mapping[str, str]
) -> dict[str, str]:
    """component -> the rule that set it, for every component a rule changed
    (`plan_rules`: those of the plan-wide components, `Plan._plan_wide`)."""
    found: dict[str, str] = {}
    if choice is not None:
        if choice.rule is not None:
            found["selection"] = choice.rule
        if choice.rank_score != choice.score:
            found["rank_score"] = rules.SCORE_DECAY.id
    if components["bucket_scale"] != 1.0:
        found["bucket_scale"] = rules.BUCKET_ALLOCATION.id
    if components["residual_added"]:
        found["residual_added"] = rules.RESIDUAL.id
    found.update(plan_rules)
    return found


def plan_targets(inp: PlanInputs) -> Plan:
    """Plan one rebalance: limits, ranking, selection, sizing (docs/construction.md).

    Args:
        inp: The planner's inputs.

    Returns:
        The plan: targets and the reason for every asset considered.
    """
    limits = inp.stages.dynamic_limits(inp)
    rank = inp.stages.rank_scores(inp)
    selection = select(inp, limits, rank)
    sizing = size_positions(inp, selection.chosen, frozenset(selection.overrides), rank)
    choices = selection.choices.dropping(sizing.dropped)
    targets = {a: float(w) for a, w in sorted(inp.locked.items()) if w > EPS}
    for j, w in sizing.weights.items():
        if w > EPS:
            targets[inp.tickers[j]] = w
    return Plan(
        targets=targets,
        choices=choices,
        overrides=tuple(inp.tickers[j] for j in selection.overrides if j in sizing.weights),
        bucket_slots=dict(selection.slots),
        bucket_scaling=dict(sizing.bucket_scaling),
        residual=sizing.residual,
        limits=limits,
        drawdown_factor=sizing.drawdown_factor,
        missing_buckets=selection.missing_buckets,
    )
