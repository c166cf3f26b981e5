"""Rich renderables of what the `inspect` command reads (`sim.read.queries` and the
modules beside it): pure functions from plain data to tables.

Shared by the `inspect` command and the step-through (`sim.read.stepper`): a one-line gist
of any message, and the styles of stances and outcomes. A holding's flag labels come from
the protection registry (`domain.protections.registry.flag_labels`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from domain.protections.registry import flag_labels
from sim.read.protection_history import CORE, GRACE, WHIPSAW, WHIPSAW_BLOCKED
from sim.read.report import summary_renderable
from sim.sweep.report import SweepReport
from sim.sweep.view import number, report_renderable

STANCE_STYLES: Mapping[str, str] = {
    "block": "bold red",
    "amend": "bold yellow",
    "grant": "bold cyan",
    "approve": "green",
    "abstain": "dim",
}
OUTCOME_STYLES: Mapping[str, str] = {
    "blocked": "bold red",
    "amended": "bold yellow",
    "approved": "green",
}


# --- formatting ---------------------------------------------------------------------------


def money(x: float | None) -> str:
    """`1,234.56`, or `-` for None."""
    return "-" if x is None else f"{x:,.2f}"


def pct(x: float | None, signed: bool = False) -> str:
    """A fraction as a percentage (`+1.23%` when signed), or `-` for None."""
    if x is None:
        return "-"
    return f"{x:+.2%}" if signed else f"{x:.2%}"


def weight(x: float | None) -> str:
    """A portfolio weight with four decimals, or `-`."""
    return "-" if x is None else f"{x:.4f}"


def score(x: float | None) -> str:
    """A score with three decimals, or `-`."""
    return "-" if x is None else f"{x:.3f}"


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in sorted(v.items())) + "}"
    return str(v)


def key_values(details: Mapping[str, Any] | None) -> str:
    """`k=v, ...` in key order, floats to four significant digits."""
    return ", ".join(f"{k}={_value(v)}" for k, v in sorted((details or {}).items()))


def stance_text(stance: str, amended: float | None = None) -> Text:
    """A verdict's stance, coloured (with the amended weight)."""
    label = stance if amended is None or stance != "amend" else f"amend -> {weight(amended)}"
    return Text(label, style=STANCE_STYLES.get(stance, ""))


def outcome_text(decision: Mapping[str, Any] | None) -> Text:
    """`BLOCKED by whipsaw -> 0.0000`, coloured; `undecided` when there is no decision."""
    if decision is None:
        return Text("undecided", style="dim")
    p = decision["payload"]
    return Text(
        f"{p['outcome'].upper()} by {p['decided_by']} -> {weight(p['final_weight'])}",
        style=OUTCOME_STYLES.get(p["outcome"], ""),
    )


def gist(m: Mapping[str, Any]) -> str:
    """One line saying what a recorded message (as `sim.read.queries.messages` returns it) says."""
    p = m["payload"]
    kind = m["kind"]
    if kind == "regime_update":
        line = f"{p['regime']} ({p.get('severity')}, confidence {p.get('confidence')})"
        return line + (f", changed from {p.get('previous')}" if p.get("changed") else "")
    if kind == "score_update":
        return "scores: " + ", ".join(f"{a} {score(s)}" for a, s in sorted(p["scores"].items()))
    if kind == "proposal":
        return (
            f"{p['action']} {weight(p['from_weight'])} -> {weight(p['to_weight'])}"
            f" (score {score(p.get('score'))}, origin {p.get('origin')}): {p.get('reason')}"
        )
    if kind == "review_request":
        return f"review of {m['proposal_id']}"
    if kind == "verdict":
        amended = (
            f" -> {weight(p['amended_weight'])}" if p.get("amended_weight") is not None else ""
        )
        return f"{p['system']} (priority {p['priority']}) {p['stance']}{amended}: {p['reason']}"
    if kind == "decision":
        reason = p.get("reason") or f"{p['outcome']} by {p['decided_by']}"
        return f"{reason} (final weight {weight(p['final_weight'])})"
    if kind == "replan_request":
        return f"re-plan round {p.get('round')}: " + key_values(
            {k: v for k, v in p.items() if k != "round"}
        )
    if kind == "fill":
        scale = f", scaled x{p['scale']:.4f}" if p.get("scale", 1.0) < 1.0 else ""
        return (
            f"{p['side']} {p['quantity']:,.4f} @ {p['price']:,.4f} = {money(p['notional'])}"
            f" (commission {money(p['commission'])}), weight after {weight(p['weight_after'])}"
            + scale
        )
    if kind == "notice":
        return f"{p.get('event')}: {key_values(p.get('details'))}"
    if kind == "intervention":
        return f"{p.get('action')}: {key_values(p.get('details'))}"
    if kind == "core_request":
        return f"core request (score {score(p.get('score'))}): {p.get('reason')}"
    return json.dumps(p, sort_keys=True)


