"""The repository's copy of Calendly's OpenAPI document: described by its SOURCE.md, and replaced,
with everything derived from it, by one command."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = Path("spec", "calendly", "openapi.json")
SOURCE = SPEC.with_name("SOURCE.md")
# What the refresh reads and writes, relative to the repository's root.
REFRESHED = (
    Path("scripts"),
    SPEC.parent,
    Path("tap_calendly", "schemas"),
    Path("calendly_sandbox", "spec_facts.json"),
)


def refresh(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "refresh_spec.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_source_md_describes_the_copy_in_the_repository() -> None:
    result = refresh(ROOT, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    digest = hashlib.sha256((ROOT / SPEC).read_bytes()).hexdigest()
    facts = json.loads((ROOT / "calendly_sandbox" / "spec_facts.json").read_text())
    assert facts["source"]["sha256"] == digest


def test_a_newer_spec_replaces_the_copy_and_everything_derived_from_it(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for part in REFRESHED:
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copyfile
        (repo / part).parent.mkdir(parents=True, exist_ok=True)
        copy(ROOT / part, repo / part)
    doc = json.loads((ROOT / SPEC).read_text())
    doc["info"]["version"] = "1.1.0"
    doc["components"]["schemas"]["Group"]["properties"]["color"] = {"type": "string"}
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(doc, indent=2))

    result = refresh(repo, str(newer), "--from", "https://example.invalid/calendly-api.json")

    assert result.returncode == 0, result.stdout + result.stderr
    assert (repo / SPEC).read_bytes() == newer.read_bytes()
    digest = hashlib.sha256(newer.read_bytes()).hexdigest()
    source_md = (repo / SOURCE).read_text()
    assert digest in source_md and "`info.version: '1.1.0'`" in source_md
    assert "- Refreshed from: https://example.invalid/calendly-api.json" in source_md
    assert "## Provenance" in source_md and "## Older alternatives" in source_md
    groups = json.loads((repo / "tap_calendly" / "schemas" / "groups.json").read_text())
    assert "color" in groups["properties"]
    facts = json.loads((repo / "calendly_sandbox" / "spec_facts.json").read_text())
    assert facts["source"] == {"title": "Calendly API", "version": "1.1.0", "sha256": digest}
    assert refresh(repo, "--check").returncode == 0


def test_check_fails_when_the_copy_changed_without_a_refresh(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    shutil.copytree(ROOT / SPEC.parent, repo / SPEC.parent)
    (repo / SPEC).write_text((ROOT / SPEC).read_text().replace('"1.0.0"', '"9.9.9"', 1))
    assert refresh(repo, "--check").returncode == 1
