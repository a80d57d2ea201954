"""The sandbox as the benchmarks use it: in this (driver) process, the tap in another.

The sandbox's request log is the ground truth for request counts, 429s and request times; its
store is the ground truth for how many items each list holds. Only this module knows their shape.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from bench.tap import SANDBOX_TOKEN

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Hit:
    """One request the sandbox answered."""

    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    status: int
    at: float  # time.monotonic() when the sandbox logged it (the response was sent)

    @property
    def endpoint(self) -> str:
        """`METHOD /path` with ids replaced by {uuid}: the key requests are counted by."""
        segments = ["{uuid}" if _UUID.match(s) else s for s in self.path.split("/")]
        return f"{self.method} {'/'.join(segments)}"

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


class TimedLog(list[Any]):
    """The sandbox's request log, plus when each entry was appended (the sandbox's own entries
    carry no time; the server only ever appends)."""

    def __init__(self, entries: list[Any]) -> None:
        super().__init__(entries)
        now = time.monotonic()
        self.times = [now] * len(entries)

    def append(self, entry: Any) -> None:
        self.times.append(time.monotonic())
        super().append(entry)


class RunningSandbox:
    def __init__(self, sandbox: Any) -> None:
        self._sandbox = sandbox
        self._log = TimedLog(sandbox.request_log)
        sandbox.request_log = self._log

    @property
    def base_url(self) -> str:
        return str(self._sandbox.base_url)

    @property
    def store(self) -> Any:
        return self._sandbox.store

    @property
    def generation_seconds(self) -> float:
        return float(self._sandbox.generation_seconds)

    def hits(self, since: int = 0) -> list[Hit]:
        """Requests answered so far (from the `since`-th on), once the log has settled."""
        self.settle()
        entries = list(self._log)
        times = self._log.times[: len(entries)]
        return [_hit(e, at) for e, at in zip(entries[since:], times[since:], strict=True)]

    def mark(self) -> int:
        """A position in the request log, for `hits(since=...)`, once the log has settled."""
        self.settle()
        return len(self._log)

    def settle(self, quiet: float = 0.2, limit: float = 5.0) -> None:
        """Wait until no entry has been added for `quiet` seconds: the server logs a request
        after sending its response, so the client may have it before the log does."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            times = self._log.times
            if not times or time.monotonic() - times[-1] >= quiet:
                return
            time.sleep(quiet / 4)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A write through the sandbox's public API, as a Calendly user would make it."""
        response = requests.request(
            method,
            f"{self.base_url}{path}",
            headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
            timeout=30,
            **kwargs,
        )
        if response.status_code >= 300:
            raise RuntimeError(
                f"sandbox answered {response.status_code} to {method} {path}: {response.text[:300]}"
            )
        return response.json() if response.content else None


@contextmanager
def running_sandbox(
    *, events: int, rate_limit: int = 0, latency_ms: int = 0, seed: int = 1
) -> Iterator[RunningSandbox]:
    from calendly_sandbox import Sandbox

    with Sandbox(
        seed=seed, events=events, plan="enterprise", rate_limit=rate_limit, latency_ms=latency_ms
    ) as sandbox:
        yield RunningSandbox(sandbox)


def _hit(entry: Any, at: float) -> Hit:
    """A calendly_sandbox LoggedRequest(method, path, query {name: str | [str]}, status)."""
    query = {k: list(v) if isinstance(v, list) else [v] for k, v in entry.query.items()}
    return Hit(entry.method, entry.path, query, entry.status, at)