# --- tables of the inspect command --------------------------------------------------------


STATUS_STYLES: Mapping[str, str] = {
    "completed": "green",
    "failed": "red",
    "crashed": "red",
}
"""The colour of a run status (yellow for the others: running, interrupted)."""


def runs_table(runs: Sequence[Mapping[str, Any]]) -> Table:
    """Every run of a database; a crashed run's caption says what crashed means."""
    crashed = [r for r in runs if r["status"] == "crashed"]
    caption = (
        "crashed: recorded as running, but its writer process is gone (killed or lost);"
        " its steps are complete up to the last one recorded"
        if crashed
        else None
    )
    t = Table(title="Runs", title_justify="left", caption=caption, caption_justify="left")
    for name in ("run", "scenario", "seed", "status", "steps", "messages", "started", "finished"):
        t.add_column(
            name,
            justify="right" if name in ("seed", "steps", "messages") else "left",
            overflow="fold",
        )
    for r in runs:
        t.add_row(
            r["run_id"],
            str(r["scenario"]),
            str(r["seed"]),
            Text(str(r["status"]), style=STATUS_STYLES.get(r["status"], "yellow")),
            str(r["steps_completed"]),
            str(r["messages"]),
            _when(r["started_at"]),
            _when(r["finished_at"]),
        )
    return t


def _when(stamp: str | None) -> str:
    """An ISO wall-clock timestamp as `YYYY-MM-DD HH:MM:SS` (UTC), or `-`."""
    if not stamp:
        return "-"
    return stamp.replace("T", " ").removesuffix("+00:00")


def summary_view(summary: Mapping[str, Any]) -> Group:
    """A run's summary (the same view `run.py` prints after a run)."""
    return summary_renderable(summary)


def timeline_table(run_id: str, asset: str, msgs: Sequence[Mapping[str, Any]]) -> Table:
    """Every message about one asset, in order."""
    t = Table(
        title=f"Timeline of {asset} in {run_id} ({len(msgs)} messages)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        expand=True,
    )
    for name in ("id", "step", "date", "rnd", "kind", "from"):
        numeric = name in ("id", "step", "rnd")
        t.add_column(name, justify="right" if numeric else "left", overflow="fold")
    t.add_column("[proposal] what", ratio=1, overflow="fold")
    for m in msgs:
        what = Text(gist(m))
        if m["kind"] == "decision":
            what.stylize(OUTCOME_STYLES.get(m["payload"]["outcome"], ""))
        elif m["kind"] == "verdict":
            what.stylize(STANCE_STYLES.get(m["payload"]["stance"], ""))
        if m["proposal_id"] and m["kind"] != "review_request":
            what = Text.assemble((f"[{m['proposal_id']}] ", "dim"), what)
        row = (str(m["id"]), str(m["step"]), m["date"], str(m["round"]), m["kind"], m["sender"])
        t.add_row(*row, what)
    return t


def chain_renderable(chain: Mapping[str, Any]) -> Table:
    """One proposal, every verdict with its priority, the decision and the fills."""
    prop = chain["proposal"]
    p = prop["payload"]
    t = Table(
        title=(
            f"proposal {prop['proposal_id']} (round {prop['round']}, by {prop['sender']}):"
            f" {p['action']} {weight(p['from_weight'])} -> {weight(p['to_weight'])},"
            f" score {score(p.get('score'))}"
        ),
        caption=f"reason: {p.get('reason')}",
        title_justify="left",
        caption_justify="left",
    )
    t.add_column("priority", justify="right", overflow="fold")
    t.add_column("system", overflow="fold")
    t.add_column("stance", overflow="fold")
    t.add_column("reason", overflow="fold")
    for v in chain["verdicts"]:
        vp = v["payload"]
        t.add_row(
            str(vp["priority"]),
            vp["system"],
            stance_text(vp["stance"], vp.get("amended_weight")),
            vp["reason"],
        )
    decision = chain["decision"]
    t.add_row(
        "",
        Text("decision", style="bold"),
        outcome_text(decision),
        decision["payload"]["reason"] if decision else "",
        end_section=True,
    )
    for f in chain["fills"]:
        t.add_row("", "fill", f["payload"]["side"], gist(f))
    if decision is not None and not chain["fills"]:
        t.add_row("", "fill", Text("none", style="dim"), "")
    return t


