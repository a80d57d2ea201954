"""The client's retry, wait and error rules, against canned responses (one module under test)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests
import requests_mock as rm

from calendly_http import (
    AuthenticationError,
    CalendlyClient,
    ClientSettings,
    ConfigError,
    ConflictError,
    InsufficientScopeError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PlanRequiredError,
    RetriesExhaustedError,
    json_body,
    resource_uri,
    uuid_of,
)

API = "https://api.calendly.com"
TOKEN = "pat-secret-123"


class Sleeps(list[float]):
    """Records sleeps and moves a fake clock, so waits are checked without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def clock(self) -> float:
        return sum(self)


def make_client(sleeps: Sleeps, **config: object) -> CalendlyClient:
    settings = ClientSettings.from_config({"token": TOKEN, "requests_per_minute": 6000, **config})
    return CalendlyClient(settings, sleep=sleeps, clock=sleeps.clock)


def ok(body: object, **headers: str) -> dict:
    return {"status_code": 200, "json": body, "headers": headers}


def test_sends_bearer_token_and_parses_once(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{API}/users/me", json={"resource": {"uri": "u"}})
    client = make_client(Sleeps())
    assert client.request("GET", "/users/me") == {"resource": {"uri": "u"}}
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_429_waits_what_x_ratelimit_reset_says(requests_mock: rm.Mocker) -> None:
    limited = {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7"}
    requests_mock.get(
        f"{API}/groups",
        [{"status_code": 429, "json": {"title": "Too Many Requests"}, "headers": limited}, ok({})],
    )
    sleeps = Sleeps()
    client = make_client(sleeps)
    client.request("GET", "/groups")
    assert sleeps == [pytest.approx(7.25)]  # one wait, in the shared throttle
    assert client.stats.rate_limited == 1
    assert client.stats.retries == 1


def test_retry_after_wins_over_reset(requests_mock: rm.Mocker) -> None:
    headers = {"Retry-After": "2", "X-RateLimit-Reset": "50"}
    requests_mock.get(f"{API}/groups", [{"status_code": 429, "headers": headers}, ok({})])
    sleeps = Sleeps()
    make_client(sleeps).request("GET", "/groups")
    assert sleeps == [pytest.approx(2.25)]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_retry_with_growing_jittered_backoff(
    requests_mock: rm.Mocker, status: int
) -> None:
    requests_mock.get(f"{API}/groups", [{"status_code": status}] * 3 + [ok({"collection": []})])
    sleeps = Sleeps()
    client = make_client(sleeps, retry_initial_wait=1.0)
    assert client.request("GET", "/groups") == {"collection": []}
    backoffs = [s for s in sleeps if s > 0.02]
    assert len(backoffs) == 3
    assert 0.5 <= backoffs[0] <= 1.0 and 1.0 <= backoffs[1] <= 2.0 and 2.0 <= backoffs[2] <= 4.0


def test_connection_errors_and_truncated_bodies_are_retried(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{API}/groups",
        [
            {"exc": requests.exceptions.ConnectionError("reset by peer")},
            {"exc": requests.exceptions.ReadTimeout("stalled")},
            {"exc": requests.exceptions.ChunkedEncodingError("cut")},
            {"status_code": 200, "text": '{"collection": [{"uri": '},
            ok({"collection": [1]}),
        ],
    )
    client = make_client(Sleeps(), retry_initial_wait=0.01)
    assert client.request("GET", "/groups") == {"collection": [1]}
    assert client.stats.retries == 4


def test_retries_are_bounded(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{API}/groups", status_code=503)
    client = make_client(Sleeps(), max_retries=3, retry_initial_wait=0.01)
    with pytest.raises(
        RetriesExhaustedError, match="gave up after 4 attempts; last problem: HTTP 503"
    ):
        client.request("GET", "/groups")
    assert requests_mock.call_count == 4


def test_401_names_the_token_setting_and_never_shows_it(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{API}/users/me",
        status_code=401,
        json={"title": "Unauthenticated", "message": f"The access token {TOKEN} is invalid"},
    )
    with pytest.raises(AuthenticationError) as caught:
        make_client(Sleeps()).request("GET", "/users/me")
    text = str(caught.value)
    assert "check `token`" in text and "HTTP 401" in text
    assert TOKEN not in text and TOKEN not in caught.value.message
    assert requests_mock.call_count == 1


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            403,
            {
                "title": "Insufficient scope",
                "message": "This operation requires the scopes listed in the 'required_scopes' array.",
                "required_scopes": ["activity_log:read"],
            },
            InsufficientScopeError,
        ),
        (
            403,
            {
                "title": "Permission Denied",
                "message": "Please upgrade your Calendly account to Enterprise.",
            },
            PlanRequiredError,
        ),
        (
            403,
            {"title": "Permission Denied", "message": "Event is already canceled"},
            PermissionDeniedError,
        ),
        (404, {"title": "Resource Not Found", "message": "not found"}, NotFoundError),
        (
            409,
            {"title": "Already Exists", "message": "Hook with this url already exists"},
            ConflictError,
        ),
        (
            400,
            {
                "title": "Invalid Argument",
                "message": "The supplied parameters are invalid.",
                "details": [{"parameter": "count", "message": "must be at most 100"}],
            },
            InvalidRequestError,
        ),
    ],
)
def test_4xx_is_classified_without_retry(
    requests_mock: rm.Mocker, status: int, body: dict, error: type
) -> None:
    requests_mock.post(f"{API}/things", status_code=status, json=body)
    with pytest.raises(error) as caught:
        make_client(Sleeps()).request("POST", "/things", json={"a": 1})
    assert requests_mock.call_count == 1
    assert caught.value.status == status
    assert caught.value.message.startswith(body["message"])
    assert caught.value.url == f"{API}/things"


