"""The sandbox announces changes as signed webhooks, retries on Calendly's schedule, disables.

The signature is checked here with hmac directly, not with the receiver's code: the sandbox and
the receiver must agree with Calendly's rules, not merely with each other.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from typing import Any

import requests

from calendly_sandbox import Sandbox
from calendly_sandbox.deliveries import FIRST_RETRY_SECONDS, RETRY_WINDOW_SECONDS
from calendly_sandbox.store import uuid_of
from calendly_sandbox.timefmt import fmt
from tests.webhooks.conftest import Callback

KEY = "whsec-test-key-0123456789"
DAY = 86_400


def subscribe(
    api: requests.Session,
    sb: Sandbox,
    url: str,
    events: list[str],
    *,
    scope: str = "organization",
    user: str | None = None,
    signing_key: str | None = KEY,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "url": url,
        "events": events,
        "organization": sb.store.organization["uri"],
        "scope": scope,
    }
    if user:
        body["user"] = user
    if signing_key:
        body["signing_key"] = signing_key
    response = api.post(sb.base_url + "/webhook_subscriptions", json=body, timeout=30)
    assert response.status_code == 201, response.text
    hook: dict[str, Any] = response.json()["resource"]
    return hook


def solo_event_type(sb: Sandbox) -> dict[str, Any]:
    return next(
        t
        for t in sb.store.event_types.values()
        if t["kind"] == "solo" and t["active"] and not t["pooling_type"] and not t["deleted_at"]
    )


def book(api: requests.Session, sb: Sandbox, days_ahead: float, email: str) -> dict[str, Any]:
    start = fmt((int(time.time() // 3600) * 3600) + days_ahead * DAY)
    response = api.post(
        sb.base_url + "/invitees",
        json={
            "event_type": solo_event_type(sb)["uri"],
            "start_time": start,
            "invitee": {"name": "Åsa Öberg", "email": email, "timezone": "Europe/Stockholm"},
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    invitee: dict[str, Any] = response.json()["resource"]
    return invitee


def verify(headers: dict[str, str], body: bytes, key: str = KEY) -> None:
    parts = dict(p.split("=", 1) for p in headers["Calendly-Webhook-Signature"].split(","))
    expected = hmac.new(key.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(parts["v1"], expected.hexdigest())
    assert abs(int(parts["t"]) - time.time()) < 180


def settle(sb: Sandbox) -> None:
    assert sb.webhooks.wait_idle(timeout=30)


def test_booking_is_delivered_signed_with_calendlys_envelope(api, sandbox, callback: Callback):
    hook = subscribe(api, sandbox, callback.url, ["invitee.created", "invitee.canceled"])
    assert "signing_key" not in hook
    listed = api.get(sandbox.base_url + "/webhook_subscriptions/" + uuid_of(hook["uri"]))
    assert KEY not in listed.text
    invitee = book(api, sandbox, 3, "asa@example.se")
    settle(sandbox)
    [got] = callback.received
    assert got.path == "/webhooks"
    assert got.headers["Content-Type"] == "application/json"
    verify(got.headers, got.body)
    envelope = got.envelope
    assert set(envelope) == {"event", "created_at", "created_by", "payload"}
    assert envelope["event"] == "invitee.created"
    assert envelope["created_by"] == hook["creator"]
    assert envelope["payload"]["uri"] == invitee["uri"]
    assert envelope["payload"]["scheduled_event"]["uri"] == invitee["event"]
    assert envelope["payload"]["name"] == "Åsa Öberg"
    [attempt] = sandbox.webhooks.attempts
    assert attempt.ok and attempt.body == got.body


def test_payloads_have_the_shape_of_real_deliveries_not_of_api_reads(api, sandbox, callback):
    """Real captures (2020 to 2026): meeting_notes_html present and null, no calendar_event, no
    buffered_* times, and an API booking's invitee_scheduled_by null; API reads differ."""
    subscribe(api, sandbox, callback.url, ["invitee.created", "invitee.canceled"])
    booked = book(api, sandbox, 3, "shape@example.com")
    noted = next(
        e
        for e in sorted(sandbox.store.scheduled_events.values(), key=lambda e: e["uri"])
        if e.get("meeting_notes_html")
        and e["status"] == "active"
        and e["start_time"] > fmt(time.time())
    )
    canceled = api.post(noted["uri"] + "/cancellation", json={"reason": "moved"}, timeout=30)
    assert canceled.status_code == 201, canceled.text
    settle(sandbox)
    payloads = {r.envelope["payload"]["event"]: r.envelope["payload"] for r in callback.received}
    assert set(payloads) == {booked["event"], noted["uri"]}
    for payload in payloads.values():
        event = payload["scheduled_event"]
        assert "meeting_notes_html" in event and event["meeting_notes_html"] is None
        assert "calendar_event" not in event
        assert event["event_memberships"]
        for member in event["event_memberships"]:
            assert not [key for key in member if key.startswith("buffered_")]
    assert payloads[booked["event"]]["invitee_scheduled_by"] is None
    # What the API serves for the same resources is unchanged.
    assert booked["invitee_scheduled_by"] == sandbox.store.current_user["uri"]
    read = api.get(booked["event"], timeout=30).json()["resource"]
    assert "calendar_event" in read and "buffered_start_time" in read["event_memberships"][0]
    assert api.get(noted["uri"], timeout=30).json()["resource"]["meeting_notes_html"]


