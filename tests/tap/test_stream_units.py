"""Unit tests of the tap's own logic that need no HTTP: windows, bookmarks, paging stops, workers."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from calendly_http import ConfigError
from tap_calendly.fanout import Workers
from tap_calendly.noshows import read_watched, watch_key, written_watched
from tap_calendly.pagination import CalendlyPaginator
from tap_calendly.resume import resumable
from tap_calendly.streams import (
    EventTypesStream,
    InviteesStream,
    RoutingFormSubmissionsStream,
    ScheduledEventsStream,
)
from tap_calendly.tap import TapCalendly
from tap_calendly.timestamps import format_timestamp, parse_timestamp
from tap_calendly.webhooks import WebhookHints

UTC = timezone.utc
CONFIG = {
    "token": "unit-test-token",
    "api_url": "http://127.0.0.1:9",
    "organization": "http://127.0.0.1:9/organizations/ORG",
    "max_retries": 0,
}


def make_tap(state: dict[str, Any] | None = None, **config: Any) -> TapCalendly:
    return TapCalendly(config={**CONFIG, **config}, state=state, parse_env_config=False)


def bookmarked(stream: str, key: str, value: str) -> dict[str, Any]:
    return {"bookmarks": {stream: {"replication_key": key, "replication_key_value": value}}}


def test_timestamps_round_trip_in_calendlys_format() -> None:
    moment = parse_timestamp("2020-01-02T03:04:05.678123Z")
    assert moment == datetime(2020, 1, 2, 3, 4, 5, 678123, tzinfo=UTC)
    assert format_timestamp(moment) == "2020-01-02T03:04:05.678123Z"
    assert parse_timestamp("2020-01-02T03:04:05+00:00") == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_timestamp(None) is None
    assert parse_timestamp("") is None


def events_and_invitees_bookmarked(value: str) -> dict[str, Any]:
    state = bookmarked("scheduled_events", "updated_at", value)
    state["bookmarks"]["invitees"] = {
        "replication_key": "updated_at",
        "replication_key_value": value,
    }
    return state


def test_every_run_lists_events_from_a_second_before_start_date() -> None:
    """min_start_time means "after": an event starting exactly at start_date is listed."""
    for state in (None, events_and_invitees_bookmarked("2024-06-30T12:00:00.000000Z")):
        events = make_tap(state, start_date="2024-01-01T00:00:00Z").streams["scheduled_events"]
        query = events.query(None)
        assert query["min_start_time"] == "2023-12-31T23:59:59.000000Z"
        assert "max_start_time" not in query  # every future event
    assert "min_start_time" not in make_tap().streams["scheduled_events"].query(None)


def event(start: str, updated: str, uri: str = "e1") -> dict[str, Any]:
    return {"uri": uri, "start_time": start, "updated_at": updated}


def test_invitees_are_reread_for_changed_events_and_the_window_only() -> None:
    state = events_and_invitees_bookmarked("2024-06-30T12:00:00.000000Z")
    invitees = make_tap(state, lookback_days=10).streams["invitees"]
    assert isinstance(invitees, InviteesStream)
    invitees.prepare_fetch()
    old, recent = "2024-01-05T10:00:00Z", "2024-06-20T12:00:00Z"
    assert not invitees.reads_children_of(event(old, "2024-01-01T00:00:00Z"))
    assert invitees.reads_children_of(event(old, "2024-06-30T12:00:00.000001Z"))  # changed
    assert invitees.reads_children_of(event(recent, "2024-01-01T00:00:00Z"))  # window edge
    assert not invitees.reads_children_of(event("2024-06-20T11:59:59Z", "2024-01-01T00:00:00Z"))
    assert invitees.reads_children_of(event("2025-01-01T00:00:00Z", "2024-01-01T00:00:00Z"))
    named = WebhookHints(())
    named.named_events["hinted"] = None  # a webhook delivery named this event
    invitees.calendly_tap.webhook_hints = named  # type: ignore[misc]
    assert invitees.reads_children_of(event(old, "2024-01-01T00:00:00Z", uri="hinted"))


def test_a_first_run_reads_the_invitees_of_every_event() -> None:
    invitees = make_tap().streams["invitees"]
    assert isinstance(invitees, InviteesStream)
    invitees.prepare_fetch()
    assert invitees.reads_children_of(event("2019-01-01T00:00:00Z", "2019-01-01T00:00:00Z"))


def test_rows_are_emitted_only_when_changed_after_the_bookmark() -> None:
    state = bookmarked("event_types", "updated_at", "2024-06-30T12:00:00.000000Z")
    stream = make_tap(state).streams["event_types"]
    assert stream.post_process({"uri": "a", "updated_at": "2024-06-30T12:00:00.000000Z"}) is None
    assert stream.post_process({"uri": "b", "updated_at": "2024-06-30T11:00:00Z"}) is None
    assert stream.post_process({"uri": "c", "updated_at": "2024-06-30T12:00:00.000001Z"})


def test_first_run_emits_rows_older_than_start_date_for_configuration_streams() -> None:
    stream = make_tap(start_date="2024-01-01T00:00:00Z").streams["event_types"]
    assert stream.post_process({"uri": "a", "updated_at": "2019-01-01T00:00:00Z"})


def test_a_no_show_counts_as_an_invitee_change_even_if_updated_at_did_not_move() -> None:
    state = bookmarked("invitees", "updated_at", "2024-06-30T12:00:00Z")
    invitees = make_tap(state).streams["invitees"]
    assert isinstance(invitees, InviteesStream)
    old = "2024-06-01T00:00:00Z"
    unchanged = {"uri": "i1", "updated_at": old, "no_show": None, "cancellation": None}
    no_show = {**unchanged, "no_show": {"uri": "n", "created_at": "2024-07-01T00:00:00Z"}}
    canceled = {**unchanged, "cancellation": {"created_at": "2024-07-01T00:00:00Z"}}
    invitees.prepare_fetch()
    assert invitees.post_process(dict(unchanged)) is None
    assert invitees.post_process(dict(no_show)) is not None
    assert invitees.post_process(dict(canceled)) is not None


def test_the_invitees_bookmark_is_saved_from_the_value_rows_are_filtered_on() -> None:
    """Old main saved updated_at while filtering on the no-show's creation: an unchanged
    rerun re-emitted every invitee whose no-show was newer than its updated_at."""
    invitees = make_tap().streams["invitees"]
    no_show = {
        "uri": "i1",
        "updated_at": "2024-06-01T00:00:00.000000Z",
        "no_show": {"uri": "n", "created_at": "2024-07-01T00:00:00.000000Z"},
    }
    invitees._increment_stream_state(no_show)
    progress = invitees.stream_state["progress_markers"]["replication_key_value"]
    assert progress == "2024-07-01T00:00:00.000000Z"


def test_a_no_show_removed_since_the_last_run_is_emitted_though_nothing_moved() -> None:
    state = bookmarked("invitees", "updated_at", "2024-06-30T12:00:00.000000Z")
    recent = "2024-06-25T00:00:00.000000Z"
    uri = {n: f"https://api.calendly.com/scheduled_events/e/invitees/i{n}" for n in range(1, 5)}
    key = {n: watch_key(u) for n, u in uri.items()}
    state["bookmarks"]["invitees"]["watched_no_shows"] = {
        "2024-01-01": key[3],
        "2024-06-25": f"{key[1]} {key[2]}",
    }
    invitees = make_tap(state, lookback_days=10).streams["invitees"]
    assert isinstance(invitees, InviteesStream)
    invitees.prepare_fetch()
    invitees.current_parent = {"uri": "e", "start_time": recent}
    old = "2024-06-01T00:00:00Z"
    marked = {"created_at": "2024-06-02T00:00:00Z", "uri": "n"}
    assert invitees.post_process({"uri": uri[1], "updated_at": old, "no_show": None})
    assert not invitees.post_process({"uri": uri[2], "updated_at": old, "no_show": marked})
    assert not invitees.post_process({"uri": uri[4], "updated_at": old, "no_show": marked})
    invitees.listing_done()
    # i3's event started before the next run's window: no longer watched.
    assert invitees.stream_state["watched_no_shows"] == {
        "2024-06-25": " ".join(sorted([key[2], key[4]]))
    }


def test_watched_no_shows_of_the_older_format_are_read_and_rewritten_compactly() -> None:
    """Older states kept {invitee URI: start time} (about 150 bytes an invitee)."""
    base = "https://api.calendly.com/scheduled_events"
    event, invitee = "1c0ffee0-aaaa-4bbb-8ccc-0123456789ab", "ad0be000-dddd-4eee-8fff-01234567"
    uris = [f"{base}/{event}/invitees/{invitee}{n}" for n in ("0000", "1111", "2222")]
    starts = ["2024-06-25T09:30:00.000000Z", "2024-06-25T16:00:00.000000Z", "2024-06-27T08:00Z"]
    older = dict(zip(uris, starts, strict=True))
    watched = read_watched(older)
    assert watched == {
        watch_key(uris[0]): "2024-06-25",
        watch_key(uris[1]): "2024-06-25",
        watch_key(uris[2]): "2024-06-27",
    }
    assert read_watched(written_watched(watched)) == watched
    assert len(json.dumps(written_watched(watched))) < len(json.dumps(older)) / 4
    assert read_watched(None) == {} and read_watched(["not", "a", "map"]) == {}


def test_forced_full_table_ignores_the_bookmark() -> None:
    state = bookmarked("event_types", "updated_at", "2024-06-30T12:00:00Z")
    stream = make_tap(state).streams["event_types"]
    stream.forced_replication_method = "FULL_TABLE"
    assert stream.post_process({"uri": "a", "updated_at": "2019-01-01T00:00:00Z"})


def test_server_side_filters_start_from_the_bookmark_else_start_date() -> None:
    log = make_tap(start_date="2024-01-01T00:00:00Z").streams["activity_log_entries"]
    query = log.get_url_params(None, None)
    assert query["min_occurred_at"] == "2023-12-31T23:59:59.000000Z"  # min_* means "after"
    assert query["sort"] == "occurred_at:asc" and query["count"] == 1000
    state = bookmarked("activity_log_entries", "occurred_at", "2024-05-05T05:05:05.500Z")
    later = make_tap(state, start_date="2024-01-01T00:00:00Z").streams["activity_log_entries"]
    assert later.get_url_params(None, "TOKEN") == {
        "organization": CONFIG["organization"],
        "sort": "occurred_at:asc",
        "min_occurred_at": "2024-05-05T05:05:04.500000Z",
        "count": 1000,
        "page_token": "TOKEN",
    }
    comms = make_tap(bookmarked("outgoing_communications", "created_at", "2024-05-05T00:00:00Z"))
    assert comms.streams["outgoing_communications"].get_url_params(None, None)[
        "min_created_at"
    ] == ("2024-05-04T23:59:59.000000Z")


def response_with(body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body
    return response


def test_paginator_follows_next_page_token_and_not_next_page_urls() -> None:
    paginator = CalendlyPaginator()
    paginator.advance(
        response_with(
            b'{"collection": [{"uri": "x"}], "pagination": {"next_page_token": "T2",'
            b' "next_page": "https://elsewhere.example/x?page_token=T2"}}'
        )
    )
    assert paginator.current_value == "T2" and not paginator.finished
    paginator.advance(response_with(b'{"collection": [], "pagination": {"next_page_token": null}}'))
    assert paginator.finished


def test_paginator_follows_the_token_in_next_page_when_a_page_has_none() -> None:
    """A real page of 2021 carries next_page without next_page_token: the tap stopped there."""
    paginator = CalendlyPaginator()
    paginator.advance(
        response_with(
            b'{"collection": [{"uri": "x"}], "pagination": {"count": 1,'
            b' "next_page": "https://api.calendly.com/x?count=1&page_token=T2"}}'
        )
    )
    assert paginator.current_value == "T2" and not paginator.finished
    paginator.advance(response_with(b'{"collection": [], "pagination": {"next_page": null}}'))
    assert paginator.finished


def test_sorted_desc_stream_stops_paging_at_the_bookmark() -> None:
    state = bookmarked("event_types", "updated_at", "2024-06-30T12:00:00Z")
    tap = make_tap(state)
    stream = tap.streams["event_types"]
    assert isinstance(stream, EventTypesStream)
    for child in stream.child_streams:  # with a child selected every type must be listed
        child.selected = False
    paginator = stream.get_new_paginator()
    newer_only = b'{"collection": [{"updated_at": "2024-07-02T00:00:00Z"}, {"updated_at": "2024-07-01T00:00:00Z"}], "pagination": {"next_page_token": "A"}}'
    paginator.advance(response_with(newer_only))
    assert paginator.current_value == "A"
    reaches = b'{"collection": [{"updated_at": "2024-07-01T00:00:00Z"}, {"updated_at": "2024-06-01T00:00:00Z"}], "pagination": {"next_page_token": "B"}}'
    paginator.advance(response_with(reaches))
    assert paginator.finished


def test_sorted_desc_stream_lists_everything_while_a_child_needs_every_row() -> None:
    state = bookmarked("event_types", "updated_at", "2024-06-30T12:00:00Z")
    stream = make_tap(state).streams["event_types"]
    paginator = stream.get_new_paginator()
    old = b'{"collection": [{"updated_at": "2020-01-01T00:00:00Z"}], "pagination": {"next_page_token": "B"}}'
    paginator.advance(response_with(old))
    assert not paginator.finished


def test_submissions_stop_once_older_than_lookback_before_the_bookmark() -> None:
    state = bookmarked("routing_form_submissions", "updated_at", "2024-06-30T00:00:00Z")
    stream = make_tap(state, lookback_days=10).streams["routing_form_submissions"]
    assert isinstance(stream, RoutingFormSubmissionsStream)
    assert not stream.enough([{"created_at": "2024-06-21T00:00:00Z"}])
    assert stream.enough([{"created_at": "2024-06-19T00:00:00Z"}])
    first_run = make_tap().streams["routing_form_submissions"]
    assert isinstance(first_run, RoutingFormSubmissionsStream)
    assert not first_run.enough([{"created_at": "2001-01-01T00:00:00Z"}])


def test_workers_run_concurrently_and_hand_back_results_and_errors() -> None:
    both_running = threading.Barrier(2, timeout=30)

    def meet(value: int) -> int:
        both_running.wait()  # fails (BrokenBarrierError) unless two calls overlap
        return value * 10

    def boom() -> None:
        raise ValueError("no")

    with Workers(2, "test") as workers:
        futures = [workers.submit(meet, 1), workers.submit(meet, 2)]
        assert [f.result(timeout=30) for f in futures] == [10, 20]
        failed = workers.submit(boom)
        with pytest.raises(ValueError, match="no"):
            failed.result(timeout=30)


def test_cancelled_work_is_never_run() -> None:
    started = threading.Event()
    release = threading.Event()
    ran: list[int] = []

    def hold() -> None:
        started.set()
        release.wait(30)

    with Workers(1, "test") as workers:
        workers.submit(hold)
        started.wait(30)
        queued = workers.submit(ran.append, 1)
        assert queued.cancel()
        release.set()
        last = workers.submit(ran.append, 2)
        last.result(timeout=30)
    assert ran == [2]


def test_lookback_setting_is_days() -> None:
    stream = make_tap(lookback_days=3).streams["scheduled_events"]
    assert stream.lookback == timedelta(days=3)


def test_a_newly_selected_invitees_stream_reads_every_events_invitees() -> None:
    events_only = bookmarked("scheduled_events", "updated_at", "2024-06-30T12:00:00Z")
    invitees = make_tap(events_only).streams["invitees"]
    assert isinstance(invitees, InviteesStream)
    invitees.prepare_fetch()
    assert invitees.reads_children_of(event("2019-01-01T00:00:00Z", "2019-01-01T00:00:00Z"))


def interrupted_state(**resume: Any) -> dict[str, Any]:
    """Bookmarks of a finished run, then a later run interrupted mid-listing."""
    state = events_and_invitees_bookmarked("2024-06-30T12:00:00.000000Z")
    state["bookmarks"]["scheduled_events"]["resume"] = {
        "min_start_time": "2024-07-15T09:00:00.000000Z",
        "run_started_at": "2024-07-01T08:00:00.000000Z",
        "streams": {
            "scheduled_events": {"bookmark": "2024-06-01T00:00:00.000000Z", "progress": None},
            "invitees": {"bookmark": "2024-05-01T00:00:00.000000Z", "progress": None},
        },
        **resume,
    }
    return state


def test_a_restart_lists_from_the_resume_point_with_the_interrupted_runs_bookmarks() -> None:
    tap = make_tap(interrupted_state())
    events, invitees = tap.streams["scheduled_events"], tap.streams["invitees"]
    assert isinstance(events, ScheduledEventsStream) and isinstance(invitees, InviteesStream)
    # A second early: rows sharing the last released start time are listed again.
    assert events.get_url_params(None, None)["min_start_time"] == "2024-07-15T08:59:59.000000Z"
    assert events.bookmark == datetime(2024, 6, 1, tzinfo=UTC)
    assert invitees.bookmark == datetime(2024, 5, 1, tzinfo=UTC)
    # Bookmarks are promoted no later than the interrupted run's start.
    for stream in (events, invitees):
        assert stream.get_replication_key_signpost() == datetime(2024, 7, 1, 8, tzinfo=UTC)


def test_a_resume_point_of_another_shape_is_ignored() -> None:
    tap = make_tap(interrupted_state(streams="everything"))
    events = tap.streams["scheduled_events"]
    assert isinstance(events, ScheduledEventsStream)
    assert events.resume_point is None
    assert "min_start_time" not in events.get_url_params(None, None)


def test_a_resume_point_without_a_now_selected_child_is_ignored() -> None:
    state = interrupted_state()
    del state["bookmarks"]["scheduled_events"]["resume"]["streams"]["invitees"]
    tap = make_tap(state)
    assert tap.streams["scheduled_events"].resume_point is None  # type: ignore[attr-defined]
    tap = make_tap(state)
    tap.streams["invitees"].selected = False
    assert tap.streams["scheduled_events"].resume_point is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize("start_date", ["last tuesday", "2024-13-01", "31/01/2024"])
def test_a_bad_start_date_is_refused_when_the_tap_is_made(start_date: str) -> None:
    with pytest.raises(ConfigError, match="start_date"):
        make_tap(start_date=start_date)
    # Discovery does not validate settings (Meltano discovers before the config is complete).
    TapCalendly(config={**CONFIG, "start_date": start_date}, validate_config=False)


def test_client_settings_are_checked_when_the_tap_is_made() -> None:
    with pytest.raises(ConfigError, match="token"):
        TapCalendly(config={"api_url": CONFIG["api_url"]}, parse_env_config=False)


def test_rows_out_of_order_take_the_resume_point_back_before_they_are_emitted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A restart from a point past an out-of-order row would never list that row again."""
    monkeypatch.setattr(ScheduledEventsStream, "page_size", 2)
    events = make_tap().streams["scheduled_events"]
    assert isinstance(events, ScheduledEventsStream)
    days = (1, 2, 3, 2, 5, 6)
    rows = [
        {"uri": f"e{n}", "start_time": f"2024-07-0{d}T00:00:00.000000Z"} for n, d in enumerate(days)
    ]
    kept_while_emitting = [
        (row["uri"], events.stream_state.get("resume", {}).get("min_start_time"))
        for row in resumable(events, rows)
    ]
    assert kept_while_emitting == [
        ("e0", None),
        ("e1", None),
        ("e2", "2024-07-02T00:00:00.000000Z"),
        ("e3", None),
        ("e4", None),
        ("e5", None),
    ]
    states = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "resume" not in states[-1]["value"]["bookmarks"]["scheduled_events"]


def test_worker_threads_share_one_malloc_arena_on_glibc() -> None:
    import platform

    from tap_calendly.fanout import share_one_malloc_arena

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("the arena setting exists only in glibc")
    assert share_one_malloc_arena() is True
