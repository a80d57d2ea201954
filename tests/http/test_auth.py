"""OAuth refresh tokens shared by several processes through one file: a lock and a re-read
around every refresh, so no process sends a refresh token another has rotated, and processes
share the newest access token instead of refreshing in turn. Clients here stand for processes:
each has its own memory, they share only the files."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs

import requests_mock as rm

from calendly_http import CalendlyClient, ClientSettings
from tests.http.test_client import API, Sleeps, token_response

TOKEN_URL = "https://auth.calendly.com/oauth/token"


def process(
    tmp_path: Path,
    clock: Sleeps,
    refresh_token: str = "refresh-0",  # noqa: S107
) -> CalendlyClient:
    settings = ClientSettings.from_config(
        {
            "client_id": "cid",
            "client_secret": "csecret",
            "refresh_token": refresh_token,
            "refresh_token_path": str(tmp_path / "refresh_token"),
            "requests_per_minute": 6000,
        }
    )
    return CalendlyClient(settings, sleep=clock, clock=clock.clock, logger=logging.getLogger("t"))


def sent_refresh_tokens(mock: rm.Mocker) -> list[str]:
    return [
        parse_qs(r.text)["refresh_token"][0] for r in mock.request_history if r.url == TOKEN_URL
    ]


def bearer(mock: rm.Mocker) -> list[str]:
    return [r.headers["Authorization"] for r in mock.request_history if r.url != TOKEN_URL]


def test_a_second_process_uses_the_first_ones_access_token(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    requests_mock.post(TOKEN_URL, [token_response(1), token_response(2)])
    requests_mock.get(f"{API}/groups", json={})
    clock = Sleeps()
    process(tmp_path, clock).request("GET", "/groups")
    process(tmp_path, clock).request("GET", "/groups")
    assert sent_refresh_tokens(requests_mock) == ["refresh-0"]
    assert bearer(requests_mock) == ["Bearer access-1", "Bearer access-1"]


def test_no_process_ever_sends_a_refresh_token_another_one_rotated(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    """A refreshes (refresh-0 -> 1); B joins with A's token; when it is rejected B refreshes
    (1 -> 2); A, still holding refresh-1 in memory, meets the 401 too and must use B's new
    access token, and at its next expiry refresh with refresh-2, never refresh-1 again."""
    requests_mock.post(TOKEN_URL, [token_response(n, expires_in=600) for n in range(1, 5)])
    dead: set[str] = set()

    def groups(request, context):  # type: ignore[no-untyped-def]
        if request.headers["Authorization"] in dead:
            context.status_code = 401
            return {"message": "expired"}
        return {}

    requests_mock.get(f"{API}/groups", json=groups)
    clock = Sleeps()
    a, b = process(tmp_path, clock), process(tmp_path, clock)
    a.request("GET", "/groups")
    b.request("GET", "/groups")
    dead.add("Bearer access-1")  # Calendly revoked it
    b.request("GET", "/groups")
    a.request("GET", "/groups")
    clock(600)  # both access tokens expire
    a.request("GET", "/groups")
    b.request("GET", "/groups")

    assert sent_refresh_tokens(requests_mock) == ["refresh-0", "refresh-1", "refresh-2"]
    assert (tmp_path / "refresh_token").read_text() == "refresh-3"
    assert bearer(requests_mock)[-1] == "Bearer access-3"  # B took A's newest token


def test_a_newly_configured_refresh_token_wins_over_the_file(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    requests_mock.post(TOKEN_URL, [token_response(1), token_response(2), token_response(3)])
    requests_mock.get(f"{API}/groups", json={})
    clock = Sleeps()
    process(tmp_path, clock).request("GET", "/groups")  # the file now descends from refresh-0
    process(tmp_path, clock).request("GET", "/groups")  # same config: the file's chain
    process(tmp_path, clock, refresh_token="reauthorized").request("GET", "/groups")

    assert sent_refresh_tokens(requests_mock) == ["refresh-0", "reauthorized"]
    assert bearer(requests_mock) == ["Bearer access-1", "Bearer access-1", "Bearer access-2"]
    assert (tmp_path / "refresh_token").read_text() == "refresh-2"


def test_a_file_from_before_the_session_file_still_wins(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    """An older version wrote only the token file: its token is the newest of the chain, and
    the configured one was already used. Sending that one would revoke access."""
    (tmp_path / "refresh_token").write_text("refresh-7")
    requests_mock.post(TOKEN_URL, [token_response(8)])
    requests_mock.get(f"{API}/groups", json={})
    process(tmp_path, Sleeps()).request("GET", "/groups")
    assert sent_refresh_tokens(requests_mock) == ["refresh-7"]
