"""The rule catalogue: every rule of a run's stages and protections, by id.

The stages' rules are declared in `domain.rules`, each protection's in its own module
(`Protection.rules`); the catalogue joins them for a protection registry, so a new
protection brings its rules with its row. `python run.py rules` prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.protections.registry import BUILTIN, Registry
from domain.rules import STAGE_RULES, Rule


def catalogue(registry: Registry = BUILTIN) -> tuple[Rule, ...]:
    """Every rule, by behaviour.md section (declaration order within one).

    Raises:
        ValueError: two rules share an id.
    """
    found = [*STAGE_RULES, *(rule for row in registry.rows for rule in row.cls.rules)]
    ids = [rule.id for rule in found]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"rule ids declared twice: {', '.join(twice)}")
    return tuple(sorted(found, key=lambda rule: rule.section.split(".", 1)[0]))


def by_id(registry: Registry = BUILTIN) -> Mapping[str, Rule]:
    """The catalogue as id -> rule."""
    return MappingProxyType({rule.id: rule for rule in catalogue(registry)})


RULES: Mapping[str, Rule] = by_id()
"""The built-in catalogue, id -> rule."""