def _holding_line(h: Mapping[str, Any] | None) -> str:
    if h is None:
        return "not held"
    flags = ", ".join(flag_labels(h["flags"]))
    return f"weight {weight(h['weight'])}, value {money(h['value'])}, score {score(h['score'])}" + (
        f" [{flags}]" if flags else ""
    )


def selection_line(status: Mapping[str, Any]) -> str:
    """An asset's place in the plan: in or out, the reason code and its words, since when."""
    where = "in the plan" if status.get("selected") else "not in the plan"
    return f"{where} since {status['since']}: {status['reason']}: {status['detail']}"


def why_view(data: Mapping[str, Any]) -> Group:
    """The chain behind one asset's decision on one day, root cause first."""
    parts: list[RenderableType] = []
    head = Text(
        f"Why {data['asset']} on {data['date']} (step {data['step']}, run {data['run_id']})",
        style="bold",
    )
    parts.append(head)
    if data["root_cause"]:
        parts.append(Panel(Text(data["root_cause"]), title="root cause", title_align="left"))
    ctx = Table(show_header=False, box=None, pad_edge=False)
    ctx.add_column(style="bold", overflow="fold")
    ctx.add_column(overflow="fold")
    regime = data["regime"]
    if regime:
        changed = f", changed from {regime.get('previous')}" if regime.get("changed") else ""
        ctx.add_row(
            "regime",
            f"{regime['regime']} (severity {regime.get('severity')}, confidence"
            f" {regime.get('confidence')}, stability {regime.get('stability')}{changed})",
        )
        if regime.get("favored_buckets"):
            ctx.add_row("favored", ", ".join(regime["favored_buckets"]))
    eq = data["equity"]
    ctx.add_row("portfolio", f"equity {money(eq['equity'])}, drawdown {pct(eq['drawdown'])}")
    ctx.add_row("score", score(data["score"]))
    if data["components"]:
        ctx.add_row("components", key_values(data["components"]))
    ctx.add_row("before", _holding_line(data["before"]))
    ctx.add_row("after", _holding_line(data["after"]))
    if data.get("selection"):
        ctx.add_row("plan", selection_line(data["selection"]))
    parts.append(ctx)
    for chain in data["chains"]:
        parts.append(chain_renderable(chain))
    if not data["chains"]:
        near = data["nearby"]
        parts.append(
            Text(
                f"no proposal about {data['asset']} on {data['date']}; nearest decisions:"
                f" before {near.get('before') or 'none'}, after {near.get('after') or 'none'}",
                style="yellow",
            )
        )
    if data["notices"] or data["related"]:
        t = Table(title="notices and requests that day", title_justify="left")
        t.add_column("id", justify="right", overflow="fold")
        t.add_column("kind", overflow="fold")
        t.add_column("from", overflow="fold")
        t.add_column("what", overflow="fold")
        for m in sorted([*data["notices"], *data["related"]], key=lambda m: m["id"]):
            t.add_row(str(m["id"]), m["kind"], m["sender"], gist(m))
        parts.append(t)
    return Group(*parts)


def blocked_table(run_id: str, system: str | None, rows: Sequence[Mapping[str, Any]]) -> Table:
    """Every blocked decision: what was proposed, who blocked it and why."""
    title = f"Blocked decisions in {run_id}" + (f" decided by {system}" if system else "")
    t = Table(title=f"{title} ({len(rows)})", title_justify="left", expand=True)
    also = any(r["also_blocked_by"] for r in rows)
    for name in ("step", "date", "asset", "action", "from -> to", "decided by"):
        t.add_column(name, justify="right" if name == "step" else "left", overflow="fold")
    if also:
        t.add_column("also blocked by", overflow="fold")
    t.add_column("reason", ratio=1, overflow="fold")
    for r in rows:
        prefix = f"blocked by {r['decided_by']}: "
        reason = r["reason"] or ""
        t.add_row(
            str(r["step"]),
            r["date"],
            r["asset"],
            r["action"],
            f"{weight(r['from_weight'])} -> {weight(r['to_weight'])}",
            Text(r["decided_by"], style="bold red"),
            *([", ".join(r["also_blocked_by"])] if also else []),
            reason[len(prefix) :] if reason.startswith(prefix) else reason,
        )
    return t


