"""Calendly performs a write and its answer is lost on the way back (a proxy's 502 after the fact,
a reset, a timeout, a cut-short body). The target looks the effect up before any resend: what
happened is `ok`; what cannot be looked up is never resent and says so (`unknown`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from tests.target.helpers import config_for, run_target, stream_of, writes
from tests.target.test_actions import NOW, future_events, members, solo_event_type, uuid

LOSSES = ["500", "502", "503", "reset", "timeout", "truncate"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # A "timeout" answer comes 2 s late, past the 0.5 s request_timeout of these runs.
    with Sandbox(seed=1, events=60, plan="enterprise", stall_seconds=2) as sb:
        yield sb


def run(sb: Sandbox, tmp_path: Path, stream: str, *records: dict[str, Any], **settings: Any):
    config = config_for(sb, tmp_path / "responses.jsonl", request_timeout=0.5, **settings)
    return run_target(config, stream_of(stream, *records))


def booking_for(sb: Sandbox, email: str) -> dict[str, Any]:
    start = (NOW + dt.timedelta(days=4)).replace(hour=14, minute=0, second=0, microsecond=0)
    return {
        "event_type": solo_event_type(sb)["uri"],
        "start_time": start.isoformat().replace("+00:00", "Z"),
        "email": email,
        "name": "Pat Prospect",
        "timezone": "Europe/Berlin",
    }


@pytest.mark.parametrize("kind", LOSSES)
def test_a_booking_whose_answer_is_lost_is_found_and_ok(
    sandbox: Sandbox, tmp_path: Path, kind: str
) -> None:
    sandbox.lose_answers(kind, path=r"^/invitees$")
    result = run(sandbox, tmp_path, "book_meeting", booking_for(sandbox, "lost@example.com"))

    assert sandbox.answers_lost, "no answer was lost: the test proves nothing"
    assert result.error is None, result.lines
    line = result.only()
    assert line["outcome"] == "ok", line
    assert "lookup shows the write took effect" in line["reason"]
    booked = [i for i in sandbox.store.invitees.values() if i["email"] == "lost@example.com"]
    assert len(booked) == 1
    assert line["response"]["uri"] == booked[0]["uri"]
    assert len(writes(sandbox, "/invitees")) == 1  # looked up, not resent


@pytest.mark.parametrize("kind", ["502", "reset", "truncate"])
def test_a_cancellation_whose_answer_is_lost_is_ok_not_already_canceled(
    sandbox: Sandbox, tmp_path: Path, kind: str
) -> None:
    event = future_events(sandbox)[0]
    sandbox.lose_answers(kind, path=r"/cancellation$")
    result = run(
        sandbox, tmp_path, "cancel_event", {"event": event["uri"]}, allow_destructive_actions=True
    )

    assert sandbox.answers_lost
    line = result.only()
    assert line["outcome"] == "ok", line
    assert sandbox.store.scheduled_events[uuid(event["uri"])]["status"] == "canceled"
    assert line["response"]["canceler_type"] == "host"


def test_a_removal_whose_answer_is_lost_is_ok_not_already_removed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    member = members(sandbox)[0]
    sandbox.lose_answers("502", method="DELETE", path=r"^/organization_memberships/")
    result = run(
        sandbox,
        tmp_path,
        "remove_user",
        {"membership": member["uri"]},
        allow_destructive_actions=True,
    )

    assert sandbox.answers_lost
    line = result.only()
    assert line["outcome"] == "ok", line
    assert "earlier attempt did it" in line["reason"]
    assert uuid(member["uri"]) not in sandbox.store.organization_memberships


@pytest.mark.parametrize("kind", LOSSES)
def test_a_link_whose_answer_is_lost_is_never_resent_and_says_so(
    sandbox: Sandbox, tmp_path: Path, kind: str
) -> None:
    sandbox.lose_answers(kind, path=r"^/scheduling_links$")
    event_type = solo_event_type(sandbox)["uri"]
    result = run(
        sandbox, tmp_path, "create_scheduling_link", {"event_type": event_type}, on_error="continue"
    )

    assert sandbox.answers_lost
    line = result.only()
    assert line["outcome"] == "unknown", line
    assert "cannot be looked up" in line["error"]["message"]
    assert "check Calendly" in line["reason"]
    assert len(writes(sandbox, "/scheduling_links")) == 1
    assert len(sandbox.store.scheduling_links) == 1
    assert result.states == []

    # A later run on the same input does not send it either, and says why, with the line.
    again = run(sandbox, tmp_path, "create_scheduling_link", {"event_type": event_type})
    replay = again.only()
    assert replay["outcome"] == "skipped"
    assert replay["replay_of"] == {"line": 1, "at": line["at"], "outcome": "unknown"}
    assert len(writes(sandbox, "/scheduling_links")) == 1


def test_a_lost_answer_stops_the_run_with_on_error_fail(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.lose_answers("502", path=r"^/scheduling_links$")
    event_type = solo_event_type(sandbox)["uri"]
    result = run(
        sandbox, tmp_path, "create_scheduling_link", {"event_type": event_type}, {"event_type": "x"}
    )
    assert result.error is not None
    assert "outcome is unknown" in str(result.error)
    assert result.outcomes() == ["unknown"]