def test_without_a_signing_key_the_delivery_carries_no_signature(api, sandbox, callback):
    subscribe(api, sandbox, callback.url, ["invitee.created"], signing_key=None)
    book(api, sandbox, 3.5, "nokey@example.com")
    settle(sandbox)
    [got] = callback.received
    assert "Calendly-Webhook-Signature" not in got.headers


def test_cancel_and_no_show_create_and_delete_are_announced(api, sandbox, callback):
    events = ["invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted"]
    subscribe(api, sandbox, callback.url, events)
    invitee = book(api, sandbox, 4, "cancel@example.com")
    no_show = api.post(sandbox.base_url + "/invitee_no_shows", json={"invitee": invitee["uri"]})
    assert no_show.status_code == 201, no_show.text
    deleted = api.delete(no_show.json()["resource"]["uri"])
    assert deleted.status_code == 204
    canceled = api.post(invitee["event"] + "/cancellation", json={"reason": "conflict"})
    assert canceled.status_code == 201, canceled.text
    settle(sandbox)
    by_event = {r.envelope["event"]: r.envelope["payload"] for r in callback.received}
    assert sorted(by_event) == sorted(events)  # invitee.created was not subscribed
    assert (
        by_event["invitee_no_show.created"]["no_show"]["uri"] == no_show.json()["resource"]["uri"]
    )
    assert by_event["invitee_no_show.deleted"].get("no_show") is None
    assert by_event["invitee.canceled"]["status"] == "canceled"
    assert by_event["invitee.canceled"]["rescheduled"] is False
    assert by_event["invitee.canceled"]["cancellation"]["reason"] == "conflict"
    assert by_event["invitee.canceled"]["scheduled_event"]["status"] == "canceled"
    for got in callback.received:
        verify(got.headers, got.body)


def test_user_scope_receives_only_events_its_user_hosts(api, sandbox, callback):
    host = solo_event_type(sandbox)["profile"]["owner"]
    other = next(
        u["uri"]
        for u in sandbox.store.users.values()
        if u["uri"] != host and sandbox.store.role_of(u["uri"])
    )
    subscribe(
        api, sandbox, callback.url + "?who=host", ["invitee.created"], scope="user", user=host
    )
    subscribe(
        api, sandbox, callback.url + "?who=other", ["invitee.created"], scope="user", user=other
    )
    book(api, sandbox, 5, "scoped@example.com")
    settle(sandbox)
    assert [r.path for r in callback.received] == ["/webhooks?who=host"]


