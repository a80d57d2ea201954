"""Errors the sandbox cannot produce (it grants every scope), with requests-mock."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
import requests_mock

from calendly_http import InsufficientScopeError
from tap_calendly.tap import TapCalendly

API = "https://api.calendly.com"
ME = {"resource": {"uri": f"{API}/users/U1", "current_organization": f"{API}/organizations/O1"}}
SCOPE_ERROR = {
    "title": "Insufficient scope",
    "message": "This operation requires the scopes listed in the 'required_scopes' array.",
    "required_scopes": ["activity_log:read"],
}


def test_a_missing_oauth_scope_fails_the_sync_naming_the_scope() -> None:
    tap = TapCalendly(
        config={"token": "personal-token-value", "max_retries": 0}, parse_env_config=False
    )
    with requests_mock.Mocker() as mock, contextlib.redirect_stdout(io.StringIO()):
        mock.get(f"{API}/users/me", json=ME)
        mock.get(re.compile(f"{API}/activity_log_entries.*"), status_code=403, json=SCOPE_ERROR)
        with pytest.raises(InsufficientScopeError, match="activity_log:read") as caught:
            tap.sync_all()
    assert "personal-token-value" not in str(caught.value)
