"""The tap on a sandbox as hard as a real account (issue 10): each test names the defect of the
old tap it guards against. Run against the old tap (commit 83666ba) with this sandbox, every
test here fails; the docstrings say how.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from calendly_sandbox.timefmt import fmt
from tap_calendly.streams import ScheduledEventsStream
from tests.tap.conftest import (
    Api,
    catalog_selecting,
    run_in_process,
    tap_config,
)
from tests.tap.test_incremental import first_free_invitee, pick_event, ts

UTC = timezone.utc
REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_start(sandbox: Sandbox) -> tuple[str, int]:
    """The start time most events share (hard realism books a group at one moment)."""
    ties = Counter(e["start_time"] for e in sandbox.store.scheduled_events.values())
    start, count = ties.most_common(1)[0]
    assert count >= 2
    return start, count


def test_a_first_run_from_start_date_gets_the_events_starting_exactly_then(
    sandbox: Sandbox,
) -> None:
    """Old tap: min_start_time=start_date, which Calendly reads as "after": every event
    starting at start_date itself was skipped."""
    start, count = shared_start(sandbox)
    run = run_in_process(tap_config(sandbox, start_date=start))
    at_start = [e for e in run.records["scheduled_events"] if e["start_time"] == start]
    assert len(at_start) == count
    expected = {
        e["uri"] for e in sandbox.store.scheduled_events.values() if e["start_time"] >= start
    }
    assert run.keys("scheduled_events") == expected


def test_a_resume_inside_rows_sharing_a_start_time_loses_none_of_them(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old tap: a restart asked for min_start_time=<last released start>, so the rows sharing
    that start time that lay past the page boundary were never listed again."""
    start, count = shared_start(sandbox)
    page = max(2, count // 2)  # a page boundary falls among the tied rows
    monkeypatch.setattr(ScheduledEventsStream, "page_size", page)
    config = tap_config(sandbox, start_date=start)
    events_only = catalog_selecting(config, {"scheduled_events"})
    crashed = run_in_process(config, stop_after_records=page + 1, catalog=events_only)
    resumes = [
        s["bookmarks"]["scheduled_events"]["resume"]
        for s in crashed.states
        if "resume" in s.get("bookmarks", {}).get("scheduled_events", {})
    ]
    assert resumes and resumes[-1]["min_start_time"] == start
    restarted = run_in_process(config, crashed.final_state, catalog=events_only)
    got = crashed.keys("scheduled_events") | restarted.keys("scheduled_events")
    expected = {
        e["uri"] for e in sandbox.store.scheduled_events.values() if e["start_time"] >= start
    }
    assert got == expected


def test_an_update_to_an_event_of_any_age_arrives_in_the_next_run(sandbox: Sandbox) -> None:
    """Old tap: only events starting after (bookmark - lookback_days) were listed, so an
    update to an older event never arrived (0 of 10 in the issue's measurement)."""
    config = tap_config(sandbox, lookback_days=7)
    first = run_in_process(config)
    now = datetime.now(UTC)
    with sandbox.store.lock:
        old = sorted(
            (
                e
                for e in sandbox.store.scheduled_events.values()
                if ts(e["start_time"]) < now - timedelta(days=40)
            ),
            key=lambda e: e["uri"],
        )[:10]
        assert len(old) == 10
        for event in old:  # e.g. meeting notes edited in Calendly long after the meeting
            event["meeting_notes_plain"] = "Follow-up: contract signed"
            event["updated_at"] = fmt(now.timestamp())
    sandbox.request_log.clear()
    second = run_in_process(config, first.final_state)
    assert second.keys("scheduled_events") == {e["uri"] for e in old}
    # Invitees are read again for exactly the changed events and the events of the window.
    reread = {r.path.split("/")[2] for r in sandbox.request_log if r.path.endswith("/invitees")}
    window_start = ts(first.bookmark("invitees") or "") - timedelta(days=7)
    with sandbox.store.lock:
        in_window = {
            u
            for u, e in sandbox.store.scheduled_events.items()
            if ts(e["start_time"]) >= window_start
        }
    assert reread == in_window | {uuid_of(e["uri"]) for e in old}


def test_a_no_show_removed_within_the_window_arrives_in_the_next_run(sandbox: Sandbox) -> None:
    """Old tap: removing a no-show moves no updated_at on a real account, and the tap only
    emitted invitees whose change time passed the bookmark: the removal never arrived."""
    config = tap_config(sandbox)
    first = run_in_process(config)
    invitee = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(1, 10)))
    api = Api(sandbox)
    no_show = api.post("/invitee_no_shows", {"invitee": invitee["uri"]})
    marked = run_in_process(config, first.final_state)
    assert marked.keys("invitees") == {invitee["uri"]}
    assert marked.records["invitees"][0]["no_show"]["uri"] == no_show["uri"]
    api.delete(f"/invitee_no_shows/{uuid_of(no_show['uri'])}")
    removed = run_in_process(config, marked.final_state)
    assert removed.keys("invitees") == {invitee["uri"]}
    assert removed.records["invitees"][0].get("no_show") is None
    quiet = run_in_process(config, removed.final_state)
    assert not quiet.records.get("invitees")


def test_unchanged_reruns_emit_no_invitees_however_often_they_run(sandbox: Sandbox) -> None:
    """Old tap: the invitees bookmark was saved from updated_at while rows were filtered on
    the later no-show / cancellation time. After a no-show (which moves no updated_at) the
    bookmark went back to that invitee's updated_at and reruns re-emitted invitees."""
    config = tap_config(sandbox)
    first = run_in_process(config)
    invitee = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(1, 10)))
    Api(sandbox).post("/invitee_no_shows", {"invitee": invitee["uri"]})
    state = run_in_process(config, first.final_state).final_state
    for _ in range(3):
        rerun = run_in_process(config, state)
        assert not rerun.records.get("invitees"), len(rerun.records.get("invitees", []))
        assert not rerun.records.get("scheduled_events")
        state = rerun.final_state


def test_http_request_count_metrics_count_every_request(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Old tap: per-parent requests (invitees, hosts, schedules, submissions, webhook scopes)
    went around the SDK's counter: a full sync reported 32 of 396 requests."""
    with caplog.at_level(logging.INFO, logger="singer_sdk.metrics"):
        run_in_process(tap_config(sandbox))
    counted = 0
    for record in caplog.records:
        text = record.getMessage()
        if "METRIC:" in text and '"http_request_count"' in text:
            counted += json.loads(text.split("METRIC:", 1)[1])["value"]
    assert counted == len(sandbox.request_log) > 100


def test_batch_is_not_advertised() -> None:
    """Old tap: it advertised BATCH, whose files can hold rows a STATE written meanwhile
    already counts as done."""
    about = subprocess.run(
        [sys.executable, "-m", "tap_calendly", "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    info: dict[str, Any] = json.loads(about.stdout)
    assert "batch" not in info["capabilities"]
    assert "batch_config" not in info["settings"]["properties"]
