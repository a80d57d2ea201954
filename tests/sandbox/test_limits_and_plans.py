"""Rate limiting (headers, 429, window reset) and plan gating with the documented messages."""

from __future__ import annotations

import json
import time

import pytest
import requests

from calendly_sandbox import Sandbox
from tests.sandbox.moments import slot
from tests.sandbox.spec_check import checked_session

ENTERPRISE = "Please upgrade your Calendly account to Enterprise."
PAID = "Please upgrade to a paid Calendly account."


def test_rate_limit_counts_down_then_429_then_recovers(spec):
    with Sandbox(seed=2, events=10, rate_limit=3, rate_window_seconds=600) as sb:
        with checked_session(spec, sb.token) as api:
            remaining = []
            for _ in range(3):
                response = api.get(sb.base_url + "/users/me", timeout=30)
                assert response.status_code == 200
                assert response.headers["X-RateLimit-Limit"] == "3"
                remaining.append(int(response.headers["X-RateLimit-Remaining"]))
            assert remaining == [2, 1, 0]
            refused = api.get(sb.base_url + "/users/me", timeout=30)
            assert refused.status_code == 429
            assert refused.headers["X-RateLimit-Remaining"] == "0"
            assert int(refused.headers["X-RateLimit-Reset"]) >= 1
            assert "Retry-After" not in refused.headers
            assert refused.json()["title"] == "Too Many Requests"
            sb.configure(rate_window_seconds=0.5)
            deadline = time.monotonic() + 60
            while True:  # the window rolls over; wait for it without assuming a speed
                response = api.get(sb.base_url + "/users/me", timeout=30)
                if response.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert response.status_code == 200
        statuses = [entry.status for entry in sb.request_log]
        assert 429 in statuses


def test_rate_limit_is_per_user(spec):
    with Sandbox(seed=2, events=10, rate_limit=1) as sb:
        owner = requests.get(
            sb.base_url + "/users/me", headers={"Authorization": f"Bearer {sb.token}"}, timeout=30
        )
        member = requests.get(
            sb.base_url + "/users/me",
            headers={"Authorization": f"Bearer {sb.member_token}"},
            timeout=30,
        )
        again = requests.get(
            sb.base_url + "/users/me", headers={"Authorization": f"Bearer {sb.token}"}, timeout=30
        )
        assert (owner.status_code, member.status_code, again.status_code) == (200, 200, 429)


def test_plan_default_limits_and_off():
    with Sandbox(seed=2, events=10, plan="free", rate_limit=None) as sb:
        response = requests.get(
            sb.base_url + "/users/me", headers={"Authorization": f"Bearer {sb.token}"}, timeout=30
        )
        assert response.headers["X-RateLimit-Limit"] == "50"
        assert response.headers["X-RateLimit-Remaining"] == "49"
        sb.configure(rate_limit=0)
        for _ in range(3):
            response = requests.get(
                sb.base_url + "/users/me",
                headers={"Authorization": f"Bearer {sb.token}"},
                timeout=30,
            )
            assert response.headers["X-RateLimit-Remaining"] == "50"


@pytest.mark.parametrize("plan", ["teams", "standard"])
def test_paid_non_enterprise_plans(own_sandbox, plan):
    sb, api = own_sandbox(seed=4, events=20, plan=plan)
    org = sb.store.organization["uri"]
    assert (
        api.get(sb.base_url + f"/organizations/{org.rsplit('/', 1)[1]}").json()["resource"]["plan"]
        == plan
    )
    for path in ("/activity_log_entries", "/outgoing_communications"):
        response = api.get(sb.base_url + path, params={"organization": org}, timeout=30)
        assert response.status_code == 403
        assert response.json()["message"] == ENTERPRISE
    deletion = api.post(
        sb.base_url + "/data_compliance/deletion/invitees", json={"emails": ["a@b.example"]}
    )
    assert deletion.status_code == 403
    assert deletion.json()["message"] == ENTERPRISE
    hooks = api.get(
        sb.base_url + "/webhook_subscriptions",
        params={"organization": org, "scope": "organization"},
    )
    assert hooks.status_code == 200