def test_scope_only_events_never_reach_other_scopes(sandbox, callback, api):
    subscribe(api, sandbox, callback.url, ["routing_form_submission.created"])
    # A subscription can only hold meeting_recap.* with user scope; force one to org scope.
    hook = subscribe(api, sandbox, callback.url + "?org", ["invitee.created"])
    users = [u["uri"] for u in sandbox.store.users.values()]
    with sandbox.store.lock:
        sandbox.store.announce("routing_form_submission.created", {"uri": "x"}, users)
        sandbox.store.webhook_subscriptions[uuid_of(hook["uri"])]["events"].append(
            "meeting_recap.created"
        )
        sandbox.store.announce("meeting_recap.created", {"recap": {}}, users)
    settle(sandbox)
    assert callback.events() == ["routing_form_submission.created"]


def test_failures_back_off_exponentially_then_disable_after_24_hours(api, sandbox, callback):
    callback.status = 500
    hook = subscribe(api, sandbox, callback.url, ["invitee.created"])
    book(api, sandbox, 6, "retry@example.com")
    settle(sandbox)
    hook_state = sandbox.store.webhook_subscriptions[uuid_of(hook["uri"])]
    assert hook_state["retry_started_at"] is not None and hook_state["state"] == "active"
    [message] = sandbox.webhooks.messages_for(hook["uri"])
    while message.state == "pending":  # step the frozen clock to each retry as it falls due
        sandbox.webhooks.advance(message.next_due - sandbox.webhooks.now())
        settle(sandbox)
    assert message.state == "abandoned"
    attempts = sandbox.webhooks.attempts
    gaps = [round(b.at - a.at) for a, b in itertools.pairwise(attempts)]
    assert gaps == [FIRST_RETRY_SECONDS * 2**i for i in range(len(gaps))]
    assert attempts[-1].at - attempts[0].at <= RETRY_WINDOW_SECONDS
    assert attempts[-1].at - attempts[0].at + gaps[-1] * 2 > RETRY_WINDOW_SECONDS
    assert len({a.body for a in attempts}) == 1  # the same message every time
    assert len(callback.received) == len(attempts)
    listed = api.get(sandbox.base_url + "/webhook_subscriptions/" + uuid_of(hook["uri"])).json()
    assert listed["resource"]["state"] == "disabled"
    book(api, sandbox, 6.5, "after@example.com")
    settle(sandbox)
    assert len(callback.received) == len(attempts)  # a disabled subscription receives nothing


def test_a_message_that_got_through_keeps_the_subscription_active(api, sandbox, callback):
    callback.status = 503
    hook = subscribe(api, sandbox, callback.url, ["invitee.created"])
    book(api, sandbox, 7, "first@example.com")
    settle(sandbox)
    callback.status = 200
    book(api, sandbox, 7.5, "second@example.com")
    settle(sandbox)
    callback.status = 503
    for _ in range(30):
        sandbox.webhooks.advance(3 * 3600)
        settle(sandbox)
    first, second = sandbox.webhooks.messages_for(hook["uri"])
    assert (first.state, second.state) == ("abandoned", "delivered")
    assert sandbox.store.webhook_subscriptions[uuid_of(hook["uri"])]["state"] == "active"


def test_retry_delivers_once_the_receiver_recovers(api, sandbox, callback):
    callback.status = 502
    hook = subscribe(api, sandbox, callback.url, ["invitee.created"])
    book(api, sandbox, 8, "recover@example.com")
    settle(sandbox)
    callback.status = 204
    sandbox.webhooks.advance(FIRST_RETRY_SECONDS)
    settle(sandbox)
    [message] = sandbox.webhooks.messages_for(hook["uri"])
    assert message.state == "delivered" and message.attempts == 2
    assert callback.received[0].body == callback.received[1].body
    assert sandbox.store.webhook_subscriptions[uuid_of(hook["uri"])]["retry_started_at"] is None


