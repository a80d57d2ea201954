"""The committed spec_facts.json is exactly what the derivation script makes from the spec."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox.spec_check import SPEC_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_spec_facts_are_up_to_date():
    if not SPEC_PATH.is_file():
        pytest.skip(f"Calendly OpenAPI document not found at {SPEC_PATH}")
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "derive_sandbox_facts.py"),
            "--check",
            str(SPEC_PATH),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
