"""The responses file: one JSON line per input record, written the moment its outcome is known.

It is what a user loads back into their CRM (booking URLs, new URIs, why a record failed), and it
is also the target's memory across runs: at startup the existing file becomes a ledger of records
that already came out `ok` or `skipped`, so a rerun after a crash does not send them again.

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
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["ok", "skipped", "failed", "dry_run"]
FINAL_OUTCOMES = ("ok", "skipped")
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
    """Identity of an input record across runs: stream, action and its canonical JSON.

    Computed on the redacted record (what the file holds) without SDK metadata columns, which
    change on every run.
    """
    visible = {k: v for k, v in record.items() if not str(k).startswith(_SDC_PREFIX)}
    canonical = json.dumps(jsonable(redact(visible)), sort_keys=True, separators=(",", ":"))
    return f"{stream}\x1f{action}\x1f{canonical}"


class Ledger:
    """Records a previous run already finished (`ok` or `skipped`), counted per identical input.

    Counting matters: two identical `create_scheduling_link` records ask for two links, so a
    rerun skips exactly as many of them as the file already holds.
    """

    def __init__(self, done: Counter[str] | None = None) -> None:
        self._done = done or Counter()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(self._done.values())

    def consume(self, key: str) -> bool:
        """True (and forget one occurrence) when this record was already done."""
        with self._lock:
            if self._done[key] > 0:
                self._done[key] -= 1
                return True
            return False


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
        }
        return json.dumps(jsonable(line), ensure_ascii=False, separators=(",", ":"))


class OutcomeWriter:
    """Appends outcome lines; thread-safe, flushed and fsync'd per line."""

    def __init__(self, path: Path, logger: logging.Logger) -> None:
        self.path = path
        self._logger = logger
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(_read_finished(path, logger))
        self._file = path.open("a", encoding="utf-8", buffering=1)

    def write(self, line: OutcomeLine) -> None:
        text = line.as_json()
        with self._lock:
            self._file.write(text + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
            self.counts[line.outcome] += 1

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def _read_finished(path: Path, logger: logging.Logger) -> Counter[str]:
    """Keys of the records an earlier run finished; a torn last line (crash) is cut off."""
    done: Counter[str] = Counter()
    if not path.exists():
        return done
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
    for number, text in enumerate(complete.decode("utf-8", errors="replace").splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            if line.get("outcome") in FINAL_OUTCOMES and line.get("action"):
                done[record_key(line["stream"], line["action"], line["input"])] += 1
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning(
                "Responses file %s line %d is not an outcome line; ignored.", path, number
            )
    return done
