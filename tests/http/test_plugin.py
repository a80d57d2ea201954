"""The shared CLI behaviour: config errors never echo secrets; expected stops are one clean line."""

from __future__ import annotations

from typing import Any

import pytest
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from calendly_http import SHARED_SETTINGS
from calendly_http.plugin import CalendlyPlugin, secret_setting_values


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
