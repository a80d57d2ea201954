"""Event type actions and api_request against the sandbox, each checked in its store afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from calendly_sandbox import Sandbox
from tests.target.helpers import config_for, run_target, stream_of, writes

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def run(sb: Sandbox, tmp_path: Path, stream: str, *records: dict[str, Any], **settings: Any):
    config = config_for(sb, tmp_path / "responses.jsonl", **settings)
    result = run_target(config, stream_of(stream, *records))
    assert len(result.lines) == len(records), "every record gets exactly one line"
    return result


def uuid(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def owner(sb: Sandbox) -> str:
    return str(sb.store.current_user["uri"])


def own_solo_type(sb: Sandbox) -> dict[str, Any]:
    return next(
        t
        for _, t in sorted(sb.store.event_types.items())
        if t["kind"] == "solo" and not t["pooling_type"] and t["profile"]["owner"] == owner(sb)
    )


def week(days_off: tuple[str, ...] = ("sunday", "saturday")) -> list[dict[str, Any]]:
    return [
        {
            "type": "wday",
            "wday": day,
            "intervals": [] if day in days_off else [{"from": "10:00", "to": "16:00"}],
        }
        for day in WEEKDAYS
    ]


def test_create_event_type_then_the_same_name_is_skipped(sandbox: Sandbox, tmp_path: Path) -> None:
    record = {
        "name": "Discovery call",
        "duration": "40",
        "description": "From the CRM",
        "locations": '[{"kind": "zoom_conference"}]',
    }
    result = run(sandbox, tmp_path, "create_event_type", record, record)

    assert result.outcomes() == ["ok", "skipped"], result.lines
    created = sandbox.store.event_types[uuid(result.lines[0]["response"]["uri"])]
    assert (created["name"], created["duration"], created["description_plain"]) == (
        "Discovery call",
        40,
        "From the CRM",
    )
    assert created["profile"]["owner"] == owner(sandbox), "the token's user by default"
    assert created["locations"] == [{"kind": "zoom_conference"}]
    assert result.lines[1]["response"]["uri"] == created["uri"]
    assert [w.method for w in writes(sandbox, "/event_types")] == ["POST"]


def test_update_event_type_sends_only_changes_and_refuses_pooled_types(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    solo = own_solo_type(sandbox)
    pooled = next(t for t in sandbox.store.event_types.values() if t["pooling_type"])
    result = run(
        sandbox,
        tmp_path,
        "update_event_type",
        {"event_type": solo["uri"], "duration": 55, "name": solo["name"]},
        {"event_type": uuid(solo["uri"]), "duration": "55"},
        {"event_type": pooled["uri"], "duration": 55},
        on_error="continue",
    )

    assert result.outcomes() == ["ok", "skipped", "failed"], result.lines
    assert sandbox.store.event_types[uuid(solo["uri"])]["duration"] == 55
    assert "solo" in result.lines[2]["error"]["message"]
    assert pooled["duration"] != 55 or pooled["updated_at"] == pooled["created_at"]
    patches = [w for w in writes(sandbox, "/event_types/") if w.method == "PATCH"]
    assert len(patches) == 1


def test_create_one_off_event_type(sandbox: Sandbox, tmp_path: Path) -> None:
    setting = {"type": "date_range", "start_date": "2031-05-01", "end_date": "2031-05-09"}
    result = run(
        sandbox,
        tmp_path,
        "create_one_off_event_type",
        {
            "name": "Quarterly review",
            "duration": "60",
            "date_setting": json.dumps(setting),
            "location": '{"kind": "physical", "location": "HQ, room 4"}',
        },
    )
    assert result.outcomes() == ["ok"], result.lines
    created = sandbox.store.event_types[uuid(result.lines[0]["response"]["uri"])]
    assert (created["type"], created["name"], created["duration"]) == (
        "AdhocEventType",
        "Quarterly review",
        60,
    )
    assert created["locations"] == [{"kind": "physical", "location": "HQ, room 4"}]


def test_update_availability_takes_a_whole_schedule_only(sandbox: Sandbox, tmp_path: Path) -> None:
    solo = own_solo_type(sandbox)
    partial = [rule for rule in week() if rule["wday"] != "friday"]
    result = run(
        sandbox,
        tmp_path,
        "update_event_type_availability",
        {"event_type": solo["uri"], "timezone": "Europe/Berlin", "rules": json.dumps(partial)},
        {
            "event_type": solo["uri"],
            "timezone": "Europe/Berlin",
            "rules": json.dumps([*week(), {"type": "date", "date": "2031-12-24", "intervals": []}]),
        },
        {"event_type": solo["uri"], "timezone": "Europe/Berlin", "rules": json.dumps(week())},
        {"event_type": solo["uri"], "timezone": "Europe/Berlin", "rules": json.dumps(week())},
        on_error="continue",
    )

    assert result.outcomes() == ["failed", "ok", "ok", "skipped"], result.lines
    message = result.lines[0]["error"]["message"]
    assert "partial schedule" in message and "friday" in message
    schedule = sandbox.store.event_type_availability_schedules[uuid(solo["uri"])]
    rule = schedule["availability_rule"]
    assert rule["timezone"] == "Europe/Berlin"
    assert sorted(r["wday"] for r in rule["rules"]) == sorted(WEEKDAYS)
    assert not any(r["type"] == "date" for r in rule["rules"]), "the PATCH replaced every rule"
    assert len(writes(sandbox, "/event_type_availability_schedules")) == 2


def test_api_request_fills_placeholders_and_builds_the_body(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    contact = sorted(sandbox.store.contacts.values(), key=lambda c: c["uri"])[0]
    result = run(
        sandbox,
        tmp_path,
        "api_request",
        {
            "method": "PATCH",
            "path": "/contacts/{contact_id}",
            "contact_id": uuid(contact["uri"]),
            "company": "Raw Request Inc",
            "phone_numbers": '[{"phone_number": "+1 555 0100"}]',
            "crm_id": "0065g00000XYZ",
            "exclude": "crm_id",
            "_sdc_line_number": "2",
        },
        {"method": "get", "path": "/contacts/{contact_id}", "contact_id": uuid(contact["uri"])},
    )

    assert result.outcomes() == ["ok", "ok"], result.lines
    stored = sandbox.store.contacts[uuid(contact["uri"])]
    assert stored["company"] == "Raw Request Inc"
    assert stored["phone_numbers"] == [{"phone_number": "+1 555 0100"}]
    assert result.lines[1]["response"]["company"] == "Raw Request Inc"
    assert [w.method for w in writes(sandbox, "/contacts")] == ["PATCH"]


def test_api_request_delete_needs_allow_destructive_actions(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    contact = sorted(sandbox.store.contacts.values(), key=lambda c: c["uri"])[1]
    record = {"method": "DELETE", "path": "/contacts/{uri_id}", "uri_id": uuid(contact["uri"])}
    refused = run(sandbox, tmp_path, "api_request", record, on_error="continue")
    assert refused.outcomes() == ["failed"]
    assert "allow_destructive_actions" in refused.only()["error"]["message"]
    assert writes(sandbox) == []

    allowed = run_target(
        config_for(sandbox, tmp_path / "allowed.jsonl", allow_destructive_actions=True),
        stream_of("api_request", record),
    )
    assert allowed.outcomes() == ["ok"]
    assert uuid(contact["uri"]) not in sandbox.store.contacts


def test_api_request_bad_paths_fail_before_sending(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run(
        sandbox,
        tmp_path,
        "api_request",
        {"method": "GET", "path": "https://elsewhere.example.com/contacts"},
        {"method": "GET", "path": "/contacts/{missing}"},
        {"method": "TRACE", "path": "/contacts"},
        on_error="continue",
    )
    assert result.outcomes() == ["failed"] * 3
    assert "under api_url" in result.lines[0]["error"]["message"]
    assert "{missing}" in result.lines[1]["error"]["message"]
    assert "'method'" in result.lines[2]["error"]["message"]
    assert [e for e in sandbox.request_log if e.path.startswith("/contacts")] == []
