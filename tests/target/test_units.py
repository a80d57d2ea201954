"""Unit tests of the target's pure parts: input validation, the responses file, the STATE gate."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from target_calendly.actions import ACTIONS
from target_calendly.checkpoints import StateGate
from target_calendly.outcomes import REDACTED, OutcomeLine, OutcomeWriter, record_key
from target_calendly.validation import InvalidRecordError, validate

LOG = logging.getLogger("test")


def problems(action: str, record: dict) -> list[str]:
    with pytest.raises(InvalidRecordError) as caught:
        validate(ACTIONS[action].spec, record)
    return caught.value.problems


# -- validation ---------------------------------------------------------------------------------


def test_missing_required_field_is_named() -> None:
    assert problems("cancel_event", {"reason": "x"}) == ["field 'event' is required"]


def test_alternatives_are_named_together() -> None:
    assert problems("unmark_no_show", {}) == ["field 'no_show' or 'invitee' is required"]


def test_wrong_type_names_field_and_types() -> None:
    found = problems(
        "create_webhook_subscription",
        {"url": "https://x.test/hook", "events": "invitee.created", "scope": "organization"},
    )
    assert found == ["field 'events' must be of type array, got string"]


def test_formats_are_checked_without_echoing_values() -> None:
    found = problems(
        "create_webhook_subscription",
        {
            "url": "not a url",
            "events": ["invitee.created"],
            "scope": "user",
            "signing_key": 12345,
        },
    )
    assert "field 'url' must be an http(s) URL" in found
    assert "field 'user' is required when 'scope' is 'user'" in found
    assert "field 'signing_key' must be of type string, got integer" in found
    assert not any("12345" in p for p in found)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"email": "nope"}, "field 'email' must be an email address"),
        ({"email": "a@b"}, "field 'email' must be an email address"),
        ({"email": 7}, "field 'email' must be of type string, got integer"),
    ],
)
def test_email(record: dict, expected: str) -> None:
    assert problems("invite_user", record) == [expected]


def test_ids_accept_uri_or_uuid_of_the_right_collection() -> None:
    spec = ACTIONS["cancel_event"].spec
    assert validate(spec, {"event": "ABC123"})["event"] == "ABC123"
    uri = "https://api.calendly.com/scheduled_events/ABC123"
    assert validate(spec, {"event": uri})["event"] == uri
    assert problems("cancel_event", {"event": "https://api.calendly.com/event_types/ABC123"}) == [
        "field 'event' must be a URI or UUID of scheduled_events"
    ]
    assert problems("cancel_event", {"event": "has space"}) == [
        "field 'event' must be a URI or UUID of scheduled_events"
    ]


def test_invitee_must_be_a_full_uri() -> None:
    assert problems("mark_no_show", {"invitee": "ABC"}) == [
        "field 'invitee' must be an invitee URI (https://.../scheduled_events/<uuid>/invitees/<uuid>)"
    ]


def test_date_times_need_a_zone_and_are_sent_in_utc() -> None:
    spec = ACTIONS["delete_event_data"].spec
    values = validate(
        spec, {"start_time": "2024-01-01T10:00:00+02:00", "end_time": "2024-02-01T00:00:00Z"}
    )
    assert values == {"start_time": "2024-01-01T08:00:00Z", "end_time": "2024-02-01T00:00:00Z"}
    assert problems(
        "delete_event_data", {"start_time": "2024-01-01T10:00:00", "end_time": "x"}
    ) == [
        "field 'end_time' must be an RFC 3339 date-time with a timezone, e.g. 2030-01-31T09:00:00Z",
        "field 'start_time' must be an RFC 3339 date-time with a timezone, e.g. 2030-01-31T09:00:00Z",
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            "2024-03-01T00:00:00Z",
            "2024-01-01T00:00:00Z",
            "field 'end_time' must be after 'start_time'",
        ),
        ("2090-01-01T00:00:00Z", "2090-02-01T00:00:00Z", "field 'end_time' must be in the past"),
        ("2020-01-01T00:00:00Z", "2022-01-02T00:00:00Z", "must span at most 24 months"),
    ],
)
def test_event_deletion_window_is_past_ordered_and_at_most_24_months(
    start: str, end: str, expected: str
) -> None:
    (problem,) = problems("delete_event_data", {"start_time": start, "end_time": end})
    assert expected in problem


def test_a_booking_must_be_in_the_future() -> None:
    record = {
        "event_type": "ET1",
        "start_time": "2020-01-01T10:00:00Z",
        "email": "a@b.test",
        "timezone": "UTC",
        "name": "A",
    }
    assert problems("book_meeting", record) == ["field 'start_time' must be in the future"]


def test_csv_strings_are_coerced_and_empty_cells_are_absent() -> None:
    spec = ACTIONS["create_share"].spec
    values = validate(
        spec,
        {"event_type": "ET1", "duration": "30", "hide_location": "true", "name": "", "x": 1},
    )
    assert values == {"event_type": "ET1", "duration": 30, "hide_location": True}
    assert problems("create_share", {"event_type": "ET1", "duration": "thirty"}) == [
        "field 'duration' must be of type integer, got string"
    ]


def test_json_decimals_from_the_singer_reader_become_numbers() -> None:
    from decimal import Decimal

    from target_calendly.outcomes import jsonable

    spec = ACTIONS["create_share"].spec
    values = validate(spec, jsonable({"event_type": "ET1", "duration": Decimal("30.0")}))
    assert values["duration"] == 30 and isinstance(values["duration"], int)


def test_defaults_and_enums() -> None:
    spec = ACTIONS["create_scheduling_link"].spec
    assert validate(spec, {"event_type": "ET1"})["max_event_count"] == 1
    assert problems("create_scheduling_link", {"event_type": "ET1", "max_event_count": 5}) == [
        "field 'max_event_count' must be one of 1"
    ]


def test_nested_fields_are_named_by_path() -> None:
    found = problems(
        "book_meeting",
        {
            "event_type": "ET1",
            "start_time": "2030-01-01T10:00:00Z",
            "email": "a@b.test",
            "timezone": "UTC",
            "name": "A",
            "location": {"location": "x"},
            "event_guests": ["ok@x.test", "bad"],
        },
    )
    assert found == [
        "field 'event_guests.1' must be an email address",
        "field 'location.kind' is required",
    ]


# -- responses file -----------------------------------------------------------------------------


def written(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_lines_are_redacted_and_rfc3339(tmp_path: Path) -> None:
    import datetime as dt

    path = tmp_path / "out" / "responses.jsonl"
    writer = OutcomeWriter(path, LOG)
    record = {
        "url": "https://x.test",
        "signing_key": "s3cr3t",
        "when": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    }
    writer.write(
        OutcomeLine(
            "hooks",
            "create_webhook_subscription",
            record,
            "dry_run",
            request={"body": {"signing_key": "s3cr3t"}},
        )
    )
    writer.close()
    text = path.read_text()
    assert "s3cr3t" not in text
    (line,) = written(path)
    assert line["input"]["signing_key"] == REDACTED
    assert line["request"]["body"]["signing_key"] == REDACTED
    assert line["input"]["when"] == "2024-01-02T03:04:05Z"
    assert line["at"].endswith("Z") and "T" in line["at"]
    assert set(line) == {
        "at",
        "stream",
        "action",
        "outcome",
        "input",
        "http_status",
        "response",
        "error",
        "reason",
        "request",
    }


def ledger_of(path: Path, **options: Any) -> Any:
    """The ledger a new run would read from `path` (its writer closed: no file left open)."""
    writer = OutcomeWriter(path, LOG, **options)
    try:
        return writer.ledger
    finally:
        writer.close()


def test_ledger_counts_only_final_outcomes_per_identical_record(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    writer = OutcomeWriter(path, LOG)
    link = {"event_type": "ET1"}
    for outcome in ("ok", "ok", "failed", "dry_run", "unknown"):
        writer.write(OutcomeLine("links", "create_scheduling_link", link, outcome))  # type: ignore[arg-type]
    writer.write(OutcomeLine("links", "create_scheduling_link", {"event_type": "ET2"}, "skipped"))
    replay = {"line": 1, "at": "then", "outcome": "ok"}
    writer.write(OutcomeLine("links", "create_scheduling_link", link, "skipped", replay_of=replay))
    writer.close()

    ledger = ledger_of(path)
    key = record_key("links", "create_scheduling_link", link)
    assert len(ledger) == 4
    found = [ledger.consume(key) for _ in range(4)]
    assert [e.line if e else None for e in found] == [1, 2, 5, None]
    assert [e.outcome if e else None for e in found] == ["ok", "ok", "unknown", None]
    assert ledger.consume(record_key("links", "create_scheduling_link", {"event_type": "ET2"}))
    assert not ledger.consume(record_key("other", "create_scheduling_link", link))


def test_ledger_holds_only_the_actions_it_guards(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    writer = OutcomeWriter(path, LOG)
    writer.write(OutcomeLine("gdpr", "delete_invitee_data", {"email": "a@example.com"}, "ok"))
    writer.write(OutcomeLine("links", "create_scheduling_link", {"event_type": "ET1"}, "ok"))
    writer.close()
    ledger = ledger_of(path, guarded=lambda a: a == "create_scheduling_link")
    assert not ledger.consume(record_key("gdpr", "delete_invitee_data", {"email": "a@example.com"}))
    assert ledger.consume(record_key("links", "create_scheduling_link", {"event_type": "ET1"}))


def test_an_idempotency_key_is_the_identity_of_a_record() -> None:
    first = {"event_type": "ET1", "idempotency_key": "crm-1", "note": "x"}
    assert record_key("a", "create_share", first) == record_key(
        "b", "create_share", {**first, "note": "y"}
    )
    assert record_key("a", "create_share", first) != record_key(
        "a", "create_share", {**first, "idempotency_key": "crm-2"}
    )


def test_ledger_ignores_sdc_metadata(tmp_path: Path) -> None:
    assert record_key("s", "a", {"x": 1, "_sdc_received_at": "now"}) == record_key(
        "s", "a", {"x": 1}
    )


def test_torn_last_line_is_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    good = OutcomeLine("links", "create_scheduling_link", {"event_type": "ET1"}, "ok").as_json()
    path.write_text(good + "\n" + good[:40])
    writer = OutcomeWriter(path, LOG)
    writer.write(OutcomeLine("links", "create_scheduling_link", {"event_type": "ET3"}, "ok"))
    writer.close()
    assert [line["input"]["event_type"] for line in written(path)] == ["ET1", "ET3"]
    assert len(writer.ledger) == 1


# -- STATE gate ---------------------------------------------------------------------------------


def test_state_waits_for_every_record_before_it() -> None:
    emitted: list[dict] = []
    gate = StateGate(emitted.append)
    first = gate.record_arrived()
    second = gate.record_arrived()
    gate.state_arrived({"n": 2})
    third = gate.record_arrived()
    gate.state_arrived({"n": 3})
    assert emitted == []
    gate.record_finished(second)
    assert emitted == []
    gate.record_finished(first)
    assert emitted == [{"n": 2}]
    gate.record_finished(third)
    assert emitted == [{"n": 2}, {"n": 3}]


def test_state_with_nothing_outstanding_goes_out_at_once_and_only_once() -> None:
    emitted: list[dict] = []
    gate = StateGate(emitted.append)
    gate.record_finished(gate.record_arrived())
    gate.state_arrived({})
    gate.state_arrived({"n": 1})
    gate.state_arrived({"n": 1})
    assert emitted == [{"n": 1}]


def test_a_failed_record_holds_every_later_state_back() -> None:
    emitted: list[dict] = []
    gate = StateGate(emitted.append)
    gate.record_finished(gate.record_arrived())
    gate.state_arrived({"n": 1})
    gate.record_failed(gate.record_arrived())
    gate.state_arrived({"n": 2})
    gate.record_finished(gate.record_arrived())
    gate.state_arrived({"n": 3})
    assert emitted == [{"n": 1}]


# -- date-times ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2030-01-31T09:00:00Z", "2030-01-31T09:00:00.250Z", "2030-01-31t09:00:00z"],
)
def test_z_suffixed_date_times_are_valid_whatever_the_python(value: str) -> None:
    record = {
        "event_type": "ET1",
        "start_time": value,
        "email": "a@example.com",
        "name": "A",
        "timezone": "UTC",
    }
    assert validate(ACTIONS["book_meeting"].spec, record)["start_time"].startswith("2030-01-31T09")


def test_target_and_http_parse_date_times_with_pendulum_only() -> None:
    """`datetime.fromisoformat` rejects a `Z` suffix before Python 3.11: every book_meeting and
    delete_event_data record would be invalid there. Nothing in these packages may call it."""
    root = Path(__file__).resolve().parents[2]
    calls = []
    for package in ("target_calendly", "calendly_http"):
        for source in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in ("fromisoformat", "strptime"):
                    calls.append(f"{source.relative_to(root)}:{node.lineno}")
    assert calls == []