def protections_view(data: Mapping[str, Any]) -> Group:
    """When an asset was held, core, in grace, whipsaw-limited; its protection events."""
    t = Table(
        title=f"Protection periods of {data['asset']} in {data['run_id']}", title_justify="left"
    )
    for name in ("state", "from", "to", "steps", "detail"):
        t.add_column(name, justify="right" if name == "steps" else "left", overflow="fold")
    styles = {CORE: "cyan", GRACE: "yellow", WHIPSAW: "magenta", WHIPSAW_BLOCKED: "red"}
    for p in data["periods"]:
        t.add_row(
            Text(p["state"], style=styles.get(p["state"], "")),
            f"{p['first_date']} (step {p['first_step']})",
            f"{p['last_date']} (step {p['last_step']})",
            str(p["steps"]),
            p["detail"],
        )
    e = Table(title="Protection events", title_justify="left")
    for name in ("id", "step", "date", "kind", "from", "what"):
        e.add_column(name, justify="right" if name in ("id", "step") else "left", overflow="fold")
    for m in data["events"]:
        e.add_row(str(m["id"]), str(m["step"]), m["date"], m["kind"], m["sender"], gist(m))
    return Group(t, e)


def _side_by_side(data: Mapping[str, Any], div: Mapping[str, Any]) -> Table:
    """The two messages at the divergence, field by field, differing fields highlighted."""
    a, b = div["a"], div["b"]
    t = Table(title="First diverging message", title_justify="left")
    t.add_column("field", style="bold", overflow="fold")
    t.add_column(f"A: {data['run_a']}", overflow="fold")
    t.add_column(f"B: {data['run_b']}", overflow="fold")

    def cell(m: Mapping[str, Any] | None, get: Any) -> str:
        return "(no message)" if m is None else _value(get(m))

    names = ["id", "step", "date", "round", "sender", "recipient", "kind", "asset", "proposal_id"]
    for name in names:
        va, vb = cell(a, lambda m, n=name: m[n]), cell(b, lambda m, n=name: m[n])
        t.add_row(name, va, vb, style="bold yellow" if name in div["fields"] else None)
    keys = sorted(set(a["payload"] if a else {}) | set(b["payload"] if b else {}))
    for key in keys:
        va = cell(a, lambda m, k=key: m["payload"].get(k))
        vb = cell(b, lambda m, k=key: m["payload"].get(k))
        t.add_row(
            f"payload.{key}", va, vb, style="bold yellow" if key in div["payload_keys"] else None
        )
    return t


def compare_view(data: Mapping[str, Any]) -> Group:
    """The first diverging message of two runs and the deltas of their metrics."""
    parts: list[RenderableType] = []
    div = data["divergence"]
    if div is None:
        parts.append(
            Text(
                f"{data['run_a']} and {data['run_b']}: no divergence; all {data['compared']}"
                " messages are identical",
                style="green",
            )
        )
    else:
        a, b = div["a"], div["b"]
        where = a or b
        fields = ", ".join(div["fields"]) or "one run has no message here"
        keys = f" (payload keys: {', '.join(div['payload_keys'])})" if div["payload_keys"] else ""
        parts.append(
            Text(
                f"{data['run_a']} and {data['run_b']} diverge at {_message_ids(a, b)}"
                f" (step {where['step']}, {where['date']}): {fields}{keys};"
                f" the {div['index']} messages before it are identical",
                style="bold yellow",
            )
        )
        parts.append(_side_by_side(data, div))
    t = Table(title="Metrics (B - A)", title_justify="left")
    for name in ("metric", "A", "B", "delta"):
        t.add_column(name, justify="left" if name == "metric" else "right", overflow="fold")
    for name, m in data["metrics"].items():
        t.add_row(
            name, _metric(name, m["a"]), _metric(name, m["b"]), _metric(name, m["delta"], True)
        )
    parts.append(t)
    if data["config"]:
        c = Table(title="Parameters that differ", title_justify="left")
        for name in ("parameter", "A", "B"):
            c.add_column(name, overflow="fold")
        for name, v in data["config"].items():
            c.add_row(name, _value(v["a"]), _value(v["b"]))
        parts.append(c)
    return Group(*parts)


