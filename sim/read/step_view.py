"""The step-through's full-screen view: pure functions from one recorded step
(`sim.read.steps.step_data`) to rich renderables: a header (date, step, regime and
severity, equity, drawdown, the step's events of interest), the holdings with their
protection flags, the step's proposals with every protection's verdict and the decision,
the step's notices and requests, the followed asset's panel, and a footer with the keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.layout import Layout
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from domain.protections.registry import flag_labels
from sim.read.inspect_view import (
    OUTCOME_STYLES,
    gist,
    money,
    outcome_text,
    pct,
    score,
    stance_text,
    weight,
)
from sim.read.steps import events_of_interest

KEY_HELP = "Enter/n next · c next event · g N go to step · a TICKER follow (a alone: stop) · q quit"
FOLLOW_STYLE = "reverse"


def header_panel(
    data: Mapping[str, Any], *, total: int, model_step: int, follow: str | None
) -> Panel:
    """Run, step, date, regime and severity, equity, drawdown, events of interest."""
    regime = data["regime"] or {}
    eq = data["equity"]
    where = Text(f"step {data['step']} of 0..{total - 1}", style="bold")
    if data["step"] < model_step:
        where.append(f" (recorded; the model is at step {model_step})", style="yellow")
    where.append(f" · {data['date']}", style="bold")
    where.append(f" · run {data['run_id']}")
    if follow:
        where.append(f" · following {follow}", style="bold cyan")
    changed = f", changed from {regime.get('previous')}" if regime.get("changed") else ""
    line2 = Text(
        f"regime {regime.get('regime')} ({regime.get('severity')}{changed})",
        style="bold magenta" if regime.get("changed") else "",
    )
    line2.append(
        f" · equity {money(eq['equity'])} · drawdown {pct(eq['drawdown'])}"
        f" · cash {money(eq['cash'])} · positions {eq['n_positions']}",
        style="",
    )
    events = events_of_interest(data, follow)
    line3 = Text("events: " + ("; ".join(events) if events else "none"))
    lines = [where, line2, line3]
    for line in lines:
        line.no_wrap, line.overflow = True, "ellipsis"
    return Panel(Group(*lines), title="Bulwark step-through", title_align="left")


def holdings_table(data: Mapping[str, Any], follow: str | None = None) -> Table:
    """The book after the step: asset, bucket, weight, score, value, protection flags."""
    t = Table(title=f"Holdings after step {data['step']}", title_justify="left", box=box.SIMPLE)
    for name in ("asset", "bucket", "weight", "score", "value", "flags"):
        t.add_column(name, justify="right" if name in ("weight", "score", "value") else "left")
    for h in data["holdings"]:
        t.add_row(
            h["asset"],
            h["bucket"],
            weight(h["weight"]),
            score(h["score"]),
            money(h["value"]),
            ", ".join(flag_labels(h["flags"])),
            style=FOLLOW_STYLE if h["asset"] == follow else None,
        )
    if not data["holdings"]:
        t.add_row("(no holdings)", "", "", "", "", "")
    return t


def verdicts_text(chain: Mapping[str, Any]) -> Text:
    """Every verdict on a proposal, by priority: `system stance` each, coloured."""
    out = Text()
    for i, v in enumerate(chain["verdicts"]):
        p = v["payload"]
        if i:
            out.append(" · ", style="dim")
        out.append(f"{p['system']} ")
        out.append_text(stance_text(p["stance"], p.get("amended_weight")))
    return out


def proposal_text(chain: Mapping[str, Any]) -> Text:
    """One proposal in a few wrapped lines: the trade, every verdict by priority, the
    decision with its reason, and the fills."""
    prop = chain["proposal"]
    p = prop["payload"]
    out = Text(
        f"{p['action']} {weight(p['from_weight'])} -> {weight(p['to_weight'])}"
        f" (score {score(p.get('score'))}, round {prop['round']}, by {prop['sender']})",
        style="bold",
    )
    out.append("\n")
    out.append_text(verdicts_text(chain))
    out.append("\n")
    out.append_text(outcome_text(chain["decision"]))
    if chain["decision"] is not None:
        out.append(f": {chain['decision']['payload']['reason']}")
    for f in chain["fills"]:
        fp = f["payload"]
        out.append(f"\nfill: {fp['side']} {money(fp['notional'])}", style="dim")
    return out


def proposals_table(data: Mapping[str, Any], follow: str | None = None) -> Table:
    """The step's proposals, each with every protection's verdict, the decision with its
    reason, and the fills."""
    chains = data["chains"]
    t = Table(title=f"Proposals ({len(chains)})", title_justify="left", box=box.SIMPLE, expand=True)
    t.add_column("asset", no_wrap=True)
    t.add_column("trade · verdicts (by priority) · decision", ratio=1)
    for chain in chains:
        t.add_row(
            chain["proposal"]["asset"],
            proposal_text(chain),
            style=FOLLOW_STYLE if chain["proposal"]["asset"] == follow else None,
            end_section=True,
        )
    return t


def notices_table(data: Mapping[str, Any], follow: str | None = None) -> Table:
    """The step's notices, interventions, core requests and re-plan requests."""
    rows = sorted(
        [*data["notices"], *data["interventions"], *data["replans"]], key=lambda m: m["id"]
    )
    t = Table(title=f"Notices ({len(rows)})", title_justify="left", box=box.SIMPLE, expand=True)
    t.add_column("kind", no_wrap=True)
    t.add_column("asset", no_wrap=True)
    t.add_column("from", no_wrap=True)
    t.add_column("what", ratio=1)
    for m in rows:
        t.add_row(
            m["kind"],
            m["asset"] or "",
            m["sender"],
            gist(m),
            style=FOLLOW_STYLE if follow is not None and m["asset"] == follow else None,
        )
    return t


