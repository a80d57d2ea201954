"""Debian's Chromium, headless: the DOM a page has once its scripts ran, and a screenshot."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

# No sandbox (CI runs as root), no GPU, and none of Chromium's own connections: the machine has
# no network and the page must need none.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class BrowserUnavailableError(RuntimeError):
    """No chromium on PATH."""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise BrowserUnavailableError(
            "chromium not found: `apt-get install -y chromium` (.ci/run does this)"
        )
    return found


def _run(page: Path, *extra: str) -> str:
    with tempfile.TemporaryDirectory(prefix="calendly-chromium-") as profile:
        result = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def dump_dom(page: Path) -> str:
    return _run(page, "--dump-dom")


def screenshot(page: Path, path: Path, width: int = 1100, height: int = 1700) -> Path:
    _run(page, f"--screenshot={path}", f"--window-size={width},{height}")
    return path
