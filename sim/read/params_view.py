"""The `params` view: the configuration registry as a rich table, with preset and export.

`python run.py params [--tier T] [--preset P] [--group G] [--export FILE]` calls
`params_command`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.config import (
    GROUP_TITLES,
    GROUPS,
    ConfigError,
    Param,
    Resolved,
    config_to_json,
    config_to_yaml,
    params_for,
    resolve,
)
from sim.read.console import make_console

CHANGED_STYLE = "bold yellow"
"""Style of a value that differs from the registry default."""

EXPORT_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
"""Export file suffix -> format."""

EXIT_OK = 0
EXIT_INVALID = 2


def format_value(value: Any) -> str:
    """A parameter value as shown in the table: true/false, exact floats, plain strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _ordered(params: tuple[Param, ...]) -> list[Param]:
    # Stable sort: group order first, registry order within a group.
    return sorted(params, key=lambda p: GROUPS.index(p.group))


def params_table(resolved: Resolved, *, tier: str | None = None, group: str | None = None) -> Table:
    """Render the resolved configuration as a table.

    Columns: name, value, default, range, help. Rows are grouped by parameter group (a
    section per group, titled), in registry order within a group. A value that differs
    from its default is styled `CHANGED_STYLE`.

    Args:
        resolved: the outcome of `domain.config.resolve`.
        tier: show the parameters of this tier and below; None shows all.
        group: show only this group; None shows all.

    Raises:
        ConfigError: unknown tier or group.
    """
    params = _ordered(params_for(tier, group))
    values = resolved.config.to_dict()
    changed = sum(values[p.name] != p.default for p in params)
    title = f"Parameters (tier: {tier or 'expert'}, preset: {resolved.preset or 'none'})"
    table = Table(
        title=title,
        caption=f"{len(params)} parameters, {changed} differ from the default (highlighted)",
    )
    table.add_column("name", overflow="fold")
    table.add_column("value", overflow="fold")
    table.add_column("default", overflow="fold")
    table.add_column("range", overflow="fold")
    table.add_column("help", overflow="fold")
    current = None
    for param in params:
        if param.group != current:
            if current is not None:
                table.add_section()
            current = param.group
            table.add_row(Text(GROUP_TITLES[current], style="bold cyan"), "", "", "", "")
        value = values[param.name]
        style = CHANGED_STYLE if value != param.default else ""
        table.add_row(
            param.name,
            Text(format_value(value), style=style),
            format_value(param.default),
            param.range_text(),
            param.help,
        )
    return table


def _print_error(console: Console, error: ConfigError) -> None:
    for issue in error.issues:
        console.print(Text(f"error: {issue.message}", style="bold red"))


def params_command(
    *,
    tier: str | None = None,
    preset: str | None = None,
    group: str | None = None,
    export: str | None = None,
    console: Console | None = None,
) -> int:
    """Show the parameters of a preset (or the defaults) and optionally export them.

    Prints the diversification-mode adjustments, then the table. With `export`, writes
    the full resolved configuration (every parameter, whatever the tier or group filter)
    as YAML (.yaml, .yml) or JSON (.json) instead, and prints only the adjustments and
    what it wrote.

    Args:
        tier: disclosure tier to show (None = all).
        preset: preset to resolve (None = the defaults).
        group: group to show (None = all).
        export: path to write the configuration to, or None.
        console: where to print (`sim.read.console.make_console()` when None).

    Returns:
        0 on success; 2 for an unknown preset, tier or group, an unsupported export
        suffix, or an export path that cannot be written (the message says which).
    """
    console = console or make_console()
    fmt = None
    if export is not None:
        fmt = EXPORT_FORMATS.get(Path(export).suffix.lower())
        if fmt is None:
            known = ", ".join(EXPORT_FORMATS)
            console.print(
                Text(f"error: cannot export to {export!r}: use a {known} file", style="bold red")
            )
            return EXIT_INVALID
    try:
        resolved = resolve(preset)
        table = params_table(resolved, tier=tier, group=group)
    except ConfigError as error:
        _print_error(console, error)
        return EXIT_INVALID
    for note in resolved.adjustments:
        console.print(Text(f"adjusted: {note}", style="yellow"))
    if export is None:
        console.print(table)
        return EXIT_OK
    text = config_to_yaml(resolved.config) if fmt == "yaml" else config_to_json(resolved.config)
    try:
        Path(export).write_text(text, encoding="utf-8")
    except OSError as error:
        console.print(Text(f"error: cannot write {export!r}: {error}", style="bold red"))
        return EXIT_INVALID
    console.print(f"wrote {len(resolved.config.to_dict())} parameters to {export} ({fmt})")
    return EXIT_OK
