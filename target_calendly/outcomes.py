"""The responses file: one JSON line per input record, written the moment its outcome is known.

It is what a user loads back into their CRM (booking URLs, new URIs, why a record failed), and it
is also the target's memory across runs, for the actions whose resend would create a second
resource (links, shares, bookings, invitations, webhooks): at startup the lines that finished
such a record (`ok`, `skipped`, or `unknown` when its answer was lost) become a ledger, and a
later run answers a replay of that record with a `skipped` line that points at the earlier one
instead of sending it again. Deletions and other idempotent actions are not in the ledger: they
check Calendly and are sent whenever asked.

A record's identity is its `idempotency_key` column when it has one (a new key says "a new
intent, not a replay"), else its action, stream and content.

The one window left is a crash after Calendly answered but before the line reached the disk; the
line is written (and fsync'd) right after each response to keep that window as small as it gets.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import os
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["ok", "skipped", "failed", "unknown", "dry_run"]
# Outcomes that finish a record for the ledger: a replay of it in a later run is not sent.
LEDGER_OUTCOMES = ("ok", "skipped", "unknown")
# Outcomes a STATE must never pass: the orchestrator would move its bookmark beyond the record.
UNFINISHED_OUTCOMES = ("failed", "unknown")
IDEMPOTENCY_KEY = "idempotency_key"
REDACTED = "***REDACTED***"
SECRET_FIELDS = frozenset(
    {"signing_key", "token", "access_token", "refresh_token", "client_secret", "password"}
)
_SDC_PREFIX = "_sdc_"


def jsonable(value: Any) -> Any:
    """Plain JSON values; datetimes as RFC 3339 with a T (json's default=str would use a space)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def redact(value: Any) -> Any:
    """A copy with every secret-named field replaced, at any depth."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if k in SECRET_FIELDS and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def record_key(stream: str, action: str, record: Mapping[str, Any]) -> str:
    """Identity of an input record across runs.

    With an `idempotency_key`: the action and the key. Without: stream, action and the
    record's canonical JSON, computed on the redacted record (what the file holds) without SDK
    metadata columns, which change on every run.
    """
    key = record.get(IDEMPOTENCY_KEY)
    if key not in (None, ""):
        return f"{action}\x1f{IDEMPOTENCY_KEY}\x1f{jsonable(key)}"
    visible = {k: v for k, v in record.items() if not str(k).startswith(_SDC_PREFIX)}
    canonical = json.dumps(jsonable(redact(visible)), sort_keys=True, separators=(",", ":"))
    return f"{stream}\x1f{action}\x1f{canonical}"


@dataclass(frozen=True)
class Earlier:
    """The line of an earlier run that finished a record."""

    line: int  # 1-based line number in the responses file
    at: str
    outcome: str
    response: Any = None

    def reference(self) -> dict[str, Any]:
        return {"line": self.line, "at": self.at, "outcome": self.outcome}


class Ledger:
    """Records earlier runs finished, per identity, oldest first.

    Counting matters: two identical `create_scheduling_link` records ask for two links, so a
    rerun skips exactly as many of them as the file holds.
    """

    def __init__(self, done: dict[str, deque[Earlier]] | None = None) -> None:
        self._done = done or {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(lines) for lines in self._done.values())

    def consume(self, key: str) -> Earlier | None:
        """The earlier line that finished this record (forgetting it), or None."""
        with self._lock:
            lines = self._done.get(key)
            return lines.popleft() if lines else None


@dataclass(frozen=True)
class OutcomeLine:
    stream: str
    action: str | None
    input: Mapping[str, Any]
    outcome: Outcome
    http_status: int | None = None
    response: Any = None
    error: Mapping[str, str] | None = None
    reason: str | None = None
    request: Mapping[str, Any] | None = None
    replay_of: Mapping[str, Any] | None = None  # the earlier line a suppressed record repeats

    def as_json(self) -> str:
        line = {
            "at": dt.datetime.now(dt.timezone.utc),
            "stream": self.stream,
            "action": self.action,
            "outcome": self.outcome,
            "input": redact(self.input),
            "http_status": self.http_status,
            "response": redact(self.response),
            "error": dict(self.error) if self.error else None,
            "reason": self.reason,
            "request": redact(self.request),
            **({"replay_of": dict(self.replay_of)} if self.replay_of else {}),
        }
        return json.dumps(jsonable(line), ensure_ascii=False, separators=(",", ":"))


class OutcomeWriter:
    """Appends outcome lines; thread-safe, flushed and fsync'd per line.

    `guarded(action)` says which actions the ledger covers (see the module docstring).
    """

    def __init__(
        self,
        path: Path,
        logger: logging.Logger,
        guarded: Callable[[str], bool] = lambda _action: True,
    ) -> None:
        self.path = path
        self._logger = logger
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        done, self._lines = _read_finished(path, logger, guarded)
        self.ledger = Ledger(done)
        self._file = path.open("a", encoding="utf-8", buffering=1)

    def write(self, line: OutcomeLine) -> int:
        """Append the line; return its line number."""
        text = line.as_json()
        with self._lock:
            self._file.write(text + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
            self.counts[line.outcome] += 1
            self._lines += 1
            return self._lines

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def _read_finished(
    path: Path, logger: logging.Logger, guarded: Callable[[str], bool]
) -> tuple[dict[str, deque[Earlier]], int]:
    """The ledger of an earlier run's lines, and the file's line count; a torn last line (crash)
    is cut off. Lines that suppressed a replay (`replay_of`) point at the line that did the work
    and do not count again."""
    done: dict[str, deque[Earlier]] = {}
    if not path.exists():
        return done, 0
    raw = path.read_bytes()
    complete, _, torn = raw.rpartition(b"\n")
    if torn:
        logger.warning(
            "Responses file %s ends with an incomplete line (an earlier run stopped while "
            "writing it); removing that fragment.",
            path,
        )
        with path.open("r+b") as handle:
            handle.truncate(len(complete) + 1 if complete else 0)
    lines = complete.decode("utf-8", errors="replace").split("\n") if complete else []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            action = line.get("action")
            if (
                line.get("outcome") in LEDGER_OUTCOMES
                and action
                and guarded(action)
                and not line.get("replay_of")
            ):
                key = record_key(line["stream"], action, line["input"])
                earlier = Earlier(
                    number, str(line.get("at")), line["outcome"], line.get("response")
                )
                done.setdefault(key, deque()).append(earlier)
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning(
                "Responses file %s line %d is not an outcome line; ignored.", path, number
            )
    return done, len(lines)
