"""tap-calendly as users run it: --about, --discover, plan-gated streams, bad credentials."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from calendly_sandbox import Sandbox
from tap_calendly.streams import OPT_IN_STREAMS, STREAM_TYPES
from tap_calendly.tap import TapCalendly
from tests.tap.conftest import TAP_EXECUTABLE, run_cli, tap_config

ENTERPRISE_ONLY = {"activity_log_entries", "outgoing_communications"}


def test_about_markdown_documents_every_setting() -> None:
    done = subprocess.run(
        [str(TAP_EXECUTABLE), "--about", "--format", "markdown"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = {
        line.split("|")[1].strip(): line.split("|")[4].strip()
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| Setting")
    }
    for setting in TapCalendly.config_jsonschema["properties"]:
        assert rows.get(setting), f"setting {setting!r} has no description in --about"
    for setting in ("token", "client_id", "client_secret", "refresh_token", "organization"):
        assert setting in rows
    for setting in ("start_date", "api_url", "lookback_days", "child_concurrency"):
        assert setting in rows
    secrets = {
        name
        for name, spec in TapCalendly.config_jsonschema["properties"].items()
        if spec.get("secret")
    }
    assert secrets == {"token", "client_secret", "refresh_token"}


def test_discover_lists_every_stream_without_any_request(tmp_path: Path) -> None:
    with Sandbox(seed=1, events=20) as sandbox:
        run = run_cli(tmp_path, tap_config(sandbox), "--discover")
        assert run.returncode == 0, run.stderr
        assert sandbox.request_log == []
    catalog = json.loads(run.stdout)  # type: ignore[attr-defined]
    entries = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    assert set(entries) == {s.name for s in STREAM_TYPES}
    assert entries["scheduled_events"]["replication_key"] == "updated_at"
    assert entries["invitees"]["key_properties"] == ["uri"]


def test_enterprise_streams_are_skipped_with_a_warning_on_a_teams_plan(tmp_path: Path) -> None:
    with Sandbox(seed=1, events=30, plan="teams") as sandbox:
        run = run_cli(tmp_path, tap_config(sandbox))
    assert run.returncode == 0, run.stderr
    assert sandbox.token not in run.stderr + run.stdout  # type: ignore[attr-defined]
    for stream in ENTERPRISE_ONLY:
        assert not run.records.get(stream)
        warning = next(
            line for line in run.stderr.splitlines() if f"Skipping stream '{stream}'" in line
        )
        assert "WARNING" in warning and "Enterprise" in warning
        assert stream not in run.final_state["bookmarks"] or not run.bookmark(stream)
    synced = {stream for stream, rows in run.records.items() if rows}
    assert synced == {s.name for s in STREAM_TYPES} - ENTERPRISE_ONLY - set(OPT_IN_STREAMS)


def test_the_free_plan_reads_webhooks_and_skips_only_paid_features(tmp_path: Path) -> None:
    """Webhook subscriptions are on every plan since 2026-11-03; meeting recaps still are not."""
    with Sandbox(seed=1, events=30, plan="free") as sandbox:
        run = run_cli(tmp_path, tap_config(sandbox))
        subscriptions = {h["uri"] for h in sandbox.store.webhook_subscriptions.values()}
    assert run.returncode == 0, run.stderr
    assert "Skipping stream 'webhook_subscriptions'" not in run.stderr
    assert (
        subscriptions and {r["uri"] for r in run.records["webhook_subscriptions"]} == subscriptions
    )
    assert "Skipping stream 'meeting_recaps'" in run.stderr
    assert run.records["scheduled_events"] and run.records["invitees"]


def test_a_rejected_token_fails_with_one_message_naming_the_setting(tmp_path: Path) -> None:
    wrong = "wrong-token-0123456789"
    with Sandbox(seed=1, events=20) as sandbox:
        run = run_cli(tmp_path, tap_config(sandbox, token=wrong))
    assert run.returncode != 0
    assert "check `token`" in run.stderr
    assert wrong not in run.stderr and wrong not in run.stdout  # type: ignore[attr-defined]
    assert not run.records


def test_missing_credentials_are_refused_before_any_request(tmp_path: Path) -> None:
    with Sandbox(seed=1, events=20) as sandbox:
        config = tap_config(sandbox)
        del config["token"]
        run = run_cli(tmp_path, config)
        assert sandbox.request_log == []
    assert run.returncode != 0
    assert "Setting `token`" in run.stderr


def test_oauth_settings_work_and_the_rotated_refresh_token_is_kept(tmp_path: Path) -> None:
    token_file = tmp_path / "refresh_token"
    with Sandbox(seed=1, events=20) as sandbox:
        config = tap_config(sandbox)
        del config["token"]
        config.update(
            client_id="sandbox-client",
            client_secret="sandbox-secret",
            refresh_token="sandbox-refresh-token",
            refresh_token_path=str(token_file),
        )
        first = run_cli(tmp_path, config)
        assert first.returncode == 0, first.stderr
        assert len(first.records["scheduled_events"]) == 20
        assert token_file.read_text().strip() == sandbox.current_refresh_token
        second = run_cli(tmp_path, config, state=first.final_state)  # the old token is spent
        assert second.returncode == 0, second.stderr
    assert "sandbox-secret" not in first.stderr + second.stderr


def test_a_plain_members_token_fails_naming_the_stream_and_the_fix(tmp_path: Path) -> None:
    with Sandbox(seed=1, events=20) as sandbox:
        run = run_cli(tmp_path, tap_config(sandbox, token=sandbox.member_token))
    assert run.returncode != 0
    assert "Stream 'activity_log_entries' reads the whole organization" in run.stderr
    assert "owner or admin" in run.stderr
