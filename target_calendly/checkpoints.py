"""Release a Singer STATE only once every record that came before it has finished.

A record that failed (or whose outcome is unknown) never finishes: no STATE after it goes out, so
the orchestrator's bookmark stays before it and the next run reads it again (with
`on_error: continue` the run goes on, but its bookmark cannot pass the failure).

Single-record actions finish inside `process_record`, so a STATE that follows them can go out at
once. Batched records (GDPR email deletions) wait in their sink until the batch is sent; a STATE
received meanwhile is held until those records have outcomes. Draining on every STATE instead
would break batching whenever a tap emits STATE after each record.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable
from typing import Any


class StateGate:
    def __init__(self, emit: Callable[[dict[str, Any]], None]) -> None:
        self._emit = emit
        self._lock = threading.Lock()
        self._arrivals = 0
        self._outstanding: set[int] = set()
        self._held: list[tuple[int, dict[str, Any]]] = []
        self._last_emitted: dict[str, Any] | None = None
        self._failed: float = math.inf  # the first failed ticket

    def record_arrived(self) -> int:
        """A ticket for a record whose outcome is not written yet."""
        with self._lock:
            self._arrivals += 1
            self._outstanding.add(self._arrivals)
            return self._arrivals

    def record_finished(self, ticket: int) -> None:
        with self._lock:
            self._outstanding.discard(ticket)
            self._release()

    def record_failed(self, ticket: int) -> None:
        """The record has its line but did not succeed: it holds every later STATE back."""
        with self._lock:
            self._failed = min(self._failed, ticket)
            self._outstanding.discard(ticket)

    def state_arrived(self, state: dict[str, Any]) -> None:
        if not state:  # like the SDK: an empty STATE (taps send one first) is not relayed
            return
        with self._lock:
            self._held.append((self._arrivals, copy.deepcopy(state)))
            self._release()

    @property
    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def _release(self) -> None:
        oldest_open = min(min(self._outstanding, default=self._arrivals + 1), self._failed)
        ready = [state for after, state in self._held if after < oldest_open]
        if not ready:
            return
        self._held = [(after, state) for after, state in self._held if after >= oldest_open]
        latest = ready[-1]
        if latest != self._last_emitted:
            self._last_emitted = latest
            self._emit(latest)