def test_deleting_a_subscription_drops_its_waiting_retries(api, sandbox, callback):
    callback.status = 500
    hook = subscribe(api, sandbox, callback.url, ["invitee.created"])
    book(api, sandbox, 9, "dropped@example.com")
    settle(sandbox)
    assert api.delete(hook["uri"]).status_code == 204
    sandbox.webhooks.advance(DAY)
    settle(sandbox)
    [message] = sandbox.webhooks.messages_for(hook["uri"])
    assert message.state == "dropped" and len(callback.received) == 1


def test_seeded_subscriptions_off_loopback_are_never_contacted(api, sandbox):
    book(api, sandbox, 10, "seeded@example.com")
    settle(sandbox)
    assert sandbox.webhooks.messages, "the seeded organization has active invitee.created hooks"
    assert {m.state for m in sandbox.webhooks.messages} == {"skipped"}
    assert sandbox.webhooks.attempts == []


def group_booking(api: requests.Session, sb: Sandbox, emails: list[str]) -> list[dict[str, Any]]:
    group_type = next(
        t for t in sb.store.event_types.values() if t["kind"] == "group" and t["active"]
    )
    start = fmt((int(time.time() // 3600) * 3600) + 6 * DAY)
    booked = []
    for email in emails:
        body = {
            "event_type": group_type["uri"],
            "start_time": start,
            "invitee": {"name": email.split("@")[0], "email": email, "timezone": "UTC"},
        }
        response = api.post(sb.base_url + "/invitees", json=body, timeout=30)
        assert response.status_code == 201, response.text
        booked.append(response.json()["resource"])
    return booked


def test_one_group_invitee_cancelling_is_announced_while_the_event_stays_as_it_was(
    api, sandbox, callback
):
    subscribe(api, sandbox, callback.url, ["invitee.canceled"])
    leaving, staying = (i["uri"] for i in group_booking(api, sandbox, ["a@x.org", "b@x.org"]))
    event = sandbox.store.find_by_uri("scheduled_events", staying.split("/invitees/")[0])
    assert event is not None
    before = dict(event)
    sandbox.cancel_invitee(leaving, reason="cannot make it")
    settle(sandbox)
    [got] = callback.received
    payload = got.envelope["payload"]
    assert payload["uri"] == leaving and payload["status"] == "canceled"
    assert payload["cancellation"]["canceler_type"] == "invitee"
    assert payload["rescheduled"] is False
    assert event["status"] == "active" and event["updated_at"] == before["updated_at"]
    assert sandbox.store.find_by_uri("invitees", staying)["status"] == "active"


def test_a_reschedule_sends_canceled_with_rescheduled_then_created_linked_both_ways(
    api, sandbox, callback
):
    subscribe(api, sandbox, callback.url, ["invitee.created", "invitee.canceled"])
    old = book(api, sandbox, 5, "moving@example.com")
    settle(sandbox)
    callback.received.clear()
    new = sandbox.reschedule_invitee(old["uri"], time.time() + 9 * DAY)
    settle(sandbox)
    # Announced in this order; sent by concurrent senders, so they may arrive in either.
    queued = [m.envelope for m in sandbox.webhooks.messages if m.state == "delivered"][-2:]
    assert [e["event"] for e in queued] == ["invitee.canceled", "invitee.created"]
    assert sorted(callback.events()) == ["invitee.canceled", "invitee.created"]
    canceled, created = (e["payload"] for e in queued)
    assert canceled["uri"] == old["uri"] and canceled["rescheduled"] is True
    assert canceled["new_invitee"] == new["uri"] and created["old_invitee"] == old["uri"]
    assert created["scheduled_event"]["uri"] != canceled["scheduled_event"]["uri"]
    assert canceled["scheduled_event"]["status"] == "canceled"  # a one-on-one moves whole
    listed = api.get(new["event"] + "/invitees").json()["collection"]
    assert [i["uri"] for i in listed] == [new["uri"]]


def test_a_routing_form_submission_is_announced_to_the_organization_only(api, sandbox, callback):
    subscribe(api, sandbox, callback.url, ["routing_form_submission.created"])
    owner = sandbox.store.current_user["uri"]
    subscribe(api, sandbox, callback.url + "?user", ["invitee.created"], scope="user", user=owner)
    form = next(f for f in sandbox.store.routing_forms.values() if f["status"] == "published")
    routed_to = solo_event_type(sandbox)["uri"]
    answers = {"Name": "Zoë Ødegaard", "Email": "zoe@example.no", "Team size": "11-50"}
    submission = sandbox.submit_routing_form(form["uri"], answers, routed_to=routed_to)
    settle(sandbox)
    [got] = callback.received
    verify(got.headers, got.body)
    assert got.path == "/webhooks"
    assert got.envelope["event"] == "routing_form_submission.created"
    assert got.envelope["payload"]["uri"] == submission["uri"]
    assert got.envelope["payload"]["result"] == {"type": "event_type", "value": routed_to}
    assert {
        a["question"]: a["answer"] for a in got.envelope["payload"]["questions_and_answers"]
    } == (answers)
    listed = api.get(
        sandbox.base_url + "/routing_form_submissions", params={"form": form["uri"]}, timeout=30
    )
    assert submission["uri"] in [s["uri"] for s in listed.json()["collection"]]


def test_a_finished_recap_is_announced_to_its_hosts_and_readable(api, sandbox, callback):
    owner = sandbox.store.current_user["uri"]
    subscribe(api, sandbox, callback.url, ["meeting_recap.created"], scope="user", user=owner)
    recapped = {r["event"] for r in sandbox.store.meeting_recaps.values()}
    meeting = next(
        e
        for e in sorted(sandbox.store.scheduled_events.values(), key=lambda e: e["uri"])
        if e["status"] == "active"
        and e["end_time"] < fmt(time.time())
        and e["uri"] not in recapped
        and owner in sandbox.store.event_hosts[uuid_of(e["uri"])]
    )
    recap = sandbox.finish_recap(meeting["uri"])
    settle(sandbox)
    [got] = callback.received
    verify(got.headers, got.body)
    assert got.envelope["event"] == "meeting_recap.created"
    payload = got.envelope["payload"]
    assert payload["event"]["uri"] == meeting["uri"]
    assert payload["recap"]["uri"] == recap["uri"]
    assert payload["recap"]["discussion_md"]  # the transcript exists at once
    served = api.get(recap["uri"], timeout=30)
    assert served.status_code == 200, served.text
    assert served.json()["resource"]["status"] == "available"
    transcript = api.get(recap["transcript"], timeout=30)
    assert transcript.status_code == 200


def test_what_cannot_happen_on_calendly_is_refused(api, sandbox, callback):
    subscribe(api, sandbox, callback.url, ["routing_form_submission.created"])
    owner = sandbox.store.current_user["uri"]
    subscribe(api, sandbox, callback.url, ["meeting_recap.created"], scope="user", user=owner)
    draft = next(f for f in sandbox.store.routing_forms.values() if f["status"] == "draft")
    published = next(f for f in sandbox.store.routing_forms.values() if f["status"] == "published")
    future = next(
        e
        for e in sandbox.store.scheduled_events.values()
        if e["status"] == "active" and e["start_time"] > fmt(time.time())
    )
    attempts = {
        "draft form": lambda: sandbox.submit_routing_form(
            draft["uri"], {"Name": "A", "Email": "a@b.co"}
        ),
        "unknown question": lambda: sandbox.submit_routing_form(
            published["uri"], {"Name": "A", "Email": "a@b.co", "Budget": "1"}
        ),
        "required answer missing": lambda: sandbox.submit_routing_form(
            published["uri"], {"Name": "A"}
        ),
        "recap of a future meeting": lambda: sandbox.finish_recap(future["uri"]),
    }
    for what, attempt in attempts.items():
        before = (len(sandbox.store.routing_form_submissions), len(sandbox.store.meeting_recaps))
        try:
            attempt()
        except ValueError:
            pass
        else:
            raise AssertionError(f"{what} was accepted")
        after = (len(sandbox.store.routing_form_submissions), len(sandbox.store.meeting_recaps))
        assert after == before, what
    settle(sandbox)
    assert callback.received == []
    # The same calls, valid, are delivered: the subscriptions above would have caught a leak.
    sandbox.submit_routing_form(published["uri"], {"Name": "A", "Email": "a@b.co"})
    settle(sandbox)
    assert callback.events() == ["routing_form_submission.created"]


def past_invitee(sb: Sandbox, days_ago: float) -> dict[str, Any]:
    """An active invitee, no no-show yet, of an active meeting that started at least that long ago."""
    before = fmt(time.time() - days_ago * DAY)
    return next(
        i
        for i in sorted(sb.store.invitees.values(), key=lambda i: i["uri"])
        if i["status"] == "active"
        and not i.get("no_show")
        and sb.store.scheduled_events[uuid_of(i["event"])]["status"] == "active"
        and sb.store.scheduled_events[uuid_of(i["event"])]["start_time"] < before
    )


def test_a_no_show_on_a_meeting_days_old_gets_one_attempt_and_disables_nothing(
    api, sandbox, callback
):
    callback.status = 500
    hook = subscribe(api, sandbox, callback.url, ["invitee_no_show.created"])
    invitee = past_invitee(sandbox, 2)
    marked = api.post(sandbox.base_url + "/invitee_no_shows", json={"invitee": invitee["uri"]})
    assert marked.status_code == 201, marked.text
    settle(sandbox)
    sandbox.webhooks.advance(2 * DAY)
    settle(sandbox)
    [message] = sandbox.webhooks.messages_for(hook["uri"])
    assert (message.state, message.attempts, len(callback.received)) == ("expired", 1, 1)
    assert sandbox.store.webhook_subscriptions[uuid_of(hook["uri"])]["state"] == "active"


def test_retries_about_a_recent_meeting_stop_24_hours_after_it_started(api, sandbox, callback):
    callback.status = 503
    hook = subscribe(api, sandbox, callback.url, ["invitee_no_show.created"])
    invitee = past_invitee(sandbox, 2)
    started = time.time() - 20 * 3600  # the meeting started 20 hours ago: 4 hours of retries
    with sandbox.store.lock:
        event = sandbox.store.scheduled_events[uuid_of(invitee["event"])]
        event["start_time"], event["end_time"] = fmt(started), fmt(started + 1800)
    marked = api.post(sandbox.base_url + "/invitee_no_shows", json={"invitee": invitee["uri"]})
    assert marked.status_code == 201, marked.text
    settle(sandbox)
    [message] = sandbox.webhooks.messages_for(hook["uri"])
    while message.state == "pending":
        sandbox.webhooks.advance(message.next_due - sandbox.webhooks.now())
        settle(sandbox)
    attempts = [a for a in sandbox.webhooks.attempts if a.message == message.id]
    assert message.state == "expired"
    assert (
        attempts[-1].at <= started + DAY < attempts[-1].at + 2 * (attempts[-1].at - attempts[-2].at)
    ), "the last retry is the last one that fits before the cutoff"
    assert attempts[-1].at - attempts[0].at < 4 * 3600  # not the 24 hours of other messages
    assert sandbox.store.webhook_subscriptions[uuid_of(hook["uri"])]["state"] == "active"
