"""Fixtures: a sandbox whose webhook clock tests step by hand, and a recording callback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def envelope(self) -> dict[str, Any]:
        envelope: dict[str, Any] = json.loads(self.body)
        return envelope


@dataclass
class Callback:
    """A loopback HTTP endpoint that records every POST and answers `status`."""

    url: str
    status: int = 200
    received: list[Received] = field(default_factory=list)

    def events(self) -> list[str]:
        return [r.envelope["event"] for r in self.received]


@pytest.fixture
def callback() -> Iterator[Callback]:
    state = Callback(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """Webhook time frozen (scale 0): retries happen only when a test advances the clock."""
    with Sandbox(seed=11, events=60, webhook_time_scale=0) as sb:
        yield sb


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {sandbox.token}"
        yield session
