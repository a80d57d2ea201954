"""Personal data stays private: request logs at DEBUG mask the values of personal query
parameters (invitees' emails are looked up by email), and the files the target writes (the
responses file and its write-ahead journal) are created 0600 whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from calendly_http.redaction import without_personal_query
from calendly_sandbox import Sandbox
from tests.target.helpers import config_for, run_cli, run_target, stream_of
from tests.target.test_actions import solo_event_type

EMAIL = "priya.private@example.org"


def test_debug_request_logs_carry_no_email(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_for(sandbox, tmp_path / "r.jsonl", allow_destructive_actions=True)
    messages = [
        *stream_of("revoke_invitation", {"email": EMAIL}),
        *stream_of("remove_user", {"email": EMAIL}),
    ]

    done = run_cli(config, messages, tmp_path, env={"LOGLEVEL": "DEBUG"})

    assert done.returncode == 0, done.stderr
    assert "email=***" in done.stderr, "no request line was logged: the test proves nothing"
    for form in (EMAIL, EMAIL.replace("@", "%40"), "priya.private"):
        assert form not in done.stderr


def test_personal_query_values_are_masked_and_their_names_kept() -> None:
    line = '"GET /scheduled_events?invitee_email=a%40b.co&count=100&name=Ana+P&status=active"'
    assert without_personal_query(line) == (
        '"GET /scheduled_events?invitee_email=***&count=100&name=***&status=active"'
    )
    assert without_personal_query("/users/me?organization=x") == "/users/me?organization=x"


def test_files_holding_personal_data_are_created_private_whatever_the_umask(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    responses = tmp_path / "r.jsonl"
    event_type = solo_event_type(sandbox)["uri"]
    previous = os.umask(0o002)
    try:
        result = run_target(
            config_for(sandbox, responses),
            stream_of("create_scheduling_link", {"event_type": event_type}),
        )
    finally:
        os.umask(previous)

    assert result.outcomes() == ["ok"]
    written = [responses, responses.with_name(responses.name + ".intents")]
    assert all(path.exists() for path in written)
    assert {stat.S_IMODE(path.stat().st_mode) for path in written} == {0o600}
