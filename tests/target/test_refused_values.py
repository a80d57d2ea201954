"""Values that would send a write somewhere nobody asked for are refused before any request:
a URI on another host than api_url's (the write would act on the resource of that UUID on the
configured API), and a path placeholder value that changes the path's structure (`..`, `.`, a
`/`, also percent-encoded), which could leave a gateway's path prefix in api_url. Bare UUIDs,
legacy ids and URIs on api_url's host work as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from calendly_http.uris import path_segment
from calendly_sandbox import Sandbox
from target_calendly.actions import ACTIONS
from target_calendly.validation import off_api_host
from tests.target.helpers import config_for, run_target, stream_of, writes
from tests.target.test_actions import future_events, invitees, pick, uuid

EVIL = "https://evil.example.com"


def test_cancel_event_with_a_uri_on_another_host_is_refused(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    target_event, other_event = future_events(sandbox, count=2)
    config = config_for(
        sandbox, tmp_path / "r.jsonl", allow_destructive_actions=True, on_error="continue"
    )
    result = run_target(
        config,
        stream_of(
            "cancel_event",
            {"event": f"{EVIL}/scheduled_events/{uuid(target_event['uri'])}"},
            {"event": uuid(other_event["uri"])},  # a bare UUID: as today
        ),
    )

    refused, canceled = result.lines
    assert refused["outcome"] == "failed", refused
    message = refused["error"]["message"]
    assert "record #1 of stream 'cancel_event'" in message
    assert "field 'event'" in message and "evil.example.com" in message
    assert sandbox.store.scheduled_events[uuid(target_event["uri"])]["status"] == "active"
    assert canceled["outcome"] == "ok", canceled
    assert sandbox.store.scheduled_events[uuid(other_event["uri"])]["status"] == "canceled"
    assert len(writes(sandbox, "/cancellation")) == 1


def test_an_invitee_uri_on_another_host_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    (invitee,) = invitees(sandbox, no_show=False)
    path = invitee["uri"].removeprefix(sandbox.base_url)
    config = config_for(sandbox, tmp_path / "r.jsonl", on_error="continue")
    result = run_target(config, stream_of("mark_no_show", {"invitee": f"{EVIL}{path}"}))

    line = result.only()
    assert line["outcome"] == "failed" and "field 'invitee'" in line["error"]["message"]
    assert sandbox.request_log == [], "nothing is read or written for a refused record"


def test_legacy_ids_bare_uuids_and_uris_on_api_url_are_accepted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    legacy, modern = (
        pick(sandbox.store.event_types, lambda t: t["active"] and len(uuid(t["uri"])) == 16)[0],
        pick(sandbox.store.event_types, lambda t: t["active"] and len(uuid(t["uri"])) == 36)[0],
    )
    result = run_target(
        config_for(sandbox, tmp_path / "r.jsonl"),
        stream_of(
            "create_scheduling_link",
            {"event_type": uuid(legacy["uri"])},
            {"event_type": legacy["uri"]},
            {"event_type": uuid(modern["uri"]), "idempotency_key": "modern"},
        ),
    )
    assert result.outcomes() == ["ok"] * 3, result.lines


UNSAFE_VALUES = ["..", ".", "a/b", "%2e%2e", "%2E", "a%2Fb", "..%252f", "a\\b"]


@pytest.mark.parametrize("value", UNSAFE_VALUES)
def test_api_request_placeholder_values_cannot_change_the_path(
    sandbox: Sandbox, tmp_path: Path, value: str
) -> None:
    # A gateway in front of Calendly: everything must stay under /calendly.
    config = config_for(sandbox, tmp_path / "r.jsonl", api_url=f"{sandbox.base_url}/calendly")
    record = {"method": "GET", "path": "/contacts/{contact_id}", "contact_id": value}

    result = run_target(config, stream_of("api_request", record))

    line = result.only()
    assert line["outcome"] == "failed", line
    message = line["error"]["message"]
    assert "record #1 of stream 'api_request'" in message
    assert "field 'contact_id'" in message and "one path segment" in message
    assert sandbox.request_log == [], "the request was sent"


def test_api_request_keeps_full_uris_in_query_placeholders(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A query value is not a path segment: a Calendly URI there is encoded, not refused."""
    (event,) = future_events(sandbox)
    record = {
        "method": "GET",
        "path": "/scheduled_events/{event_id}/invitees?count={count}&event={event_uri}",
        "event_id": uuid(event["uri"]),
        "count": "5",
        "event_uri": event["uri"],
    }
    result = run_target(config_for(sandbox, tmp_path / "r.jsonl"), stream_of("api_request", record))
    assert result.outcomes() == ["ok"], result.lines


@pytest.mark.parametrize("value", UNSAFE_VALUES)
def test_path_segment_refuses_what_a_server_would_resolve(value: str) -> None:
    with pytest.raises(ValueError, match="one path segment"):
        path_segment(value)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("ABC123", "ABC123"),
        ("a b", "a%20b"),
        ("a.b", "a.b"),
        ("...", "..."),
        ("x?y#z", "x%3Fy%23z"),
    ],
)
def test_path_segment_encodes_what_is_one_segment(value: str, encoded: str) -> None:
    assert path_segment(value) == encoded


@pytest.mark.parametrize("event_segment", ["..", "%2e%2e", "."])
def test_an_invitee_uri_whose_event_segment_climbs_is_refused(
    sandbox: Sandbox, tmp_path: Path, event_segment: str
) -> None:
    (invitee,) = invitees(sandbox, no_show=False)
    climbing = (
        f"{sandbox.base_url}/scheduled_events/{event_segment}/invitees/{uuid(invitee['uri'])}"
    )
    config = config_for(sandbox, tmp_path / "r.jsonl", on_error="continue")
    result = run_target(config, stream_of("mark_no_show", {"invitee": climbing}))

    line = result.only()
    assert line["outcome"] == "failed" and "field 'invitee'" in line["error"]["message"]
    assert sandbox.request_log == []


def test_every_id_of_a_list_must_be_on_api_url() -> None:
    spec = ACTIONS["create_one_off_event_type"].spec
    api = "https://api.calendly.com"
    hosts = ["ABCDEFGH12345678", f"{api}/users/U1", f"{EVIL}/users/U2"]
    assert off_api_host(spec, {"co_hosts": hosts[:2]}, api) == []
    assert off_api_host(spec, {"co_hosts": hosts, "host": "U3"}, api) == [
        "field 'co_hosts' must be a URI on api_url's host (api.calendly.com) or a bare id; "
        "it names evil.example.com"
    ]


def test_behind_a_gateway_uris_on_calendlys_own_host_are_accepted() -> None:
    """Calendly names its resources on api.calendly.com whatever gateway api_url goes through, so
    URIs loaded by the tap through that gateway must still be writable."""
    spec = ACTIONS["create_one_off_event_type"].spec
    gateway = "https://gateway.example.com/calendly"
    hosts = ["https://api.calendly.com/users/U1", f"{gateway}/users/U2"]
    assert off_api_host(spec, {"co_hosts": hosts, "host": "U3"}, gateway) == []
    assert off_api_host(spec, {"co_hosts": [f"{EVIL}/users/U4"], "host": "U3"}, gateway) != []
