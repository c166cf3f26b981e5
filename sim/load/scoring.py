"""The `scoring` section: which scoring model the portfolio manager uses.

``scoring: {model: momentum}`` names a built-in model, ``scoring: {model: pkg.mod:func}``
a user function; the function is imported while the file is read (`sim.load.custom`),
so a missing module or a non-function is reported at the `model` line. Absent (or
``model: default``): the default technical and fundamental blend (docs/scoring.md).
"""

from __future__ import annotations

import re
from typing import Any

from domain.scoring_models import BUILTIN_MODELS
from sim.load.custom import load_scoring_model
from sim.load.reader import NodeMap
from sim.load.values import BAD, pattern
from sim.load.walk import Walk
from sim.load.yaml_nodes import is_null

DEFAULT_MODEL = "default"
"""The name of the default blend (the same as leaving `scoring` out)."""
SCORING_KEYS: tuple[str, ...] = ("model",)
_MODEL = re.compile(
    "|".join(re.escape(n) for n in (DEFAULT_MODEL, *BUILTIN_MODELS))
    + r"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*"
)
_WHAT = " or ".join(f"'{n}'" for n in (DEFAULT_MODEL, *BUILTIN_MODELS)) + " or module:function"


def read_scoring(w: Walk, top: NodeMap) -> Any:
    """The scenario's `scoring_model` (None: the default blend), or BAD."""
    node = top.get("scoring")
    if node is None or is_null(node):
        return None
    m = w.mapping(node, "scoring", SCORING_KEYS, required=("model",))
    if m is None:
        return BAD
    name = w.req(m, "model", pattern(_MODEL, _WHAT))
    if name is BAD or name == DEFAULT_MODEL:
        return None if name == DEFAULT_MODEL else BAD
    try:
        load_scoring_model(name, w.base_dir)
    except (ImportError, TypeError) as exc:
        w.error(m.get("model"), "scoring.model", str(exc))
        return BAD
    return name
