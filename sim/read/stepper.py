"""The terminal step-through (`python run.py SCENARIO.yaml --step`).

The model runs one step at a time; after each step the recorder has written the step, and
the view is built from what was recorded (`sim.read.steps.step_data`; drawn by
`sim.read.step_view`, or as plain text by `sim.read.step_text`): a header (date, step,
regime and severity, equity, drawdown, the step's events of interest), the holdings with
their protection flags, the step's proposals with every protection's verdict and the
decision, and the step's notices and requests. Because the view reads the database,
steps already run can be shown again (`g N` backwards) without rewinding the model.

Keys (`sim.read.step_keys`; one rich Console, `rich.live.Live(auto_refresh=False)`
refreshed once per step and once per key typed into a pending command):

    Enter or n   next step
    c            continue to the next step with an event of interest (regime change,
                 blocked or amended decision, notice; only the followed asset's, if any)
    g N Enter    go to step N (0-based; forward runs the model, backward shows the record)
    a T Enter    follow asset T (highlighted, its messages shown first); `a` Enter stops
    q            quit: the database is complete up to the last finished step

When the console is not a terminal the step-through prints every step as plain text.
"""

from __future__ import annotations

import difflib
from typing import IO, Any

import attrs
from rich.console import Console
from rich.layout import Layout
from rich.live import Live

from sim.read.step_keys import Command, CommandLine, key_reader
from sim.read.step_text import step_lines
from sim.read.step_view import screen
from sim.read.steps import events_of_interest, step_data

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
        _print_every_step(stepper, console)
        return StepThroughResult(model.steps_done, True, False)
    stepper.start()
    _live_session(stepper, console, keys)
    shown = stepper.data()
    console.print(
        f"step-through quit at step {shown['step']} ({shown['date']});"
        f" the event database holds steps 0..{stepper.last}"
        + ("" if stepper.finished else f" of 0..{stepper.total - 1}"),
        markup=False,
        highlight=False,
    )
    return StepThroughResult(model.steps_done, stepper.finished, True)


def _print_every_step(stepper: Stepper, console: Console) -> None:
    """Run the model to its end, printing every step as plain text."""
    if stepper.status and stepper.follow is None:
        console.print(stepper.status, markup=False, highlight=False)
    stepper.start()
    _print_lines(console, stepper.lines())
    while not stepper.finished:
        stepper.next()
        _print_lines(console, stepper.lines())


def _live_session(stepper: Stepper, console: Console, keys: IO[str] | None) -> None:
    """The full-screen view, redrawn after every key, until the user quits (the end of
    input counts as quitting)."""
    line = CommandLine()
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
                return
            live.update(stepper.screen(line.prompt), refresh=True)
