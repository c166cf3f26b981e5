"""docs/api.md's worked example runs: every ```python block of the page, in order, in one
namespace, from a directory holding the repository's `scenarios/` (so the page's
relative paths work and its `runs/` folder is a temporary one)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def python_blocks(text: str) -> list[str]:
    """The code of every ```python block of a markdown text, in order."""
    return BLOCK.findall(text)


def test_python_blocks_when_page_has_other_fences_then_only_python_ones(tmp_path):
    text = "a\n```python\nx = 1\n```\n```\nnot = python\n```\n```python\ny = 2\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y = 2\n"]


def test_api_doc_when_its_code_blocks_run_in_order_then_every_assertion_holds(
    tmp_path, monkeypatch
):
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(PAGE.read_text())
    assert len(blocks) >= 8
    namespace: dict[str, object] = {"__name__": "api_doc"}
    for number, code in enumerate(blocks, 1):
        exec(compile(code, f"{PAGE}:block {number}", "exec"), namespace)
    assert namespace["again"].run_id == "baseline-s7-001"
    assert (tmp_path / "runs" / "notebook.db").is_file()
