"""Importing what a scenario names by import path: custom protections, scoring models.

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
from domain.scoring_models import BUILTIN_MODELS, ScoringModel, builtin_model


def import_attribute(path: str, base_dir: str | os.PathLike[str]) -> object:
    """The attribute named by `path` ("module.path:name"), `base_dir` first on sys.path.

    sys.path is restored afterwards. Imported modules stay in `sys.modules`, so module
    names are global to the process.

    Raises:
        ImportError: the module cannot be imported or has no such attribute.
    """
    module_name, _, name = path.partition(":")
    entry = str(base_dir)
    sys.path.insert(0, entry)
    try:
        importlib.invalidate_caches()
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ImportError(f"cannot import '{path}': {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(entry)  # the first occurrence: the one inserted above
    value = getattr(module, name, None)
    if value is None:
        raise ImportError(f"cannot import '{path}': module '{module_name}' has no '{name}'")
    return value


def load_protection_class(class_path: str, base_dir: str | os.PathLike[str]) -> type[Protection]:
    """Import a custom protection `module.path:ClassName` with `base_dir` first on sys.path.

    The loader checks every custom protection with this; the model can use it to get the
    class (pass the scenario file's directory). sys.path is restored afterwards. Imported
    modules stay in `sys.modules`, so module names are global to the process.

    Raises:
        ImportError: the module cannot be imported or has no such attribute.
        TypeError: the attribute is not a subclass of Protection.
    """
    cls = import_attribute(class_path, base_dir)
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


def load_scoring_model(name: str, base_dir: str | os.PathLike[str]) -> ScoringModel:
    """The scoring model `name`: a built-in (`BUILTIN_MODELS`) or ``module:function``.

    A user model gets the whole history up to today, unless the function has an int
    attribute ``window`` (the rows it reads, today included).

    Raises:
        ImportError: the module cannot be imported or has no such attribute.
        TypeError: the attribute is not callable, or its ``window`` is not an int >= 1.
    """
    if name in BUILTIN_MODELS:
        return builtin_model(name)
    function = import_attribute(name, base_dir)
    if not callable(function):
        raise TypeError(f"'{name}' is not a function (got {type(function).__name__})")
    window = getattr(function, "window", None)
    if window is not None and (type(window) is not int or window < 1):
        raise TypeError(f"'{name}'.window must be an int >= 1, got {window!r}")
    return ScoringModel(name=name, function=function, window=window)


def scoring_model_of(scenario: Scenario) -> ScoringModel | None:
    """The scenario's scoring model (None: the default blend), its directory searched
    first for a user model (the loader already checked the import)."""
    if scenario.scoring_model is None:
        return None
    base = Path(scenario.path).resolve().parent if scenario.path else Path.cwd()
    return load_scoring_model(scenario.scoring_model, base)
