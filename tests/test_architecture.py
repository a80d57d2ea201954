"""The arrows that must never exist between our packages (DESIGN.md).

The sandbox is an independent implementation of the spec: if it shared code with the connectors, a shared
bug would hide itself in every test. The target must not lean on tap streams, nor the tap on the target.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "calendly_sandbox": {"calendly_http", "tap_calendly", "target_calendly"},
    "calendly_http": {"calendly_sandbox", "tap_calendly", "target_calendly"},
    "tap_calendly": {"calendly_sandbox", "target_calendly"},
    "target_calendly": {"calendly_sandbox", "tap_calendly"},
}


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


def test_nothing_reads_the_shared_folder_at_run_time() -> None:
    for package in FORBIDDEN:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "shared/calendly" not in text and "openapi.json" not in text, path
