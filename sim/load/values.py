"""Value converters of the scenario loader: one node to one checked value.

A converter (`Conv`) takes a scalar node and returns its value, or raises `Invalid` with
a message saying what was expected. The range, choice and pattern converters build that
message from their own bounds, so a rule and its message are declared together.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any

from yaml.nodes import Node

from domain.limits import MAX_INT, MAX_PRICE, MIN_PRICE
from sim.load.yaml_nodes import Invalid, as_int, as_number, as_text

#: The asset of an expectation that means "any asset".
ANY_ASSET = "*"

Conv = Callable[[Node], Any]


class _Bad:
    """A value that failed its check (already reported); never used further."""

    def __repr__(self) -> str:
        return "BAD"


BAD: Any = _Bad()


def join(field: str, key: str) -> str:
    """The field path of `key` inside `field` (`key` alone at the top)."""
    return f"{field}.{key}" if field else key


def fmt(value: float) -> str:
    """A number as a message shows it: integers plainly, others rounded to 9 places."""
    if isinstance(value, int):
        return str(value)
    if value and not 1e-4 <= abs(value) < 1e6:
        return f"{value:g}"
    rounded = round(value, 9)
    return str(int(rounded)) if rounded == int(rounded) else repr(rounded)


def suggest(word: str, options: Sequence[str]) -> str:
    """` (did you mean 'x'?)` for the closest of `options`, or '' when none is close."""
    match = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


def bounded(
    base: Conv,
    *,
    lo: float | None = None,
    lo_open: bool = False,
    hi: float | None = None,
    hi_open: bool = False,
) -> Conv:
    """Wrap a number converter with a range check whose message names the range."""

    def conv(node: Node) -> Any:
        value = base(node)
        below = lo is not None and (value <= lo if lo_open else value < lo)
        above = hi is not None and (value >= hi if hi_open else value > hi)
        if below or above:
            if lo is not None and hi is not None:
                rng = f"{'(' if lo_open else '['}{fmt(lo)}, {fmt(hi)}{')' if hi_open else ']'}"
                raise Invalid(f"must be in {rng}, got {node.value}")
            if lo is not None:
                raise Invalid(f"must be {'>' if lo_open else '>='} {fmt(lo)}, got {node.value}")
            raise Invalid(f"must be {'<' if hi_open else '<='} {fmt(hi)}, got {node.value}")
        return value

    return conv


def choice(options: Sequence[str]) -> Conv:
    """A converter accepting one of `options` (text)."""

    def conv(node: Node) -> str:
        text = as_text(node, f"one of {', '.join(options)}")
        if text not in options:
            raise Invalid(f"expected one of {', '.join(options)}, got '{text}'")
        return text

    return conv


def pattern(regex: re.Pattern[str], what: str) -> Conv:
    """A converter accepting text that `regex` matches in full (`what` names it)."""

    def conv(node: Node) -> str:
        text = as_text(node, what)
        if not regex.fullmatch(text):
            raise Invalid(f"expected {what}, got '{text}'")
        return text

    return conv


def ticker(node: Node) -> str:
    """A ticker: non-blank text (`*` included; see `defined_ticker`)."""
    text = as_text(node, "a ticker")
    if not text.strip():
        raise Invalid("expected a ticker, got empty text")
    return text


def defined_ticker(node: Node) -> str:
    """A ticker that defines or names one asset: not `*`."""
    text = ticker(node)
    if text == ANY_ASSET:
        raise Invalid("'*' is not a ticker (it means any asset, only in expect)")
    return text


def nonempty_text(node: Node) -> str:
    """Text that is not blank."""
    text = as_text(node)
    if not text.strip():
        raise Invalid("expected text, got empty text")
    return text


FRACTION = bounded(as_number, lo=0, hi=1)
NON_NEGATIVE = bounded(as_number, lo=0)
INT_GE0 = bounded(as_int, lo=0, hi=MAX_INT)
PRICE = bounded(as_number, lo=MIN_PRICE, hi=MAX_PRICE)
