"""Every action against the sandbox, its effect checked in the sandbox's state afterwards,
and each "already done" case coming out `skipped` with its reason."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from tests.target.helpers import config_for, run_target, stream_of, writes

NOW = dt.datetime.now(dt.timezone.utc)


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def pick(table: dict[str, dict[str, Any]], test: Any, count: int = 1) -> list[dict[str, Any]]:
    found = [resource for _, resource in sorted(table.items()) if test(resource)]
    assert len(found) >= count, "the seeded sandbox lacks a resource this test needs"
    return found[:count]


def future_events(sb: Sandbox, count: int = 1) -> list[dict[str, Any]]:
    return pick(
        sb.store.scheduled_events,
        lambda e: e["status"] == "active" and parse_time(e["start_time"]) > NOW,
        count,
    )


def invitees(sb: Sandbox, *, no_show: bool, count: int = 1) -> list[dict[str, Any]]:
    return pick(
        sb.store.invitees,
        lambda i: i["status"] == "active" and bool(i.get("no_show")) == no_show,
        count,
    )


def solo_event_type(sb: Sandbox) -> dict[str, Any]:
    return pick(sb.store.event_types, lambda t: t["kind"] == "solo" and t["active"])[0]


def members(sb: Sandbox, count: int = 1) -> list[dict[str, Any]]:
    return pick(sb.store.organization_memberships, lambda m: m["role"] == "user", count)


def pending_invitations(sb: Sandbox, count: int = 1) -> list[dict[str, Any]]:
    return pick(sb.store.organization_invitations, lambda i: i["status"] == "pending", count)


def uuid(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def run(sb: Sandbox, tmp_path: Path, stream: str, *records: dict[str, Any], **settings: Any):
    config = config_for(sb, tmp_path / "responses.jsonl", **settings)
    result = run_target(config, stream_of(stream, *records))
    assert len(result.lines) == len(records), "every record gets exactly one line"
    return result


# -- cancel_event -------------------------------------------------------------------------------


def test_cancel_event_by_uri_and_by_uuid_then_already_canceled(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first, second = future_events(sandbox, 2)
    result = run(
        sandbox,
        tmp_path,
        "cancel_event",
        {"event": first["uri"], "reason": "closed-lost"},
        {"event": uuid(second["uri"])},
        {"event": first["uri"]},
        allow_destructive_actions=True,
    )
    assert result.error is None
    assert result.outcomes() == ["ok", "ok", "skipped"]
    assert result.lines[0]["http_status"] == 201
    assert result.lines[0]["response"]["reason"] == "closed-lost"
    assert result.lines[2]["http_status"] == 403
    assert "already canceled" in result.lines[2]["reason"]
    canceled = sandbox.store.scheduled_events[uuid(first["uri"])]
    assert canceled["status"] == "canceled"
    assert canceled["cancellation"]["reason"] == "closed-lost"
    assert sandbox.store.scheduled_events[uuid(second["uri"])]["status"] == "canceled"


# -- no-shows -----------------------------------------------------------------------------------


def test_mark_no_show_then_already_marked(sandbox: Sandbox, tmp_path: Path) -> None:
    (invitee,) = invitees(sandbox, no_show=False)
    result = run(
        sandbox, tmp_path, "mark_no_show", {"invitee": invitee["uri"]}, {"invitee": invitee["uri"]}
    )
    assert result.outcomes() == ["ok", "skipped"]
    no_show = result.lines[0]["response"]
    assert no_show["invitee"] == invitee["uri"]
    assert sandbox.store.invitees[uuid(invitee["uri"])]["no_show"]["uri"] == no_show["uri"]
    assert result.lines[1]["response"]["uri"] == no_show["uri"]
    assert len(writes(sandbox, "/invitee_no_shows")) == 1


def test_unmark_no_show_by_no_show_and_by_invitee_then_already_unmarked(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    by_id, by_invitee = invitees(sandbox, no_show=False, count=2)
    marked = run(
        sandbox,
        tmp_path,
        "mark_no_show",
        {"invitee": by_id["uri"]},
        {"invitee": by_invitee["uri"]},
    )
    no_show_uri = marked.lines[0]["response"]["uri"]
    result = run(
        sandbox,
        tmp_path,
        "unmark_no_show",
        {"no_show": no_show_uri},
        {"invitee": by_invitee["uri"]},
        {"no_show": uuid(no_show_uri)},
        {"invitee": by_invitee["uri"]},
    )
    assert result.outcomes() == ["ok", "ok", "skipped", "skipped"]
    assert result.lines[2]["http_status"] == 404
    assert "already unmarked" in result.lines[3]["reason"]
    for invitee in (by_id, by_invitee):
        assert not sandbox.store.invitees[uuid(invitee["uri"])].get("no_show")
    assert uuid(no_show_uri) not in sandbox.store.invitee_no_shows
    deletes = [w for w in writes(sandbox, "/invitee_no_shows/") if w.method == "DELETE"]
    assert len(deletes) == 3  # the 4th record was found already unmarked by a read


# -- organization -------------------------------------------------------------------------------


def test_invite_user_then_revoke_by_email(sandbox: Sandbox, tmp_path: Path) -> None:
    invited = run(sandbox, tmp_path, "invite_user", {"email": "new.hire@example.com"})
    line = invited.only()
    assert line["outcome"] == "ok" and line["http_status"] == 201
    invitation = sandbox.store.organization_invitations[uuid(line["response"]["uri"])]
    assert invitation["email"] == "new.hire@example.com"
    assert invitation["status"] == "pending"

    revoked = run(
        sandbox,
        tmp_path,
        "revoke_invitation",
        {"email": "new.hire@example.com"},
        {"email": "new.hire@example.com"},
    )
    assert revoked.outcomes() == ["ok", "skipped"]
    assert "no pending invitation" in revoked.lines[1]["reason"]
    assert uuid(line["response"]["uri"]) not in sandbox.store.organization_invitations


def test_invite_user_already_invited_or_member_is_skipped(sandbox: Sandbox, tmp_path: Path) -> None:
    (member,) = members(sandbox)
    result = run(
        sandbox,
        tmp_path,
        "invite_user",
        {"email": "twice@example.com"},
        {"email": "twice@example.com"},
        {"email": member["user"]["email"]},
    )
    assert result.outcomes() == ["ok", "skipped", "skipped"]
    assert "already has a pending invitation" in result.lines[1]["reason"]
    assert "already a member" in result.lines[2]["reason"]
    assert [i["email"] for i in sandbox.store.organization_invitations.values()].count(
        "twice@example.com"
    ) == 1


def test_revoke_invitation_of_declined_is_skipped_of_accepted_fails(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    by_status = {i["status"]: i for i in sandbox.store.organization_invitations.values()}
    declined, accepted = by_status["declined"], by_status["accepted"]
    result = run(
        sandbox,
        tmp_path,
        "revoke_invitation",
        {"email": declined["email"]},
        {"invitation": declined["uri"]},
        {"email": accepted["email"]},
        {"invitation": accepted["uri"]},
        on_error="continue",
    )
    assert result.outcomes() == ["skipped", "skipped", "failed", "failed"]
    assert result.lines[0]["reason"] == "the invitation for this email was declined"
    assert result.lines[1]["http_status"] == 400
    assert "use the remove_user action" in result.lines[2]["error"]["message"]
    assert "accepted" in result.lines[3]["error"]["message"]
    assert declined["uri"].rsplit("/", 1)[-1] in sandbox.store.organization_invitations
    assert [w.method for w in writes(sandbox)] == ["DELETE", "DELETE"]


def test_revoke_invitation_by_uri_then_already_revoked(sandbox: Sandbox, tmp_path: Path) -> None:
    (invitation,) = pending_invitations(sandbox)
    result = run(
        sandbox,
        tmp_path,
        "revoke_invitation",
        {"invitation": invitation["uri"]},
        {"invitation": uuid(invitation["uri"])},
    )
    assert result.outcomes() == ["ok", "skipped"]
    assert result.lines[1]["http_status"] == 404
    assert "already revoked" in result.lines[1]["reason"]
    assert uuid(invitation["uri"]) not in sandbox.store.organization_invitations


def test_remove_user_by_membership_and_by_email(sandbox: Sandbox, tmp_path: Path) -> None:
    by_id, by_email = members(sandbox, 2)
    result = run(
        sandbox,
        tmp_path,
        "remove_user",
        {"membership": by_id["uri"]},
        {"email": by_email["user"]["email"]},
        {"email": by_email["user"]["email"]},
        allow_destructive_actions=True,
    )
    assert result.outcomes() == ["ok", "ok", "skipped"]
    assert "already removed" in result.lines[2]["reason"]
    for membership in (by_id, by_email):
        assert uuid(membership["uri"]) not in sandbox.store.organization_memberships


# -- links and shares ---------------------------------------------------------------------------


def test_create_scheduling_link(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)
    result = run(
        sandbox,
        tmp_path,
        "create_scheduling_link",
        {"event_type": event_type["uri"], "crm_id": "0061"},
        {"event_type": uuid(event_type["uri"]), "max_event_count": "1"},
    )
    assert result.outcomes() == ["ok", "ok"]
    urls = [line["response"]["booking_url"] for line in result.lines]
    assert len(set(urls)) == 2
    assert result.lines[0]["input"]["crm_id"] == "0061"  # the CRM can join the link back
    stored = {link["booking_url"] for link in sandbox.store.scheduling_links.values()}
    assert set(urls) <= stored


def test_create_share(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)
    result = run(
        sandbox,
        tmp_path,
        "create_share",
        {
            "event_type": event_type["uri"],
            "name": "VIP demo",
            "duration": 45.0,  # read as Decimal by the Singer reader: must still be sent as 45
            "duration_options": [30, 45],
            "period_type": "fixed",
            "start_date": "2031-01-05",
            "end_date": "2031-01-20",
        },
    )
    line = result.only()
    assert line["outcome"] == "ok", line
    assert line["response"]["share_override"]["name"] == "VIP demo"
    assert line["response"]["scheduling_links"][0]["booking_url"]
    assert any(s["share_override"]["name"] == "VIP demo" for s in sandbox.store.shares.values())


# -- GDPR ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["gdpr_deletion_batch_size", "batch_size"])
def test_gdpr_deletion_batch_size_and_its_deprecated_name_batch_size(
    sandbox: Sandbox, tmp_path: Path, setting: str
) -> None:
    result = run(
        sandbox,
        tmp_path,
        "delete_invitee_data",
        *({"email": f"person{n}@example.com"} for n in range(7)),
        allow_destructive_actions=True,
        **{setting: 3},
    )
    assert result.error is None
    assert len(writes(sandbox, "/data_compliance/deletion/invitees")) == 3


def test_gdpr_deletion_batch_size_and_batch_size_that_disagree_stop_before_any_request(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = config_for(
        sandbox,
        tmp_path / "responses.jsonl",
        allow_destructive_actions=True,
        gdpr_deletion_batch_size=3,
        batch_size=5,
    )
    result = run_target(config, stream_of("delete_invitee_data", {"email": "a@example.com"}))
    assert "Setting `batch_size`" in str(result.error)
    assert "gdpr_deletion_batch_size" in str(result.error)
    assert writes(sandbox) == []


@pytest.mark.parametrize(("emails", "batch_size"), [(7, 3), (10, 5), (1, 100)])
def test_delete_invitee_data_batches_emails(
    sandbox: Sandbox, tmp_path: Path, emails: int, batch_size: int
) -> None:
    addresses = [f"person{n}@example.com" for n in range(emails)]
    result = run(
        sandbox,
        tmp_path,
        "delete_invitee_data",
        *({"email": address} for address in addresses),
        allow_destructive_actions=True,
        batch_size=batch_size,
    )
    assert result.error is None
    assert result.outcomes() == ["ok"] * emails
    assert {line["http_status"] for line in result.lines} == {202}
    posts = writes(sandbox, "/data_compliance/deletion/invitees")
    assert len(posts) == math.ceil(emails / batch_size)
    requested = [
        email
        for req in sandbox.store.data_compliance_requests.values()
        for email in req.get("emails", [])
    ]
    assert sorted(requested) == sorted(addresses)


def test_delete_event_data(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run(
        sandbox,
        tmp_path,
        "delete_event_data",
        {"start_time": "2024-01-01T00:00:00Z", "end_time": "2024-03-01T00:00:00+01:00"},
        allow_destructive_actions=True,
    )
    assert result.only()["outcome"] == "ok", result.lines
    (request,) = [r for r in sandbox.store.data_compliance_requests.values() if "start_time" in r]
    assert parse_time(request["end_time"]) == dt.datetime(
        2024, 2, 29, 23, 0, tzinfo=dt.timezone.utc
    )


# -- webhooks -----------------------------------------------------------------------------------


def test_webhook_create_existing_and_delete(sandbox: Sandbox, tmp_path: Path) -> None:
    hook = {
        "url": "https://crm.example.com/calendly",
        "events": ["invitee.created", "invitee.canceled"],
        "scope": "organization",
        "signing_key": "whsec-do-not-leak",
    }
    created = run(sandbox, tmp_path, "create_webhook_subscription", hook, dict(hook))
    assert created.outcomes() == ["ok", "skipped"]
    uri = created.lines[0]["response"]["uri"]
    assert sandbox.store.webhook_subscriptions[uuid(uri)]["callback_url"] == hook["url"]
    assert "with these events and scope exists" in created.lines[1]["reason"]
    assert created.lines[1]["response"]["uri"] == uri  # the existing hook, for the CRM
    assert "whsec-do-not-leak" not in (tmp_path / "responses.jsonl").read_text()

    deleted = run(
        sandbox,
        tmp_path,
        "delete_webhook_subscription",
        {"webhook_subscription": uri},
        {"webhook_subscription": uuid(uri)},
    )
    assert deleted.outcomes() == ["ok", "skipped"]
    assert "already deleted" in deleted.lines[1]["reason"]
    assert uuid(uri) not in sandbox.store.webhook_subscriptions


def test_webhook_for_a_url_subscribed_with_other_settings_says_what_differs(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    url = "https://crm.example.com/other"
    first = {
        "url": url,
        "events": ["invitee.created"],
        "scope": "organization",
        "signing_key": "whsec-other-settings",
    }
    other = {**first, "events": ["invitee.created", "invitee.canceled"]}
    result = run(sandbox, tmp_path, "create_webhook_subscription", first, other)

    assert result.outcomes() == ["ok", "failed"]
    message = result.lines[1]["error"]["message"]
    assert "other settings" in message and "lacks invitee.canceled" in message
    assert result.lines[1]["reason"] is None
    hooks = [h for h in sandbox.store.webhook_subscriptions.values() if h["callback_url"] == url]
    assert [h["events"] for h in hooks] == [["invitee.created"]]


# -- booking ------------------------------------------------------------------------------------


def test_book_meeting_then_already_booked(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)
    start = (NOW + dt.timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0)
    booking = {
        "event_type": event_type["uri"],
        "start_time": start.isoformat(),
        "email": "prospect@example.com",
        "name": "Pat Prospect",
        "timezone": "Europe/Berlin",
    }
    # The second record is what a rerun sends when a crash lost the first one's line.
    result = run(sandbox, tmp_path, "book_meeting", booking, dict(booking))
    assert result.outcomes() == ["ok", "skipped"], result.lines
    line = result.lines[0]
    invitee = sandbox.store.invitees[uuid(line["response"]["uri"])]
    assert invitee["email"] == "prospect@example.com"
    event = sandbox.store.scheduled_events[uuid(invitee["event"])]
    assert parse_time(event["start_time"]) == start
    assert event["event_type"] == event_type["uri"]
    assert "already booked" in result.lines[1]["reason"]
    assert result.lines[1]["response"]["uri"] == line["response"]["uri"]
    assert len(writes(sandbox, "/invitees")) == 1