def subscribe(api, sb, events, scope="organization"):
    org = sb.store.organization["uri"]
    where = {"user": sb.store.current_user["uri"]} if scope == "user" else {}
    return api.post(
        sb.base_url + "/webhook_subscriptions",
        json={
            "url": f"https://hooks.example.org/{events[0]}",
            "events": events,
            "organization": org,
            "scope": scope,
            **where,
        },
    )


def test_free_plan_has_webhooks_and_the_scheduling_api_since_2026_11_03(own_sandbox):
    sb, api = own_sandbox(seed=4, events=20, plan="free")
    org_resource = sb.store.organization
    assert (org_resource["plan"], org_resource["stage"]) == ("basic", "free")
    org = org_resource["uri"]
    created = subscribe(api, sb, ["invitee.created", "contact.created"])
    assert created.status_code == 201, created.text
    listed = api.get(
        sb.base_url + "/webhook_subscriptions",
        params={"organization": org, "scope": "organization"},
    )
    assert listed.status_code == 200
    assert created.json()["resource"]["uri"] in [h["uri"] for h in listed.json()["collection"]]
    assert api.get(created.json()["resource"]["uri"]).status_code == 200
    event_type = next(t for t in sb.store.event_types.values() if t["active"])
    booked = api.post(
        sb.base_url + "/invitees",
        json={
            "event_type": event_type["uri"],
            "start_time": slot(3),
            "invitee": {"name": "Free Rider", "email": "f@example.com", "timezone": "UTC"},
        },
    )
    assert booked.status_code == 201, booked.text
    assert api.delete(created.json()["resource"]["uri"]).status_code == 204


@pytest.mark.parametrize(
    ("plan", "routing", "recaps"),
    [("free", 403, 403), ("standard", 403, 201), ("teams", 201, 201)],
)
def test_webhook_events_of_a_plan_feature_need_its_plan(own_sandbox, plan, routing, recaps):
    sb, api = own_sandbox(seed=4, events=20, plan=plan)
    answers = {
        "routing": subscribe(api, sb, ["routing_form_submission.created"]),
        "recaps": subscribe(api, sb, ["meeting_recap.created"], scope="user"),
    }
    assert {k: a.status_code for k, a in answers.items()} == {
        "routing": routing,
        "recaps": recaps,
    }
    for answer in answers.values():
        if answer.status_code == 403:
            assert answer.json()["message"] == PAID
    stored = {h["callback_url"] for h in sb.store.webhook_subscriptions.values()}
    for kind, answer in answers.items():
        url = json.loads(answer.request.body)["url"]
        assert (url in stored) == (answer.status_code == 201), f"{kind}: refused yet stored"


def test_plan_can_change_at_runtime(own_sandbox):
    sb, api = own_sandbox(seed=4, events=20)
    org = sb.store.organization["uri"]
    params = {"organization": org}
    assert api.get(sb.base_url + "/activity_log_entries", params=params).status_code == 200
    sb.configure(plan="teams")
    assert api.get(sb.base_url + "/activity_log_entries", params=params).status_code == 403
    assert api.get(org).json()["resource"]["plan"] == "teams"
    sb.configure(plan="enterprise")
    assert api.get(sb.base_url + "/activity_log_entries", params=params).status_code == 200


def test_bad_settings_are_rejected_with_their_name():
    with pytest.raises(ValueError, match="plan"):
        Sandbox(plan="platinum")
    with pytest.raises(ValueError, match="events"):
        Sandbox(events=0)
    with pytest.raises(ValueError, match="fault_rate"):
        Sandbox(fault_rate=1.5)
    with pytest.raises(ValueError, match="fault_kinds"):
        Sandbox(fault_kinds=("meteor",))
