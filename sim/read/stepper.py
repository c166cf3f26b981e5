"""The terminal step-through (`python run.py SCENARIO.yaml --step`).

The model runs one step at a time; after each step the recorder has written the step, and
the view is built from what was recorded (`sim.read.steps.step_data`): a header (date, step,
regime and severity, equity, drawdown, the step's events of interest), the holdings with
their protection flags, the step's proposals with every protection's verdict and the
decision, and the step's notices and requests. Because the view reads the database,
steps already run can be shown again (`g N` backwards) without rewinding the model.

Keys (one rich Console, `rich.live.Live(auto_refresh=False)` refreshed once per step and
once per key typed into a pending command):

    Enter or n   next step
    c            continue to the next step with an event of interest (regime change,
                 blocked or amended decision, notice; only the followed asset's, if any)
    g N Enter    go to step N (0-based; forward runs the model, backward shows the record)
    a T Enter    follow asset T (highlighted, its messages shown first); `a` Enter stops
    q            quit: the database is complete up to the last finished step

When the console is not a terminal the step-through prints every step as plain text.
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import attrs
from rich import box
from rich.console import Console, Group, RenderableType
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sim.read.inspect_view import (
    OUTCOME_STYLES,
    flag_labels,
    gist,
    money,
    outcome_text,
    pct,
    score,
    stance_text,
    weight,
)
from sim.read.steps import events_of_interest, step_data

ENTER = frozenset({"\r", "\n"})
BACKSPACE = frozenset({"\x7f", "\b"})
ESCAPE = "\x1b"
END_OF_INPUT = "\x04"  # Ctrl-D
KEY_HELP = "Enter/n next · c next event · g N go to step · a TICKER follow (a alone: stop) · q quit"
FOLLOW_STYLE = "reverse"


# --- commands -------------------------------------------------------------------------


@attrs.frozen
class Command:
    """One step-through command: next, continue, goto (arg: step), follow (arg: ticker or
    None), quit, or invalid (arg: the message)."""

    action: str
    arg: Any = None


def parse_command(text: str) -> Command | None:
    """A typed command line: `n`, empty, `c`, `q`, `g N`, `a TICKER`, `a`.

    Returns:
        The command, or None when `text` is not a command.
    """
    text = text.strip()
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    if text in ("", "n"):
        return Command("next")
    if text == "c":
        return Command("continue")
    if text == "q":
        return Command("quit")
    if head.startswith("g"):
        number = (head[1:] + rest).strip()
        if number.isdigit():
            return Command("goto", int(number))
        return Command("invalid", f"g needs a step number, got {number!r}")
    if head.startswith("a"):
        ticker = (head[1:] + rest).strip()
        return Command("follow", ticker or None)
    return None


class CommandLine:
    """Turns keys into commands: `n`, Enter, `c`, `q` act at once; `g` and `a` open a
    pending command that Enter completes, Backspace edits and Escape cancels.

    Mutable on purpose (it is the line being typed); one per step-through.
    """

    def __init__(self) -> None:
        self.pending: str | None = None

    @property
    def prompt(self) -> str:
        """What is being typed (`g 12`), or empty."""
        if self.pending is None:
            return ""
        label = "go to step" if self.pending.startswith("g") else "follow asset"
        return f"{label}: {self.pending[1:].strip()}_"

    def feed(self, key: str) -> Command | None:
        """Take one key; return the command it completes, if any."""
        if key == END_OF_INPUT:
            return Command("quit")
        if self.pending is None:
            if key in ENTER or key in ("n", " "):
                return Command("next")
            if key in ("c", "q"):
                return parse_command(key)
            if key in ("g", "a"):
                self.pending = key
            return None
        if key in ENTER:
            text, self.pending = self.pending, None
            return parse_command(text)
        if key == ESCAPE:
            self.pending = None
        elif key in BACKSPACE:
            self.pending = self.pending[:-1] or None
        elif key.isprintable():
            self.pending += key
        return None


# --- the view (pure functions of recorded data) ---------------------------------------


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


# --- the controller -------------------------------------------------------------------


class Stepper:
    """Moves a cursor over the steps of a running model: forward runs the model, backward
    shows what was recorded. Holds the followed asset and the last status message.

    Args:
        model: a `BulwarkModel` built with a recorder (the view reads what it recorded).
        follow: the asset to follow from the start, or None.

    Raises:
        ValueError: the model has no recorder.
    """

    def __init__(self, model: Any, *, follow: str | None = None) -> None:
        if model.recorder is None:
            raise ValueError("the step-through reads the recorded steps: give the model a recorder")
        self.model = model
        self.conn = model.recorder.db.conn
        self.run_id = model.recorder.run_id
        self.total = len(model.sim_dates)
        self.tickers = tuple(sorted(model.market.tickers))
        self.cursor = -1
        self.follow: str | None = None
        self.status = ""
        self._cache: dict[int, dict[str, Any]] = {}
        if follow:
            self.set_follow(follow)

    @property
    def last(self) -> int:
        """The last finished (recorded) step, -1 before the first."""
        return self.model.steps_done - 1

    @property
    def finished(self) -> bool:
        """The model has run every step."""
        return not self.model.running

    def data(self, step: int | None = None) -> dict[str, Any]:
        """The recorded data of `step` (default: the step shown)."""
        step = self.cursor if step is None else step
        if step not in self._cache:
            self._cache[step] = step_data(self.conn, self.run_id, step)
        return self._cache[step]

    def _forward(self) -> bool:
        if self.cursor < self.last:
            self.cursor += 1
            return True
        if self.finished:
            return False
        self.model.step()
        self.cursor = self.last
        return True

    def start(self) -> None:
        """Run the first step when nothing has run yet, and show the last finished step."""
        if self.last < 0 and not self.finished:
            self.model.step()
        self.cursor = self.last

    def next(self) -> None:
        """Show the next step (running it when it has not run yet)."""
        self.status = ""
        if not self._forward():
            self.status = f"the run is finished (step {self.last} is the last); q quits"

    def continue_(self) -> None:
        """Move forward to the next step with an event of interest."""
        start = self.cursor
        while self._forward():
            events = events_of_interest(self.data(), self.follow)
            if events:
                self.status = f"continued from step {start}: {events[0]}"
                return
        self.status = f"no event of interest after step {start}: the run is finished"

    def goto(self, step: int) -> None:
        """Show step `step`, running the model up to it when needed."""
        if not 0 <= step < self.total:
            self.status = f"no step {step}: steps are 0..{self.total - 1}"
            return
        while self.last < step and not self.finished:
            self.model.step()
        self.cursor = step
        self.status = f"went to step {step}"

    def set_follow(self, ticker: str | None) -> None:
        """Follow `ticker` (None stops following)."""
        if ticker is None:
            self.follow, self.status = None, "stopped following"
        elif ticker in self.tickers:
            self.follow, self.status = ticker, f"following {ticker}"
        else:
            close = difflib.get_close_matches(ticker, self.tickers, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.status = f"unknown ticker {ticker!r}{hint}"

    def apply(self, command: Command) -> bool:
        """Carry out a command. Returns False for quit."""
        if command.action == "quit":
            return False
        if command.action == "next":
            self.next()
        elif command.action == "continue":
            self.continue_()
        elif command.action == "goto":
            self.goto(command.arg)
        elif command.action == "follow":
            self.set_follow(command.arg)
        else:
            self.status = str(command.arg)
        return True

    def lines(self) -> list[str]:
        """The shown step as plain text lines."""
        return step_lines(self.data(), total=self.total, follow=self.follow)

    def screen(self, prompt: str = "") -> Layout:
        """The shown step as the full-screen frame."""
        return screen(
            self.data(),
            total=self.total,
            model_step=self.last,
            follow=self.follow,
            status=self.status,
            prompt=prompt,
        )


# --- keys -----------------------------------------------------------------------------


@contextlib.contextmanager
def key_reader(stream: IO[str] | None = None) -> Iterator[Callable[[], str]]:
    """Read single keys from `stream` (default stdin): cbreak mode while inside when it is
    a terminal (restored on exit), plain reads otherwise. Yields a function returning the
    next key, or "" at the end of input."""
    stream = sys.stdin if stream is None else stream
    fd = stream.fileno()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read() -> str:
        while True:
            chunk = os.read(fd, 1)
            if not chunk:
                return ""
            text = decoder.decode(chunk)
            if text:
                return text

    if not os.isatty(fd):
        yield read
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)  # keep keys typed ahead
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


# --- entry point ----------------------------------------------------------------------


def _print_lines(console: Console, lines: list[str]) -> None:
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


@attrs.frozen
class StepThroughResult:
    """How a step-through ended: `steps_done` finished (recorded) steps; `finished` when
    the model ran every step; `quit` when the user quit (the run is then interrupted
    unless it had finished)."""

    steps_done: int
    finished: bool
    quit: bool


def step_through(
    model: Any,
    console: Console,
    *,
    interactive: bool | None = None,
    follow: str | None = None,
    keys: IO[str] | None = None,
) -> StepThroughResult:
    """Step through a model built with a recorder.

    Args:
        model: the `BulwarkModel`, not yet run (or partly run).
        console: where to draw.
        interactive: keys and a live full-screen view; None means `console.is_terminal`.
            Otherwise every step is printed as plain text, one after the other.
        follow: an asset to follow from the start.
        keys: where keys come from (default stdin).

    Returns:
        How it ended; after a quit the database is complete up to the last finished step.
    """
    stepper = Stepper(model, follow=follow)
    if interactive is None:
        interactive = console.is_terminal
    if not interactive:
        if stepper.status and stepper.follow is None:
            console.print(stepper.status, markup=False, highlight=False)
        stepper.start()
        _print_lines(console, stepper.lines())
        while not stepper.finished:
            stepper.next()
            _print_lines(console, stepper.lines())
        return StepThroughResult(model.steps_done, True, False)
    line = CommandLine()
    quit_ = False
    stepper.start()
    with (
        key_reader(keys) as read_key,
        Live(
            stepper.screen(),
            console=console,
            screen=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as live,
    ):
        live.refresh()
        while True:
            key = read_key()
            command = Command("quit") if key == "" else line.feed(key)
            if command is not None and not stepper.apply(command):
                quit_ = True
                break
            live.update(stepper.screen(line.prompt), refresh=True)
    shown = stepper.data()
    console.print(
        f"step-through {'quit' if quit_ else 'ended'} at step {shown['step']} ({shown['date']});"
        f" the event database holds steps 0..{stepper.last}"
        + ("" if stepper.finished else f" of 0..{stepper.total - 1}"),
        markup=False,
        highlight=False,
    )
    return StepThroughResult(model.steps_done, stepper.finished, quit_)
