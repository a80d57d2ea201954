"""A run interrupted at any point and restarted from its last emitted STATE loses no record,
and repeats at most the page it interrupted.

scheduled_events and activity_log_entries are listed oldest first and write a resume point after
every page; here their pages are 10 rows (instead of 100 and 1000) so that a small sandbox spans
several pages and a kill lands between resume points often. Everything else is the real tap
against the real sandbox.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from tap_calendly.streams import ActivityLogEntriesStream, ScheduledEventsStream
from tests.tap.conftest import (
    TAP_EXECUTABLE,
    Api,
    TapRun,
    catalog_selecting,
    changed_keys,
    key_of,
    run_in_process,
    snapshot,
    tap_config,
)
from tests.tap.test_incremental import FULL_TABLE, book, first_free_invitee, pick_event, ts

PAGE = 10
# Listing stream -> (sort field, resume filter, children whose rows it yields).
RESUMABLE = {
    "scheduled_events": ("start_time", "min_start_time", ("invitees",)),
    "activity_log_entries": ("occurred_at", "min_occurred_at", ()),
}
PARENT_OF = {
    "invitees": "scheduled_events",
    "event_type_hosts": "event_types",
    "routing_form_submissions": "routing_forms",
    "availability_schedules": "users",
}


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScheduledEventsStream, "page_size", PAGE)
    monkeypatch.setattr(ActivityLogEntriesStream, "page_size", PAGE)


@pytest.fixture(scope="module")
def small_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=11, events=40, plan="enterprise") as running:
        yield running


def last_state(run: TapRun) -> dict[str, Any] | None:
    return run.states[-1] if run.states else None


def resume_of(state: dict[str, Any] | None, stream: str) -> dict[str, Any] | None:
    resume: dict[str, Any] | None = (state or {}).get("bookmarks", {}).get(stream, {}).get("resume")
    return resume


def resume_points(run: TapRun, stream: str = "scheduled_events") -> list[tuple[int, dict]]:
    """(records emitted so far, resume point) for every STATE carrying one for `stream`."""
    points = []
    records = 0
    for message in run.messages:
        if message["type"] == "RECORD":
            records += 1
        elif message["type"] == "STATE" and (resume := resume_of(message["value"], stream)):
            points.append((records, resume))
    return points


def kill_points(complete: TapRun, rng: random.Random, spread: int) -> list[int]:
    """Record counts to die after: the first and last records of every stream, the one after
    each stream's last (its bookmark is promoted there), the records around every resume point,
    and `spread` more at random."""
    streams = [m["stream"] for m in complete.messages if m["type"] == "RECORD"]
    points = {n + d for s in RESUMABLE for n, _ in resume_points(complete, s) for d in (-1, 0)}
    for stream in set(streams):
        first = streams.index(stream)
        last = len(streams) - 1 - streams[::-1].index(stream)
        points.update({first, first + 1, last, last + 1})
    points.update(rng.sample(range(len(streams)), spread))
    return sorted(p for p in points if 0 <= p < len(streams))


def assert_union_covers(runs: list[TapRun], expected: dict[str, set[str]], label: str) -> None:
    for stream, keys in expected.items():
        seen = set().union(*(run.keys(stream) for run in runs))
        missing = keys - seen
        assert not missing, (
            f"{label}: {stream} lost {len(missing)} rows, e.g. {sorted(missing)[:3]}"
        )


def assert_repeats_only_the_interrupted_page(
    crashed: TapRun, restarted: TapRun, sandbox: Sandbox, label: str
) -> None:
    """What the restart emits again is confined to the page the kill interrupted.

    For a resumable listing, rows (and their children's rows) sorted before the resume point's
    position are never repeated, and at most one page plus the rows tied at the position are;
    without a resume point, at most its first page. Any other stream repeats only if it was the
    one being synced (it is re-read whole: one page in these tests) or is read in full anyway.
    """
    resume_state = last_state(crashed)
    records = [m["stream"] for m in crashed.messages if m["type"] == "RECORD"]
    interrupted = PARENT_OF.get(records[-1], records[-1]) if records else None
    repeated = {
        stream: {key_of(stream, row) for row in rows} & crashed.keys(stream)
        for stream, rows in restarted.records.items()
    }
    store = snapshot(sandbox)
    for stream, keys in repeated.items():
        family = PARENT_OF.get(stream, stream)
        if not keys or stream in FULL_TABLE:
            continue
        assert family == interrupted, f"{label}: finished {stream} repeated {len(keys)} rows"
        if family not in RESUMABLE:
            assert len(keys) <= 100, f"{label}: {stream} repeated {len(keys)} rows"
            continue
        sort_field, resume_filter, _ = RESUMABLE[family]
        resume = resume_of(resume_state, family)
        listed = sorted(store[family].values(), key=lambda row: ts(row[sort_field]))
        if resume is None:
            page = listed[:PAGE]
        else:
            position = ts(resume[resume_filter])
            ties = sum(ts(row[sort_field]) == position for row in listed)
            page = [row for row in listed if ts(row[sort_field]) >= position][: PAGE + ties]
        allowed = {row["uri"] for row in page}
        if stream != family:  # child rows: those of the page's parents
            owners = {row["uri"]: row["event"] for row in store[stream].values()}
            keys = {owners[key] for key in keys}
        assert keys <= allowed, (
            f"{label}: {stream} repeated rows beyond the interrupted page (resume {resume}): "
            f"{sorted(keys - allowed)[:3]}"
        )


def test_interrupted_first_run_loses_nothing_and_repeats_only_the_interrupted_page(
    small_sandbox: Sandbox, small_pages: None
) -> None:
    config = tap_config(small_sandbox)
    complete = run_in_process(config)
    everything = {s: complete.keys(s) for s in complete.records}
    assert len(everything["scheduled_events"]) > 3 * PAGE
    assert len(everything["activity_log_entries"]) > PAGE
    for point in kill_points(complete, random.Random(11), spread=8):
        crashed = run_in_process(config, stop_after_records=point)
        assert crashed.returncode == 1 and sum(map(len, crashed.records.values())) == point
        restarted = run_in_process(config, last_state(crashed))
        label = f"killed after {point} records"
        assert_union_covers([crashed, restarted], everything, label)
        assert_repeats_only_the_interrupted_page(crashed, restarted, small_sandbox, label)


def test_a_restart_lists_from_the_resume_point_and_restarts_chain(
    small_sandbox: Sandbox, small_pages: None
) -> None:
    """Kill the first run a few pages into the events, then kill its restart two pages on:
    each restart asks Calendly only for events from the last resume point on, keeps the first
    run's start and bookmarks, and the chain still covers everything."""
    config = tap_config(small_sandbox)
    # Only the chain's streams: other streams' records would shift the kill points.
    catalog = catalog_selecting(config, {"scheduled_events", "invitees"})
    complete = run_in_process(config, catalog=catalog)
    everything = {s: complete.keys(s) for s in ("scheduled_events", "invitees")}
    second_page_done, _ = resume_points(complete)[1]
    crashed = run_in_process(config, stop_after_records=second_page_done + 3, catalog=catalog)
    state = last_state(crashed)
    resume = resume_of(state, "scheduled_events")
    assert resume is not None
    small_sandbox.request_log.clear()
    crashed_again = run_in_process(config, state, stop_after_records=3 * PAGE, catalog=catalog)
    listing = [r for r in small_sandbox.request_log if r.path == "/scheduled_events"]
    # A second before the resume point: min_start_time means "after", and rows sharing the
    # last released start time may lie past the page boundary.
    assert ts(str(listing[0].query["min_start_time"])) == ts(resume["min_start_time"]) - timedelta(
        seconds=1
    )
    chained = resume_of(last_state(crashed_again), "scheduled_events")
    assert chained is not None and chained["min_start_time"] > resume["min_start_time"]
    assert chained["run_started_at"] == resume["run_started_at"]
    assert {n: p["bookmark"] for n, p in chained["streams"].items()} == {
        n: p["bookmark"] for n, p in resume["streams"].items()
    }
    finished = run_in_process(config, last_state(crashed_again), catalog=catalog)
    assert_union_covers([crashed, crashed_again, finished], everything, "two kills")
    assert "resume" not in json.dumps(finished.final_state)


def test_a_change_to_an_already_emitted_row_between_crash_and_restart_is_not_lost(
    small_pages: None,
) -> None:
    """Rows the interrupted run had passed are not listed again by its restart, so the restart
    promotes bookmarks no later than the interrupted run's start: the next run reads them."""
    with Sandbox(seed=12, events=60, plan="enterprise") as sandbox:
        config = tap_config(sandbox, lookback_days=3650)  # every event stays in the window
        complete = run_in_process(config)
        tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
        point = next(n for n, r in resume_points(complete) if ts(r["min_start_time"]) > tomorrow)
        crashed = run_in_process(config, stop_after_records=point + 1)
        state = last_state(crashed)
        resume = resume_of(state, "scheduled_events")
        assert resume is not None and ts(resume["min_start_time"]) > tomorrow
        passed = [
            row
            for row in crashed.records["scheduled_events"]
            if ts(row["start_time"]) < ts(resume["min_start_time"]) and row["status"] == "active"
        ]
        before = snapshot(sandbox)
        api = Api(sandbox)
        canceled = next(row for row in passed if ts(row["start_time"]) > tomorrow)
        api.post(f"/scheduled_events/{canceled['uri'].rsplit('/', 1)[-1]}/cancellation", {})
        no_show = next(
            first_free_invitee(sandbox, event)
            for event in passed
            if ts(event["end_time"]) < datetime.now(timezone.utc)
            and any(i["event"] == event["uri"] for i in crashed.records["invitees"])
        )
        api.post("/invitee_no_shows", {"invitee": no_show["uri"]})
        book(sandbox, api)
        changed = {
            stream: keys
            for stream, keys in changed_keys(before, snapshot(sandbox)).items()
            if stream not in FULL_TABLE
        }
        assert canceled["uri"] in changed["scheduled_events"]
        assert no_show["uri"] in changed["invitees"]

        restarted = run_in_process(config, state)
        for stream in ("scheduled_events", "invitees"):
            assert ts(restarted.bookmark(stream) or "") <= ts(resume["run_started_at"])
        after = run_in_process(config, restarted.final_state)
        assert_union_covers([restarted, after], changed, "changed between crash and restart")
        for stream in ("scheduled_events", "invitees"):
            assert after.keys(stream) <= changed[stream], f"{stream}: repeated unchanged rows"
        latest = {row["uri"]: row for run in (restarted, after) for row in run.records["invitees"]}
        assert latest[no_show["uri"]].get("no_show") is not None
        # And the bookmarks have settled: a further run has nothing to say.
        quiet = run_in_process(config, after.final_state)
        assert not any(rows for stream, rows in quiet.records.items() if stream not in FULL_TABLE)


def test_interrupted_incremental_run_restarted_from_its_last_state_loses_nothing(
    small_pages: None,
) -> None:
    with Sandbox(seed=12, events=60, plan="enterprise") as sandbox:
        config = tap_config(sandbox)
        first = run_in_process(config)
        before = snapshot(sandbox)
        api = Api(sandbox)
        book(sandbox, api)
        future = pick_event(sandbox, started_days_ago=(-2, -60))
        api.post(f"/scheduled_events/{future['uri'].rsplit('/', 1)[-1]}/cancellation", {})
        for days in ((1, 10), (11, 25)):
            invitee = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=days))
            api.post("/invitee_no_shows", {"invitee": invitee["uri"]})
        changed = {
            stream: keys
            for stream, keys in changed_keys(before, snapshot(sandbox)).items()
            if stream not in FULL_TABLE
        }
        complete = run_in_process(config, first.final_state)
        assert {s: complete.keys(s) for s in changed} == changed
        for point in range(sum(map(len, complete.records.values()))):
            crashed = run_in_process(config, first.final_state, stop_after_records=point)
            resume_from = last_state(crashed) or first.final_state
            restarted = run_in_process(config, resume_from)
            assert_union_covers([crashed, restarted], changed, f"killed after {point} records")


