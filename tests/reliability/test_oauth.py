"""OAuth: an access token that dies mid-run is refreshed once and the run goes on; the rotated
refresh token lands in the file the user named, so the next run (same config) authenticates;
token requests stay within Calendly's 8 per user per minute even when every token is rejected."""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import run_tap, run_tap_watched, run_target
from tests.reliability.sandbox_view import (
    CLIENT_SECRET,
    REFRESH_TOKEN,
    oauth_sandbox_options,
    oauth_settings,
    requests_to,
    run_delivery_problems,
    tap_config,
    target_config,
    token_requests,
)
from tests.reliability.target_inputs import singer_input
from tests.reliability.watchers import ExpireTokensAfter

TOKEN_REQUESTS_PER_MINUTE = 8


def assert_rotated_file(path: Path, sandbox: Any) -> None:
    assert path.exists(), "the rotated refresh token was not saved"
    assert path.read_text(encoding="utf-8").strip() == sandbox.current_refresh_token
    assert sandbox.current_refresh_token != REFRESH_TOKEN
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, "the token file is readable by others"
    session = path.with_name(f".{path.name}.session")  # the shared access token and the lock
    assert stat.S_IMODE(session.stat().st_mode) & 0o077 == 0, "the session file is readable"
    leftovers = [p.name for p in path.parent.iterdir() if p not in (path, session)]
    assert not leftovers, f"temporary files left next to the token file: {leftovers}"


def test_tap_refreshes_once_when_the_token_dies_mid_run_and_the_next_run_authenticates(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path
) -> None:
    sb = sandbox_factory(seed=100, events=120, **oauth_sandbox_options())
    token_file = tmp_path / "secrets" / "calendly_refresh_token"
    config = tap_config(
        tmp_path / "config.json", sb, child_concurrency=4, **oauth_settings(token_file)
    )
    # Mid-run, while four workers fetch invitees concurrently: they all meet the 401 together.
    with ExpireTokensAfter(sb, "/scheduled_events/", 10) as expiry:
        run = run_tap(config)

    assert expiry.fired.is_set(), "the tokens never expired: the test proves nothing"
    assert run.returncode == 0, run.describe()
    assert not run_delivery_problems(run.output, sb)
    rejected = [e for e in sb.request_log if e.status == 401]
    assert rejected, "no request met the expired token"
    assert token_requests(sb) == 2, "one token at start, exactly one refresh after the expiry"
    assert_rotated_file(token_file, sb)

    # Same config file: its refresh_token is the original, already used one. The file's
    # access token is still valid: the next run uses it instead of refreshing.
    second = run_tap(config)
    assert second.returncode == 0, second.describe()
    assert token_requests(sb) == 2
    sb.expire_access_tokens()
    after_expiry = run_tap(config)
    assert after_expiry.returncode == 0, after_expiry.describe()
    assert token_requests(sb) == 3, "refreshed from the file's token, not the configured one"
    assert_rotated_file(token_file, sb)

    # Without the files, the configured token is stale: a clear failure, not a loop.
    token_file.unlink()
    token_file.with_name(f".{token_file.name}.session").unlink()
    third = run_tap(config)
    assert third.returncode != 0
    assert "refresh_token" in third.stderr, third.describe()
    assert token_requests(sb) == 4


def test_target_refreshes_once_when_the_token_dies_mid_run(
    sandbox_factory: Any, target_installed: None, tmp_path: Path
) -> None:
    sb = sandbox_factory(seed=101, events=60, **oauth_sandbox_options())
    with sb.store.lock:
        types = sorted(t["uri"] for t in sb.store.event_types.values() if t["active"])[:10]
    token_file = tmp_path / "secrets" / "refresh_token"
    responses = tmp_path / "responses.jsonl"
    config = target_config(tmp_path / "config.json", sb, responses, **oauth_settings(token_file))
    with ExpireTokensAfter(sb, "/scheduling_links", 3) as expiry:
        run = run_target(
            config, singer_input({"create_scheduling_link": [{"event_type": t} for t in types]})
        )

    assert expiry.fired.is_set()
    assert run.returncode == 0, run.describe()
    assert len(requests_to(sb, "POST", "/scheduling_links")) >= len(types)
    with sb.store.lock:
        assert len(sb.store.scheduling_links) == len(types), (
            "a link was created twice or not at all"
        )
    assert token_requests(sb) == 2
    assert_rotated_file(token_file, sb)


