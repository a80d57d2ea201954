"""The responses file across runs: every input record of every run gets exactly one line; only
creates (whose resend would make a second resource) are guarded against replays; deletions and
other idempotent actions check Calendly and are sent whenever asked; an idempotency key says
"a new intent"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calendly_sandbox import Sandbox
from tests.target.helpers import config_for, run_target, stream_of, writes
from tests.target.test_actions import future_events, solo_event_type


def run(sb: Sandbox, tmp_path: Path, stream: str, *records: dict[str, Any], **settings: Any):
    config = config_for(sb, tmp_path / "responses.jsonl", **settings)
    return run_target(config, stream_of(stream, *records))


def test_a_gdpr_deletion_asked_again_in_a_later_run_is_sent_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The person booked again after the first erasure: the second request must reach Calendly,
    and the run must say so in its own line."""
    email = next(iter(sandbox.store.invitees.values()))["email"]
    first = run(
        sandbox, tmp_path, "delete_invitee_data", {"email": email}, allow_destructive_actions=True
    )
    assert first.outcomes() == ["ok"]

    second = run(
        sandbox, tmp_path, "delete_invitee_data", {"email": email}, allow_destructive_actions=True
    )

    assert second.outcomes() == ["ok"], second.lines
    assert len(writes(sandbox, "/data_compliance/deletion/invitees")) == 2
    assert len(sandbox.store.data_compliance_requests) == 2


def test_a_cancellation_asked_again_checks_calendly(sandbox: Sandbox, tmp_path: Path) -> None:
    event = future_events(sandbox)[0]
    run(sandbox, tmp_path, "cancel_event", {"event": event["uri"]}, allow_destructive_actions=True)
    again = run(
        sandbox, tmp_path, "cancel_event", {"event": event["uri"]}, allow_destructive_actions=True
    )
    line = again.only()
    assert line["outcome"] == "skipped"
    assert "already canceled" in line["reason"]  # Calendly said so, not the ledger
    assert "replay_of" not in line


def test_every_record_of_every_run_gets_one_line_and_replays_point_at_the_earlier_one(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    event_type = solo_event_type(sandbox)["uri"]
    invite = {"email": "new.hire@example.com"}
    first = run(sandbox, tmp_path, "invite_user", invite)
    second = run(sandbox, tmp_path, "invite_user", invite)
    third = run(sandbox, tmp_path, "create_scheduling_link", {"event_type": event_type})

    assert first.outcomes() == ["ok"]
    replay = second.only()
    assert replay["outcome"] == "skipped"
    assert replay["replay_of"] == {"line": 1, "at": first.only()["at"], "outcome": "ok"}
    assert "line 1 of" in replay["reason"] and first.only()["at"] in replay["reason"]
    assert replay["response"]["email"] == "new.hire@example.com"
    assert third.outcomes() == ["ok"]
    assert len(writes(sandbox, "/invitations")) == 1


def test_a_dry_run_shows_a_replay_as_would_be_skipped(sandbox: Sandbox, tmp_path: Path) -> None:
    invite = {"email": "dry.hire@example.com"}
    run(sandbox, tmp_path, "invite_user", invite)
    preview = run(sandbox, tmp_path, "invite_user", invite, dry_run=True).only()
    assert preview["outcome"] == "dry_run"
    assert preview["reason"].startswith("would be skipped: a replay")
    # A dry run's line is not final: the next real run still finds the first line.
    assert run(sandbox, tmp_path, "invite_user", invite).only()["replay_of"]["line"] == 1


def test_a_new_idempotency_key_is_a_new_intent(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)["uri"]
    link = {"event_type": event_type, "idempotency_key": "crm-opportunity-17"}
    first = run(sandbox, tmp_path, "create_scheduling_link", link)
    replay = run(sandbox, tmp_path, "create_scheduling_link", link)
    renewed = run(
        sandbox, tmp_path, "create_scheduling_link", {**link, "idempotency_key": "crm-opp-17-b"}
    )

    assert first.outcomes() == ["ok"]
    assert replay.outcomes() == ["skipped"]
    assert renewed.outcomes() == ["ok"]
    assert len(sandbox.store.scheduling_links) == 2
    assert len(writes(sandbox, "/scheduling_links")) == 2
    # The key is the target's, never part of Calendly's request body.
    preview = run(
        sandbox, tmp_path, "create_scheduling_link", {**link, "idempotency_key": "c"}, dry_run=True
    )
    assert "idempotency_key" not in preview.only()["request"]["body"]


def test_one_off_event_types_and_api_request_posts_finished_before_are_not_sent_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """They create, and nothing lists what they created: a rerun of the same input replays them.
    An api_request PATCH is not a create: it is sent whenever asked."""
    event_type = solo_event_type(sandbox)["uri"]
    contact = sorted(sandbox.store.contacts.values(), key=lambda c: c["uri"])[0]
    one_off = {
        "name": "Quarterly review",
        "duration": 60,
        "date_setting": '{"type": "days_in_future", "days": 30, "only_weekdays": true}',
    }
    raw_link = {
        "method": "POST",
        "path": "/scheduling_links",
        "owner": event_type,
        "owner_type": "EventType",
        "max_event_count": "1",
    }
    raw_patch = {
        "method": "PATCH",
        "path": "/contacts/{contact_id}",
        "contact_id": contact["uri"].rsplit("/", 1)[-1],
        "company": "Replayed Inc",
    }
    first = [
        run(sandbox, tmp_path, "create_one_off_event_type", one_off),
        run(sandbox, tmp_path, "api_request", raw_link, raw_patch),
    ]
    again = [
        run(sandbox, tmp_path, "create_one_off_event_type", one_off),
        run(sandbox, tmp_path, "api_request", raw_link, raw_patch),
    ]

    assert [r.outcomes() for r in first] == [["ok"], ["ok", "ok"]]
    assert [r.outcomes() for r in again] == [["skipped"], ["skipped", "ok"]]
    assert [line.get("replay_of", {}).get("outcome") for line in again[1].lines] == ["ok", None]
    assert len(writes(sandbox, "/one_off_event_types")) == 1
    assert len(writes(sandbox, "/scheduling_links")) == 1
    assert len(writes(sandbox, "/contacts/")) == 2
