"""Odd requests: every malformed one gets a 4xx and no traceback; any JSON object with a valid
signature is stored, whatever its shape, and the tap reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from calendly_webhooks.inbox import MAX_NESTING, Inbox
from tests.tap.conftest import run_in_process, tap_config
from tests.webhooks.receiver import Receiver, encode, envelope, signature, start_receiver

KEY = "odd-requests-key-3Jk"
DIGEST = "0" * 64


def delivery_of_2020(
    event: str = "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2",
) -> dict[str, Any]:
    """Calendly's invitee.created as delivered in 2020 (published captures): no created_by."""
    return {
        "event": "invitee.created",
        "created_at": "2020-11-23T17:51:19.000000Z",
        "payload": {
            "uri": event + "/invitees/AAAAAAAAAAAAAAAA",
            "event": event,
            "email": "test@example.com",
            "name": "John Doe",
            "status": "active",
            "questions_and_answers": [],
            "tracking": {"utm_source": None},
        },
    }


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    keys = tmp_path / "keys.txt"
    keys.write_text(KEY + "\n", encoding="utf-8")
    running = start_receiver(tmp_path / "inbox.sqlite", key_file=keys)
    yield running
    running.stop()


def stored(receiver: Receiver) -> list[str]:
    with Inbox(receiver.inbox, create=False) as inbox:
        return [d.body for d in inbox.read_after(0)]


def nested(depth: int) -> bytes:
    """A signed-looking envelope whose payload nests arrays `depth` levels below the envelope."""
    inner = b"[" * (depth - 2) + b"]" * (depth - 2)
    return b'{"event":"invitee.created","payload":{"answers":' + inner + b"}}"


def odd_request(case: str) -> tuple[bytes, str]:
    body = encode(envelope())
    if case == "t-superscript":  # '²'.isdigit() is True, int('²') fails
        return body, f"t=\u00b2,v1={DIGEST}"
    if case == "t-4301-digits":  # over Python's limit for int() of a string
        return body, f"t={'1' * 4301},v1={DIGEST}"
    if case == "deeply-nested":  # deeper than the JSON parser's recursion limit
        body = nested(100_000)
    elif case == f"nested-{MAX_NESTING + 1}":
        body = nested(MAX_NESTING + 1)
    elif case == "utf-16":
        body = body.decode().encode("utf-16")
    elif case == "lone-surrogate":
        body = body.replace(b"Private Person", b"Private \\ud800")
    return body, signature(KEY, body)


@pytest.mark.parametrize(
    "case",
    [
        "t-superscript",
        "t-4301-digits",
        "deeply-nested",
        f"nested-{MAX_NESTING + 1}",
        "utf-16",
        "lone-surrogate",
    ],
)
def test_a_malformed_request_gets_a_4xx_without_a_traceback(receiver: Receiver, case: str):
    body, header = odd_request(case)
    answer = receiver.post(body, header)
    log = receiver.stop()
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]
    assert "Traceback" not in log and "Exception" not in log, log
    assert stored(receiver) == []


def test_a_payload_nested_to_the_limit_is_stored(receiver: Receiver):
    body = nested(MAX_NESTING)
    assert receiver.post(body, signature(KEY, body)).status_code == 200
    assert stored(receiver) == [body.decode()]


@pytest.mark.parametrize(
    "shape",
    [
        delivery_of_2020(),
        {"event": "invitee.created"},
        {"payload": ["not", "an", "object"], "created_by": 7},
        {},
    ],
    ids=["2020-no-created_by", "event-only", "odd-types", "empty-object"],
)
def test_any_signed_json_object_is_stored(receiver: Receiver, shape: dict[str, object]):
    body = json.dumps(shape).encode()
    answer = receiver.post(body, signature(KEY, body))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "stored"
    assert stored(receiver) == [body.decode()]


def test_the_tap_reads_a_delivery_without_created_by(receiver: Receiver):
    with Sandbox(seed=5, events=10) as sandbox:
        event = next(iter(sandbox.store.scheduled_events.values()))["uri"]
        old, odd = delivery_of_2020(event), {"payload": [1]}
        for body in (json.dumps(old).encode(), json.dumps(odd).encode()):
            assert receiver.post(body, signature(KEY, body)).status_code == 200
        run = run_in_process(tap_config(sandbox, webhook_inbox=str(receiver.inbox)))
    assert run.returncode == 0
    first, second = run.records["webhook_events"]
    assert first["created_by"] is None and first["event"] == "invitee.created"
    assert first["payload"] == old["payload"]
    assert first["scheduled_event_uris"] == [event]  # named by the payload's own URIs
    assert (second["event"], second["created_at"], second["payload"]) == ("", None, None)
