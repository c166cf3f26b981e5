"""Closed positions and their profit and loss, from fills (pure: no database).

A position is one asset's holding from the trade that opens it (a buy with nothing held,
or the starting book) to the sell that takes it off the book (the broker's fill with
`weight_after` 0). Its P&L is everything it returned minus everything it cost over that
life: sell notionals minus buy notionals minus every commission (fill prices carry the
slippage), a starting holding costing its value at the first day's close. The position
ends flat, so no lot matching (FIFO, average cost) is needed: partial buys and sells in
between are all counted. Positions still held at the end are not closed (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

QUANTITY_RTOL = 1e-9
"""A starting quantity smaller than this fraction of the quantities around it is rounding."""


@attrs.frozen
class Fill:
    """One broker fill, as recorded in the event database."""

    asset: str
    date: str
    side: str  # buy | sell
    quantity: float
    price: float
    notional: float
    commission: float
    weight_after: float


@attrs.frozen
class ClosedPosition:
    """A position from its opening to the fill that closed it."""

    asset: str
    opened: str
    closed: str
    cost: float
    pnl: float


def starting_values(
    first_holdings: Mapping[str, tuple[float, float]],
    first_fills: Sequence[Fill],
    slippage_bps: float,
) -> dict[str, float]:
    """asset -> value of each starting holding at the first day's close.

    Args:
        first_holdings: asset -> (quantity, close) of the first day's snapshot (after its
            trades).
        first_fills: the first day's fills.
        slippage_bps: the run's slippage, to recover the close of a starting holding sold
            whole on the first day (a sell fills at close x (1 - slippage)).

    Returns:
        The starting quantity (snapshot quantity minus the day's net fills) times the close,
        for every asset with a starting quantity.
    """
    net: dict[str, float] = {}
    sold_at: dict[str, float] = {}
    for f in first_fills:
        net[f.asset] = net.get(f.asset, 0.0) + (f.quantity if f.side == "buy" else -f.quantity)
        if f.side == "sell":
            sold_at[f.asset] = f.price / (1.0 - slippage_bps / 10_000.0)
    out = {}
    for asset in sorted(set(first_holdings) | set(net)):
        held, close = first_holdings.get(asset, (0.0, sold_at.get(asset, 0.0)))
        moved = net.get(asset, 0.0)
        start = held - moved
        if start > QUANTITY_RTOL * max(abs(held), abs(moved)):
            out[asset] = start * close
    return out


@attrs.define
class OpenPosition:
    """A position being walked: when it opened, what went in, what came out so far."""

    opened: str
    cost: float = 0.0
    proceeds: float = 0.0


@attrs.frozen
class Ledger:
    """The positions of a run: those closed (in closing order) and those still open."""

    closed: tuple[ClosedPosition, ...]
    open: Mapping[str, OpenPosition]


def ledger(fills: Iterable[Fill], starting: Mapping[str, float], first_date: str) -> Ledger:
    """Walk `fills` (in fill order) into positions.

    Args:
        fills: the run's fills, in order.
        starting: asset -> value of each starting holding (`starting_values`).
        first_date: the first simulated day (a starting holding's opening).

    Raises:
        ValueError: a sell of an asset with no open position (an inconsistent record).
    """
    held = {asset: OpenPosition(first_date, cost=value) for asset, value in starting.items()}
    closed = []
    for f in fills:
        if f.asset not in held:
            if f.side != "buy":
                raise ValueError(f"sell of {f.asset} on {f.date} with no open position")
            held[f.asset] = OpenPosition(f.date)
        position = held[f.asset]
        if f.side == "buy":
            position.cost += f.notional + f.commission
            continue
        position.proceeds += f.notional - f.commission
        if f.weight_after == 0:
            del held[f.asset]
            pnl = position.proceeds - position.cost
            closed.append(ClosedPosition(f.asset, position.opened, f.date, position.cost, pnl))
    return Ledger(tuple(closed), held)


def win_rate(closed: Sequence[ClosedPosition]) -> float | None:
    """Share of closed positions with a P&L above zero; None when none closed."""
    return sum(p.pnl > 0 for p in closed) / len(closed) if closed else None
