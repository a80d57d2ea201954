"""SIGKILL while a create's request is in flight (Calendly performed it, its answer is still on
the way), then the same input again. The write-ahead journal tells the rerun that request may
have been performed: an invitation is looked up and comes out `ok`; a scheduling link cannot
be looked up and ends `unknown`. Neither is sent twice."""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

from calendly_sandbox import Sandbox
from target_calendly.outcomes import OutcomeLine, OutcomeWriter, record_key
from tests.target.helpers import (
    TARGET_BIN,
    config_for,
    read_lines,
    run_target,
    singer,
    stream_of,
    writes,
)
from tests.target.test_actions import solo_event_type

DEADLINE_SECONDS = 120
LOG = logging.getLogger("test")


def killed_while_in_flight(
    sandbox: Sandbox, config: dict[str, Any], messages: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Run the target until the sandbox has performed the first matching write and holds its
    answer back (sandbox.lose_answers("timeout", ...) set by the caller), then SIGKILL it."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    with subprocess.Popen(
        [str(TARGET_BIN), "--config", str(config_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stdin is not None
        process.stdin.write(singer(*messages))
        process.stdin.close()
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not sandbox.answers_lost:
            assert process.poll() is None, "the target ended before its write was performed"
            assert time.monotonic() < deadline, "the write never reached the sandbox"
            time.sleep(0.005)
        process.kill()
        process.wait(timeout=DEADLINE_SECONDS)


def in_flight_config(sandbox: Sandbox, tmp_path: Path) -> dict[str, Any]:
    # The held-back answer would come after 35 s (the sandbox's stall): long before that the
    # target is killed. on_error=continue: an `unknown` record does not stop the rerun.
    return config_for(sandbox, tmp_path / "r.jsonl", request_timeout=300, on_error="continue")


def test_a_link_in_flight_at_a_kill_ends_unknown_and_is_never_sent_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    event_type = solo_event_type(sandbox)["uri"]
    messages = stream_of(
        "create_scheduling_link",
        {"event_type": event_type, "crm_id": "in-flight"},
        {"event_type": event_type, "crm_id": "after"},
    )
    config = in_flight_config(sandbox, tmp_path)
    sandbox.lose_answers("timeout", path=r"^/scheduling_links$")

    killed_while_in_flight(sandbox, config, messages, tmp_path)

    assert read_lines(tmp_path / "r.jsonl") == []
    assert len(sandbox.store.scheduling_links) == 1

    rerun = run_target(config, messages)

    in_flight, after = rerun.lines
    assert in_flight["outcome"] == "unknown", in_flight
    assert "stopped before its answer was recorded" in in_flight["error"]["message"]
    assert "cannot be looked up" in in_flight["reason"]
    assert after["outcome"] == "ok", after
    assert len(writes(sandbox, "/scheduling_links")) == 2, "the in-flight link was sent again"
    assert len(sandbox.store.scheduling_links) == 2

    third = run_target(config, messages)

    assert third.error is None, third.error
    assert third.outcomes() == ["skipped", "skipped"]
    assert [line["replay_of"]["outcome"] for line in third.lines] == ["unknown", "ok"]
    assert len(writes(sandbox, "/scheduling_links")) == 2


def test_an_invitation_in_flight_at_a_kill_is_looked_up_and_ok(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    email = "in.flight@example.com"
    messages = stream_of("invite_user", {"email": email})
    config = in_flight_config(sandbox, tmp_path)
    sandbox.lose_answers("timeout", path=r"/invitations$")

    killed_while_in_flight(sandbox, config, messages, tmp_path)
    rerun = run_target(config, messages)

    line = rerun.only()
    assert line["outcome"] == "ok", line
    assert "a lookup shows the write took effect" in line["reason"]
    assert len(writes(sandbox, "/invitations")) == 1, "the invitation was sent again"
    invited = [i for i in sandbox.store.organization_invitations.values() if i["email"] == email]
    assert len(invited) == 1 and line["response"]["uri"] == invited[0]["uri"]


def test_an_intent_is_in_flight_until_a_line_of_its_record_follows_it(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    link = {"event_type": "ET1"}
    key = record_key("links", "create_scheduling_link", link)
    writer = OutcomeWriter(path, LOG)
    writer.intend(key, "create_scheduling_link")
    writer.write(OutcomeLine("links", "create_scheduling_link", link, "ok"))
    writer.intend(key, "create_scheduling_link")  # the same record again: killed in flight
    writer.close()
    intents = path.with_name("responses.jsonl.intents")
    with intents.open("a") as journal:
        journal.write('{"key": "torn')  # killed while writing an intent: nothing was sent

    again = OutcomeWriter(path, LOG)
    again.close()

    assert len(again.in_flight) == 1
    (left,) = again.in_flight.intents()
    assert left.after_line == 1 and left.action == "create_scheduling_link"
    assert again.in_flight.take(record_key("links", "create_scheduling_link", {"x": 1})) is None
    assert again.in_flight.take(key) == left
    # The journal keeps only what is still in flight, and never a record's content.
    assert len(intents.read_text().splitlines()) == 1
    assert "ET1" not in intents.read_text()
    assert stat.S_IMODE(intents.stat().st_mode) == 0o600
