"""Shared helpers of the report tests: recording a scenario into a database, and opening a
page in headless Chromium (Debian's `chromium`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import run

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_MISSING = "headless Chromium not installed (Debian: apt-get install chromium)"
# No host name resolves: a page that needed the network would miss what it fetches.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND"
BROWSER_GUARD_S = 180  # a hung browser fails the test instead of hanging the suite


def record(scenario: str | Path, db: Path, **kw: object) -> str:
    """Run a scenario file into `db`; its run id (the run must complete)."""
    spec, config = run.prepare(str(scenario), **kw)
    run_id, code, _ = run.run_scenario(spec, config, db_path=db)
    assert code == run.EXIT_OK
    return run_id


class Browsed(NamedTuple):
    """What headless Chromium made of a page."""

    dom: str
    log: str
    screenshot: Path | None


def _chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        CHROMIUM or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        OFFLINE,
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2400",
        *args,
        page.resolve().as_uri(),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_GUARD_S, check=False
    )


def browse(page: Path, screenshot: Path | None = None) -> Browsed:
    """Load `page` in headless Chromium, offline: its DOM after the load event and the
    browser's log (console messages included), then, when asked, a screenshot of it."""
    profile = page.parent / "chromium-profile"
    dumped = _chromium(page, profile, "--dump-dom")
    if screenshot is None:
        return Browsed(dumped.stdout, dumped.stderr, None)
    shot = _chromium(page, profile, f"--screenshot={screenshot}")
    return Browsed(dumped.stdout, dumped.stderr + shot.stderr, screenshot)
