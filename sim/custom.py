"""Loading user-written protections named in a scenario (`protections.custom`)."""

from __future__ import annotations

from pathlib import Path

from domain.protections.base import Protection
from domain.scenario import CustomProtection, Scenario
from sim.scenario import load_protection_class


def load_custom_protection(spec: CustomProtection, scenario: Scenario) -> type[Protection]:
    """The class named by `spec.class_path` ("package.module:ClassName").

    The scenario file's directory is searched first, so a rule file kept beside the
    scenario is found (the loader already checked the import when it read the file).
    """
    base = Path(scenario.path).resolve().parent if scenario.path else Path.cwd()
    return load_protection_class(spec.class_path, base)
