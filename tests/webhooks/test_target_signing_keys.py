"""target-calendly's create_webhook_subscription hands a (generated) signing key to the receiver
through its key file, never to logs or the responses file."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from calendly_webhooks.inbox import Inbox
from tests.target.helpers import config_for, run_cli, run_target, stream_of
from tests.webhooks.receiver import start_receiver
from tests.webhooks.test_sandbox_deliveries import book

STREAM = "create_webhook_subscription"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=5, events=40) as running:
        yield running


def hook(url: str = "http://127.0.0.1:9/webhooks", **extra: object) -> dict[str, object]:
    return {"url": url, "events": ["invitee.created"], "scope": "organization", **extra}


def test_a_record_without_a_key_gets_a_strong_one_in_the_key_file(sandbox, tmp_path: Path):
    keys = tmp_path / "secrets" / "webhook-keys.txt"
    config = config_for(sandbox, tmp_path / "responses.jsonl", webhook_signing_key_file=str(keys))
    done = run_cli(config, stream_of(STREAM, hook()), tmp_path)
    assert done.returncode == 0, done.stderr
    [key] = keys.read_text(encoding="utf-8").split()
    assert len(key) >= 43  # 32 random bytes, URL-safe base64
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    [line] = [json.loads(x) for x in (tmp_path / "responses.jsonl").read_text().splitlines()]
    assert line["outcome"] == "ok"
    assert str(keys) in line["reason"] and "sha256" in line["reason"]
    [created] = [
        h
        for h in sandbox.store.webhook_subscriptions.values()
        if h["uri"] == line["response"]["uri"]
    ]
    assert sandbox.store.signing_keys[created["uri"]] == key  # the key Calendly signs with
    for output in (done.stdout, done.stderr, (tmp_path / "responses.jsonl").read_text()):
        assert key not in output


def test_a_given_key_is_handed_over_too_and_a_dry_run_writes_no_file(sandbox, tmp_path: Path):
    keys = tmp_path / "keys.txt"
    dry = config_for(
        sandbox, tmp_path / "dry.jsonl", webhook_signing_key_file=str(keys), dry_run=True
    )
    assert run_target(dry, stream_of(STREAM, hook())).outcomes() == ["dry_run"]
    assert not keys.exists()
    config = config_for(sandbox, tmp_path / "responses.jsonl", webhook_signing_key_file=str(keys))
    result = run_target(config, stream_of(STREAM, hook(signing_key="my-own-key-123")))
    assert result.outcomes() == ["ok"]
    assert keys.read_text(encoding="utf-8") == "my-own-key-123\n"


def test_without_a_key_file_a_keyless_record_fails_naming_the_setting(sandbox, tmp_path: Path):
    before = len(sandbox.store.webhook_subscriptions)
    config = config_for(sandbox, tmp_path / "responses.jsonl", on_error="continue")
    result = run_target(config, stream_of(STREAM, hook()))
    assert result.outcomes() == ["failed"]
    assert "webhook_signing_key_file" in result.lines[0]["error"]["message"]
    assert len(sandbox.store.webhook_subscriptions) == before


def test_the_receiver_verifies_deliveries_with_the_key_the_target_generated(
    sandbox, tmp_path: Path
):
    keys = tmp_path / "keys.txt"
    receiver = start_receiver(tmp_path / "inbox.sqlite", key_file=keys)  # no key yet
    try:
        config = config_for(
            sandbox, tmp_path / "responses.jsonl", webhook_signing_key_file=str(keys)
        )
        created = run_target(config, stream_of(STREAM, hook(receiver.url + "/webhooks")))
        assert created.outcomes() == ["ok"]
        import requests

        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {sandbox.token}"
        invitee = book(api, sandbox, 2, "keyed@example.com")
        assert sandbox.webhooks.wait_idle(timeout=30)
        uri = created.lines[0]["response"]["uri"]
        [message] = sandbox.webhooks.messages_for(uri)
        assert message.state == "delivered"
        with Inbox(receiver.inbox, create=False) as inbox:
            [delivery] = inbox.read_after(0)
        assert delivery.envelope["payload"]["uri"] == invitee["uri"]
        assert uuid_of(uri) in sandbox.store.webhook_subscriptions
    finally:
        receiver.stop()
