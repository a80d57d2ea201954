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

A crash after a request left but before its line reached the disk is covered by a write-ahead
journal beside the file (`<responses file>.intents`): before each request that cannot safely be
sent twice, an intent naming the record (a hash of its identity, never its content) is appended
and fsync'd. At startup an intent that no later line answers is "in flight": that record's next
send is replaced by a lookup of its effect where the action has one, else its outcome is
`unknown`. docs/target-safety.md states the guarantees.

Both files hold personal data (or point at it) and are created 0600 whatever the umask.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import os
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from target_calendly.private_files import append_durably, open_private

Outcome = Literal["ok", "skipped", "failed", "unknown", "dry_run", "not_attempted"]
# Outcomes that finish a record for the ledger: a replay of it in a later run is not sent.
LEDGER_OUTCOMES = ("ok", "skipped", "unknown")
# Outcomes a STATE must never pass: the orchestrator would move its bookmark beyond the record.
UNFINISHED_OUTCOMES = ("failed", "unknown", "not_attempted")
# Outcomes that may answer a send (dry runs and records never attempted send nothing).
ANSWERS = ("ok", "skipped", "failed", "unknown")
INTENTS_SUFFIX = ".intents"
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


def key_digest(key: str) -> str:
    """What the journal keeps of a record identity: a hash (the identity holds its content)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Intent:
    """A request an earlier run was about to send: the journal's entry."""

    key: str  # key_digest of the record's identity
    action: str
    at: str
    after_line: int  # the responses file's line count then: the record's line comes later

    def as_json(self) -> str:
        return json.dumps(
            {"key": self.key, "action": self.action, "at": self.at, "after_line": self.after_line}
        )


class InFlight:
    """Intents of earlier runs that no line answers: their request may have been performed."""

    def __init__(self, intents: list[Intent]) -> None:
        self._by_key: dict[str, deque[Intent]] = {}
        for intent in intents:
            self._by_key.setdefault(intent.key, deque()).append(intent)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(intents) for intents in self._by_key.values())

    def intents(self) -> list[Intent]:
        """Those not taken yet, oldest first."""
        with self._lock:
            left = [intent for intents in self._by_key.values() for intent in intents]
        return sorted(left, key=lambda i: i.after_line)

    def take(self, key: str) -> Intent | None:
        """The oldest unanswered intent of this record identity (forgetting it), or None."""
        with self._lock:
            intents = self._by_key.get(key_digest(key))
            return intents.popleft() if intents else None


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
    """Appends outcome lines and intents; thread-safe, flushed and fsync'd per line.

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
        self.intents_path = path.with_name(path.name + INTENTS_SUFFIX)
        path.parent.mkdir(parents=True, exist_ok=True)
        done, answers, self._lines = _read_finished(path, logger, guarded)
        self.ledger = Ledger(done)
        self.in_flight = InFlight(_unanswered(_read_intents(self.intents_path), answers))
        self._file = open_private(path)
        self._intents = _rewrite_private(self.intents_path, self.in_flight.intents())
        if len(self.in_flight):
            logger.warning(
                "%d request(s) of an earlier run were sent (or about to be) when it stopped, "
                "and their answer was never recorded; those records are looked up, not sent "
                "again (their outcome is `unknown` where Calendly lists nothing to find).",
                len(self.in_flight),
            )

    def write(self, line: OutcomeLine) -> int:
        """Append the line; return its line number."""
        text = line.as_json()
        with self._lock:
            append_durably(self._file, text)
            self.counts[line.outcome] += 1
            self._lines += 1
            return self._lines

    def intend(self, key: str, action: str) -> None:
        """Record, durably, that the request of this record identity is about to be sent: its
        line will follow; if none does, a later run knows the request may have been performed."""
        at = jsonable(dt.datetime.now(dt.timezone.utc))
        with self._lock:
            intent = Intent(key_digest(key), action, at, self._lines)
            append_durably(self._intents, intent.as_json())

    def close(self) -> None:
        with self._lock:
            for handle in (self._file, self._intents):
                if not handle.closed:
                    handle.close()


def _read_intents(path: Path) -> list[Intent]:
    """The journal's intents; a torn last one (its fsync never returned, so its request was
    never sent) is left out."""
    if not path.exists():
        return []
    intents = []
    for text in path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True):
        try:
            entry = json.loads(text)
            intents.append(
                Intent(
                    str(entry["key"]),
                    str(entry["action"]),
                    str(entry["at"]),
                    int(entry["after_line"]),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return intents


def _unanswered(intents: list[Intent], answers: dict[str, list[int]]) -> list[Intent]:
    """Intents no line answers. A record's line is the first line of its identity after the
    intent (one record of an identity is handled at a time); each line answers one intent."""
    used: dict[str, int] = {}
    left = []
    for intent in sorted(intents, key=lambda i: i.after_line):
        lines = answers.get(intent.key, [])
        index = used.get(intent.key, 0)
        while index < len(lines) and lines[index] <= intent.after_line:
            index += 1
        if index < len(lines):
            index += 1  # this line answers the intent
        else:
            left.append(intent)
        used[intent.key] = index
    return left


def _rewrite_private(path: Path, intents: list[Intent]) -> IO[str]:
    """The journal, atomically reduced to the intents still in flight, open for appending."""
    staging = path.with_name(path.name + ".new")
    staging.unlink(missing_ok=True)
    with open_private(staging) as handle:
        handle.write("".join(intent.as_json() + "\n" for intent in intents))
        handle.flush()
        os.fsync(handle.fileno())
    staging.replace(path)
    return open_private(path)


def _read_finished(
    path: Path, logger: logging.Logger, guarded: Callable[[str], bool]
) -> tuple[dict[str, deque[Earlier]], dict[str, list[int]], int]:
    """The ledger of an earlier run's lines, the line numbers that may answer an intent (per
    key digest), and the file's line count; a torn last line (crash) is cut off. Lines that
    suppressed a replay (`replay_of`) point at the line that did the work and do not count
    again."""
    done: dict[str, deque[Earlier]] = {}
    answers: dict[str, list[int]] = {}
    if not path.exists():
        return done, answers, 0
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
            if not action or line.get("replay_of") or line.get("outcome") not in ANSWERS:
                continue
            key = record_key(line["stream"], action, line["input"])
            answers.setdefault(key_digest(key), []).append(number)
            if line["outcome"] in LEDGER_OUTCOMES and guarded(action):
                earlier = Earlier(
                    number, str(line.get("at")), line["outcome"], line.get("response")
                )
                done.setdefault(key, deque()).append(earlier)
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning(
                "Responses file %s line %d is not an outcome line; ignored.", path, number
            )
    return done, answers, len(lines)
