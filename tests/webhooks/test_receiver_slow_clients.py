"""Slow and numerous clients cannot keep deliveries out: deadlines close them, a connection cap
bounds them, and the logs stay small (calendly_webhooks.server)."""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import selectors
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from calendly_webhooks.inbox import Inbox
from calendly_webhooks.server import RESERVED_FILES, Tally
from tests.webhooks.receiver import Receiver, encode, envelope, signature, start_receiver

KEY = "slow-clients-key-5Rt"
HEAD_START = b"POST /webhooks HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.txt"
    path.write_text(KEY + "\n", encoding="utf-8")
    return path


def slow_clients(receiver: Receiver, heads: int, bodies: int) -> list[socket.socket]:
    """`heads` clients that never finish their headers, `bodies` that never finish their body."""
    clients = []
    for n in range(heads + bodies):
        client = socket.create_connection(receiver.address, timeout=30)
        if n < heads:
            client.sendall(HEAD_START + b"X-Slow: ")
        else:
            client.sendall(HEAD_START + b'Content-Length: 1000\r\n\r\n{"event":')
        clients.append(client)
    return clients


def deliver(receiver: Receiver, n: int) -> bytes:
    body = encode(envelope(n=n))
    answer = receiver.post(body, signature(KEY, body))
    assert answer.status_code == 200, answer.text
    return body


def wait_until_closed_by_server(clients: list[socket.socket], within: float) -> list[int]:
    """Read every client until the server closes it; the indexes of those still open after."""
    with selectors.DefaultSelector() as selector:
        for index, client in enumerate(clients):
            client.setblocking(False)
            selector.register(client, selectors.EVENT_READ, index)
        open_ = set(range(len(clients)))
        deadline = time.monotonic() + within
        while open_ and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=1):
                try:
                    closed = key.fileobj.recv(4096) == b""  # type: ignore[union-attr]
                except ConnectionResetError:
                    closed = True
                if closed:
                    selector.unregister(key.fileobj)
                    open_.discard(key.data)
    return sorted(open_)


@pytest.fixture
def closing() -> Iterator[list[socket.socket]]:
    """Slow clients, closed by the test before it stops the receiver (whose graceful shutdown
    waits for the requests in flight) and by this fixture if it failed."""
    clients: list[socket.socket] = []
    yield clients
    close(clients)


def close(clients: list[socket.socket]) -> None:
    for client in clients:
        client.close()


def test_hundreds_of_slow_clients_under_a_low_open_files_limit_keep_no_delivery_out(
    tmp_path: Path, key_file: Path, closing: list[socket.socket]
):
    log_file = tmp_path / "receiver.log"
    receiver = start_receiver(
        tmp_path / "inbox.sqlite",
        key_file=key_file,
        open_files=256,
        log_file=log_file,
        extra=("--header-timeout", "3", "--body-timeout", "3"),
    )
    try:
        closing += slow_clients(receiver, heads=300, bodies=40)
        delivered = [deliver(receiver, n) for n in range(12)]
        still_open = wait_until_closed_by_server(closing, within=120)
    finally:
        log = receiver.stop()
    assert still_open == []
    with Inbox(receiver.inbox, create=False) as inbox:
        assert sorted(d.body for d in inbox.read_after(0)) == sorted(b.decode() for b in delivered)
    assert "Traceback" not in log and "out of system resource" not in log
    assert len(log) < 4096, log[:4096]
    assert f"serving at most {256 - RESERVED_FILES} connections, not 1000" in log
    assert "connections closed: no complete request head in 3 s" in log


def test_at_the_cap_a_delivery_displaces_the_client_waiting_longest(
    tmp_path: Path, key_file: Path, closing: list[socket.socket]
):
    receiver = start_receiver(
        tmp_path / "inbox.sqlite",
        key_file=key_file,
        extra=("--max-connections", "20", "--header-timeout", "600", "--body-timeout", "600"),
    )
    try:
        closing += slow_clients(receiver, heads=30, bodies=10)
        for n in range(5):  # far sooner than any deadline: only displacing makes room
            deliver(receiver, n)
        displaced = len(closing) - len(wait_until_closed_by_server(closing, within=5))
    finally:
        close(closing)
        log = receiver.stop()
    assert displaced >= 20 + 1  # the 20 beyond the cap, then one for the first delivery
    assert "displaced at the 20-connection cap" in log


def test_a_stalled_body_is_cut_off_even_after_its_early_413(
    tmp_path: Path, key_file: Path, closing: list[socket.socket]
):
    receiver = start_receiver(
        tmp_path / "inbox.sqlite", key_file=key_file, extra=("--body-timeout", "1")
    )
    try:
        closing += slow_clients(receiver, heads=0, bodies=1)
        oversized = socket.create_connection(receiver.address, timeout=30)
        closing.append(oversized)
        oversized.sendall(HEAD_START + b"Content-Length: 99999999\r\n\r\n{")
        assert oversized.recv(4096).startswith(b"HTTP/1.1 413")
        assert wait_until_closed_by_server(closing, within=60) == []
    finally:
        log = receiver.stop()
    assert counted("connections closed: no complete request body in 1 s", log) == 2
    assert "Traceback" not in log


def test_an_idle_keep_alive_connection_is_closed(tmp_path: Path, key_file: Path):
    receiver = start_receiver(
        tmp_path / "inbox.sqlite", key_file=key_file, extra=("--keep-alive-timeout", "1")
    )
    try:
        client = socket.create_connection(receiver.address, timeout=30)
        client.sendall(b"GET /health HTTP/1.1\r\nHost: receiver\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        assert wait_until_closed_by_server([client], within=60) == []
    finally:
        receiver.stop()


def test_running_out_of_descriptors_is_logged_once_in_a_while_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
):
    async def accept_fails_repeatedly() -> None:
        loop = asyncio.get_running_loop()
        tally = Tally(interval=3600)
        loop.set_exception_handler(tally.exception_handler)
        for _ in range(1000):  # what asyncio reports each time accept() fails
            loop.call_exception_handler(
                {
                    "message": "socket.accept() out of system resource",
                    "exception": OSError(errno.EMFILE, "Too many open files"),
                }
            )
        await asyncio.sleep(0.01)
        loop.call_exception_handler({"message": "something else"})

    with caplog.at_level(logging.WARNING):
        asyncio.run(accept_fails_repeatedly())
    accept_reports = [r for r in caplog.records if "accept() failures" in r.getMessage()]
    assert len(accept_reports) == 1 and accept_reports[0].exc_info is None
    assert "1000 accept() failures (Too many open files" in accept_reports[0].getMessage()
    assert any(r.getMessage() == "something else" for r in caplog.records)


def test_a_flood_of_bad_requests_is_counted_not_logged_one_by_one(tmp_path: Path, key_file: Path):
    receiver = start_receiver(tmp_path / "inbox.sqlite", key_file=key_file)
    body = encode(envelope())
    try:
        for _ in range(100):
            assert receiver.post(body, signature("forged", body)).status_code == 401
            with socket.create_connection(receiver.address, timeout=30) as client:
                client.sendall(b"NOT HTTP\r\n\r\n")
                assert client.recv(4096).startswith(b"HTTP/1.1 400")
    finally:
        log = receiver.stop()
    assert len(log.splitlines()) < 10, log
    assert counted("deliveries refused: 401 signature does not match", log) == 100
    assert counted("invalid HTTP requests answered 400", log) == 100


def counted(what: str, log: str) -> int:
    """The sum of the counts the receiver's reports give for `what`."""
    return sum(int(n) for n in re.findall(rf"(\d+) {re.escape(what)}", log))
