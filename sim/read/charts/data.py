"""What the report's charts show, read from one run of the event database (pure queries
into pandas frames and plain spans; no drawing).

Dates are the recorded trading dates. A span covers its first trading day to the day
after its last one (`Span.end`), so consecutive days draw as one unbroken bar.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

import attrs
import pandas as pd

from sim.read.queries import query

CASH = "Cash"
"""The allocation layer of uninvested equity."""

NO_RULE = "(no rule)"
"""The label of decisions whose payload names no rule."""


@attrs.frozen
class Span:
    """A run of trading days: `start` the first, `end` the day after the last."""

    start: pd.Timestamp
    end: pd.Timestamp
    label: str = ""


@attrs.frozen
class AssetLanes:
    """An asset's protection timeline: when it was held, in its minimum holding window,
    core, in grace (each day with its grace day), blocked from opening by whipsaw, and
    the days a regime override lifted an objection or a decision was blocked."""

    asset: str
    bucket: str
    held: tuple[Span, ...]
    holding: tuple[Span, ...]
    core: tuple[Span, ...]
    grace: tuple[tuple[pd.Timestamp, int], ...]
    whipsaw_blocked: tuple[Span, ...]
    overrides: tuple[pd.Timestamp, ...]
    blocked: tuple[pd.Timestamp, ...]

    @property
    def activity(self) -> int:
        """Protection days and events: the order in which a crowded timeline keeps assets."""
        days = sum((s.end - s.start).days for s in (*self.holding, *self.core))
        blocked = sum((s.end - s.start).days for s in self.whipsaw_blocked)
        return days + blocked + len(self.grace) + len(self.overrides) + len(self.blocked)


@attrs.frozen
class ChartData:
    """Everything the charts draw, for one run."""

    run_id: str
    equity: pd.DataFrame  # index date: equity, drawdown, regime, cash
    regimes: tuple[Span, ...]
    allocation: pd.DataFrame  # index date: one column per bucket, then CASH (fractions)
    lanes: tuple[AssetLanes, ...]
    decisions: pd.DataFrame  # index rule: one column per month (YYYY-MM), counts
    grace_period_days: int
    initial_cash: float

    @property
    def span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The first recorded day and the day after the last one (None without a day)."""
        return (self.equity.index[0], self.regimes[-1].end) if len(self.equity) else None

    def through_end(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` (indexed by date) with its last row repeated at the day after the last
        day, so a step drawing gives the last day its width."""
        if frame.empty or self.span is None:
            return frame
        last = frame.iloc[[-1]].set_axis(pd.DatetimeIndex([self.span[1]]))
        return pd.concat([frame, last])


def load_chart_data(conn: sqlite3.Connection, run_id: str) -> ChartData:
    """Read every chart's data of run `run_id` from an open event database."""
    run = query(conn, "SELECT initial_cash, config FROM runs WHERE run_id = ?", [run_id])[0]
    config = json.loads(run["config"] or "{}")
    equity = equity_frame(conn, run_id)
    snaps = snapshot_frame(conn, run_id)
    return ChartData(
        run_id=run_id,
        equity=equity,
        regimes=regime_spans(equity),
        allocation=allocation_frame(snaps, equity),
        lanes=protection_lanes(
            conn, run_id, snaps, equity.index, int(config["position_holding_period_min"])
        ),
        decisions=decisions_by_rule_month(conn, run_id),
        grace_period_days=int(config["grace_period_days"]),
        initial_cash=float(run["initial_cash"]),
    )


def equity_frame(conn: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """The run's equity rows, indexed by date: equity, drawdown, regime, cash."""
    rows = query(
        conn,
        "SELECT date, equity, drawdown, regime, cash FROM equity WHERE run_id = ? ORDER BY step",
        [run_id],
    )
    frame = pd.DataFrame(rows, columns=["date", "equity", "drawdown", "regime", "cash"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.set_index("date")


def snapshot_frame(conn: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """The run's holdings rows with their flags as columns (core, grace_day, days_held)."""
    rows = query(
        conn,
        "SELECT step, date, asset, bucket, quantity, weight, flags FROM snapshots"
        " WHERE run_id = ? ORDER BY asset, step",
        [run_id],
    )
    flags = [json.loads(r.pop("flags") or "{}") for r in rows]
    frame = pd.DataFrame(rows, columns=["step", "date", "asset", "bucket", "quantity", "weight"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["core"] = [bool(f.get("core")) for f in flags]
    frame["grace_day"] = [f.get("grace_day") for f in flags]
    frame["days_held"] = [f.get("days_held") for f in flags]
    return frame


def next_days(dates: pd.DatetimeIndex) -> dict[pd.Timestamp, pd.Timestamp]:
    """Each recorded date's next recorded date; the last one's is the day after it."""
    following = [*dates[1:], dates[-1] + pd.Timedelta(days=1)] if len(dates) else []
    return dict(zip(dates, following, strict=True))


def spans_of(
    days: Iterable[pd.Timestamp], following: dict[pd.Timestamp, pd.Timestamp]
) -> tuple[Span, ...]:
    """The runs of consecutive recorded days among `days` (each a recorded date)."""
    out: list[Span] = []
    for day in sorted(set(days)):
        if out and out[-1].end == day:
            out[-1] = attrs.evolve(out[-1], end=following[day])
        else:
            out.append(Span(day, following[day]))
    return tuple(out)


def regime_spans(equity: pd.DataFrame) -> tuple[Span, ...]:
    """The runs of days under one regime, each labelled with the regime."""
    following = next_days(equity.index)
    out: list[Span] = []
    for day, regime in equity["regime"].items():
        if out and out[-1].label == regime:
            out[-1] = attrs.evolve(out[-1], end=following[day])
        else:
            out.append(Span(day, following[day], str(regime)))
    return tuple(out)


def allocation_frame(snaps: pd.DataFrame, equity: pd.DataFrame) -> pd.DataFrame:
    """Weight per bucket per day (columns by mean weight, largest first), then CASH."""
    weights = snaps.pivot_table(
        index="date", columns="bucket", values="weight", aggfunc="sum", fill_value=0.0
    )
    weights = weights.reindex(equity.index, fill_value=0.0)
    weights = weights[weights.mean().sort_values(ascending=False, kind="stable").index]
    weights.columns = [str(c) for c in weights.columns]
    weights[CASH] = (equity["cash"] / equity["equity"]).where(equity["equity"] > 0, 0.0)
    return weights


def protection_lanes(
    conn: sqlite3.Connection,
    run_id: str,
    snaps: pd.DataFrame,
    dates: pd.DatetimeIndex,
    holding_min: int,
) -> tuple[AssetLanes, ...]:
    """The protection timeline of every asset that was held or met a protection, by bucket
    then asset, over the run's `dates`. The holding window is the days held fewer than
    `holding_min` days (the minimum holding period)."""
    following = next_days(dates)
    notices = _asset_events(
        conn,
        run_id,
        "kind = 'notice' AND json_extract(payload,'$.event') IN"
        " ('whipsaw_blocked','regime_override_granted')",
    )
    blocked = _asset_events(
        conn, run_id, "kind = 'decision' AND json_extract(payload,'$.outcome') = 'blocked'"
    )
    buckets = dict(zip(snaps["asset"], snaps["bucket"], strict=True))
    assets = sorted({*buckets, *notices["asset"], *blocked["asset"]})
    by_asset = dict(tuple(snaps.groupby("asset")))
    lanes = []
    for asset in assets:
        rows = by_asset.get(asset, snaps.iloc[0:0])
        events = notices[notices["asset"] == asset]
        held = rows[rows["quantity"] > 0]
        young = held["days_held"].map(lambda d: d is not None and d < holding_min).astype(bool)
        grace = rows[rows["grace_day"].notna()]
        lanes.append(
            AssetLanes(
                asset=asset,
                bucket=str(buckets.get(asset, "-")),
                held=spans_of(held["date"], following),
                holding=spans_of(held.loc[young, "date"], following),
                core=spans_of(rows.loc[rows["core"], "date"], following),
                grace=tuple(zip(grace["date"], grace["grace_day"].astype(int), strict=True)),
                whipsaw_blocked=_block_windows(events[events["event"] == "whipsaw_blocked"]),
                overrides=tuple(events.loc[events["event"] != "whipsaw_blocked", "date"]),
                blocked=tuple(blocked.loc[blocked["asset"] == asset, "date"]),
            )
        )
    return tuple(sorted(lanes, key=lambda lane: (lane.bucket, lane.asset)))


def _asset_events(conn: sqlite3.Connection, run_id: str, where: str) -> pd.DataFrame:
    """Messages about an asset matching `where`: date, asset, event, days_until_reset."""
    rows = query(
        conn,
        "SELECT date, asset, json_extract(payload,'$.event') AS event,"
        " json_extract(payload,'$.details.days_until_reset') AS reset FROM messages"
        f" WHERE run_id = ? AND asset IS NOT NULL AND {where} ORDER BY id",
        [run_id],
    )
    frame = pd.DataFrame(rows, columns=["date", "asset", "event", "reset"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def _block_windows(blocks: pd.DataFrame) -> tuple[Span, ...]:
    """The union of [notice day, the day opens are allowed again) over `whipsaw_blocked`
    notices; a notice without `days_until_reset` blocks its own day."""
    out: list[Span] = []
    for day, reset in zip(blocks["date"], blocks["reset"], strict=True):
        days = int(reset) if isinstance(reset, int | float) and reset == reset else 1
        end = day + pd.Timedelta(days=max(days, 1))
        if out and day <= out[-1].end:
            out[-1] = attrs.evolve(out[-1], end=max(out[-1].end, end))
        else:
            out.append(Span(day, end))
    return tuple(out)


def decisions_by_rule_month(conn: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """How many decisions each rule (the decision payload's `rule`) took each month: one
    row per rule, most decisions first, one column per month of the run."""
    rows = query(
        conn,
        "SELECT COALESCE(json_extract(payload,'$.rule'), ?) AS rule, substr(date, 1, 7) AS month,"
        " COUNT(*) AS n FROM messages WHERE run_id = ? AND kind = 'decision'"
        " GROUP BY rule, month",
        [NO_RULE, run_id],
    )
    months = [
        r["month"]
        for r in query(
            conn,
            "SELECT DISTINCT substr(date, 1, 7) AS month FROM equity WHERE run_id = ?"
            " ORDER BY month",
            [run_id],
        )
    ]
    frame = pd.DataFrame(rows, columns=["rule", "month", "n"])
    table = frame.pivot_table(index="rule", columns="month", values="n", aggfunc="sum")
    table = table.reindex(columns=months).fillna(0).astype(int)
    order = table.sum(axis=1).sort_values(ascending=False, kind="stable").index
    return table.loc[order]


def rule_outcomes(conn: sqlite3.Connection, run_id: str) -> dict[str, dict[str, int]]:
    """Per rule, how many of its decisions had each outcome (approved, amended, blocked)."""
    out: dict[str, dict[str, int]] = {}
    for r in query(
        conn,
        "SELECT COALESCE(json_extract(payload,'$.rule'), ?) AS rule,"
        " json_extract(payload,'$.outcome') AS outcome, COUNT(*) AS n FROM messages"
        " WHERE run_id = ? AND kind = 'decision' GROUP BY rule, outcome ORDER BY rule, outcome",
        [NO_RULE, run_id],
    ):
        out.setdefault(r["rule"], {})[r["outcome"]] = r["n"]
    return out


def busiest(lanes: Sequence[AssetLanes], limit: int) -> tuple[AssetLanes, ...]:
    """At most `limit` lanes: those with the most protection activity, in their order."""
    if len(lanes) <= limit:
        return tuple(lanes)
    keep = set(sorted(range(len(lanes)), key=lambda i: -lanes[i].activity)[:limit])
    return tuple(lane for i, lane in enumerate(lanes) if i in keep)
