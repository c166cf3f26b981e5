"""The domain is pure: it imports no simulation, storage or presentation library."""

import ast
from pathlib import Path

FORBIDDEN = ("mesa", "sqlite_utils", "rich", "sqlite3", "sim", "agents")
DOMAIN = Path(__file__).resolve().parents[2] / "domain"


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_import_when_domain_module_then_no_forbidden_library():
    offenders = {
        str(path.relative_to(DOMAIN.parent)): sorted(_imported_roots(path) & set(FORBIDDEN))
        for path in sorted(DOMAIN.rglob("*.py"))
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_purity_check_when_forbidden_import_present_then_detected(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import mesa\nfrom sqlite_utils import Database\nfrom rich.table import Table\n")
    assert _imported_roots(bad) & set(FORBIDDEN) == {"mesa", "sqlite_utils", "rich"}
