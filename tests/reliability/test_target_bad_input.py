"""Bad input to target-calendly: a clear error naming the line or the record, and nothing of a
bad record is sent to Calendly (write requests are counted in the sandbox's request log)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import read_jsonl, run_target
from tests.reliability.sandbox_view import TOKEN, target_config
from tests.reliability.target_inputs import record_message, schema_message, singer_input


def write_requests(sandbox: Any) -> list[Any]:
    return [e for e in list(sandbox.request_log) if e.method != "GET"]


def some_ids(sandbox: Any) -> dict[str, str]:
    store = sandbox.store
    with store.lock:
        event_type = min(t["uri"] for t in store.event_types.values() if t["active"])
        invitee = min(i["uri"] for i in store.invitees.values() if i.get("no_show") is None)
    return {"event_type": event_type, "invitee": invitee}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def target_sandbox(sandbox_factory: Any, target_installed: None) -> Any:
    return sandbox_factory(seed=70, events=30, token=TOKEN)


def test_malformed_json_line_is_named_and_stops_before_anything_after_it(
    target_sandbox: Any, tmp_path: Path
) -> None:
    ids = some_ids(target_sandbox)
    lines = [
        json.dumps(schema_message("create_scheduling_link", ["event_type"])),
        json.dumps(record_message("create_scheduling_link", {"event_type": ids["event_type"]})),
        '{"type": "RECORD", "stream": "create_scheduling_link", "record": {"event_type": ',
        json.dumps(record_message("create_scheduling_link", {"event_type": ids["event_type"]})),
    ]
    responses = tmp_path / "responses.jsonl"
    config = target_config(tmp_path / "config.json", target_sandbox, responses)

    run = run_target(config, "\n".join(lines) + "\n")

    assert run.returncode != 0, run.describe()
    assert "line 3" in run.stderr, run.describe()
    assert "Traceback" not in run.stderr, "a clear message, not a stack trace"
    assert len(write_requests(target_sandbox)) == 1, "only the record before the bad line is sent"
    assert [line["outcome"] for line in read_jsonl(responses)] == ["ok"]


def test_record_before_schema_is_named_and_not_sent(target_sandbox: Any, tmp_path: Path) -> None:
    ids = some_ids(target_sandbox)
    text = json.dumps(record_message("create_scheduling_link", {"event_type": ids["event_type"]}))
    responses = tmp_path / "responses.jsonl"
    config = target_config(tmp_path / "config.json", target_sandbox, responses)

    run = run_target(config, text + "\n")

    assert run.returncode != 0, run.describe()
    assert "create_scheduling_link" in run.stderr and "schema" in run.stderr.lower(), run.describe()
    assert not write_requests(target_sandbox)


def test_stream_without_an_action_is_refused_before_any_request(
    target_sandbox: Any, tmp_path: Path
) -> None:
    text = singer_input({"crm_contacts": [{"email": "someone@example.org"}]})
    responses = tmp_path / "responses.jsonl"
    config = target_config(tmp_path / "config.json", target_sandbox, responses)

    run = run_target(config, text)

    assert run.returncode != 0, run.describe()
    assert "crm_contacts" in run.stderr and "stream_actions" in run.stderr, run.describe()
    assert not target_sandbox.request_log, "a request was sent for a stream with no action"


BAD_RECORDS: list[tuple[str, str, dict[str, Any], str]] = [
    # (id, stream, record, field the error must name)
    ("missing-email", "invite_user", {}, "email"),
    ("invalid-email", "invite_user", {"email": "not-an-email"}, "email"),
    ("mistyped-event-type", "create_scheduling_link", {"event_type": 12345}, "event_type"),
    ("invite-uri-not-invitee", "mark_no_show", {"invitee": "https://example.org/x/y"}, "invitee"),
    (
        "webhook-url-not-http",
        "create_webhook_subscription",
        {
            "url": "ftp://hooks.example.org/x",
            "events": ["invitee.created"],
            "scope": "organization",
        },
        "url",
    ),
    (
        "book-unparseable-time",
        "book_meeting",
        {
            "start_time": "tomorrow at nine",
            "email": "a@example.org",
            "name": "A",
            "timezone": "UTC",
        },
        "start_time",
    ),
    (
        "deletion-window-in-future",
        "delete_event_data",
        {
            "start_time": iso(datetime.now(timezone.utc) + timedelta(days=10)),
            "end_time": iso(datetime.now(timezone.utc) + timedelta(days=20)),
        },
        "time",
    ),
]


@pytest.mark.parametrize(
    ("stream", "record", "field_name"),
    [pytest.param(stream, record, name, id=case) for case, stream, record, name in BAD_RECORDS],
)
def test_bad_record_gets_a_failed_line_naming_it_and_nothing_is_sent(
    target_sandbox: Any, tmp_path: Path, stream: str, record: dict[str, Any], field_name: str
) -> None:
    ids = some_ids(target_sandbox)
    if stream == "book_meeting":
        record = {**record, "event_type": ids["event_type"]}
    responses = tmp_path / "responses.jsonl"
    config = target_config(
        tmp_path / "config.json",
        target_sandbox,
        responses,
        on_error="continue",
        allow_destructive_actions=True,
        stream_actions={"good_links": "create_scheduling_link"},
    )
    good = {"event_type": ids["event_type"]}
    text = singer_input({stream: [record], "good_links": [good]})

    run = run_target(config, text)

    assert run.returncode != 0, "a run with a failed record must not exit 0"
    lines = read_jsonl(responses)
    bad_lines = [line for line in lines if line["stream"] == stream]
    assert [line["outcome"] for line in bad_lines] == ["failed"], lines
    message = bad_lines[0]["error"]["message"]
    assert f"record #1 of stream '{stream}'" in message, message
    assert field_name in message, message
    assert f"record #1 of stream '{stream}'" in run.stderr, run.describe()
    sent = [e.path for e in write_requests(target_sandbox)]
    assert sent == ["/scheduling_links"], f"only the good record may be sent, got {sent}"
