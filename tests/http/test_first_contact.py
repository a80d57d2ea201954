"""A connection that cannot be made before the API ever answered is a wrong api_url: it fails after
FIRST_CONTACT_RETRIES, naming the setting. Once the API has answered, the same fault is a fault and
gets every retry. Against the real sandbox and a closed port on loopback; waits are not real."""

from __future__ import annotations

import socket

import pytest

from calendly_http import (
    AuthenticationError,
    CalendlyClient,
    ClientSettings,
    ConfigError,
    RetriesExhaustedError,
)
from calendly_http.retry import FIRST_CONTACT_RETRIES
from calendly_sandbox import Sandbox

MAX_RETRIES = 6


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def client(api_url: str, token: str) -> CalendlyClient:
    settings = ClientSettings.from_config(
        {"token": token, "api_url": api_url, "max_retries": MAX_RETRIES}
    )
    return CalendlyClient(settings, sleep=lambda _: None)


def test_a_refused_first_connection_names_api_url_without_the_long_retry() -> None:
    api_url = f"http://127.0.0.1:{closed_port()}"
    calendly = client(api_url, "any-token")

    with pytest.raises(ConfigError) as caught:
        calendly.request("GET", "/users/me")

    assert caught.value.setting == "api_url"
    assert api_url in str(caught.value) and "host and port" in str(caught.value)
    assert calendly.stats.requests == FIRST_CONTACT_RETRIES + 1 < MAX_RETRIES + 1


def test_a_refused_connection_after_the_api_answered_keeps_every_retry() -> None:
    with Sandbox(seed=3, events=5) as sandbox:
        calendly = client(sandbox.base_url, sandbox.token)
        calendly.request("GET", "/users/me")
    # The sandbox has stopped: its port now refuses connections, as a restarting API would.

    with pytest.raises(RetriesExhaustedError):
        calendly.request("GET", "/event_types", params={"user": "x"})

    assert calendly.stats.requests == 1 + MAX_RETRIES + 1


def test_a_failed_organization_lookup_says_so_with_the_status_and_what_to_check() -> None:
    with Sandbox(seed=3, events=5) as sandbox:
        calendly = client(sandbox.base_url, token="not-the-sandbox-token")
        with pytest.raises(AuthenticationError) as caught:
            _ = calendly.organization_uri

    message = str(caught.value)
    assert message.startswith("Organization lookup failed: ")
    assert "HTTP 401" in message and "/users/me" in message
    assert "`token`" in message and "`organization`" in message
