"""The arrows that must never exist between our packages (docs/development.md, repository layout).

The sandbox is an independent implementation of the spec: if it shared code with the connectors, a shared
bug would hide itself in every test. The target must not lean on tap streams, nor the tap on the target.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CONNECTORS = {
    "calendly_http",
    "calendly_plugin",
    "calendly_webhooks",
    "tap_calendly",
    "target_calendly",
}
FORBIDDEN = {
    "calendly_sandbox": CONNECTORS,
    # HTTP policy stands on its own: the singer-sdk glue (calendly_plugin) builds on it, not under it.
    "calendly_http": {"singer_sdk", *CONNECTORS - {"calendly_http"}, "calendly_sandbox"},
    "calendly_plugin": {"calendly_sandbox", "calendly_webhooks", "tap_calendly", "target_calendly"},
    "calendly_webhooks": {"calendly_sandbox", *CONNECTORS - {"calendly_webhooks"}},
    "tap_calendly": {"calendly_sandbox", "target_calendly"},
    "target_calendly": {"calendly_sandbox", "tap_calendly", "calendly_webhooks"},
}
# The receiver and the tap share only the inbox format.
SHARED_WEBHOOK_MODULES = {"calendly_webhooks.inbox"}


def imported_top_level_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_what_it_must_not(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_top_level_packages(path) & FORBIDDEN[package]
    }
    assert not offenders, sorted(offenders)


def test_the_tap_uses_only_the_inbox_format_of_the_receiver() -> None:
    used = set()
    for path in sorted((ROOT / "tap_calendly").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("calendly_webh"):
                used.add(node.module)
            elif isinstance(node, ast.Import):
                used.update(a.name for a in node.names if a.name.startswith("calendly_webh"))
    assert used <= SHARED_WEBHOOK_MODULES, sorted(used)


def test_nothing_reads_the_spec_at_run_time() -> None:
    """The packages read what is derived from the spec (committed beside them), never the spec."""
    for package in FORBIDDEN:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "openapi.json" not in text, path


def test_nothing_reaches_outside_the_repository() -> None:
    """A clone alone runs every script and test: no path climbs above the repository's root."""
    climbs = re.compile(r"ROOT\.parent\b|\.\./shared|[\"']shared[\"'] */")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (*FORBIDDEN, "scripts", "tests", "demo", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__) and climbs.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
