"""Canonical JSON, the one encoding of every JSON column the recorder writes.

Standard library only: the background step writer (`sim.run.step_writer`) imports it in a
process of its own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from json.encoder import c_make_encoder, encode_basestring_ascii
from typing import Any


def dumps(value: Any) -> str:
    """Canonical JSON: sorted keys, no NaN (as null), compact. Same input, same bytes.

    Plain JSON values (dicts with string keys, lists, strings, numbers, booleans, None:
    what `Message.payload` gives) are encoded in one pass; only a value holding a NaN or
    an infinity, a tuple or another mapping is walked first (`_clean`), to the same bytes.
    """
    try:
        return _encode(value)
    except (ValueError, TypeError):
        return _encode(_clean(value))


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False)
"""What `json.dumps` with these arguments builds on every call, built once."""
_C_ENCODE = (
    None
    if c_make_encoder is None
    else c_make_encoder(
        None,  # no circular-reference markers: a payload is a tree
        _ENCODER.default,
        encode_basestring_ascii,
        None,
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        _ENCODER.sort_keys,
        _ENCODER.skipkeys,
        _ENCODER.allow_nan,
    )
)
"""The C encoder `_ENCODER.encode` would build for every value (the same bytes), built once."""


def _encode(value: Any) -> str:
    if _C_ENCODE is None or isinstance(value, str):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
