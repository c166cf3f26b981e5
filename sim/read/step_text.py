"""The step-through as plain text, for a console that is not a terminal: one recorded
step (`sim.read.steps.step_data`) as lines, the followed asset's marked with `>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.protections.registry import flag_labels
from sim.read.inspect_view import gist, money, pct, score, weight
from sim.read.steps import events_of_interest


def step_lines(data: Mapping[str, Any], *, total: int, follow: str | None = None) -> list[str]:
    """The step as plain text lines (the mode for a console that is not a terminal):
    header, events, holdings, each proposal with every verdict, decision and fill, then
    notices and requests; the followed asset's lines are marked with `>`."""
    regime = data["regime"] or {}
    eq = data["equity"]
    changed = f", changed from {regime.get('previous')}" if regime.get("changed") else ""
    lines = [
        f"=== step {data['step']} of 0..{total - 1} | {data['date']} | regime"
        f" {regime.get('regime')} ({regime.get('severity')}{changed}) | equity"
        f" {money(eq['equity'])} | drawdown {pct(eq['drawdown'])} | cash {money(eq['cash'])}",
    ]
    events = events_of_interest(data, follow)
    lines.append("events: " + ("; ".join(events) if events else "none"))

    def mark(asset: str | None) -> str:
        return "> " if follow is not None and asset == follow else "  "

    lines.append(f"holdings ({len(data['holdings'])}):")
    for h in data["holdings"]:
        flags = ", ".join(flag_labels(h["flags"]))
        lines.append(
            f"{mark(h['asset'])}{h['asset']} [{h['bucket']}] weight {weight(h['weight'])}"
            f" score {score(h['score'])} value {money(h['value'])}"
            + (f" | {flags}" if flags else "")
        )
    lines.append(f"proposals ({len(data['chains'])}):")
    for chain in data["chains"]:
        prop = chain["proposal"]
        p = prop["payload"]
        m = mark(prop["asset"])
        lines.append(
            f"{m}{prop['proposal_id']} round {prop['round']} {prop['asset']} {p['action']}"
            f" {weight(p['from_weight'])} -> {weight(p['to_weight'])} score"
            f" {score(p.get('score'))} by {prop['sender']}: {p.get('reason')}"
        )
        for v in chain["verdicts"]:
            lines.append(f"{m}    verdict {gist(v)}")
        if chain["decision"] is not None:
            lines.append(f"{m}    decision {gist(chain['decision'])}")
        for f in chain["fills"]:
            lines.append(f"{m}    fill {gist(f)}")
    others = sorted(
        [*data["notices"], *data["interventions"], *data["replans"]], key=lambda m: m["id"]
    )
    lines.append(f"notices ({len(others)}):")
    for n in others:
        about = f" {n['asset']}" if n["asset"] else ""
        lines.append(f"{mark(n['asset'])}{n['kind']}{about} from {n['sender']}: {gist(n)}")
    return lines