def test_bookmarks_move_only_when_the_listing_completes_with_its_children(
    small_pages: None,
) -> None:
    """The SDK finalizes a child's state when told to; the invitees' bookmark must not move
    mid-listing (a restart would skip invitees of events not yet read), and must move in the
    same STATE message as the events' bookmark, when the resume point goes."""
    with Sandbox(seed=13, events=40) as sandbox:
        config = tap_config(sandbox, lookback_days=3650)  # every event is listed again
        first = run_in_process(config)
        api = Api(sandbox)
        future = pick_event(sandbox, started_days_ago=(-2, -60))
        api.post(f"/scheduled_events/{future['uri'].rsplit('/', 1)[-1]}/cancellation", {})
        invitee = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(1, 30)))
        api.post("/invitee_no_shows", {"invitee": invitee["uri"]})
        second = run_in_process(config, first.final_state)
    start = {s: first.bookmark(s) for s in ("scheduled_events", "invitees")}
    end = {s: second.bookmark(s) for s in ("scheduled_events", "invitees")}
    assert all(end[s] != start[s] for s in start), (start, end)
    resumes = 0
    for state in second.states:
        bookmarks = state["bookmarks"]
        now = {s: bookmarks[s].get("replication_key_value") for s in start}
        resume = bookmarks["scheduled_events"].get("resume")
        if resume is not None:
            resumes += 1
            assert now == start, "a bookmark moved while the listing was resumable"
            assert {n: p["bookmark"] for n, p in resume["streams"].items()} == start
        assert now in (start, end), f"a STATE moved only part of the listing's bookmarks: {now}"
    assert resumes >= 3


