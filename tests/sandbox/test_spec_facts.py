"""The committed spec_facts.json is exactly what the derivation script makes from the repository's spec."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_spec_facts_are_up_to_date():
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "derive_sandbox_facts.py"),
            "--check",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
