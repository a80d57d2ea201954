"""The target's writes go through the shared client: faults are retried, the rate limit is
respected, and refused credentials stop the run whatever `on_error` says."""

from __future__ import annotations

from pathlib import Path

from calendly_sandbox import Sandbox
from target_calendly.executor import RecordFailedError
from tests.target.helpers import config_for, run_target, stream_of, writes

EMAILS = [f"hire{n}@example.com" for n in range(8)]


def invited(sb: Sandbox) -> list[str]:
    return sorted(i["email"] for i in sb.store.organization_invitations.values())


def test_server_errors_and_resets_are_retried_without_double_writes(tmp_path: Path) -> None:
    with Sandbox(
        seed=3, events=20, plan="enterprise", fault_rate=0.35, fault_kinds=("500", "503", "reset")
    ) as sb:
        before = invited(sb)
        result = run_target(
            config_for(sb, tmp_path / "r.jsonl"),
            stream_of("invite_user", *({"email": email} for email in EMAILS)),
        )
        assert result.error is None
        assert result.outcomes() == ["ok"] * len(EMAILS)
        faulted_writes = [f for f in sb.faults_injected if f[0] == "POST"]
        assert faulted_writes, "the seeded faults should hit some invitation POSTs"
        assert invited(sb) == sorted(before + EMAILS)


def test_writes_are_paced_by_the_rate_limit_headers(tmp_path: Path) -> None:
    """The shared throttle reads X-RateLimit-Remaining/Reset: at 3 requests per 1-second window
    the run waits for each new window instead of meeting 429s (the wait rules for a 429 that
    does happen are calendly_http's, unit-tested there)."""
    with Sandbox(seed=1, events=20, plan="enterprise", rate_limit=3, rate_window_seconds=1) as sb:
        # The sandbox counts per 1-second window; the pace (per minute) is set to match it, so
        # only Remaining/Reset hold the run back.
        config = config_for(sb, tmp_path / "r.jsonl", requests_per_minute=600)
        result = run_target(config, stream_of("invite_user", *({"email": e} for e in EMAILS)))
        assert result.error is None
        assert result.outcomes() == ["ok"] * len(EMAILS)
        assert [entry.status for entry in sb.request_log if entry.status == 429] == []
        assert len([w for w in writes(sb, "/invitations") if w.status == 201]) == len(EMAILS)


def test_refused_credentials_stop_even_with_on_error_continue(tmp_path: Path) -> None:
    with Sandbox(seed=1, events=20, plan="enterprise") as sb:
        config = {
            **config_for(sb, tmp_path / "r.jsonl", on_error="continue"),
            "token": "wrong-token-123",
        }
        result = run_target(config, stream_of("invite_user", *({"email": e} for e in EMAILS)))
        assert isinstance(result.error, RecordFailedError)
        assert "credentials were refused" in str(result.error)
        line = result.only()
        assert line["http_status"] == 401
        assert "`token`" in line["error"]["message"]
        assert "wrong-token-123" not in (tmp_path / "r.jsonl").read_text()
        assert "wrong-token-123" not in str(result.error)


def test_a_lost_answer_is_looked_up_never_blindly_resent(tmp_path: Path) -> None:
    """A cut-short answer comes after Calendly did the write. Invitations can be looked up (ok,
    with the invitation found); a single-use link cannot, so it is `unknown`, not sent twice."""
    with Sandbox(
        seed=5, events=20, plan="enterprise", fault_rate=0.3, fault_kinds=("truncate",)
    ) as sb:
        event_type = next(t for t in sb.store.event_types.values() if t["active"])
        links = [{"event_type": event_type["uri"], "n": n} for n in range(6)]
        messages = [
            *stream_of("invite_user", *({"email": e} for e in EMAILS)),
            *stream_of("create_scheduling_link", *links),
        ]
        config = config_for(sb, tmp_path / "r.jsonl", on_error="continue")
        result = run_target(config, messages)

        truncated = {path for method, path, _ in sb.faults_injected if method == "POST"}
        assert any("/invitations" in p for p in truncated), "no invitation answer was cut short"
        assert "/scheduling_links" in truncated, "no link answer was cut short"
        invites, link_lines = result.lines[: len(EMAILS)], result.lines[len(EMAILS) :]
        assert [line["outcome"] for line in invites] == ["ok"] * len(EMAILS)
        recovered = [line for line in invites if line["http_status"] is None]
        assert recovered and all(line["response"]["email"] for line in recovered)
        assert len(set(invited(sb))) == len(invited(sb))  # no email invited twice
        lost = [line for line in link_lines if line["outcome"] != "ok"]
        assert lost and all(line["outcome"] == "unknown" for line in lost)
        assert all("cannot be looked up" in line["error"]["message"] for line in lost)
        assert len(writes(sb, "/scheduling_links")) == len(links)  # none resent
        assert len(sb.store.scheduling_links) == len(links)
