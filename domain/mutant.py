"""A mutant: one deliberately broken variant of one rule, switched in at run time.

A mutant breaks one rule of the catalogue (`domain.catalogue`) in one realistic way (a
comparison moved by one, the parameter ignored, the step skipped, a priority pair
swapped) and is switched in through the run's registry, never by editing the source:
its `cls` replaces the class of the row `protection`, `swap` exchanges two rows'
priorities, or `stages` replaces the run's stage rules (`Registry.stages`) with a
subclass of `domain.stages.Stages` overriding one step. The catalogues:
`domain.protections.mutants` (the protections' and the built-in list) and
`domain.stage_mutants` (the stages'); docs/stress-testing.md.
"""

from __future__ import annotations

import attrs

from domain.protections.base import Protection
from domain.protections.registry import Registry
from domain.stages import Stages


@attrs.frozen
class Mutant:
    """One broken variant of one rule.

    Attributes:
        id: `<rule id>/<how>`, e.g. `holding_period.minimum/off_by_one`.
        rule: the id of the rule it breaks (a rule of `domain.catalogue`).
        description: one line: what is broken.
        protection: the registry row it changes (None in a custom protection's `mutants`:
            the row of the class declaring it; None for a stage mutant).
        cls: the replacement class of that row (a subclass of the row's class).
        swap: the other row whose priority is exchanged with `protection`'s.
        stages: the replacement of the run's stage rules (a subclass of `Stages`; one
            instance per run, so it may keep state through the run).
    """

    id: str
    rule: str
    description: str
    protection: str | None = None
    cls: type[Protection] | None = None
    swap: str | None = None
    stages: type[Stages] | None = None

    def applies_to(self, registry: Registry) -> bool:
        """Whether every row it changes is a protection of `registry` (else it cannot
        change the run); a stage mutant applies to every run."""
        return all(n in registry.names for n in (self.protection, self.swap) if n is not None)

    def apply(self, registry: Registry) -> Registry:
        """`registry` with this mutant switched in (unchanged when it does not apply)."""
        if not self.applies_to(registry):
            return registry
        if self.stages is not None:
            return attrs.evolve(registry, stages=self.stages())
        if self.swap is not None:
            a, b = registry.row(str(self.protection)), registry.row(self.swap)
            prio = {a.name: b.priority, b.name: a.priority}
            rows = (attrs.evolve(r, priority=prio.get(r.name, r.priority)) for r in registry.rows)
        else:
            rows = (
                attrs.evolve(r, cls=self.cls) if r.name == self.protection else r
                for r in registry.rows
            )
        return attrs.evolve(registry, rows=tuple(rows))
