"""Malformed requests get a 400 naming what is wrong, in Calendly's error shape, never a 500.

The family, not one case each: every list parameter of every read given empty or as non-ASCII
garbage, malformed page tokens on every paged read, and invalid emails in every body field that
holds one. Every response goes through the spec check (conftest's `api` session).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox, facts
from calendly_sandbox.server import ROUTES
from calendly_sandbox.store import uuid_of
from calendly_sandbox.timefmt import fmt

GARBAGE = "ÿ☃é\u200b"
INVALID_EMAILS = ("ÿÿÿ@ÿÿ", "☃@☃.☃", "zoë@exämple.com", "a@b", "@example.com", "a b@example.com")


def reads_with_query_params() -> list[tuple[str, str]]:
    """(path template, parameter) of every GET the sandbox serves with query parameters."""
    served = {route.op_key for route in ROUTES}
    return [
        (key.split(" ", 1)[1], name)
        for key, op in facts.load()["operations"].items()
        if key.startswith("GET ") and key in served
        for name, fact in op["params"].items()
        if fact["in"] == "query"
    ]


def valid_query(sb: Sandbox, template: str, leave_out: str) -> dict[str, str]:
    """Valid values for the operation's required query parameters and its organization (some
    reads need organization or user), but `leave_out`."""
    store = sb.store
    event_type = next(t for t in store.event_types.values() if t["active"])
    samples = {
        "organization": store.organization["uri"],
        "user": store.current_user["uri"],
        "event_type": event_type["uri"],
        "form": next(iter(store.routing_forms.values()))["uri"],
        "start_time": fmt(time.time() + 86_400),
        "end_time": fmt(time.time() + 2 * 86_400),
        "event": "invitee.created",
        "scope": "organization",
    }
    op = facts.operation(f"GET {template}")
    return {
        name: samples[name]
        for name, fact in op["params"].items()
        if fact["in"] == "query"
        and (fact.get("required") or name == "organization")
        and name != leave_out
    }


def concrete(sb: Sandbox, template: str) -> str:
    """The template with its `{uuid}` filled with a resource that exists."""
    store = sb.store
    owners = {
        "/contacts/": next(iter(store.contacts)),
        "/organizations/": uuid_of(store.organization["uri"]),
        "/scheduled_events/": uuid_of(next(iter(store.invitees.values()))["event"]),
    }
    for prefix, uuid in owners.items():
        if template.startswith(prefix + "{uuid}"):
            return template.replace("{uuid}", uuid, 1)
    return template


def refused(response: requests.Response, parameter: str) -> bool:
    body = response.json()
    return response.status_code == 400 and any(
        d.get("parameter") == parameter for d in body.get("details", [])
    )


@pytest.mark.parametrize(("template", "parameter"), reads_with_query_params())
def test_an_empty_parameter_is_refused_naming_it(api, sandbox, template, parameter):
    """An empty filter is not an absent one: GET /teams?user= listed every team."""
    query = {**valid_query(sandbox, template, parameter), parameter: ""}
    response = api.get(sandbox.base_url + concrete(sandbox, template), params=query, timeout=30)
    assert refused(response, parameter), response.text


@pytest.mark.parametrize(("template", "parameter"), reads_with_query_params())
def test_non_ascii_garbage_in_any_parameter_is_never_a_server_error(
    api, sandbox, template, parameter
):
    query = {**valid_query(sandbox, template, parameter), parameter: GARBAGE}
    response = api.get(sandbox.base_url + concrete(sandbox, template), params=query, timeout=30)
    assert response.status_code < 500, response.text
    if parameter == "page_token":
        assert refused(response, "page_token"), response.text


@pytest.mark.parametrize(
    "token", [GARBAGE, f"{GARBAGE}.{GARBAGE}", "e30.é", "abc.", ".", "x" * 5000]
)
def test_a_malformed_page_token_is_a_400(api, sandbox, token):
    response = api.get(
        sandbox.base_url + "/scheduled_events",
        params={"organization": sandbox.store.organization["uri"], "page_token": token},
        timeout=30,
    )
    assert refused(response, "page_token"), response.text


@pytest.mark.parametrize("email", INVALID_EMAILS)
def test_an_invitation_to_an_invalid_email_is_refused(api, sandbox, email):
    org = sandbox.store.organization["uri"]
    before = len(sandbox.store.organization_invitations)
    response = api.post(org + "/invitations", json={"email": email}, timeout=30)
    assert refused(response, "email"), response.text
    assert len(sandbox.store.organization_invitations) == before


def test_a_valid_invitation_email_is_still_accepted(api, sandbox):
    org = sandbox.store.organization["uri"]
    response = api.post(org + "/invitations", json={"email": "o'neil+ops@mail.example.co"})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("email", INVALID_EMAILS)
def test_a_booking_for_an_invalid_email_is_refused(api, sandbox, email):
    event_type = next(
        t
        for t in sandbox.store.event_types.values()
        if t["kind"] == "solo" and t["active"] and not t["deleted_at"]
    )
    body: dict[str, Any] = {
        "event_type": event_type["uri"],
        "start_time": fmt((int(time.time() // 3600) + 50) * 3600),
        "invitee": {"name": "X", "email": email, "timezone": "UTC"},
    }
    response = api.post(sandbox.base_url + "/invitees", json=body, timeout=30)
    assert refused(response, "invitee.email"), response.text


def test_a_deeply_nested_body_is_a_400(api, sandbox):
    org = sandbox.store.organization["uri"]
    response = api.post(
        org + "/invitations",
        data=b"[" * 100_000 + b"]" * 100_000,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert refused(response, "body"), response.text


def test_a_non_ascii_bearer_token_is_a_401(spec, sandbox):
    response = requests.get(
        sandbox.base_url + "/users/me", headers={"Authorization": "Bearer \xe9\xff"}, timeout=30
    )
    spec.check(response)
    assert response.status_code == 401
