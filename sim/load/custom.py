"""Importing the user-written protections a scenario names (`protections.custom`).

The loader checks every custom protection with `load_protection_class` when it reads the
file; the run gets the class of each with `load_custom_protection`.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from domain.protections.base import Protection
from domain.scenario import CustomProtection, Scenario


def load_protection_class(class_path: str, base_dir: str | os.PathLike[str]) -> type[Protection]:
    """Import a custom protection `module.path:ClassName` with `base_dir` first on sys.path.

    The loader checks every custom protection with this; the model can use it to get the
    class (pass the scenario file's directory). sys.path is restored afterwards. Imported
    modules stay in `sys.modules`, so module names are global to the process.

    Raises:
        ImportError: the module cannot be imported or has no such attribute.
        TypeError: the attribute is not a subclass of Protection.
    """
    module_name, _, class_name = class_path.partition(":")
    entry = str(base_dir)
    sys.path.insert(0, entry)
    try:
        importlib.invalidate_caches()
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ImportError(f"cannot import '{class_path}': {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(entry)  # the first occurrence: the one inserted above
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ImportError(
            f"cannot import '{class_path}': module '{module_name}' has no '{class_name}'"
        )
    if not (isinstance(cls, type) and issubclass(cls, Protection)):
        raise TypeError(f"'{class_path}' is not a subclass of domain.protections.base.Protection")
    return cls


def load_custom_protection(spec: CustomProtection, scenario: Scenario) -> type[Protection]:
    """The class named by `spec.class_path` ("package.module:ClassName").

    The scenario file's directory is searched first, so a rule file kept beside the
    scenario is found (the loader already checked the import when it read the file).
    """
    base = Path(scenario.path).resolve().parent if scenario.path else Path.cwd()
    return load_protection_class(spec.class_path, base)
