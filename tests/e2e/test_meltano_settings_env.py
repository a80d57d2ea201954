"""Number settings given in environment variables, as a Meltano user sets them per job or in CI,
reach both plugins as numbers. Meltano 4.4.1 has no setting kind that reads "0.5" from the
environment as a number (`kind: decimal` crashed `meltano run` and `meltano config print`:
"Object of type Decimal is not JSON serializable"), so the definitions declare these settings
`string` and the plugins take a number or its text."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError

from calendly_http.settings import ClientSettings
from tap_calendly.tap import TapCalendly
from target_calendly.target import TargetCalendly
from tests.e2e.test_meltano_cli_rewrites import meltano
from tests.e2e.test_project_files import REPO_ROOT, load_sync_docs

pytestmark = pytest.mark.slow

# setting: (what the environment says, what the plugin must read)
NUMBERS = {
    "requests_per_minute": ("300", 300.0),
    "rate_limit_share": ("0.5", 0.5),
    "retry_initial_wait": ("0.25", 0.25),
    "request_timeout": ("2.5", 2.5),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("project")
    shutil.copy(REPO_ROOT / "meltano.yml", project / "meltano.yml")
    return project


@pytest.mark.parametrize(
    ("name", "plugin_class"), [("tap-calendly", TapCalendly), ("target-calendly", TargetCalendly)]
)
def test_numbers_from_the_environment_are_read_by_the_plugin_as_numbers(
    name: str, plugin_class: Any, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = name.upper().replace("-", "_")
    monkeypatch.setenv(f"{prefix}_TOKEN", "not-a-token")
    for setting, (text, _number) in NUMBERS.items():
        monkeypatch.setenv(f"{prefix}_{setting.upper()}", text)
    # The config Meltano writes for the plugin, read by the plugin as it reads its --config file.
    config_file = tmp_path / "config.json"
    config_file.write_text(meltano(project, "config", "--unsafe", "print", name))

    plugin = plugin_class(config=config_file, validate_config=True)

    settings = ClientSettings.from_config(plugin.config)
    assert {setting: getattr(settings, setting) for setting in NUMBERS} == {
        setting: number for setting, (_text, number) in NUMBERS.items()
    }


def test_text_that_is_no_number_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigValidationError) as refused:
        TapCalendly(
            config={"token": "not-a-token", "rate_limit_share": "half"}, validate_config=True
        )
    assert any("config['rate_limit_share']" in error for error in refused.value.errors)


def test_definitions_never_declare_a_number_meltano_cannot_pass_on() -> None:
    with pytest.raises(ValueError, match="setting retry_initial_wait"):
        load_sync_docs().setting_definition("retry_initial_wait", {"type": ["number", "null"]})