@pytest.mark.parametrize("plugin", ["tap", "target"])
def test_rejected_access_tokens_fail_clearly_without_a_refresh_loop(
    sandbox_factory: Any, tap_installed: None, target_installed: None, tmp_path: Path, plugin: str
) -> None:
    # access_token_ttl=0: every access token the sandbox issues is already expired.
    sb = sandbox_factory(seed=102, events=20, **oauth_sandbox_options(access_token_ttl=0))
    token_file = tmp_path / "refresh_token"
    settings = oauth_settings(token_file)
    if plugin == "tap":
        run = run_tap(tap_config(tmp_path / "config.json", sb, **settings))
    else:
        responses = tmp_path / "responses.jsonl"
        config = target_config(tmp_path / "config.json", sb, responses, **settings)
        with sb.store.lock:
            types = sorted(t["uri"] for t in sb.store.event_types.values() if t["active"])[:3]
        run = run_target(
            config, singer_input({"create_scheduling_link": [{"event_type": t} for t in types]})
        )

    assert run.returncode != 0, run.describe()
    token_calls = requests_to(sb, "POST", "/oauth/token")
    assert len(token_calls) <= TOKEN_REQUESTS_PER_MINUTE, f"{len(token_calls)} token requests"
    assert all(e.status != 429 for e in token_calls), "Calendly's token rate limit was hit"
    assert "client_id" in run.stderr or "credentials" in run.stderr, run.describe()
    assert "Traceback" not in run.stderr.splitlines()[-1]


def test_short_lived_access_tokens_do_not_cause_a_refresh_per_request(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path
) -> None:
    """A token valid for 30 s serves a 3-second sync: one token request, not one per request."""
    sb = sandbox_factory(seed=103, events=40, **oauth_sandbox_options(access_token_ttl=30))
    token_file = tmp_path / "refresh_token"
    run = run_tap(tap_config(tmp_path / "config.json", sb, **oauth_settings(token_file)))

    assert run.returncode == 0, run.describe()
    assert token_requests(sb) <= 2, f"{token_requests(sb)} token requests for one short sync"