def test_plan_gate_named_only_in_details_is_a_plan_error(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{API}/webhook_subscriptions",
        status_code=403,
        json={
            "title": "Permission Denied",
            "message": "You do not have permission",
            "details": [{"message": "Please upgrade your Calendly account to Standard"}],
        },
    )
    with pytest.raises(PlanRequiredError, match="upgrade"):
        make_client(Sleeps()).request("GET", "/webhook_subscriptions")


def test_scope_error_lists_the_scopes(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{API}/activity_log_entries",
        status_code=403,
        json={
            "title": "Insufficient scope",
            "message": "x",
            "required_scopes": ["activity_log:read"],
        },
    )
    with pytest.raises(InsufficientScopeError, match="activity_log:read"):
        make_client(Sleeps()).request("GET", "/activity_log_entries")


def test_error_urls_drop_the_query(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{API}/organization_memberships", status_code=404, json={"message": "no"})
    with pytest.raises(NotFoundError) as caught:
        make_client(Sleeps()).request(
            "GET", "/organization_memberships", params={"email": "ann@example.com"}
        )
    assert "ann@example.com" not in str(caught.value)


def test_refuses_to_send_the_token_to_another_host(requests_mock: rm.Mocker) -> None:
    with pytest.raises(ConfigError, match="refusing to send the token"):
        make_client(Sleeps()).request("GET", "https://evil.example.com/users/me")
    assert requests_mock.call_count == 0


def test_paginate_follows_page_tokens(requests_mock: rm.Mocker) -> None:
    pages = [
        ok({"collection": [1, 2], "pagination": {"next_page_token": "t1"}}),
        ok({"collection": [3], "pagination": {"next_page_token": None}}),
    ]
    requests_mock.get(f"{API}/groups", pages)
    items = list(make_client(Sleeps()).paginate("/groups", {"organization": "o", "count": 2}))
    assert items == [1, 2, 3]
    assert requests_mock.request_history[1].qs["page_token"] == ["t1"]


def test_me_is_fetched_once(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{API}/users/me", json={"resource": {"current_organization": "org-uri"}})
    client = make_client(Sleeps())
    assert client.organization_uri == "org-uri"
    assert client.me["current_organization"] == "org-uri"
    assert requests_mock.call_count == 1


def test_json_body_of_an_empty_response_is_none(requests_mock: rm.Mocker) -> None:
    requests_mock.delete(f"{API}/webhook_subscriptions/abc", status_code=204)
    client = make_client(Sleeps())
    prepared = requests.Request("DELETE", f"{API}/webhook_subscriptions/abc").prepare()
    assert json_body(client.send(prepared)) is None


# --- OAuth ---------------------------------------------------------------------------------------

TOKEN_URL = "https://auth.calendly.com/oauth/token"


def oauth_client(tmp_path: Path, sleeps: Sleeps, **config: object) -> CalendlyClient:
    settings = ClientSettings.from_config(
        {
            "client_id": "cid",
            "client_secret": "csecret",
            "refresh_token": "refresh-0",
            "refresh_token_path": str(tmp_path / "refresh_token"),
            "requests_per_minute": 6000,
            **config,
        }
    )
    return CalendlyClient(
        settings, sleep=sleeps, clock=sleeps.clock, logger=logging.getLogger("test")
    )


def token_response(n: int, expires_in: int = 7200) -> dict:
    return ok(
        {
            "access_token": f"access-{n}",
            "refresh_token": f"refresh-{n}",
            "expires_in": expires_in,
            "token_type": "Bearer",
        }
    )


def test_oauth_refreshes_on_401_once_and_persists_the_rotated_token(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    requests_mock.post(TOKEN_URL, [token_response(1), token_response(2)])
    requests_mock.get(
        f"{API}/groups",
        [ok({"a": 1}), {"status_code": 401, "json": {"message": "expired"}}, ok({"b": 2})],
    )
    client = oauth_client(tmp_path, Sleeps())
    assert client.request("GET", "/groups") == {"a": 1}
    assert (tmp_path / "refresh_token").read_text() == "refresh-1"
    assert client.request("GET", "/groups") == {"b": 2}
    assert (tmp_path / "refresh_token").read_text() == "refresh-2"
    assert oct((tmp_path / "refresh_token").stat().st_mode & 0o777) == "0o600"
    auths = [
        r.headers.get("Authorization") for r in requests_mock.request_history if r.method == "GET"
    ]
    assert auths == ["Bearer access-1", "Bearer access-1", "Bearer access-2"]
    first_refresh = requests_mock.request_history[0]
    assert (
        "grant_type=refresh_token" in first_refresh.text
        and "refresh_token=refresh-0" in first_refresh.text
    )


def test_oauth_reads_the_persisted_refresh_token_first(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    (tmp_path / "refresh_token").write_text("refresh-7\n")
    requests_mock.post(TOKEN_URL, [token_response(8)])
    requests_mock.get(f"{API}/groups", json={})
    oauth_client(tmp_path, Sleeps()).request("GET", "/groups")
    assert "refresh_token=refresh-7" in requests_mock.request_history[0].text


def test_oauth_gives_up_when_the_fresh_token_is_also_rejected(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    requests_mock.post(TOKEN_URL, [token_response(1), token_response(2)])
    requests_mock.get(f"{API}/groups", status_code=401, json={"message": "nope"})
    with pytest.raises(AuthenticationError, match="client_id"):
        oauth_client(tmp_path, Sleeps()).request("GET", "/groups")
    assert sum(r.url == TOKEN_URL for r in requests_mock.request_history) == 2


def test_oauth_never_refreshes_in_a_loop(requests_mock: rm.Mocker, tmp_path: Path) -> None:
    requests_mock.post(TOKEN_URL, [token_response(n) for n in range(1, 20)])
    requests_mock.get(f"{API}/groups", status_code=401, json={"message": "nope"})
    client = oauth_client(tmp_path, Sleeps())
    for _ in range(7):  # the first request refreshes twice, each later one once
        with pytest.raises(AuthenticationError, match="rejected the credentials"):
            client.request("GET", "/groups")
    with pytest.raises(AuthenticationError, match="refusing a token refresh"):
        client.request("GET", "/groups")
    assert sum(r.url == TOKEN_URL for r in requests_mock.request_history) == 8


def test_oauth_used_refresh_token_names_the_settings(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    requests_mock.post(
        TOKEN_URL, status_code=400, json={"error": "invalid_grant", "error_description": "used"}
    )
    with pytest.raises(AuthenticationError) as caught:
        oauth_client(tmp_path, Sleeps()).request("GET", "/groups")
    text = str(caught.value)
    assert "refresh_token_path" in text and "refresh-0" not in text and "csecret" not in text


def test_short_lived_tokens_are_used_until_near_their_end(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    requests_mock.post(TOKEN_URL, [token_response(1, expires_in=20), token_response(2)])
    requests_mock.get(f"{API}/groups", json={})
    sleeps = Sleeps()
    client = oauth_client(tmp_path, sleeps)
    for _ in range(10):
        client.request("GET", "/groups")
    assert sum(r.url == TOKEN_URL for r in requests_mock.request_history) == 1


def test_oauth_refreshes_before_expiry(requests_mock: rm.Mocker, tmp_path: Path) -> None:
    requests_mock.post(TOKEN_URL, [token_response(1, expires_in=3600), token_response(2)])
    requests_mock.get(f"{API}/groups", json={})
    sleeps = Sleeps()
    client = oauth_client(tmp_path, sleeps)
    client.request("GET", "/groups")
    sleeps(3600 - 59)  # inside the last minute of the token's life: renew before sending
    client.request("GET", "/groups")
    auths = [
        r.headers.get("Authorization") for r in requests_mock.request_history if r.method == "GET"
    ]
    assert auths == ["Bearer access-1", "Bearer access-2"]


def test_token_endpoint_outage_is_retried_and_named(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    requests_mock.post(TOKEN_URL, [{"status_code": 503}, token_response(1)])
    requests_mock.get(f"{API}/groups", json={})
    sleeps = Sleeps()
    oauth_client(tmp_path, sleeps).request("GET", "/groups")
    assert sum(r.url == TOKEN_URL for r in requests_mock.request_history) == 2
    requests_mock.post(TOKEN_URL, status_code=503)
    with pytest.raises(AuthenticationError, match=r"unavailable \(HTTP 503\)"):
        oauth_client(tmp_path / "another", sleeps).request("GET", "/groups")


def test_a_lost_token_answer_is_not_resent(requests_mock: rm.Mocker, tmp_path: Path) -> None:
    requests_mock.post(
        TOKEN_URL, [{"exc": requests.exceptions.ChunkedEncodingError("cut")}, token_response(1)]
    )
    with pytest.raises(AuthenticationError, match="may already have rotated"):
        oauth_client(tmp_path, Sleeps()).request("GET", "/groups")
    assert requests_mock.call_count == 1


def test_redact_hides_every_secret(requests_mock: rm.Mocker, tmp_path: Path) -> None:
    requests_mock.post(TOKEN_URL, [token_response(1)])
    requests_mock.get(f"{API}/groups", json={})
    client = oauth_client(tmp_path, Sleeps())
    client.request("GET", "/groups")
    text = client.redact("csecret refresh-0 access-1 fine")
    assert text == "*** *** *** fine"
    assert json.dumps(text).count("***") == 3


# --- uris ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "abc-123",
        "https://api.calendly.com/scheduled_events/abc-123",
        "http://127.0.0.1:9/x/abc-123/",
    ],
)
def test_uuid_of_accepts_uri_or_uuid(value: str) -> None:
    assert uuid_of(value) == "abc-123"


@pytest.mark.parametrize("value", ["", "  ", "not a uuid", "mailto:a@b.c", "https://x/", "a/b"])
def test_uuid_of_rejects_the_rest(value: str) -> None:
    with pytest.raises(ValueError, match="Calendly URI or UUID"):
        uuid_of(value)


def test_resource_uri() -> None:
    assert (
        resource_uri(API + "/", "/users", "https://api.calendly.com/users/u1") == f"{API}/users/u1"
    )


# --- writes are never done twice by a retry ------------------------------------------------------


@pytest.mark.parametrize(
    "lost_answer",
    [
        {"exc": requests.exceptions.ReadTimeout("stalled after sending")},
        {"exc": requests.exceptions.ChunkedEncodingError("cut short")},
        {"exc": requests.exceptions.ConnectionError("Connection aborted.")},
        {"status_code": 201, "text": '{"resource": {"booking_url": '},
        # A proxy answers 5xx after the fact as readily as before: Calendly may have acted.
        {"status_code": 502, "text": "<html>Bad Gateway</html>"},
        {"status_code": 500},
        {"status_code": 503},
    ],
)
def test_a_post_whose_answer_is_lost_is_not_resent(
    requests_mock: rm.Mocker, lost_answer: dict
) -> None:
    requests_mock.post(f"{API}/scheduling_links", [lost_answer, {"status_code": 201, "json": {}}])
    with pytest.raises(OutcomeUnknownError, match="may have performed it"):
        make_client(Sleeps(), retry_initial_wait=0.01).request("POST", "/scheduling_links", json={})
    assert requests_mock.call_count == 1


@pytest.mark.parametrize(
    "not_done",
    [
        {"status_code": 429, "headers": {"X-RateLimit-Reset": "1"}},
        {"exc": requests.exceptions.ConnectTimeout("no connection")},
    ],
)
def test_a_post_calendly_did_not_act_on_is_retried(
    requests_mock: rm.Mocker, not_done: dict
) -> None:
    requests_mock.post(
        f"{API}/scheduling_links", [not_done, {"status_code": 201, "json": {"ok": 1}}]
    )
    client = make_client(Sleeps(), retry_initial_wait=0.01)
    assert client.request("POST", "/scheduling_links", json={}) == {"ok": 1}
    assert requests_mock.call_count == 2


def test_a_write_declared_idempotent_is_retried_after_a_timeout(requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        f"{API}/data_compliance/deletion/invitees",
        [{"exc": requests.exceptions.ReadTimeout("t")}, {"status_code": 202, "json": {}}],
    )
    client = make_client(Sleeps(), retry_initial_wait=0.01)
    client.request("POST", "/data_compliance/deletion/invitees", json={}, idempotent=True)
    assert requests_mock.call_count == 2


def test_a_delete_refused_after_a_lost_answer_says_the_first_attempt_may_have_done_it(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.delete(
        f"{API}/invitee_no_shows/n1",
        [{"status_code": 502}, {"status_code": 404, "json": {"message": "gone"}}],
    )
    with pytest.raises(NotFoundError) as caught:
        make_client(Sleeps(), retry_initial_wait=0.01).request("DELETE", "/invitee_no_shows/n1")
    assert caught.value.after_lost_answer == "HTTP 502"
    assert requests_mock.call_count == 2


def test_exhausted_retries_keep_the_last_status(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{API}/groups", status_code=502)
    with pytest.raises(RetriesExhaustedError) as caught:
        make_client(Sleeps(), max_retries=1, retry_initial_wait=0.01).request("GET", "/groups")
    assert caught.value.status == 502


def test_environment_proxy_settings_are_resolved_once(
    requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    requests_mock.get(f"{API}/groups", json={})
    client = make_client(Sleeps())
    calls: list[str] = []
    monkeypatch.setattr(
        requests.sessions, "resolve_proxies", lambda *a, **k: calls.append("x") or {}
    )
    for _ in range(3):
        client.request("GET", "/groups")
    assert calls == []  # requests did not scan the environment per send
    assert requests_mock.last_request.proxies == {"https": "http://127.0.0.1:3128"}


# --- the Scheduling API's own limits -------------------------------------------------------------


def booking_client(
    requests_mock: rm.Mocker, sleeps: Sleeps, plan: str, stage: str
) -> CalendlyClient:
    requests_mock.get(
        f"{API}/organizations/o1",
        json={"resource": {"uri": f"{API}/organizations/o1", "plan": plan, "stage": stage}},
    )
    return make_client(sleeps, organization=f"{API}/organizations/o1", max_retries=1)


def test_a_bookings_429_is_waited_out_however_long_its_window(requests_mock: rm.Mocker) -> None:
    """A trial's day quota is spent (by another run): Calendly says so, the booking waits the
    hours it takes instead of failing after max_retries short waits."""
    day_left = {"status_code": 429, "headers": {"X-RateLimit-Reset": "50000"}, "json": {}}
    requests_mock.post(
        f"{API}/invitees", [day_left, day_left, {"status_code": 201, "json": {"resource": {}}}]
    )
    sleeps = Sleeps()
    client = booking_client(requests_mock, sleeps, "teams", "trial")
    client.request("POST", "/invitees", json={})
    assert [round(s) for s in sleeps if s > 1] == [50000, 50000]
    assert client.stats.rate_limited == 2


def test_bookings_are_paced_to_the_plan_and_other_requests_are_not(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.post(f"{API}/invitees", status_code=201, json={"resource": {}})
    requests_mock.get(f"{API}/groups", json={})
    sleeps = Sleeps()
    client = booking_client(requests_mock, sleeps, "standard", "paid")
    for _ in range(11):
        client.request("POST", "/invitees", json={})
    assert sleeps.clock() == pytest.approx(60, abs=0.1)  # the 11th booking waited a minute
    before = sleeps.clock()
    client.request("GET", "/groups")
    assert sleeps.clock() == pytest.approx(before, abs=0.1)


def test_a_bookings_own_headers_do_not_slow_other_requests(requests_mock: rm.Mocker) -> None:
    own = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30"}
    requests_mock.post(f"{API}/invitees", status_code=201, json={"resource": {}}, headers=own)
    requests_mock.get(f"{API}/groups", json={})
    sleeps = Sleeps()
    client = booking_client(requests_mock, sleeps, "standard", "paid")
    client.request("POST", "/invitees", json={})
    client.request("GET", "/groups")
    assert sleeps.clock() == pytest.approx(0, abs=0.1)
    client.request("POST", "/invitees", json={})
    assert sleeps.clock() == pytest.approx(30, abs=0.1)
