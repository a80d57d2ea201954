"""target-calendly offers only settings that do something for an API writer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

NOT_FOR_AN_API_WRITER = {"add_record_metadata", "load_method", "batch_size_rows"}


def test_about_lists_no_loader_settings() -> None:
    about = subprocess.run(
        [str(Path(sys.executable).parent / "target-calendly"), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    offered = set(json.loads(about.stdout)["settings"]["properties"])
    assert not offered & NOT_FOR_AN_API_WRITER
    assert {"token", "responses_path", "dry_run", "on_error"} <= offered
