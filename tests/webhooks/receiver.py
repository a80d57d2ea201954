"""Run `calendly-webhooks` as a subprocess the way a user does, and sign deliveries for it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from calendly_sandbox import Sandbox
from tests.tap.conftest import Api


def signature(key: str, body: bytes, at: float | None = None) -> str:
    stamp = int(time.time() if at is None else at)
    digest = hmac.new(key.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def envelope(event: str = "invitee.created", **payload: Any) -> dict[str, Any]:
    return {
        "event": event,
        "created_at": "2026-12-04T03:04:05.678123Z",
        "created_by": "https://api.calendly.com/users/OWNER",
        "payload": payload
        or {
            "uri": "https://api.calendly.com/scheduled_events/EV1/invitees/INV1",
            "email": "private.person@example.com",
            "name": "Private Person",
            "event": "https://api.calendly.com/scheduled_events/EV1",
        },
    }


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Receiver:
    process: subprocess.Popen[str]
    url: str
    inbox: Path
    log_file: Path | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        return host.strip("[]"), int(port)

    def post(self, body: bytes, header: str | None, **headers: str) -> requests.Response:
        sent = {"Content-Type": "application/json", **headers}
        if header is not None:
            sent["Calendly-Webhook-Signature"] = header
        return requests.post(self.url + "/webhooks", data=body, headers=sent, timeout=30)

    def stop(self) -> str:
        """Stop it (SIGTERM, graceful) and return what it logged on stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return self.log_file.read_text(encoding="utf-8") if self.log_file else err


def command() -> list[str]:
    script = shutil.which("calendly-webhooks", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "calendly_webhooks"]


def start_receiver(
    inbox: Path,
    *,
    key_file: Path | None = None,
    env_key: str | None = None,
    port: int = 0,
    extra: tuple[str, ...] = (),
    open_files: int | None = None,
    umask: int | None = None,
    log_file: Path | None = None,
) -> Receiver:
    """The receiver as a subprocess; `open_files` and `umask` are set in it before it starts;
    with `log_file` its stderr goes there (a pipe nobody reads would block a flooding one)."""
    args = [*command(), "--port", str(port), "--inbox", str(inbox), *extra]
    if key_file is not None:
        args += ["--signing-key-file", str(key_file)]
    env = {k: v for k, v in os.environ.items() if k != "CALENDLY_WEBHOOK_SIGNING_KEY"}
    if env_key is not None:
        env["CALENDLY_WEBHOOK_SIGNING_KEY"] = env_key

    def limit() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
        if umask is not None:
            os.umask(umask)

    with Path(log_file or os.devnull).open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=log if log_file else subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=limit,
        )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if not first.startswith("http://"):
        process.kill()
        raise AssertionError(f"no base URL on stdout: {first!r} {process.communicate()[1]}")
    return Receiver(process, first, inbox, log_file)


@contextmanager
def subscribed_receiver(
    sandbox: Sandbox, workdir: Path, key: str, events: list[str]
) -> Iterator[Receiver]:
    """A receiver (inbox and key file in `workdir`) that an organization-scope subscription of
    `sandbox` delivers `events` to, signed with `key`."""
    keys = workdir / "keys.txt"
    keys.write_text(key + "\n", encoding="utf-8")
    running = start_receiver(workdir / "inbox.sqlite", key_file=keys)
    try:
        subscribe_receiver(sandbox, running, key, events)
        yield running
    finally:
        running.stop()


def subscribe_receiver(
    sandbox: Sandbox, receiver: Receiver, key: str, events: list[str], user: str | None = None
) -> None:
    """A subscription of `sandbox` delivering `events` to `receiver`, signed with `key`: of the
    organization, or of `user` (user scope)."""
    scope = {"scope": "user", "user": user} if user else {"scope": "organization"}
    Api(sandbox).post(
        "/webhook_subscriptions",
        {
            "url": receiver.url + "/webhooks",
            "events": events,
            "organization": sandbox.store.organization["uri"],
            "signing_key": key,
            **scope,
        },
    )
