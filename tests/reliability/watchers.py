"""Threads that watch the sandbox's request log and act at a chosen moment of a run.

Event-driven on purpose: they fire on what the sandbox has served, never after a sleep that
assumes how fast the machine is.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from tests.reliability.sandbox_view import TOKEN

NEIGHBOUR = {"neighbour": "1"}


class _LogWatcher(threading.Thread):
    """Calls `react(fresh entries)` for requests served after construction until it returns True."""

    def __init__(self, sandbox: Any) -> None:
        super().__init__(daemon=True)
        self.sandbox = sandbox
        self._seen = len(sandbox.request_log)  # only requests of the run about to start count
        self.fired = threading.Event()
        self.stop = threading.Event()

    def react(self, fresh: list[Any]) -> bool:
        raise NotImplementedError

    def run(self) -> None:
        while not self.stop.is_set():
            log = self.sandbox.request_log
            served = len(log)  # before slicing: an entry appended meanwhile waits for the next look
            fresh, self._seen = log[self._seen : served], served
            if fresh and self.react(fresh):
                self.fired.set()
                return
            self.stop.wait(0.001)

    def __enter__(self) -> _LogWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join(timeout=10)


class OutageFrom(_LogWatcher):
    """Switch the sandbox to a total outage once a request to `path_prefix` has been served."""

    def __init__(self, sandbox: Any, path_prefix: str, kind: str = "503") -> None:
        super().__init__(sandbox)
        self._prefix, self._kind = path_prefix, kind

    def react(self, fresh: list[Any]) -> bool:
        if any(e.path.startswith(self._prefix) and e.status == 200 for e in fresh):
            self.sandbox.configure(fault_rate=1.0, fault_kinds=(self._kind,))
            return True
        return False


class ExpireTokensAfter(_LogWatcher):
    """Expire every OAuth access token once `count` requests to `path_prefix` were served."""

    def __init__(self, sandbox: Any, path_prefix: str, count: int) -> None:
        super().__init__(sandbox)
        self._prefix, self._count, self._matched = path_prefix, count, 0

    def react(self, fresh: list[Any]) -> bool:
        self._matched += sum(1 for e in fresh if e.path.startswith(self._prefix) and e.status < 300)
        if self._matched >= self._count:
            self.sandbox.expire_access_tokens()
            return True
        return False


def refusals_to_others(sandbox: Any) -> int:
    """429s the sandbox answered to anyone but the QuotaBurner."""
    return sum(
        1
        for entry in list(sandbox.request_log)
        if entry.status == 429 and entry.query.get("neighbour") != "1"
    )


class QuotaBurner(threading.Thread):
    """Another integration of the same Calendly user spending its quota (the limit is per user,
    across integrations), so the plugin meets 429s it could not foresee from its own headers.

    Burns from the plugin's first request until the plugin has been refused `storm` times (or
    the burner is stopped), whatever the machine's speed.
    """

    def __init__(self, sandbox: Any, storm: int) -> None:
        super().__init__(daemon=True)
        self._sandbox = sandbox
        self._storm = storm
        self.stop = threading.Event()

    def run(self) -> None:
        url = f"{self._sandbox.base_url}/users/me"
        while not self.stop.is_set() and not any(
            e.query.get("neighbour") != "1" for e in list(self._sandbox.request_log)
        ):
            self.stop.wait(0.005)
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {TOKEN}"
            while not self.stop.is_set() and refusals_to_others(self._sandbox) < self._storm:
                try:
                    response = session.get(url, params=NEIGHBOUR, timeout=0.5)
                except requests.RequestException:
                    continue  # the sandbox's injected faults hit the neighbour too
                if response.status_code == 429:
                    self.stop.wait(0.02)

    def __enter__(self) -> QuotaBurner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join(timeout=10)
