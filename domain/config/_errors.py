"""Configuration errors: every problem found is reported, not just the first."""

from __future__ import annotations

from collections.abc import Iterable

import attrs


@attrs.frozen
class ConfigIssue:
    """One configuration problem.

    Attributes:
        params: the parameters involved (registry names; the offending name when unknown).
        rule: short rule id, e.g. "max_new_le_max_total", "out_of_range", "unknown_param".
        message: human-readable text naming the parameters, their values and the rule.
    """

    params: tuple[str, ...] = attrs.field(converter=tuple)
    rule: str
    message: str


class ConfigError(ValueError):
    """A configuration is invalid; `issues` lists every problem found."""

    def __init__(self, issues: Iterable[ConfigIssue]):
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        super().__init__("; ".join(issue.message for issue in self.issues))

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule ids of every issue, in report order."""
        return tuple(issue.rule for issue in self.issues)

    def __reduce__(self):  # picklable across processes
        return (type(self), (self.issues,))
