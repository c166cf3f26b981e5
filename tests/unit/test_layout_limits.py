"""House rule on the layout of the code: no function longer than `MAX_FUNCTION_LINES` lines.

The rule covers the project's code (`CHECKED`: sim/, domain/, agents/, bench/ and run.py),
not its tests. A function's length runs from its `def` line to its last line, docstring
and comments included; methods and nested functions count on their own (`Class.method`,
`outer.inner`).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]
CHECKED: tuple[str, ...] = ("sim", "domain", "agents", "bench", "run.py")
"""The packages and modules the rule covers, relative to the repository."""
MAX_FUNCTION_LINES = 60

# The functions known to be longer than the limit, as (file, qualified name).
# This list must only shrink: split a function, then remove its entry; never add one.
KNOWN_LONG_FUNCTIONS: frozenset[tuple[str, str]] = frozenset()


class LongFunction(NamedTuple):
    """A function over the limit: its file (relative to the repository), line, qualified
    name and length in lines."""

    file: str
    line: int
    name: str
    lines: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.name}: {self.lines} lines"


def long_functions(path: Path, root: Path, limit: int = MAX_FUNCTION_LINES) -> list[LongFunction]:
    """Every function of `path` longer than `limit` lines, in source order."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    file = path.relative_to(root).as_posix()
    out: list[LongFunction] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    length = child.end_lineno - child.lineno + 1
                    if length > limit:
                        out.append(LongFunction(file, child.lineno, name, length))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return sorted(out, key=lambda f: f.line)


def checked_files(root: Path, checked: tuple[str, ...] = CHECKED) -> list[Path]:
    """Every Python file the rule covers under `root`: the modules named in `checked` and
    every module below the packages named there."""
    out: list[Path] = []
    for name in checked:
        path = root / name
        out.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return out


def _long_functions() -> list[LongFunction]:
    return [f for path in checked_files(REPO) for f in long_functions(path, REPO)]


def test_checked_files_when_repository_walked_then_every_package_and_run_py_but_no_test():
    files = {path.relative_to(REPO).as_posix() for path in checked_files(REPO)}

    assert "run.py" in files
    for package in ("sim", "domain", "agents", "bench"):
        assert any(f.startswith(f"{package}/") for f in files), package
    assert "domain/construction/trades.py" in files  # subpackages too
    assert not any(f.startswith("tests/") for f in files)


def test_function_length_when_code_walked_then_none_over_limit_but_known_ones():
    offenders = [f for f in _long_functions() if (f.file, f.name) not in KNOWN_LONG_FUNCTIONS]
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(
        map(str, offenders)
    )


def test_known_long_functions_when_one_is_split_then_entry_must_go():
    still_long = {(f.file, f.name) for f in _long_functions()}
    stale = sorted(KNOWN_LONG_FUNCTIONS - still_long)
    assert not stale, (
        "no longer over the limit (or gone): remove from KNOWN_LONG_FUNCTIONS: "
        + ", ".join(f"{file} {name}" for file, name in stale)
    )


def test_long_functions_when_method_and_nested_function_too_long_then_both_named(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(59))
    source = (
        f"def fits():\n{body}\n"  # 60 lines: within the limit
        f"class Model:\n    def step(self):\n{body.replace('    ', '        ')}        x = 0\n\n"
        "def outer():\n    def inner():\n"
        + body.replace("    ", "        ")
        + "        y = 0\n    return inner\n"
    )
    path = tmp_path / "sim" / "long.py"
    path.parent.mkdir()
    path.write_text(source)

    found = long_functions(path, tmp_path)

    assert [(f.name, f.lines) for f in found] == [
        ("Model.step", 61),
        ("outer", 63),
        ("outer.inner", 61),
    ]
    assert str(found[0]) == f"sim/long.py:{found[0].line}: Model.step: 61 lines"