def follow_panel(data: Mapping[str, Any], asset: str) -> Panel:
    """The followed asset: its holding and its messages this step (proposals, block, amend
    and grant verdicts, decisions, fills, notices, requests)."""
    held = next((h for h in data["holdings"] if h["asset"] == asset), None)
    lines = Table.grid(padding=(0, 1))
    lines.add_column(no_wrap=True)
    lines.add_column(no_wrap=True)
    lines.add_column()
    if held is None:
        lines.add_row("", "holding", "not held")
    else:
        flags = ", ".join(flag_labels(held["flags"]))
        lines.add_row(
            "",
            "holding",
            f"weight {weight(held['weight'])}, score {score(held['score'])}"
            + (f" [{flags}]" if flags else ""),
        )
    for m in data["messages"]:
        if m["asset"] != asset or m["kind"] == "review_request":
            continue
        if m["kind"] == "verdict" and m["payload"]["stance"] in ("approve", "abstain"):
            continue  # the proposals table lists every verdict
        what = Text(gist(m))
        if m["kind"] == "decision":
            what.stylize(OUTCOME_STYLES.get(m["payload"]["outcome"], ""))
        lines.add_row(str(m["id"]), m["kind"], what)
    return Panel(lines, title=f"Following {asset}", title_align="left")


def step_body(data: Mapping[str, Any], follow: str | None = None) -> Group:
    """Holdings, proposals and notices of a step (the followed asset's panel first)."""
    parts: list[RenderableType] = []
    if follow:
        parts.append(follow_panel(data, follow))
    parts += [holdings_table(data, follow), proposals_table(data, follow)]
    parts.append(notices_table(data, follow))
    return Group(*parts)


def footer_panel(status: str, prompt: str) -> Panel:
    """Keys, the last status message and the command being typed."""
    return Panel(
        Group(
            Text(KEY_HELP, style="dim", overflow="ellipsis", no_wrap=True),
            Text(
                prompt or status or " ",
                style="bold cyan" if prompt else "yellow",
                overflow="ellipsis",
                no_wrap=True,
            ),
        ),
        box=box.ROUNDED,
    )


def screen(
    data: Mapping[str, Any],
    *,
    total: int,
    model_step: int,
    follow: str | None,
    status: str,
    prompt: str,
) -> Layout:
    """The full-screen frame: header and footer fixed, the body cropped between them."""
    layout = Layout()
    layout.split_column(
        Layout(
            header_panel(data, total=total, model_step=model_step, follow=follow),
            name="header",
            size=5,
        ),
        Layout(step_body(data, follow), name="body"),
        Layout(footer_panel(status, prompt), name="footer", size=4),
    )
    return layout
