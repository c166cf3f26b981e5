"""A message's payload as plain JSON-ready values, from its field values.

Standard library only: the event database's writer process (`sim.run.step_writer`) builds
each payload from the values the run sends it, with the very function `Message.payload`
uses, so both give the same mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None)})
"""The types a payload keeps as they are."""
_MAPPINGS = frozenset({dict, MappingProxyType})
_SEQUENCES = frozenset({tuple, list})


def jsonable(value: Any) -> Any:
    """`value` as JSON-ready values: mappings as dicts with string keys, tuples, lists and
    sets as lists (sets sorted), a numpy scalar as its Python value, a date as its ISO
    text; anything else as it is. Applying it twice gives what applying it once gives."""
    kind = type(value)
    if kind in PLAIN:  # the common cases first, by exact type, before the ABC checks
        return value
    if kind in _MAPPINGS:
        return {str(k): v if type(v) in PLAIN else jsonable(v) for k, v in value.items()}
    if kind in _SEQUENCES:
        return [v if type(v) in PLAIN else jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return [jsonable(v) for v in items]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def payload_of(fields: Sequence[tuple[int, str]], values: Sequence[Any]) -> dict[str, Any]:
    """The payload of a message whose field values are `values`: for each (index, name)
    of `fields`, in order, the name and its value made JSON-ready (`jsonable`)."""
    out = {}
    for i, name in fields:
        value = values[i]
        out[name] = value if type(value) in PLAIN else jsonable(value)
    return out
