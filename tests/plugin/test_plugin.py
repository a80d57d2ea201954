"""The shared CLI behaviour: config errors never echo secrets; expected stops are one clean line."""

from __future__ import annotations

from typing import Any

import pytest
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from calendly_plugin.plugin import CalendlyPlugin, secret_setting_values
from calendly_plugin.settings import SHARED_SETTINGS


class ProbeTap(CalendlyPlugin, Tap):
    name = "tap-probe"
    config_jsonschema = th.PropertiesList(*SHARED_SETTINGS).to_dict()

    def discover_streams(self) -> list[Any]:
        return []


def test_secret_values_of_any_shape_are_found() -> None:
    config = {"token": ["tok-1"], "client_secret": {"v": "cs-2"}, "client_id": "public"}
    assert set(secret_setting_values(config, ProbeTap.config_jsonschema)) == {"tok-1", "cs-2"}


def test_a_wrongly_typed_secret_is_not_echoed() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        ProbeTap(config={"token": ["tok-SECRET-a1b2"], "max_retries": "x"}, parse_env_config=False)
    errors = " ".join(caught.value.errors)
    assert "tok-SECRET-a1b2" not in errors
    assert "config['token']" in errors and "config['max_retries']" in errors


def test_unknown_settings_are_named_with_the_nearest_setting_beside_other_errors() -> None:
    config = {"token": "tok-1", "Api_Url": "x", "colour": "blue", "max_retries": "x"}
    with pytest.raises(ConfigValidationError) as caught:
        ProbeTap(config=config, parse_env_config=False)
    assert caught.value.errors == [
        "Setting `Api_Url` is not a setting of tap-probe: did you mean `api_url`?",
        "Setting `colour` is not a setting of tap-probe: see `tap-probe --about` for its settings",
        "'x' is not of type 'integer', 'null' in config['max_retries']",
    ]


def test_the_sdk_built_in_settings_are_known() -> None:
    ProbeTap(config={"token": "tok-1", "stream_maps": {}, "flattening_enabled": False})