@pytest.mark.parametrize("kind", ["503", "reset", "truncate"])
def test_token_endpoint_failure_is_a_clear_error(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path, kind: str
) -> None:
    """The refresh itself fails (an outage, or a rotation answer lost in transit)."""
    sb = sandbox_factory(
        seed=104,
        events=20,
        **oauth_sandbox_options(fault_rate=1.0, fault_kinds=(kind,), fault_oauth=True),
    )
    token_file = tmp_path / "refresh_token"
    run = run_tap(tap_config(tmp_path / "config.json", sb, **oauth_settings(token_file)))

    assert run.returncode != 0
    assert token_requests(sb) <= TOKEN_REQUESTS_PER_MINUTE
    last_line = run.stderr.strip().splitlines()[-1]  # (tracebacks: see test_bad_config)
    assert "OAuth" in last_line and "/oauth/token" in last_line, run.describe()
    for secret in (REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in run.stderr + run.stdout


def test_tap_killed_right_after_a_refresh_leaves_a_token_the_next_run_can_use(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path
) -> None:
    """SIGKILL as soon as the sandbox has served a request made with the new access token: the
    rotated refresh token must already be on disk (persisted before use), or the next run of a
    crashed pipeline could never authenticate again."""
    sb = sandbox_factory(seed=105, events=20, **oauth_sandbox_options())
    token_file = tmp_path / "secrets" / "refresh_token"
    config = tap_config(tmp_path / "config.json", sb, **oauth_settings(token_file))

    def first_authenticated_request(process: subprocess.Popen[str]) -> bool:
        if any(e.path != "/oauth/token" and e.status == 200 for e in list(sb.request_log)):
            process.send_signal(signal.SIGKILL)
            return True
        return False

    killed = run_tap_watched(config, first_authenticated_request, poll_seconds=0.0005)
    assert killed.killed, killed.describe()

    rerun = run_tap(config)
    assert rerun.returncode == 0, rerun.describe()
    assert_rotated_file(token_file, sb)


class RunOtherWhileTapIsFrozen:
    """Once the tap is well into its sync: freeze it (SIGSTOP), kill every access token, run the
    other program (the target, or a second tap) to its end on the same token file, thaw the
    tap. The tap's next request meets a 401 while the refresh token it last saw has been
    rotated by the other run: the overlap the prod environment in meltano.yml sets up, forced
    deterministically."""

    def __init__(
        self, sandbox: Any, token_file: Path, run_other: Any, after_requests: int = 15
    ) -> None:
        self._sandbox = sandbox
        self._lock_file = token_file.with_name(f".{token_file.name}.session")
        self._run_other = run_other
        self._after = after_requests
        self.other: Any = None

    def __call__(self, process: subprocess.Popen[str]) -> bool:
        served = [e for e in self._sandbox.request_log if e.path != "/oauth/token"]
        if len(served) < self._after:
            return False
        process.send_signal(signal.SIGSTOP)
        wait_until_stopped(process.pid)
        if self._lock_held():
            # Frozen inside a refresh: the other run would wait for the lock until the tap
            # thawed, which only happens once the other run ends. Try again a moment later.
            process.send_signal(signal.SIGCONT)
            return False
        try:
            self._sandbox.expire_access_tokens()
            self.other = self._run_other()
        finally:
            process.send_signal(signal.SIGCONT)
        return True  # stop watching; the tap runs on to its end

    def _lock_held(self) -> bool:
        """Whether a process holds the token file's lock (the one the plugins renew under)."""
        if not self._lock_file.exists():
            return False
        fd = os.open(self._lock_file, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing releases a lock this check took
        return False


def wait_until_stopped(pid: int) -> None:
    """SIGSTOP is asynchronous: wait until every thread of `pid` is in the stopped state."""
    while not all(_stopped(task) for task in Path(f"/proc/{pid}/task").iterdir()):
        time.sleep(0.001)


def _stopped(task: Path) -> bool:
    try:
        state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True  # the thread ended
    return state in ("t", "T")


@pytest.mark.parametrize("other", ["target", "tap"])
def test_overlapping_runs_share_the_rotating_token_file_and_a_third_run_works(
    sandbox_factory: Any, tap_installed: None, target_installed: None, tmp_path: Path, other: str
) -> None:
    sb = sandbox_factory(
        seed=104, events=120, latency_ms=5, **oauth_sandbox_options(access_token_ttl=120)
    )
    token_file = tmp_path / "secrets" / "refresh_token"
    settings = oauth_settings(token_file)  # both configs keep the original refresh_token
    tap = tap_config(tmp_path / "tap.json", sb, **settings)
    responses = tmp_path / "responses.jsonl"
    target = target_config(tmp_path / "target.json", sb, responses, **settings)
    with sb.store.lock:
        types = sorted(t["uri"] for t in sb.store.event_types.values() if t["active"])[:3]
    links = singer_input({"create_scheduling_link": [{"event_type": t} for t in types]})
    second_tap = tap_config(tmp_path / "tap2.json", sb, **settings)
    overlap = RunOtherWhileTapIsFrozen(
        sb,
        token_file,
        lambda: run_target(target, links) if other == "target" else run_tap(second_tap),
    )

    first = run_tap_watched(tap, overlap, poll_seconds=0.001)

    assert overlap.other is not None, "the tap ended before the overlap: the test proves nothing"
    assert overlap.other.returncode == 0, overlap.other.describe()
    assert first.returncode == 0, first.describe()
    assert not run_delivery_problems(first.output, sb)
    grants = requests_to(sb, "POST", "/oauth/token")
    assert [e.status for e in grants] == [200] * len(grants), "a rotated refresh token was sent"
    assert sb.oauth_revocations == 0
    # The tap started (1); the other run refreshed after the expiry (2); the tap, thawed, took
    # its new access token from the session file instead of refreshing in turn.
    assert len(grants) == 2, f"{len(grants)} token requests"
    assert_rotated_file(token_file, sb)

    third = run_tap(tap)
    assert third.returncode == 0, third.describe()
    assert sb.oauth_revocations == 0
    assert_rotated_file(token_file, sb)
