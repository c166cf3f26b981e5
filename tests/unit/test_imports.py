"""The packages import one way: sim -> agents -> domain, and no agent imports sim.

Every import counts, those under `if TYPE_CHECKING:` and inside functions too: the walk
reads every `import` statement of every module of domain/, agents/, sim/ and run.py.
(What domain may import of outside libraries is test_domain_purity's job.) Agents read
the model only through `agents.view.WorldView` and its `BusPort`, and write none of it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

from agents.view import BusPort, WorldView

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "agents", "sim")
ENTRY = "run.py"


def _modules(root: Path) -> dict[str, Path]:
    """Every module of the packages and the entry point, by its top-level name's path."""
    out = {
        str(p.relative_to(root)): p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))
    }
    if (root / ENTRY).exists():
        out[ENTRY] = root / ENTRY
    return out


def _top(module: str) -> str:
    return module.split(".")[0]


def _imported(path: Path, package: str) -> set[str]:
    """Top-level names `path` imports (a relative import stays in its own package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(_top(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(package if node.level > 0 else _top(node.module or ""))
    return names


def package_graph(root: Path) -> dict[str, dict[str, set[str]]]:
    """package -> imported package -> the modules that import it (within the project)."""
    nodes = {*PACKAGES, Path(ENTRY).stem}
    graph: dict[str, dict[str, set[str]]] = {n: {} for n in nodes}
    for rel, path in _modules(root).items():
        package = _top(rel.replace("/", ".")) if rel != ENTRY else Path(ENTRY).stem
        for name in _imported(path, package) & nodes - {package}:
            graph[package].setdefault(name, set()).add(rel)
    return graph


def cycles(graph: Mapping[str, Mapping[str, set[str]]]) -> list[list[str]]:
    """Every elementary cycle of the package graph, each as a path starting at its least
    package (small graphs: a depth-first search from each node)."""
    found: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, {})):
            if nxt == start:
                found.add(tuple(path))
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return [list(c) for c in sorted(found)]


def test_imports_when_agents_read_then_no_agent_module_imports_sim():
    assert package_graph(REPO)["agents"].get("sim", set()) == set()


def test_imports_when_packages_walked_then_no_cycle_between_them():
    assert cycles(package_graph(REPO)) == []


def test_imports_when_packages_walked_then_sim_imports_agents_and_agents_import_domain():
    graph = package_graph(REPO)
    assert "sim/run/model.py" in graph["sim"]["agents"]
    assert set(graph["agents"]) == {"domain"}
    assert set(graph["domain"]) == set()


def _model_uses(path: Path) -> tuple[set[str], set[str], set[str]]:
    """(members of `model` read, members of `model.bus` used, members of `model` assigned)
    in one agent module, for `model.x` and `self.model.x` alike."""

    def is_model(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id == "model") or (
            isinstance(node, ast.Attribute)
            and node.attr == "model"
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        )

    read, bus, written = set(), set(), set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and is_model(node.value):
            (written if isinstance(node.ctx, ast.Store | ast.Del) else read).add(node.attr)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "bus"
            and is_model(node.value.value)
        ):
            bus.add(node.attr)
    return read, bus, written


def _members(protocol: type) -> set[str]:
    return {n for n in vars(protocol) if not n.startswith("_")}


def test_agents_when_reading_the_model_then_only_members_of_the_view_and_bus_port():
    read, bus, written = set(), set(), set()
    for path in sorted((REPO / "agents").glob("*.py")):
        r, b, w = _model_uses(path)
        read |= r
        bus |= b
        written |= w
    assert read and read <= _members(WorldView), read - _members(WorldView)
    assert bus and bus <= _members(BusPort), bus - _members(BusPort)
    assert written == set()


def test_model_uses_when_agent_writes_and_reads_beyond_the_view_then_detected(tmp_path):
    path = tmp_path / "a.py"
    path.write_text(
        "class A:\n"
        "    def f(self, model):\n"
        "        self.model.regime = 1\n"
        "        model.bus.round\n"
        "        return self.model.broker.book\n"
    )
    assert _model_uses(path) == ({"bus", "broker"}, {"round"}, {"regime"})


def _tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir(exist_ok=True)
    return tmp_path


def test_walk_when_agent_imports_sim_under_type_checking_then_detected(tmp_path):
    root = _tree(
        tmp_path,
        {
            "agents/a.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sim.model import M\n"
            ),
            "sim/model.py": "import agents.a\n",
        },
    )
    graph = package_graph(root)
    assert graph["agents"] == {"sim": {"agents/a.py"}}
    assert cycles(graph) == [["agents", "sim"]]


def test_walk_when_domain_imports_agents_inside_a_function_then_cycle_found(tmp_path):
    root = _tree(
        tmp_path,
        {
            "domain/d.py": "def f():\n    import agents.x\n",
            "agents/x.py": "from domain import d\nfrom . import y\n",
            "agents/y.py": "",
            "run.py": "import sim\nimport agents\n",
        },
    )
    graph = package_graph(root)
    assert cycles(graph) == [["agents", "domain"]]
    assert graph["run"] == {"sim": {"run.py"}, "agents": {"run.py"}}