def _message_ids(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> str:
    """`message id 13` (the `id` column of both runs), or each run's id where they differ
    or one run has no message there."""
    if a is not None and b is not None and a["id"] == b["id"]:
        return f"message id {a['id']}"
    ids = [f"{m['id']} in {side}" for side, m in (("A", a), ("B", b)) if m is not None]
    return "message id " + ", ".join(ids) + ("" if len(ids) == 2 else " (the other run ended)")


def _metric(name: str, x: Any, signed: bool = False) -> str:
    if x is None:
        return "-"
    if name in ("total_return", "max_drawdown"):
        return pct(x, signed)
    if name == "trades":
        return f"{x:+d}" if signed else str(x)
    return f"{x:+,.2f}" if signed else money(x)


def sql_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, total: int) -> Group:
    """The rows of a query, then how many there were and how many are not shown."""
    count = f"{total} row(s)"
    if total > len(rows):
        count += f", first {len(rows)} shown; {total - len(rows)} more rows not shown (--limit)"
    t = Table()
    for name in columns:
        t.add_column(name, overflow="fold")
    for row in rows:
        t.add_row(*("NULL" if v is None else str(v) for v in row))
    return Group(t, Text(count, style="dim"))


def export_view(run_id: str, written: Sequence[Mapping[str, Any]]) -> Table:
    """The files an export wrote."""
    t = Table(title=f"Exported {run_id}", title_justify="left")
    t.add_column("table", overflow="fold")
    t.add_column("rows", justify="right", overflow="fold")
    t.add_column("file", overflow="fold")
    for w in written:
        t.add_row(w["table"], str(w["rows"]), w["path"])
    return t


def datasette_view(data: Mapping[str, Any]) -> Group:
    """What `inspect DB datasette` wrote, and the command that serves it."""
    lines = [
        Text(
            f"wrote {data['metadata']}: {len(data['tables'])} tables described,"
            f" {len(data['queries'])} canned queries ({', '.join(data['queries'])})"
        ),
        Text(f"serve it: {data['serve']}", style="bold"),
    ]
    if data["left_out"]:
        lines.append(
            Text(
                f"left out (the database has no checks table): {', '.join(data['left_out'])}",
                style="yellow",
            )
        )
    if data["unchecked_runs"]:
        lines.append(
            Text(
                f"{len(data['unchecked_runs'])} run(s) without recorded checks (crashed, stopped,"
                f" or recorded before checks were stored): {', '.join(data['unchecked_runs'])}",
                style="yellow",
            )
        )
    return Group(*lines)


# --- a sweep database ---------------------------------------------------------------------


def sweep_summary_view(db: str, report: SweepReport, replay: str | None) -> Group:
    """A sweep's aggregates: the run counts, then the tables `sweep-report` prints
    (`sim.sweep.view.report_renderable`), then the command replaying the first failed run."""
    outcomes = report.table["outcome"].value_counts().sort_index()
    counts = ", ".join(f"{n} {outcome}" for outcome, n in outcomes.items())
    grid = ", ".join(report.params) or "none"
    head = Text(f"Sweep {db}: {len(report.table)} runs ({counts}); grid: {grid}", style="bold")
    parts: list[RenderableType] = [head, report_renderable(report)]
    if replay:
        parts.append(Text(replay))
    return Group(*parts)


def sweep_runs_table(runs: Sequence[Mapping[str, Any]], params: Sequence[str]) -> Table:
    """Every run of a sweep: grid point, seed, outcome, failed checks, two headline
    metrics, and its kept event database or, when none was kept, the command replaying it."""
    t = Table(title=f"Runs of the sweep ({len(runs)})", title_justify="left")
    for name in ("scenario", *params, "seed", "outcome", "failed checks"):
        t.add_column(name, justify="right" if name == "seed" else "left", overflow="fold")
    for name in ("total_return", "max_drawdown"):
        t.add_column(name, justify="right")
    t.add_column("event database (or replay)", overflow="fold")
    for r in runs:
        outcome = r["outcome"]
        style = "green" if outcome == "passed" else "red"
        t.add_row(
            r["scenario"],
            *(str(r[p]) for p in params),
            str(r["seed"]),
            Text(outcome, style=style),
            ", ".join(r["failed_checks"]) or "-",
            number("total_return", r["total_return"]),
            number("max_drawdown", r["max_drawdown"]),
            r["event_db"] or Text(r["replay"], style="dim"),
        )
    return t
