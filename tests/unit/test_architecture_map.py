"""docs/architecture.md's map of where each rule lives lists exactly the rule catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from domain.catalogue import catalogue

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
ROW = re.compile(r"^\| (?P<owner>[a-z_]+) \| (?P<where>`[^|]+) \| (?P<rules>[a-z_, ]+) \|$")


def _map_rows() -> dict[str, tuple[str, set[str]]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Where each rule lives", 1)[1].split("###", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            names = {n.strip() for n in m["rules"].split(",")}
            rows[m["owner"]] = (m["where"], {f"{m['owner']}.{n}" for n in names})
    return rows


def test_rule_map_when_compared_with_catalogue_then_same_ids():
    listed = set().union(*(ids for _, ids in _map_rows().values()))
    ids = {rule.id for rule in catalogue()}
    assert listed == ids, {"missing": sorted(ids - listed), "unknown": sorted(listed - ids)}


def test_rule_map_when_a_module_is_named_then_it_exists():
    repo = DOC.parents[1]
    for owner, (where, _) in _map_rows().items():
        for path in re.findall(r"`([a-z_/]+\.py)`", where):
            first = where.split("`")[1]
            full = path if "/" in path else str(Path(first).parent / path)
            assert (repo / full).is_file(), f"{owner}: {full} does not exist"
