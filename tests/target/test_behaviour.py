"""Run-level behaviour: dry run, the destructive guard, on_error, STATE, bad input, secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calendly_sandbox import Sandbox
from target_calendly.executor import RecordFailedError
from target_calendly.target import (
    DestructiveActionRefusedError,
    RunFailedError,
    UnknownStreamError,
)
from tests.target.helpers import (
    TOKEN,
    config_for,
    read_lines,
    record,
    run_cli,
    run_target,
    schema,
    singer,
    state,
    stream_of,
    writes,
)
from tests.target.test_actions import future_events, members, solo_event_type, uuid


def test_dry_run_resolves_but_sends_no_write(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)
    (member,) = members(sandbox)
    messages = [
        *stream_of("create_scheduling_link", {"event_type": uuid(event_type["uri"])}),
        *stream_of("remove_user", {"email": member["user"]["email"]}),
        *stream_of("delete_invitee_data", {"email": "a@example.com"}, {"email": "b@example.com"}),
    ]
    result = run_target(config_for(sandbox, tmp_path / "r.jsonl", dry_run=True), messages)
    assert result.error is None
    assert result.outcomes() == ["dry_run"] * 4
    link, removal, *deletions = result.lines
    assert link["request"]["body"]["owner"] == event_type["uri"]
    assert removal["request"] == {
        "method": "DELETE",
        "url": f"{sandbox.base_url}/organization_memberships/{uuid(member['uri'])}",
        "body": None,
    }
    assert deletions[0]["request"]["body"] == {"emails": ["a@example.com", "b@example.com"]}
    assert writes(sandbox) == []
    assert any(entry.path == "/organization_memberships" for entry in sandbox.request_log)
    assert uuid(member["uri"]) in sandbox.store.organization_memberships


def test_a_dry_run_leaves_nothing_final_behind(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)
    messages = stream_of("create_scheduling_link", {"event_type": event_type["uri"]})
    config = config_for(sandbox, tmp_path / "r.jsonl")
    assert run_target({**config, "dry_run": True}, messages).outcomes() == ["dry_run"]
    assert run_target(config, messages).outcomes() == ["ok"]
    assert len(writes(sandbox, "/scheduling_links")) == 1


@pytest.mark.parametrize("where", ["stream_actions", "stream name"])
def test_destructive_action_refused_before_any_request(
    sandbox: Sandbox, tmp_path: Path, where: str
) -> None:
    (event,) = future_events(sandbox)
    stream = "crm_lost_deals" if where == "stream_actions" else "cancel_event"
    extra = (
        {"stream_actions": {"crm_lost_deals": "cancel_event"}} if stream != "cancel_event" else {}
    )
    config = config_for(sandbox, tmp_path / "r.jsonl", **extra)
    result = run_target(config, stream_of(stream, {"event": event["uri"]}))
    assert isinstance(result.error, DestructiveActionRefusedError)
    assert "allow_destructive_actions: true" in str(result.error)
    assert list(sandbox.request_log) == []
    assert sandbox.store.scheduled_events[uuid(event["uri"])]["status"] == "active"


def test_cli_refusal_is_one_clear_line_and_exit_1(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_for(sandbox, tmp_path / "r.jsonl")
    done = run_cli(config, stream_of("delete_event_data", {"start_time": "x"}), tmp_path)
    assert done.returncode == 1
    assert "allow_destructive_actions: true" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert list(sandbox.request_log) == []


def test_unknown_stream_names_stream_and_lists_actions(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_target(
        config_for(sandbox, tmp_path / "r.jsonl"), stream_of("contacts", {"email": "a@b.co"})
    )
    assert isinstance(result.error, UnknownStreamError)
    assert "'contacts'" in str(result.error)
    assert "cancel_event, mark_no_show" in str(result.error)
    assert list(sandbox.request_log) == []


def test_unknown_action_in_stream_actions_is_a_config_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = config_for(sandbox, tmp_path / "r.jsonl", stream_actions={"x": "cancel_meeting"})
    result = run_target(config, [])
    assert result.error is not None
    assert "stream_actions" in str(result.error) and "'cancel_meeting'" in str(result.error)


def test_unwritable_responses_path_is_a_config_error(sandbox: Sandbox, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    config = config_for(sandbox, blocker / "responses.jsonl")
    result = run_target(config, stream_of("invite_user", {"email": "a@example.com"}))
    assert result.error is not None
    assert "Setting `responses_path`: cannot write" in str(result.error)
    assert list(sandbox.request_log) == []


def test_invalid_records_are_reported_and_nothing_is_sent(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)
    messages = [
        schema("create_scheduling_link", "event_type", "max_event_count"),
        record("create_scheduling_link"),
        record("create_scheduling_link", event_type=42),
        record("create_scheduling_link", event_type="https://x.test/users/ABC"),
        record("create_scheduling_link", event_type=event_type["uri"], max_event_count="two"),
        schema("invite_user", "email"),
        record("invite_user", email="not-an-email"),
    ]
    result = run_target(config_for(sandbox, tmp_path / "r.jsonl", on_error="continue"), messages)
    assert isinstance(result.error, RunFailedError)
    assert result.outcomes() == ["failed"] * 5
    messages_ = [line["error"]["message"] for line in result.lines]
    assert {line["error"]["title"] for line in result.lines} == {"Invalid record"}
    assert "stream 'create_scheduling_link'" in messages_[0]
    assert "field 'event_type' is required" in messages_[0]
    assert "field 'event_type' must be of type string, got integer" in messages_[1]
    assert "field 'event_type' must be a URI or UUID of event_types" in messages_[2]
    assert "field 'max_event_count' must be one of 1" in messages_[3]
    assert "field 'email' must be an email address" in messages_[4]
    assert list(sandbox.request_log) == []


def test_on_error_fail_stops_after_recording_the_failure(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)
    messages = [
        schema("create_scheduling_link", "event_type"),
        record("create_scheduling_link", event_type=event_type["uri"]),
        state({"n": 1}),
        record("create_scheduling_link", event_type="NOSUCHTYPE"),
        record("create_scheduling_link", event_type=event_type["uri"]),
        state({"n": 3}),
    ]
    result = run_target(config_for(sandbox, tmp_path / "r.jsonl"), messages)
    assert isinstance(result.error, RecordFailedError)
    assert "record #2 of stream 'create_scheduling_link'" in str(result.error)
    assert result.outcomes() == ["ok", "failed"]
    failed = result.lines[1]
    assert failed["http_status"] == 404
    assert failed["error"]["message"]  # Calendly's message
    assert result.states == [{"n": 1}]
    assert len(writes(sandbox, "/scheduling_links")) == 2


def test_on_error_continue_goes_on_and_fails_at_the_end(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)
    messages = [
        *stream_of(
            "create_scheduling_link",
            {"event_type": "NOSUCHTYPE"},
            {"event_type": event_type["uri"]},
        ),
        state({"n": 2}),
    ]
    config = config_for(sandbox, tmp_path / "r.jsonl", on_error="continue")
    result = run_target(config, messages)
    assert isinstance(result.error, RunFailedError)
    assert "1 record(s) failed (create_scheduling_link: 1)" in str(result.error)
    assert str(tmp_path / "r.jsonl") in str(result.error)
    assert result.outcomes() == ["failed", "ok"]
    # The bookmark must not pass the failed record, or the next run would never send it again.
    assert result.states == []


def test_on_error_continue_never_releases_a_state_past_a_failed_record(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    event_type = solo_event_type(sandbox)["uri"]
    messages = [
        schema("create_scheduling_link", "event_type"),
        record("create_scheduling_link", event_type=event_type),
        state({"n": 1}),
        record("create_scheduling_link", event_type="NOSUCHTYPE"),
        state({"n": 2}),
        record("create_scheduling_link", event_type=event_type),
        state({"n": 3}),
    ]
    config = config_for(sandbox, tmp_path / "r.jsonl", on_error="continue")
    result = run_target(config, messages)
    assert isinstance(result.error, RunFailedError)
    assert result.outcomes() == ["ok", "failed", "ok"]
    assert result.states == [{"n": 1}]


def test_state_waits_for_batched_records_and_batching_survives_chatty_state(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    event_type = solo_event_type(sandbox)
    messages: list[dict] = [schema("delete_invitee_data", "email")]
    for n in range(5):
        messages += [record("delete_invitee_data", email=f"p{n}@example.com"), state({"n": n})]
    messages += stream_of("create_scheduling_link", {"event_type": event_type["uri"]})
    messages.append(state({"n": "end"}))
    config = config_for(sandbox, tmp_path / "r.jsonl", allow_destructive_actions=True, batch_size=2)
    result = run_target(config, messages)
    assert result.error is None
    assert len(writes(sandbox, "/data_compliance/deletion/invitees")) == 3
    # A STATE goes out only once every record before it has a line: {"n": 0} waits for the
    # first batch (p0, p1); {"n": 4} waits for the last batch, sent at the end of input, by
    # which time {"n": "end"} supersedes it.
    assert result.states == [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}, {"n": "end"}]
    lines = read_lines(tmp_path / "r.jsonl")
    assert [line["action"] for line in lines] == ["delete_invitee_data"] * 4 + [
        "create_scheduling_link",
        "delete_invitee_data",
    ]


def test_record_before_schema_gets_a_failed_line(sandbox: Sandbox, tmp_path: Path) -> None:
    messages = [record("invite_user", email="a@example.com"), schema("invite_user", "email")]
    result = run_target(config_for(sandbox, tmp_path / "r.jsonl"), messages)
    assert result.error is not None and "before a corresponding schema" in str(result.error)
    line = result.only()
    assert line["outcome"] == "failed"
    assert line["error"]["title"] == "Record before schema"
    assert list(sandbox.request_log) == []


def test_malformed_json_line_is_named_by_number(sandbox: Sandbox, tmp_path: Path) -> None:
    text = (
        singer(schema("invite_user", "email"))
        + '{"type": "RECORD", "stream": "invite_user", "record": {"email": "x@y.co", "signing_key": "sk-1"\n'
    )
    done = run_cli(config_for(sandbox, tmp_path / "r.jsonl"), text, tmp_path)
    assert done.returncode == 1
    assert "Input line 2 is not valid JSON" in done.stderr
    assert "sk-1" not in done.stderr
    assert list(sandbox.request_log) == []


def test_secrets_never_reach_the_file_stderr_or_stdout(sandbox: Sandbox, tmp_path: Path) -> None:
    hook = {
        "url": "https://crm.example.com/hook",
        "events": ["invitee.created"],
        "scope": "organization",
        "signing_key": "whsec-super-secret",
    }
    bad_hook = {**hook, "url": "not a url"}
    messages = [*stream_of("create_webhook_subscription", hook, bad_hook), state({"ok": 1})]
    config = config_for(sandbox, tmp_path / "r.jsonl", on_error="continue")
    done = run_cli(config, messages, tmp_path)
    assert done.returncode == 1
    file_text = (tmp_path / "r.jsonl").read_text()
    for secret in (TOKEN, "whsec-super-secret"):
        assert secret not in file_text
        assert secret not in done.stderr
        assert secret not in done.stdout
    assert done.stdout == ""  # no STATE passes the failed record
    assert [json.loads(line)["outcome"] for line in file_text.splitlines()] == ["ok", "failed"]


def test_plan_gate_fails_once_then_stops_asking(tmp_path: Path) -> None:
    with Sandbox(seed=1, events=20, plan="teams") as sb:
        messages = stream_of(
            "delete_event_data",
            *(
                {"start_time": f"2024-0{m}-01T00:00:00Z", "end_time": f"2024-0{m}-02T00:00:00Z"}
                for m in (1, 2, 3)
            ),
        )
        config = config_for(
            sb, tmp_path / "r.jsonl", allow_destructive_actions=True, on_error="continue"
        )
        result = run_target(config, messages)
        assert isinstance(result.error, RunFailedError)
        assert result.outcomes() == ["failed"] * 3
        assert result.lines[0]["http_status"] == 403
        assert "upgrade" in result.lines[0]["error"]["message"].lower()
        assert "not sent" in result.lines[1]["error"]["message"]
        assert len(writes(sb, "/data_compliance")) == 1


def test_a_plan_refusal_holds_back_only_subscriptions_to_the_same_events(tmp_path: Path) -> None:
    """On Free, routing-form events are refused while invitee events are allowed (2026-11-03)."""
    with Sandbox(seed=1, events=20, plan="free") as sb:

        def hook(name: str, *events: str) -> dict[str, object]:
            return {
                "url": f"https://crm.example.com/{name}",
                "events": list(events),
                "signing_key": f"key-for-{name}",
            }

        records = [
            {**hook("routing", "routing_form_submission.created"), "scope": "organization"},
            {**hook("bookings", "invitee.created", "invitee.canceled"), "scope": "organization"},
            {**hook("routing-2", "routing_form_submission.created"), "scope": "organization"},
        ]
        config = config_for(sb, tmp_path / "r.jsonl", on_error="continue")
        result = run_target(config, stream_of("create_webhook_subscription", *records))
        assert result.outcomes() == ["failed", "ok", "failed"]
        assert "upgrade" in result.lines[0]["error"]["message"].lower()
        assert "not sent" in result.lines[2]["error"]["message"]
        assert [w.status for w in writes(sb, "/webhook_subscriptions")] == [403, 201]
        assert {h["callback_url"] for h in sb.store.webhook_subscriptions.values()} >= {
            "https://crm.example.com/bookings"
        }


def test_tap_shaped_records_adapt_with_stream_maps(sandbox: Sandbox, tmp_path: Path) -> None:
    """A warehouse or tap stream keeps its own name and columns: `stream_actions` picks the
    action and the SDK's `stream_maps` derive the action's fields from the columns."""
    (event,) = future_events(sandbox)
    config = config_for(
        sandbox,
        tmp_path / "r.jsonl",
        allow_destructive_actions=True,
        stream_actions={"scheduled_events": "cancel_event"},
        stream_maps={"scheduled_events": {"event": "uri", "reason": "'Closed-lost in the CRM'"}},
    )
    messages = [
        schema("scheduled_events", "uri", "name", "status", key_properties=["uri"]),
        record("scheduled_events", uri=event["uri"], name=event["name"], status="active"),
    ]
    line = run_target(config, messages).only()
    assert line["outcome"] == "ok", line
    canceled = sandbox.store.scheduled_events[uuid(event["uri"])]
    assert canceled["status"] == "canceled"
    assert canceled["cancellation"]["reason"] == "Closed-lost in the CRM"


def test_bad_setting_is_named_without_echoing_a_secret(sandbox: Sandbox, tmp_path: Path) -> None:
    config = {
        **config_for(sandbox, tmp_path / "r.jsonl"),
        "client_secret": {"value": "cs-SECRET-1"},
        "on_error": "sometimes",
    }
    done = run_cli(config, stream_of("invite_user", {"email": "a@example.com"}), tmp_path)
    assert done.returncode == 1
    assert "in config['client_secret']" in done.stderr
    assert "is not one of ['fail', 'continue'] in config['on_error']" in done.stderr
    assert "cs-SECRET-1" not in done.stderr + done.stdout
    assert list(sandbox.request_log) == []
