"""What each table and column of the event database holds, in words: the one declaration
that `inspect DB datasette` writes into Datasette's metadata (`sim.read.datasette`).

Keyed like `sim.run.recorder.SCHEMA` (a test keeps the two equal, column for column, and
checks docs/event-db.md names every column).
"""

from __future__ import annotations

from collections.abc import Mapping

TABLE_DOCS: Mapping[str, str] = {
    "runs": "One row per run: its scenario, seed, configuration, status and writer.",
    "messages": "Every message between the agents, in order: proposals, verdicts, decisions,"
    " fills, notices, regime and score updates (payload: JSON with sorted keys).",
    "snapshots": "The holdings after each step: one row per position on the book.",
    "equity": "One row per step: equity, cash, invested value, drawdown, regime, turnover.",
    "checks": "The invariants and the scenario's expectations checked after a run, with"
    " their evidence (a run that crashed or was stopped has none).",
}
"""Table -> what it holds."""

COLUMN_DOCS: Mapping[str, Mapping[str, str]] = {
    "runs": {
        "run_id": "<scenario>-s<seed>-<nnn>",
        "scenario": "the scenario's name",
        "scenario_path": "the scenario file as given on the command line",
        "scenario_sha256": "hex digest of the scenario file's bytes",
        "seed": "the seed of the run",
        "initial_cash": "the starting cash",
        "config": "JSON: every parameter in force at the start",
        "status": "running, completed, failed or interrupted (a running run whose writer is"
        " gone is reported crashed by `inspect`)",
        "steps_completed": "how many steps were written (equals the equity rows)",
        "started_at": "UTC start time",
        "finished_at": "UTC end time (empty while running)",
        "error": "the traceback of a failed run, or why it stopped",
        "messages": "how many messages were written",
        "writer_host": "host name of the writing process",
        "writer_pid": "process id of the writer",
        "writer_started": "the writer process's start identity",
        "heartbeat_at": "UTC time of the writer's last step",
    },
    "messages": {
        "id": "order of the message within its run (from 1)",
        "run_id": "the run",
        "step": "the step (0-based trading day)",
        "date": "the simulated day",
        "round": "negotiation round: 0 for the day's plan, 1.. for re-plan rounds",
        "sender": "the agent that sent it",
        "recipient": "its addressee, * for a broadcast",
        "kind": "proposal, verdict, decision, fill, notice, regime_update, ...",
        "asset": "the ticker it is about (empty when none)",
        "proposal_id": "the proposal it belongs to (empty when none)",
        "in_reply_to": "id of the message it answers (a verdict its review request, a"
        " decision its proposal, a fill its decision)",
        "payload": "JSON: the message's fields; verdicts, decisions and notices carry `rule`",
    },
    "snapshots": {
        "run_id": "the run",
        "step": "the step",
        "date": "the simulated day",
        "asset": "the ticker",
        "bucket": "the asset's bucket",
        "quantity": "units held after the day's fills",
        "price": "the day's close",
        "value": "quantity times price",
        "weight": "value over equity",
        "score": "the day's score (empty before any scoring)",
        "flags": "JSON: core, core_until, grace_day, days_held, whipsaw_cycles, when they apply",
    },
    "equity": {
        "run_id": "the run",
        "step": "the step",
        "date": "the simulated day",
        "equity": "cash plus holdings at the day's closes",
        "cash": "cash after the day's fills",
        "invested": "value of the holdings",
        "drawdown": "the equity's distance below its peak so far (a fraction)",
        "regime": "the day's regime",
        "n_positions": "positions on the book",
        "turnover": "traded notional over equity",
        "costs": "the day's commission and slippage",
    },
    "checks": {
        "run_id": "the run",
        "seq": "order in which it was checked (from 1)",
        "kind": "invariant or expectation",
        "label": "what was checked (an expectation's with its line in the scenario file)",
        "passed": "1 held, 0 failed",
        "evidence": "JSON list: message ids, dates, assets and values of a failure",
    },
}
"""Table -> column -> what it holds."""
