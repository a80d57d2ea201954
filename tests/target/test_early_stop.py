"""A run that stops early still gives every record it read exactly one line: batched records
still waiting for their request, and the record of a stream without an action, get a
`not_attempted` line saying why; nothing of them is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from singer_sdk.singerlib.exceptions import InvalidInputLine

from calendly_sandbox import Sandbox
from target_calendly.executor import RecordFailedError
from target_calendly.target import UnknownStreamError
from tests.target.helpers import (
    config_for,
    record,
    run_cli,
    run_target,
    schema,
    singer,
    writes,
)
from tests.target.test_actions import solo_event_type

ERASURES = [{"email": f"erase-{n}@example.com"} for n in range(3)]


def waiting_erasures() -> list[dict[str, Any]]:
    """GDPR erasures wait in their batch (batch_size 100) until the input ends."""
    return [
        schema("delete_invitee_data", "email"),
        *(record("delete_invitee_data", **erasure) for erasure in ERASURES),
    ]


def config(sandbox: Sandbox, tmp_path: Path, **settings: Any) -> dict[str, Any]:
    return config_for(sandbox, tmp_path / "r.jsonl", allow_destructive_actions=True, **settings)


def assert_erasures_not_attempted(lines: list[dict[str, Any]], why: str) -> None:
    assert [line["input"] for line in lines] == ERASURES
    for line in lines:
        assert line["outcome"] == "not_attempted", line
        assert "before it was sent" in line["reason"] and why in line["reason"], line


def test_a_malformed_line_gives_the_records_read_before_it_their_lines(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    event_type = solo_event_type(sandbox)["uri"]
    text = singer(
        *waiting_erasures(),
        schema("create_scheduling_link", "event_type"),
        record("create_scheduling_link", event_type=event_type),
    )
    text += '{"type": "RECORD", "stream": "create_scheduling_link", "record": {\n'
    text += singer(record("create_scheduling_link", event_type=event_type))

    result = run_target(config(sandbox, tmp_path), text)

    assert isinstance(result.error, InvalidInputLine) and "line 7" in str(result.error)
    link, *erasures = result.lines
    assert link["outcome"] == "ok"
    assert_erasures_not_attempted(erasures, "line 7 is not valid JSON")
    assert writes(sandbox, "/data_compliance") == []
    assert len(writes(sandbox, "/scheduling_links")) == 1


def test_a_stream_without_an_action_gets_its_line_and_so_do_waiting_records(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    messages = [
        *waiting_erasures(),
        schema("crm_contacts", "email"),
        record("crm_contacts", email="someone@example.org"),
        record("crm_contacts", email="never-read@example.org"),
    ]

    result = run_target(config(sandbox, tmp_path), messages)

    assert isinstance(result.error, UnknownStreamError)
    unrouted, *erasures = result.lines
    assert unrouted["stream"] == "crm_contacts" and unrouted["action"] is None
    assert unrouted["input"] == {"email": "someone@example.org"}
    assert unrouted["outcome"] == "not_attempted"
    assert "'crm_contacts'" in unrouted["reason"] and "stream_actions" in unrouted["reason"]
    assert_erasures_not_attempted(erasures, "UnknownStreamError")
    assert sandbox.request_log == []


def test_a_failed_record_with_on_error_fail_leaves_no_waiting_record_without_a_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    messages = [
        *waiting_erasures(),
        schema("create_scheduling_link", "event_type"),
        record("create_scheduling_link", event_type=42),
    ]

    result = run_target(config(sandbox, tmp_path), messages)

    assert isinstance(result.error, RecordFailedError)
    failed, *erasures = result.lines
    assert failed["outcome"] == "failed"
    assert_erasures_not_attempted(erasures, "RecordFailedError")
    assert sandbox.request_log == []


def test_records_before_a_stop_have_one_line_each_in_the_cli(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """As Meltano runs it: the stop is one clear line, and the file has a line per record."""
    done = run_cli(
        config(sandbox, tmp_path),
        [*waiting_erasures(), schema("crm_contacts", "email"), record("crm_contacts", email="x")],
        tmp_path,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [line["outcome"] for line in lines] == ["not_attempted"] * 4
