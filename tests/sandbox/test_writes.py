"""Write endpoints: documented statuses, and every side effect checked through a later GET."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from calendly_sandbox.timefmt import fmt, parse
from tests.sandbox.moments import slot
from tests.sandbox.pages import next_token

DAY = 86_400


def just_before(timestamp: str) -> str:
    """A min_* bound that lists `timestamp` itself: the API reads min_* as "after"."""
    return fmt(parse(timestamp) - 1)


def url(sb: Sandbox, path: str) -> str:
    return sb.base_url + path


def path_of(sb: Sandbox, uri: str) -> str:
    return uri[len(sb.base_url) :]


def read(api: requests.Session, sb: Sandbox, uri_or_path: str, **params: Any) -> dict[str, Any]:
    target = uri_or_path if uri_or_path.startswith("http") else url(sb, uri_or_path)
    response = api.get(target, params=params, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def future_active_event(sb: Sandbox) -> str:
    now = fmt(time.time() + 3600)
    with sb.store.lock:
        return next(
            u
            for u, e in sb.store.scheduled_events.items()
            if e["status"] == "active" and e["start_time"] > now
        )


def plain_invitee(sb: Sandbox, *, taken: set[str]) -> dict[str, Any]:
    with sb.store.lock:
        return next(
            i
            for i in sb.store.invitees.values()
            if i.get("no_show") is None and i["status"] == "active" and i["uri"] not in taken
        )


def solo_event_type(sb: Sandbox) -> dict[str, Any]:
    return next(
        t
        for t in sb.store.event_types.values()
        if t["kind"] == "solo" and t["active"] and not t["pooling_type"] and not t["deleted_at"]
    )


USED: set[str] = set()


# -- cancellation ------------------------------------------------------------------------------
def test_cancel_event_sets_cancellation_and_moves_updated_at(api, sandbox):
    uuid = future_active_event(sandbox)
    before = read(api, sandbox, f"/scheduled_events/{uuid}")["resource"]
    response = api.post(
        url(sandbox, f"/scheduled_events/{uuid}/cancellation"), json={"reason": "Désolé"}
    )
    assert response.status_code == 201
    cancellation = response.json()["resource"]
    assert cancellation["reason"] == "Désolé"
    assert cancellation["canceler_type"] == "host"
    after = read(api, sandbox, f"/scheduled_events/{uuid}")["resource"]
    assert after["status"] == "canceled"
    assert after["cancellation"] == cancellation
    assert after["updated_at"] > before["updated_at"]
    assert after["invitees_counter"]["active"] == 0
    invitees = read(api, sandbox, f"/scheduled_events/{uuid}/invitees")["collection"]
    assert invitees
    assert all(i["status"] == "canceled" and i["cancellation"] for i in invitees)
    canceled = read(
        api,
        sandbox,
        "/scheduled_events",
        organization=sandbox.store.organization["uri"],
        status="canceled",
        min_start_time=just_before(after["start_time"]),
        max_start_time=after["end_time"],
    )["collection"]
    assert uuid in {uuid_of(e["uri"]) for e in canceled}


def test_cancel_twice_and_cancel_past_are_403(api, sandbox):
    uuid = future_active_event(sandbox)
    assert api.post(url(sandbox, f"/scheduled_events/{uuid}/cancellation")).status_code == 201
    again = api.post(url(sandbox, f"/scheduled_events/{uuid}/cancellation"), json={})
    assert again.status_code == 403
    assert again.json()["message"] == "Event is already canceled"
    now = fmt(time.time())
    past = next(
        u
        for u, e in sandbox.store.scheduled_events.items()
        if e["status"] == "active" and e["start_time"] < now
    )
    before = read(api, sandbox, f"/scheduled_events/{past}")["resource"]
    response = api.post(url(sandbox, f"/scheduled_events/{past}/cancellation"))
    assert response.status_code == 403
    assert response.json()["message"] == "Event in the past"
    assert read(api, sandbox, f"/scheduled_events/{past}")["resource"] == before


def test_member_cannot_cancel_someone_elses_event(member_api, sandbox):
    member = sandbox.member["user"]["uri"]
    now = fmt(time.time())
    uuid = next(
        u
        for u, e in sandbox.store.scheduled_events.items()
        if member not in sandbox.store.event_hosts[u]
        and e["status"] == "active"
        and e["start_time"] > now
    )
    response = member_api.post(url(sandbox, f"/scheduled_events/{uuid}/cancellation"))
    assert response.status_code == 403
    assert response.json()["message"] == "You are not allowed to cancel this event"
    assert sandbox.store.scheduled_events[uuid]["status"] == "active"


def test_cancel_unknown_event_is_404(api, sandbox):
    response = api.post(
        url(sandbox, "/scheduled_events/00000000-0000-4000-8000-000000000000/cancellation")
    )
    assert response.status_code == 404


# -- no-shows ----------------------------------------------------------------------------------
def test_no_show_create_and_delete_move_no_updated_at(api, sandbox):
    """Real accounts: marking or removing a no-show need not move any updated_at."""
    invitee = plain_invitee(sandbox, taken=USED)
    USED.add(invitee["uri"])
    event_before = read(api, sandbox, invitee["event"])["resource"]
    created = api.post(url(sandbox, "/invitee_no_shows"), json={"invitee": invitee["uri"]})
    assert created.status_code == 201
    no_show = created.json()["resource"]
    assert no_show["invitee"] == invitee["uri"]
    seen = read(api, sandbox, invitee["uri"])["resource"]
    assert seen["no_show"] == {"uri": no_show["uri"], "created_at": no_show["created_at"]}
    assert seen["updated_at"] == invitee["updated_at"] < no_show["created_at"]
    assert read(api, sandbox, no_show["uri"])["resource"] == no_show
    assert (
        read(api, sandbox, invitee["event"])["resource"]["updated_at"] == event_before["updated_at"]
    )
    duplicate = api.post(url(sandbox, "/invitee_no_shows"), json={"invitee": invitee["uri"]})
    assert duplicate.status_code == 400

    deleted = api.delete(no_show["uri"])
    assert deleted.status_code == 204
    assert deleted.content == b""
    cleared = read(api, sandbox, invitee["uri"])["resource"]
    assert cleared.get("no_show") is None
    assert cleared["updated_at"] == invitee["updated_at"]
    assert api.get(no_show["uri"]).status_code == 404
    assert api.delete(no_show["uri"]).status_code == 404
    assert (
        read(api, sandbox, invitee["event"])["resource"]["updated_at"] == event_before["updated_at"]
    )


def test_lenient_no_show_create_and_delete_move_the_invitee_not_the_event():
    with Sandbox(seed=7, events=60, realism="lenient") as sb, requests.Session() as api:
        api.headers["Authorization"] = f"Bearer {sb.token}"
        invitee = plain_invitee(sb, taken=set())
        event_before = read(api, sb, invitee["event"])["resource"]
        no_show = api.post(url(sb, "/invitee_no_shows"), json={"invitee": invitee["uri"]}).json()
        marked = read(api, sb, invitee["uri"])["resource"]
        assert marked["updated_at"] == no_show["resource"]["created_at"]
        assert api.delete(no_show["resource"]["uri"]).status_code == 204
        assert read(api, sb, invitee["uri"])["resource"]["updated_at"] > marked["updated_at"]
        assert read(api, sb, invitee["event"])["resource"] == event_before


def test_no_show_for_unknown_invitee_is_404(api, sandbox):
    bogus = sandbox.base_url + "/scheduled_events/x/invitees/00000000-0000-4000-8000-000000000000"
    assert api.post(url(sandbox, "/invitee_no_shows"), json={"invitee": bogus}).status_code == 404
    assert api.post(url(sandbox, "/invitee_no_shows"), json={}).status_code == 400


# -- invitations and memberships ---------------------------------------------------------------
def test_invitation_create_then_revoke(api, sandbox):
    org_uuid = uuid_of(sandbox.store.organization["uri"])
    base = f"/organizations/{org_uuid}/invitations"
    created = api.post(url(sandbox, base), json={"email": "nouvelle.personne@example.com"})
    assert created.status_code == 201
    invitation = created.json()["resource"]
    assert invitation["status"] == "pending"
    listed = read(api, sandbox, base, email="nouvelle.personne@example.com")["collection"]
    assert listed == [invitation]
    assert read(api, sandbox, invitation["uri"])["resource"] == invitation
    duplicate = api.post(url(sandbox, base), json={"email": "Nouvelle.Personne@example.com"})
    assert duplicate.status_code == 400
    member_email = sandbox.member["user"]["email"]
    assert api.post(url(sandbox, base), json={"email": member_email}).status_code == 400

    assert api.delete(invitation["uri"]).status_code == 204
    assert read(api, sandbox, base, email="nouvelle.personne@example.com")["collection"] == []
    recent = read(
        api,
        sandbox,
        "/activity_log_entries",
        organization=sandbox.store.organization["uri"],
        namespace="Invitation",
        count=2,
    )["collection"]
    assert {e["action"] for e in recent} == {"Revoke", "Send"}  # may share a millisecond
    assert all(e["details"]["email"] == "nouvelle.personne@example.com" for e in recent)
    assert api.get(invitation["uri"]).status_code == 404
    assert api.delete(invitation["uri"]).status_code == 404


def test_member_cannot_invite(member_api, sandbox):
    org_uuid = uuid_of(sandbox.store.organization["uri"])
    response = member_api.post(
        url(sandbox, f"/organizations/{org_uuid}/invitations"), json={"email": "x@example.com"}
    )
    assert response.status_code == 403
    assert response.json()["message"] == "You do not have permission"


def test_remove_member_and_owner_is_protected(api, spec, sandbox):
    store = sandbox.store
    victim = next(
        m
        for m in store.organization_memberships.values()
        if m["role"] == "user" and m["uri"] != sandbox.member["uri"]
    )
    user_uri = victim["user"]["uri"]
    groups_before = [
        r for r in store.group_relationships.values() if r["owner"]["uri"] == victim["uri"]
    ]
    assert api.delete(victim["uri"]).status_code == 204
    assert api.get(victim["uri"]).status_code == 404
    org = store.organization["uri"]
    assert (
        read(api, sandbox, "/organization_memberships", organization=org, user=user_uri)[
            "collection"
        ]
        == []
    )
    for rel in groups_before:
        assert api.get(rel["uri"]).status_code == 404
    events = api.get(
        url(sandbox, "/scheduled_events"), params={"organization": org, "user": user_uri}
    )
    assert events.status_code == 403
    assert events.json()["message"] == "This user is not in your organization"

    owner = next(m for m in store.organization_memberships.values() if m["role"] == "owner")
    refused = api.delete(owner["uri"])
    assert refused.status_code == 403
    assert read(api, sandbox, owner["uri"])["resource"] == owner


def test_member_cannot_remove_members(member_api, sandbox):
    target = next(
        m for m in sandbox.store.organization_memberships.values() if m["role"] == "admin"
    )
    assert member_api.delete(target["uri"]).status_code == 403
    assert target["uri"] in {m["uri"] for m in sandbox.store.organization_memberships.values()}


# -- scheduling links and shares ---------------------------------------------------------------
def test_scheduling_links_are_single_use_and_distinct(api, sandbox):
    event_type = solo_event_type(sandbox)
    body = {"max_event_count": "1", "owner": event_type["uri"], "owner_type": "EventType"}
    first = api.post(url(sandbox, "/scheduling_links"), json=body)
    second = api.post(url(sandbox, "/scheduling_links"), json=body)
    assert first.status_code == second.status_code == 201
    links = [first.json()["resource"], second.json()["resource"]]
    assert links[0]["booking_url"] != links[1]["booking_url"]
    assert all(link["owner"] == event_type["uri"] for link in links)
    stored = {link["booking_url"] for link in sandbox.store.scheduling_links.values()}
    assert {link["booking_url"] for link in links} <= stored
    as_integer = api.post(url(sandbox, "/scheduling_links"), json={**body, "max_event_count": 1})
    assert as_integer.status_code == 400
    missing = api.post(
        url(sandbox, "/scheduling_links"),
        json={
            **body,
            "owner": sandbox.base_url + "/event_types/00000000-0000-4000-8000-000000000000",
        },
    )
    assert missing.status_code == 404


def test_share_copies_unset_fields_from_the_event_type(api, sandbox):
    event_type = solo_event_type(sandbox)
    response = api.post(
        url(sandbox, "/shares"),
        json={
            "event_type": event_type["uri"],
            "name": "Entretien spécial",
            "duration": 30,
            "duration_options": [30, 60],
            "period_type": "fixed",
            "start_date": "2030-01-01",
            "end_date": "2030-01-31",
        },
    )
    assert response.status_code == 201
    share = response.json()["resource"]
    override = share["share_override"]
    assert override["name"] == "Entretien spécial"
    assert override["duration"] == 30
    assert override["period_type"] == "fixed"
    assert share["scheduling_links"][0]["owner"] == event_type["uri"]
    assert share in sandbox.store.shares.values()
    plain = api.post(url(sandbox, "/shares"), json={"event_type": event_type["uri"]})
    assert plain.json()["resource"]["share_override"]["duration"] == int(event_type["duration"])
    bad = api.post(
        url(sandbox, "/shares"),
        json={"event_type": event_type["uri"], "duration": 45, "duration_options": [30, 60]},
    )
    assert bad.status_code == 400
    fixed_without_dates = api.post(
        url(sandbox, "/shares"), json={"event_type": event_type["uri"], "period_type": "fixed"}
    )
    assert fixed_without_dates.status_code == 400


def test_share_of_a_group_event_type_is_400(api, sandbox):
    group_type = next(t for t in sandbox.store.event_types.values() if t["kind"] == "group")
    response = api.post(url(sandbox, "/shares"), json={"event_type": group_type["uri"]})
    assert response.status_code == 400


# -- webhooks ----------------------------------------------------------------------------------
def test_webhook_create_conflict_and_delete(api, sandbox):
    org = sandbox.store.organization["uri"]
    body = {
        "url": "https://hooks.example.org/sandbox-test",
        "events": ["invitee.created", "invitee.canceled"],
        "organization": org,
        "scope": "organization",
        "signing_key": "s3cr3t",
    }
    created = api.post(url(sandbox, "/webhook_subscriptions"), json=body)
    assert created.status_code == 201
    hook = created.json()["resource"]
    assert hook["callback_url"] == body["url"]
    assert hook["creator"] == sandbox.store.current_user["uri"]
    assert "s3cr3t" not in created.text
    listed = read(
        api, sandbox, "/webhook_subscriptions", organization=org, scope="organization", count=100
    )["collection"]
    assert hook in listed
    conflict = api.post(url(sandbox, "/webhook_subscriptions"), json=body)
    assert conflict.status_code == 409
    me = sandbox.store.current_user["uri"]
    other_scope = api.post(
        url(sandbox, "/webhook_subscriptions"), json={**body, "scope": "user", "user": me}
    )
    assert other_scope.status_code == 201

    assert api.delete(hook["uri"]).status_code == 204
    assert api.get(hook["uri"]).status_code == 404
    listed = read(
        api, sandbox, "/webhook_subscriptions", organization=org, scope="organization", count=100
    )["collection"]
    assert hook["uri"] not in {h["uri"] for h in listed}
    assert api.post(url(sandbox, "/webhook_subscriptions"), json=body).status_code == 201


def test_webhook_scope_rules(api, sandbox):
    org = sandbox.store.organization["uri"]
    base = {"url": "https://hooks.example.org/rules", "organization": org}
    wrong_scope = api.post(
        url(sandbox, "/webhook_subscriptions"),
        json={
            **base,
            "events": ["routing_form_submission.created"],
            "scope": "user",
            "user": sandbox.store.current_user["uri"],
        },
    )
    assert wrong_scope.status_code == 400
    no_user = api.post(
        url(sandbox, "/webhook_subscriptions"),
        json={**base, "events": ["invitee.created"], "scope": "user"},
    )
    assert no_user.status_code == 400
    bad_event = api.post(
        url(sandbox, "/webhook_subscriptions"),
        json={**base, "events": ["invitee.exploded"], "scope": "organization"},
    )
    assert bad_event.status_code == 400


# -- data compliance ---------------------------------------------------------------------------
def test_delete_invitee_data_removes_that_email_everywhere(api, sandbox):
    store = sandbox.store
    invitee = plain_invitee(sandbox, taken=USED)
    USED.add(invitee["uri"])
    email = invitee["email"]
    event_uuid = uuid_of(invitee["event"])
    org = store.organization["uri"]
    assert read(api, sandbox, "/scheduled_events", organization=org, invitee_email=email)[
        "collection"
    ]
    response = api.post(
        url(sandbox, "/data_compliance/deletion/invitees"), json={"emails": [email.upper()]}
    )
    assert response.status_code == 202
    assert response.json() == {}
    assert api.get(invitee["uri"]).status_code == 404
    remaining = read(api, sandbox, f"/scheduled_events/{event_uuid}/invitees", count=100)
    assert email not in {i["email"] for i in remaining["collection"]}
    assert (
        read(api, sandbox, "/scheduled_events", organization=org, invitee_email=email)["collection"]
        == []
    )
    comms = read(api, sandbox, "/outgoing_communications", organization=org, count=100)
    assert email not in {c["to"] for c in comms["collection"]}
    assert any(r["kind"] == "invitees" for r in store.data_compliance_requests.values())


def test_delete_event_data_removes_past_events_in_the_window(api, sandbox):
    store = sandbox.store
    org = store.organization["uri"]
    end = time.time() - 20 * DAY
    start = end - 10 * DAY
    low, high = fmt(start), fmt(end)
    doomed = [u for u, e in store.scheduled_events.items() if low <= e["start_time"] < high]
    assert doomed
    response = api.post(
        url(sandbox, "/data_compliance/deletion/events"),
        json={"start_time": low, "end_time": high},
    )
    assert response.status_code == 202
    assert (
        read(
            api,
            sandbox,
            "/scheduled_events",
            organization=org,
            min_start_time=low,
            max_start_time=high,
        )["collection"]
        == []
    )
    for uuid in doomed:
        assert api.get(url(sandbox, f"/scheduled_events/{uuid}")).status_code == 404
        assert api.get(url(sandbox, f"/scheduled_events/{uuid}/invitees")).status_code == 404


@pytest.mark.parametrize(
    ("start_days", "end_days"),
    [(-10, 5), (-800, -10), (-5, -10)],
    ids=["reaches-the-future", "longer-than-24-months", "end-before-start"],
)
def test_delete_event_data_rejects_bad_windows(api, sandbox, start_days, end_days):
    now = time.time()
    response = api.post(
        url(sandbox, "/data_compliance/deletion/events"),
        json={"start_time": fmt(now + start_days * DAY), "end_time": fmt(now + end_days * DAY)},
    )
    assert response.status_code == 400


def test_data_compliance_needs_an_admin(member_api, sandbox):
    response = member_api.post(
        url(sandbox, "/data_compliance/deletion/invitees"), json={"emails": ["a@example.com"]}
    )
    assert response.status_code == 403


# -- booking -----------------------------------------------------------------------------------
def booking(event_type: dict[str, Any], start: str, email: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_type": event_type["uri"],
        "start_time": start,
        "invitee": {"name": "Søren Kierkegård", "email": email, "timezone": "Europe/Copenhagen"},
        **extra,
    }


def test_booking_creates_an_event_and_invitee_visible_on_next_read(api, sandbox):
    event_type = solo_event_type(sandbox)
    start = slot(5.3)
    answers = [
        {"question": q["name"], "answer": "Oui", "position": q["position"]}
        for q in event_type["custom_questions"]
    ]
    tracking = {
        "utm_campaign": "sandbox",
        "utm_source": "tests",
        "utm_medium": None,
        "utm_content": None,
        "utm_term": None,
        "salesforce_uuid": None,
    }
    response = api.post(
        url(sandbox, "/invitees"),
        json=booking(
            event_type,
            start,
            "soren@example.dk",
            questions_and_answers=answers,
            tracking=tracking,
            event_guests=["guest@example.org"],
            location={"kind": "physical", "location": "Nyhavn 17"},
        ),
    )
    assert response.status_code == 201, response.text
    invitee = response.json()["resource"]
    assert invitee["scheduling_method"] == "api"
    assert invitee["tracking"]["utm_campaign"] == "sandbox"
    assert invitee["questions_and_answers"] == answers
    event = read(api, sandbox, invitee["event"])["resource"]
    assert event["start_time"] == start
    assert event["event_type"] == event_type["uri"]
    assert event["location"] == {"type": "physical", "location": "Nyhavn 17"}
    assert event["invitees_counter"] == {"total": 1, "active": 1, "limit": 1}
    assert [g["email"] for g in event["event_guests"]] == ["guest@example.org"]
    listed = read(api, sandbox, f"/scheduled_events/{uuid_of(event['uri'])}/invitees")
    assert listed["collection"] == [invitee]
    org = sandbox.store.organization["uri"]
    found = read(
        api,
        sandbox,
        "/scheduled_events",
        organization=org,
        min_start_time=just_before(start),
        max_start_time=event["end_time"],
    )["collection"]
    assert event in found
    taken = api.post(url(sandbox, "/invitees"), json=booking(event_type, start, "x@example.com"))
    assert taken.status_code == 400


def test_booking_a_group_slot_twice_joins_one_event(api, sandbox):
    group_type = next(
        t for t in sandbox.store.event_types.values() if t["kind"] == "group" and t["active"]
    )
    start = slot(6.7)
    first = api.post(url(sandbox, "/invitees"), json=booking(group_type, start, "a@example.com"))
    second = api.post(url(sandbox, "/invitees"), json=booking(group_type, start, "b@example.com"))
    assert first.status_code == second.status_code == 201
    event_uri = first.json()["resource"]["event"]
    assert second.json()["resource"]["event"] == event_uri
    event = read(api, sandbox, event_uri)["resource"]
    assert event["invitees_counter"]["active"] == 2
    emails = {i["email"] for i in read(api, sandbox, event_uri + "/invitees")["collection"]}
    assert emails == {"a@example.com", "b@example.com"}


def test_booking_between_pages_does_not_disturb_keyset_paging(api, sandbox):
    org = sandbox.store.organization["uri"]
    first = read(api, sandbox, "/scheduled_events", organization=org, count=10)
    seen = [e["uri"] for e in first["collection"]]
    total_before = len(sandbox.store.scheduled_events)
    booked = api.post(
        url(sandbox, "/invitees"),
        json=booking(solo_event_type(sandbox), slot(9.1), "p@example.com"),
    )
    assert booked.status_code == 201
    token = next_token(first)
    rest: list[str] = []
    while token:
        page = read(api, sandbox, "/scheduled_events", organization=org, count=10, page_token=token)
        rest.extend(e["uri"] for e in page["collection"])
        token = next_token(page)
    assert not set(seen) & set(rest)
    assert len(seen) + len(rest) == total_before + 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"start_time": "past"}, 400),
        ({"invitee": {"email": "no-name@example.com", "timezone": "UTC"}}, 400),
        ({"questions_and_answers": [{"question": "not asked", "answer": "x", "position": 0}]}, 400),
        ({"event_type": "unknown"}, 404),
        ({"location": {"kind": "carrier_pigeon"}}, 400),
    ],
    ids=["past", "no-name", "unknown-question", "unknown-event-type", "bad-location"],
)
def test_booking_errors(api, sandbox, change, status):
    event_type = solo_event_type(sandbox)
    body = booking(event_type, slot(11.2), "err@example.com")
    body.update(change)
    if body["start_time"] == "past":
        body["start_time"] = fmt(time.time() - DAY)
    if body["event_type"] == "unknown":
        body["event_type"] = sandbox.base_url + "/event_types/00000000-0000-4000-8000-000000000000"
    assert api.post(url(sandbox, "/invitees"), json=body).status_code == status


def test_malformed_json_body_is_400(api, sandbox):
    response = api.post(
        url(sandbox, "/invitees"), data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_unparseable_content_length_is_400(sandbox):
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=30) as conn:
        conn.sendall(b"POST /invitees HTTP/1.1\r\nHost: sandbox\r\nContent-Length: abc\r\n\r\n")
        head = conn.recv(4096).split(b"\r\n", 1)[0]
    assert head == b"HTTP/1.1 400 Bad Request"
