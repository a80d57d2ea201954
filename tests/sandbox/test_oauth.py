"""OAuth as Calendly documents it: refresh-token rotation, expiry, client auth, 8/minute."""

from __future__ import annotations

import base64

import pytest
import requests

from calendly_sandbox import Sandbox
from tests.sandbox.spec_check import checked_session


@pytest.fixture
def oauth_sandbox():
    with Sandbox(seed=5, events=20, access_token_ttl=3600) as sb:
        yield sb


def refresh(sb: Sandbox, token: str, *, basic: bool = True, secret: str = "sandbox-secret"):  # noqa: S107
    form = {"grant_type": "refresh_token", "refresh_token": token}
    headers = {}
    if basic:
        raw = f"sandbox-client:{secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    else:
        form.update(client_id="sandbox-client", client_secret=secret)
    return requests.post(sb.base_url + "/oauth/token", data=form, headers=headers, timeout=30)


def test_refresh_rotates_and_the_old_token_stops_working(oauth_sandbox, spec):
    sb = oauth_sandbox
    first = refresh(sb, "sandbox-refresh-token")
    assert first.status_code == 200
    grant = first.json()
    assert grant["token_type"] == "Bearer"
    assert grant["expires_in"] == 3600
    assert grant["refresh_token"] != "sandbox-refresh-token"
    assert grant["owner"] == sb.store.current_user["uri"]
    assert grant["organization"] == sb.store.organization["uri"]
    assert isinstance(grant["created_at"], int)
    assert sb.current_refresh_token == grant["refresh_token"]

    with checked_session(spec, grant["access_token"]) as api:
        me = api.get(sb.base_url + "/users/me", timeout=30)
    assert me.status_code == 200
    assert me.json()["resource"]["uri"] == grant["owner"]

    second = refresh(sb, grant["refresh_token"], basic=False)
    assert second.status_code == 200
    assert second.json()["refresh_token"] not in (grant["refresh_token"], "sandbox-refresh-token")
    assert sb.oauth_revocations == 0


def test_a_stale_refresh_token_revokes_the_grant_until_a_person_authorizes_again(oauth_sandbox):
    sb = oauth_sandbox
    grant = refresh(sb, "sandbox-refresh-token").json()
    newest = refresh(sb, grant["refresh_token"]).json()

    reused = refresh(sb, grant["refresh_token"])  # a client holding a stale copy

    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert sb.oauth_revocations == 1
    assert refresh(sb, newest["refresh_token"]).json()["error"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {newest['access_token']}"}
    me = requests.get(sb.base_url + "/users/me", headers=headers, timeout=30)
    assert me.status_code == 401
    fresh = sb.reauthorize()
    assert refresh(sb, fresh).status_code == 200


def test_expired_access_token_is_401_and_a_refresh_recovers(oauth_sandbox, spec):
    sb = oauth_sandbox
    grant = refresh(sb, "sandbox-refresh-token").json()
    sb.expire_access_tokens()
    with checked_session(spec, grant["access_token"]) as api:
        expired = api.get(sb.base_url + "/users/me", timeout=30)
        assert expired.status_code == 401
        assert expired.json()["details"][0]["message"] == "The access token expired"
    renewed = refresh(sb, grant["refresh_token"]).json()
    with checked_session(spec, renewed["access_token"]) as api:
        assert api.get(sb.base_url + "/users/me", timeout=30).status_code == 200
    with checked_session(spec, sb.token) as api:  # personal tokens never expire
        assert api.get(sb.base_url + "/users/me", timeout=30).status_code == 200


def test_access_token_lifetime_is_configurable():
    with Sandbox(seed=5, events=10, access_token_ttl=0) as sb:
        grant = refresh(sb, "sandbox-refresh-token").json()
        assert grant["expires_in"] == 0
        response = requests.get(
            sb.base_url + "/users/me",
            headers={"Authorization": f"Bearer {grant['access_token']}"},
            timeout=30,
        )
        assert response.status_code == 401


def test_bad_client_and_bad_grant(oauth_sandbox):
    sb = oauth_sandbox
    wrong_secret = refresh(sb, "sandbox-refresh-token", secret="nope")
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    other_grant = requests.post(
        sb.base_url + "/oauth/token",
        data={"grant_type": "password", "client_id": "sandbox-client"},
        timeout=30,
    )
    assert other_grant.status_code == 400
    assert other_grant.json()["error"] == "unsupported_grant_type"
    # The refresh token survived the failed attempts.
    assert refresh(sb, "sandbox-refresh-token").status_code == 200


def test_more_than_eight_token_requests_a_minute_is_429(oauth_sandbox):
    sb = oauth_sandbox
    token = "sandbox-refresh-token"
    for _ in range(8):
        response = refresh(sb, token)
        assert response.status_code == 200
        token = response.json()["refresh_token"]
    ninth = refresh(sb, token)
    assert ninth.status_code == 429
    assert sb.oauth_token_requests == 9
    assert sb.current_refresh_token == token  # a refused request does not consume the token
