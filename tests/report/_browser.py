"""Open a report in headless Chromium: page errors, figure sizes and a screenshot.

The page's own script writes the number of errors and the drawn size of every figure
into ``<div id="page-check">`` on load; ``--dump-dom`` prints the DOM after load, so
the test reads them back without a DevTools client. The page records uncaught errors,
failed loads and ``console.error`` calls (headless Chromium does not print console
messages to its log, so the page is the reliable witness).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium_or_none() -> str | None:
    """The Chromium executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium() -> str:
    """The Chromium executable, or skip the test saying how to get one."""
    found = chromium_or_none()
    if found:
        return found
    pytest.skip(
        "no Chromium on PATH; install it with `apt-get install -y chromium` (.ci/run does)"
    )


@dataclass(frozen=True)
class PageCheck:
    errors: list[str]
    figure_sizes: list[tuple[int, int]]
    screenshot: Path


def open_page(page: Path, profile: Path, name: str) -> PageCheck:
    """Load ``page`` twice (DOM dump, then a full-width screenshot saved as an artifact)."""
    exe = chromium()
    base = [exe, *FLAGS, f"--user-data-dir={profile}"]
    url = page.resolve().as_uri()
    dump = subprocess.run(
        [*base, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"report-{name}.png"
    subprocess.run(
        [*base, "--window-size=1100,6000", f"--screenshot={shot}", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return _parse(dump.stdout, shot)


def _parse(dom: str, shot: Path) -> PageCheck:
    match = re.search(
        r'<div id="page-check"[^>]*data-figures="([^"]*)"[^>]*'
        r'data-errors="(\d+)"[^>]*>(.*?)</div>',
        dom,
        re.DOTALL,
    )
    if match is None:
        raise AssertionError(
            f"the page's check did not run (no load event?); DOM starts {dom[:300]!r}"
        )
    sizes = [tuple(int(v) for v in s.split("x")) for s in match.group(1).split()]
    errors = [e for e in match.group(3).split("\n") if e] or ["?"] * int(match.group(2))
    return PageCheck(errors, sizes, shot)
