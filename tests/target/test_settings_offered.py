"""target-calendly offers only settings that do something for an API writer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from target_calendly.actions import ACTIONS
from target_calendly.target import TargetCalendly

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


def test_setting_descriptions_name_no_action_lists_and_batch_size_is_deprecated() -> None:
    """Adding an action changes docs/actions.md, not the settings (meltano.yml, hub/)."""
    settings = TargetCalendly.config_jsonschema["properties"]
    for name in ("stream_actions", "allow_destructive_actions", "responses_path"):
        description = settings[name]["description"]
        assert "docs/actions.md" in description
        named = [action for action in ACTIONS if action in description]
        assert len(named) <= 1, f"{name} lists actions: {named}"  # an example is fine
    assert "gdpr_deletion_batch_size" in settings
    assert settings["batch_size"]["description"].startswith("Deprecated")
