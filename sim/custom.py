"""Loading user-written protections named in a scenario (`protections.custom`)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from domain.protections.base import Protection
from domain.scenario import CustomProtection, Scenario


class CustomProtectionError(ImportError):
    """A custom protection's class could not be loaded."""


def load_custom_protection(spec: CustomProtection, scenario: Scenario) -> type[Protection]:
    """Import `spec.class_path` ("package.module:ClassName").

    The scenario file's directory is put at the front of `sys.path` while importing, so
    a rule file kept beside the scenario is found.

    Raises:
        CustomProtectionError: the module or class is missing, or it is not a Protection.
    """
    module_name, sep, class_name = spec.class_path.partition(":")
    if not sep or not module_name or not class_name:
        raise CustomProtectionError(f"{spec.class_path!r}: expected 'module.path:ClassName'")
    base = str(Path(scenario.path).resolve().parent) if scenario.path else None
    added = base is not None and base not in sys.path
    if added:
        sys.path.insert(0, base)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise CustomProtectionError(f"{spec.class_path!r}: cannot import {module_name}: {err}")
    finally:
        if added:
            sys.path.remove(base)
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Protection)):
        raise CustomProtectionError(
            f"{spec.class_path!r}: {class_name} is not a subclass of domain.protections.base.Protection"
        )
    return cls