def unwatched(state: dict[str, Any]) -> dict[str, Any]:
    """The state without the invitees read with a no-show in the re-read window (that list is
    bounded by the window; test_incremental checks it) and without the keys listed by streams
    whose rows can vanish (they grow with the configuration; test_deletions checks them)."""
    copy = json.loads(json.dumps(state))
    copy.get("bookmarks", {}).get("invitees", {}).pop("watched_no_shows", None)
    for stream in copy.get("bookmarks", {}).values():
        stream.pop("listed_keys", None)
    return copy


def test_every_state_message_stays_small_whatever_the_number_of_events(small_pages: None) -> None:
    largest = {}
    for events in (50, 300):
        with Sandbox(seed=5, events=events) as sandbox:
            run = run_in_process(tap_config(sandbox))
            resumes = [s for s in run.states if resume_of(s, "scheduled_events")]
            assert len(resumes) >= events // PAGE - 1
            largest[events] = max(len(json.dumps(unwatched(state))) for state in run.states)
    assert abs(largest[300] - largest[50]) < 128, largest
    assert largest[300] < 8192, largest


def test_killed_process_restarted_from_the_last_state_line_repeats_one_page(
    tmp_path: Path,
) -> None:
    """The same with a real process (real page size: 100) killed by SIGKILL mid-way through
    the second page of events, while a target reads its stdout."""
    with Sandbox(seed=31, events=130, plan="enterprise") as sandbox:
        config = tap_config(sandbox)
        config_file = tmp_path / "config.json"
        config_file.write_text(json.dumps(config))
        process = subprocess.Popen(
            [str(TAP_EXECUTABLE), "--config", str(config_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("TAP_CALENDLY_")},
        )
        assert process.stdout is not None
        received: list[dict[str, Any]] = []
        resumed_at: int | None = None
        for line in process.stdout:
            message = json.loads(line)
            received.append(message)
            if message["type"] == "STATE" and resume_of(message["value"], "scheduled_events"):
                resumed_at = len(received)
            if resumed_at and message["type"] == "RECORD" and len(received) > resumed_at + 20:
                process.send_signal(signal.SIGKILL)
                break
        process.stdout.close()
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL and resumed_at
        crashed = TapRun(received, process.returncode)
        restarted = run_in_process(config, last_state(crashed))
        expected = {s: set(rows) for s, rows in snapshot(sandbox).items()}
        assert_union_covers([crashed, restarted], expected, "SIGKILL")
        repeated = restarted.keys("scheduled_events") & crashed.keys("scheduled_events")
        assert 0 < len(repeated) < 100
