"""meeting_recaps (+ opt-in transcripts), teams, locations, event type availability schedules and
the opt-in forward-looking snapshots, each checked against the sandbox's store."""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import requests

from calendly_sandbox import Sandbox
from calendly_sandbox.timefmt import fmt
from tests.tap.conftest import as_served, catalog_selecting, run_in_process, tap_config

OPT_IN = {"meeting_recap_transcripts", "event_type_available_times", "user_busy_times"}
DEFAULT_ON = {"teams", "locations", "meeting_recaps", "event_type_availability_schedules"}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def members(sb: Sandbox) -> list[str]:
    return [m["user"]["uri"] for m in sb.store.organization_memberships.values()]


def my_recaps(sb: Sandbox) -> dict[str, dict[str, Any]]:
    me = sb.store.current_user["uri"]
    return {
        uuid: recap
        for uuid, recap in sb.store.meeting_recaps.items()
        if me in sb.store.meeting_recap_hosts[uuid]
    }


def test_opt_in_streams_are_not_selected_by_default(sandbox: Sandbox) -> None:
    run = run_in_process(tap_config(sandbox))
    assert set(run.records) >= DEFAULT_ON
    assert not OPT_IN & set(run.records)


def test_recaps_transcripts_teams_locations_and_schedules_are_the_store(sandbox: Sandbox) -> None:
    config = tap_config(sandbox, meeting_recap_transcripts=True)
    streams = DEFAULT_ON | {"meeting_recap_transcripts"}
    run = run_in_process(config, catalog=catalog_selecting(config, streams))

    recaps = my_recaps(sandbox)
    assert {r["uri"]: as_served(r) for r in run.records["meeting_recaps"]} == {
        r["uri"]: r for r in recaps.values()
    }
    assert {r["status"] for r in run.records["meeting_recaps"]} == {
        "available",
        "processing",
        "unavailable",
    }, "every status is listed, not only Calendly's default"
    assert sorted(
        (t["meeting_recap"], t["uri"], t["text"]) for t in run.records["meeting_recap_transcripts"]
    ) == sorted(
        (recaps[u]["uri"], t["uri"], t["text"])
        for u, t in sandbox.store.transcripts.items()
        if u in recaps
    )
    assert sorted(map(as_served, run.records["teams"]), key=lambda t: t["uri"]) == sorted(
        sandbox.store.teams.values(), key=lambda t: t["uri"]
    )
    assert sorted((r["user"], r["kind"], r["connected"]) for r in run.records["locations"]) == (
        sorted(
            (user, loc["kind"], loc["connected"])
            for user in members(sandbox)
            for loc in sandbox.store.user_locations[user]
        )
    )
    schedules = {
        r["event_type"]: as_served(r) for r in run.records["event_type_availability_schedules"]
    }
    assert set(schedules) == {t["uri"] for t in sandbox.store.event_types.values()}
    for uuid, stored in sandbox.store.event_type_availability_schedules.items():
        assert schedules[stored["event_type"]] == stored, uuid


def test_transcripts_are_read_again_only_for_changed_recaps(sandbox: Sandbox) -> None:
    config = tap_config(sandbox, meeting_recap_transcripts=True)
    catalog = catalog_selecting(config, {"meeting_recaps", "meeting_recap_transcripts"})
    first = run_in_process(config, catalog=catalog)
    assert first.records["meeting_recap_transcripts"]
    sandbox.request_log.clear()

    second = run_in_process(config, first.final_state, catalog=catalog)

    assert second.records.get("meeting_recap_transcripts", []) == []
    assert not [e for e in sandbox.request_log if e.path.endswith("/transcript")]


def test_free_plan_skips_meeting_recaps_and_the_rest_goes_on() -> None:
    with Sandbox(seed=3, events=40, plan="free") as free:
        config = tap_config(free)
        run = run_in_process(config, catalog=catalog_selecting(config, DEFAULT_ON))
    assert run.returncode == 0
    assert "meeting_recaps" not in run.records
    assert run.records["teams"] and run.records["locations"]


def test_snapshots_look_ahead_in_windows_the_api_allows(sandbox: Sandbox) -> None:
    solo = next(
        t
        for _, t in sorted(sandbox.store.event_types.items())
        if t["kind"] == "solo" and t["active"] and not t["pooling_type"]
    )
    # A slot the event type really offers (its hours depend on the time of day the test runs).
    auth = {"Authorization": f"Bearer {sandbox.token}"}
    offered = requests.get(
        f"{sandbox.base_url}/event_type_available_times",
        headers=auth,
        params={
            "event_type": solo["uri"],
            "start_time": fmt(time.time() + 9 * 86400),
            "end_time": fmt(time.time() + 16 * 86400),
        },
        timeout=30,
    )
    assert offered.status_code == 200, offered.text
    slot = offered.json()["collection"][0]["start_time"]
    booked = requests.post(
        f"{sandbox.base_url}/invitees",
        headers=auth,
        json={
            "event_type": solo["uri"],
            "start_time": slot,
            "invitee": {"name": "Busy Maker", "email": "busy@example.com", "timezone": "UTC"},
        },
        timeout=30,
    )
    assert booked.status_code == 201, booked.text
    hosts = {
        m["user"]
        for m in sandbox.store.scheduled_events[
            booked.json()["resource"]["event"].rsplit("/", 1)[-1]
        ]["event_memberships"]
    }
    days = 40
    config = tap_config(sandbox, snapshot_days_ahead=days)
    catalog = catalog_selecting(config, {"event_type_available_times", "user_busy_times"})
    started = datetime.now().astimezone().replace(microsecond=0)  # captured_at has seconds
    tap_requests_from = len(sandbox.request_log)
    run = run_in_process(config, catalog=catalog)

    requests_per = Counter(
        (e.path, str(e.query.get("event_type") or e.query.get("user")))
        for e in sandbox.request_log[tap_requests_from:]
        if e.path in ("/event_type_available_times", "/user_busy_times")
    )
    active = [
        t["uri"] for t in sandbox.store.event_types.values() if t["active"] and not t["deleted_at"]
    ]
    assert {k: v for k, v in requests_per.items() if k[0] == "/event_type_available_times"} == {
        ("/event_type_available_times", uri): math.ceil(days / 31) for uri in active
    }
    assert {k: v for k, v in requests_per.items() if k[0] == "/user_busy_times"} == {
        ("/user_busy_times", user): math.ceil(days / 7) for user in members(sandbox)
    }
    for stream in ("event_type_available_times", "user_busy_times"):
        rows = run.records[stream]
        assert len({r["captured_at"] for r in rows}) == 1
        captured = ts(rows[0]["captured_at"])
        assert captured >= started
        # The window opens a minute after capture (still future when Calendly reads it) and is
        # `days` long from there.
        opens = captured + timedelta(minutes=1)
        closes = opens + timedelta(days=days)
        outside = [r["start_time"] for r in rows if not opens <= ts(r["start_time"]) <= closes]
        assert rows and not outside, (stream, outside)
    busy = [
        r
        for r in run.records["user_busy_times"]
        if r["event"]["uri"] == booked.json()["resource"]["event"]
    ]
    assert {r["user"] for r in busy} == hosts
    assert [r["start_time"] for r in busy] == [slot] * len(hosts)
    taken = [
        r
        for r in run.records["event_type_available_times"]
        if r["event_type"] == solo["uri"] and r["start_time"] == slot
    ]
    assert taken == [], "a booked slot is not offered"
