"""A protection that proposes scripted trades, for the library scenarios that need a
proposal the portfolio manager never makes (a reduce of an asset in grace).

Scenario usage (options: a list of orders, each asset, date, action and to_weight):

    protections:
      custom:
        - {name: scripted_orders, class: "library_scripted_orders:ScriptedOrders",
           options: {orders: [{asset: A, date: "2024-01-01", action: reduce, to_weight: 0.05}]}}

On an order's date, when the asset is held, it proposes the order (origin the protection's
name) in its housekeeping; it abstains on every review. Its proposals name its own rule,
`scripted_orders.order` (outside the built-in catalogue).
"""

from __future__ import annotations

from domain.messages import ABSTAIN, Message, ProposalReviewed, ProposeTrade
from domain.protections.base import DayContext, Protection, ReviewContext
from domain.rules import Rule

ORDER = Rule(
    "scripted_orders.order",
    (),
    "A scripted order is proposed on its date while its asset is held",
    "library scenarios",
)


class ScriptedOrders(Protection):
    """Proposes each scripted order on its date; has no opinion on any proposal."""

    name = "scripted_orders"
    rules = (ORDER,)

    def housekeep(self, ctx: DayContext) -> list[Message]:
        """The orders dated today whose asset is held."""
        out: list[Message] = []
        for n, order in enumerate(self.options.get("orders", ())):
            asset = str(order["asset"])
            held = ctx.holdings.get(asset)
            if str(order["date"]) != ctx.date.isoformat() or held is None:
                continue
            out.append(
                ProposeTrade(
                    proposal_id=f"{ctx.step}:{self.name}:{n}",
                    asset=asset,
                    action=str(order["action"]),
                    from_weight=held.weight,
                    to_weight=float(order["to_weight"]),
                    score=ctx.scores.get(asset),
                    reason=f"scripted {order['action']} to {float(order['to_weight'])}",
                    origin=self.name,
                    components={"rule": ORDER.id},
                )
            )
        return out

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        """Abstain: the scripted orders decide nothing about anyone's proposal."""
        return self.verdict(proposal, ABSTAIN, "scripted orders do not review")
