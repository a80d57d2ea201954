"""calendly-webhooks: verifies every delivery, stores each verified one once, refuses the rest."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from calendly_webhooks.inbox import Inbox
from tests.webhooks.receiver import (
    Receiver,
    encode,
    envelope,
    signature,
    start_receiver,
)

KEY = "first-key-Zq8v1yK3"
NEW_KEY = "second-key-9Hh2pW"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.txt"
    path.write_text(KEY + "\n", encoding="utf-8")
    return path


@pytest.fixture
def receiver(tmp_path: Path, key_file: Path) -> Iterator[Receiver]:
    running = start_receiver(tmp_path / "inbox.sqlite", key_file=key_file)
    yield running
    running.stop()


def stored(inbox: Path) -> list[str]:
    with Inbox(inbox, create=False) as reader:
        return [d.body for d in reader.read_after(0)]


def test_prints_its_url_first_and_answers_health(receiver: Receiver):
    health = requests.get(receiver.url + "/health", timeout=30)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "inbox": True, "signing_keys": 1}


def test_a_signed_delivery_is_stored_exactly_as_received(receiver: Receiver):
    body = encode(envelope())
    answer = receiver.post(body, signature(KEY, body))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "stored", "position": 1}
    assert stored(receiver.inbox) == [body.decode()]
    with sqlite3.connect(receiver.inbox) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_redelivery_is_stored_once_even_re_signed_and_re_serialized(receiver: Receiver):
    body = encode(envelope())
    assert receiver.post(body, signature(KEY, body, time.time() - 60)).status_code == 200
    spaced = body.replace(b",", b", ")  # same envelope, other bytes
    again = receiver.post(spaced, signature(KEY, spaced))
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert len(stored(receiver.inbox)) == 1


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("unsigned", 401),
        ("forged", 401),
        ("tampered", 401),
        ("stale", 401),
        ("future", 401),
        ("malformed", 400),
        ("not-json", 400),
        ("not-an-object", 400),
        ("oversized", 413),
        ("wrong-content-type", 415),
    ],
)
def test_refusals_get_a_clear_4xx_and_store_nothing(receiver: Receiver, case: str, status: int):
    body = encode(envelope())
    header: str | None = signature(KEY, body)
    headers: dict[str, str] = {}
    if case == "unsigned":
        header = None
    elif case == "forged":
        header = signature("guessed-key", body)
    elif case == "tampered":
        header, body = signature(KEY, body), body.replace(b"Private", b"Publick")
    elif case == "stale":
        header = signature(KEY, body, time.time() - 181)
    elif case == "future":
        header = signature(KEY, body, time.time() + 300)
    elif case == "malformed":
        header = "sha256=deadbeef"
    elif case == "not-json":
        body = b"event=invitee.created"
        header = signature(KEY, body)
    elif case == "not-an-object":
        body = b'["invitee.created"]'
        header = signature(KEY, body)
    elif case == "oversized":
        body = encode(envelope(note="x" * (1024 * 1024)))
        header = signature(KEY, body)
    elif case == "wrong-content-type":
        headers["Content-Type"] = "text/plain"
    answer = receiver.post(body, header, **headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]
    assert stored(receiver.inbox) == []


def test_rotation_accepts_every_listed_key_and_drops_a_removed_one(
    receiver: Receiver, key_file: Path
):
    key_file.write_text(f"# rotating\n{KEY}\n{NEW_KEY}\n", encoding="utf-8")
    first, second = encode(envelope(n=1)), encode(envelope(n=2))
    assert receiver.post(first, signature(KEY, first)).status_code == 200
    assert receiver.post(second, signature(NEW_KEY, second)).status_code == 200
    key_file.write_text(NEW_KEY + "\n", encoding="utf-8")
    third = encode(envelope(n=3))
    assert receiver.post(third, signature(KEY, third)).status_code == 401
    assert len(stored(receiver.inbox)) == 2


def test_the_key_can_come_from_the_environment(tmp_path: Path):
    running = start_receiver(tmp_path / "inbox.sqlite", env_key=f"{KEY},{NEW_KEY}")
    try:
        body = encode(envelope())
        assert running.post(body, signature(NEW_KEY, body)).status_code == 200
    finally:
        running.stop()


def test_without_any_key_it_refuses_to_start(tmp_path: Path):
    import subprocess

    from tests.webhooks.receiver import command

    result = subprocess.run(
        [*command(), "--inbox", str(tmp_path / "i.sqlite")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 2
    assert "--signing-key-file" in result.stderr and "CALENDLY_WEBHOOK_SIGNING_KEY" in result.stderr
    assert result.stdout == ""


def test_concurrent_deliveries_and_a_reading_tap_lose_and_repeat_nothing(receiver: Receiver):
    bodies = [encode(envelope(n=i)) for i in range(60)]
    seen: list[int] = []
    done = threading.Event()

    def tap() -> None:
        reader = Inbox(receiver.inbox, create=False)
        position = 0
        while True:
            finished = done.is_set()
            for delivery in reader.read_after(position, limit=7):
                seen.append(delivery.position)
                position = delivery.position
            if finished and not reader.read_after(position):
                break
        reader.close()

    def deliver(chunk: list[bytes]) -> None:
        with requests.Session() as session:
            for body in chunk:
                answer = session.post(
                    receiver.url + "/webhooks",
                    data=body,
                    headers={
                        "Content-Type": "application/json",
                        "Calendly-Webhook-Signature": signature(KEY, body),
                    },
                    timeout=30,
                )
                assert answer.status_code == 200

    reader = threading.Thread(target=tap)
    reader.start()
    senders = [threading.Thread(target=deliver, args=(bodies[i::6],)) for i in range(6)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    done.set()
    reader.join(timeout=60)
    assert seen == list(range(1, 61))
    assert sorted(stored(receiver.inbox)) == sorted(b.decode() for b in bodies)


def test_keys_and_payload_never_reach_the_logs(tmp_path: Path, key_file: Path):
    running = start_receiver(tmp_path / "inbox.sqlite", key_file=key_file)
    body = encode(envelope())
    running.post(body, signature(KEY, body))
    running.post(body, signature(KEY, body))
    running.post(body, signature("wrong", body))
    running.post(b"{" + b"private.person@example.com", signature(KEY, b"x"))
    log = running.stop()
    assert "stored invitee.created" in log and "deliveries refused: 401" in log
    for secret in (KEY, "private.person@example.com", "Private Person"):
        assert secret not in log


def test_an_oversized_body_without_content_length_is_cut_off(receiver: Receiver):
    chunk = b"x" * 65536

    def chunks() -> Iterator[bytes]:
        yield b'{"event":"invitee.created","created_at":"t","created_by":"u","payload":{"n":"'
        for _ in range(17):  # 1.06 MiB, sent chunked: no Content-Length to refuse it early
            yield chunk
        yield b'"}}'

    answer = requests.post(
        receiver.url + "/webhooks",
        data=chunks(),
        headers={
            "Content-Type": "application/json",
            "Calendly-Webhook-Signature": "t=1,v1=" + "0" * 64,
        },
        timeout=30,
    )
    assert answer.status_code == 413
    assert stored(receiver.inbox) == []


def test_keep_days_prunes_old_deliveries_and_positions_keep_counting(
    tmp_path: Path, key_file: Path
):
    inbox = tmp_path / "inbox.sqlite"
    bodies = [encode(envelope(n=i)) for i in range(3)]
    first = start_receiver(inbox, key_file=key_file)
    try:
        for body in bodies:
            assert first.post(body, signature(KEY, body)).status_code == 200
    finally:
        first.stop()
    with sqlite3.connect(inbox) as db:  # the first two arrived in January
        db.execute(
            "UPDATE deliveries SET received_at = '2026-01-05T10:00:00.000000Z' WHERE position < 3"
        )
    pruning = start_receiver(inbox, key_file=key_file, extra=("--keep-days", "2"))
    try:
        deadline = time.monotonic() + 60
        while len(stored(inbox)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stored(inbox) == [bodies[2].decode()]
        with Inbox(inbox, create=False) as reader:
            assert reader.last_position() == 3  # a reader's bookmark never runs past the inbox
        late = pruning.post(bodies[2], signature(KEY, bodies[2]))
        assert late.json() == {"status": "duplicate"}  # the kept row still recognises it
        fresh = encode(envelope(n=99))
        answer = pruning.post(fresh, signature(KEY, fresh)).json()
        assert answer["status"] == "stored" and answer["position"] > 3  # after every pruned one
    finally:
        logged = pruning.stop()
    assert "pruned 2 deliveries received before" in logged


def test_pruning_everything_keeps_the_last_position(tmp_path: Path):
    from datetime import datetime, timedelta, timezone

    with Inbox(tmp_path / "inbox.sqlite") as inbox:
        assert inbox.last_position() == 0
        for n in range(2):
            inbox.append(encode(envelope(n=n)), envelope(n=n), signed_at=int(time.time()))
        assert inbox.prune(datetime.now(timezone.utc) + timedelta(seconds=1)) == 2
        assert (inbox.count(), inbox.last_position()) == (0, 2)


@pytest.mark.parametrize("days", ["1", "0", "-3", "nan"])
def test_keep_days_shorter_than_calendlys_retries_is_refused(tmp_path: Path, days: str):
    import subprocess

    from tests.webhooks.receiver import command

    result = subprocess.run(
        [*command(), "--inbox", str(tmp_path / "i.sqlite"), "--keep-days", days],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "CALENDLY_WEBHOOK_SIGNING_KEY": KEY},
        timeout=60,
    )
    assert result.returncode == 2
    assert "--keep-days must be at least 2" in result.stderr
    assert not (tmp_path / "i.sqlite").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--header-timeout", "0"), ("--body-timeout", "nan"), ("--max-connections", "0")],
)
def test_a_limit_that_is_not_positive_is_refused(tmp_path: Path, option: str, value: str):
    import subprocess

    from tests.webhooks.receiver import command

    result = subprocess.run(
        [*command(), "--inbox", str(tmp_path / "i.sqlite"), option, value],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "CALENDLY_WEBHOOK_SIGNING_KEY": KEY},
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{option} must be positive" in result.stderr
