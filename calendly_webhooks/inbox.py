"""The webhook inbox: ONE SQLite file the receiver appends to and the tap reads. Its format lives
here only; the receiver and the tap both import this module and nothing of each other.

Table `deliveries`, one row per verified delivery:
    position     INTEGER PRIMARY KEY AUTOINCREMENT: the order of arrival and the tap's bookmark.
                 SQLite has one writer at a time and AUTOINCREMENT never reuses a value, so a
                 reader that has seen position N never later sees a new row below N.
    dedupe_key   UNIQUE: sha256 of the envelope as canonical JSON (sorted keys, no spaces).
                 Calendly sends no delivery id; a redelivery carries the same envelope (the
                 signature's timestamp changes, the body does not), so it is stored once, even if
                 its bytes were re-serialized. Two subscriptions of the same creator announcing one
                 change also collapse to one row: the same fact, received twice.
    received_at  when the receiver stored it (UTC, RFC 3339).
    signed_at    the signature's `t` (unix seconds).
    event, created_at, created_by: the envelope's fields, for filtering without parsing; "" when
                 absent (Calendly's deliveries of 2020 had no created_by) or not a string.
    body         the raw request body as received (UTF-8 JSON text).

The file is in WAL mode (one writer and any number of readers at once) with synchronous=FULL:
the receiver acknowledges only after the row is committed to disk. Pruning (`prune`, the
receiver's --keep-days) deletes old rows; positions keep counting from the highest ever given.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
MAX_NESTING = 64  # Calendly's payloads nest about 5 deep
BUSY_TIMEOUT_MS = 30_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    signed_at INTEGER NOT NULL,
    event TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    body TEXT NOT NULL
)
"""
_READ_AFTER = (
    "SELECT position, dedupe_key, received_at, signed_at, event, created_at, created_by, body"
    " FROM deliveries WHERE position > ? ORDER BY position LIMIT ?"
)
# {base}/scheduled_events/{uuid}[/invitees/{uuid}]
_EVENT_URI = re.compile(r"^(?P<event>.+/scheduled_events/[^/]+?)(?:/invitees/[^/]+)?/?$")


class InboxError(Exception):
    """The inbox file is missing, unreadable or not an inbox."""


class EnvelopeError(ValueError):
    """A body that is not a Calendly webhook envelope."""


def parse_envelope(body: bytes) -> dict[str, Any]:
    """The envelope in `body`: any JSON object in UTF-8, nested at most MAX_NESTING deep (the
    signature proves a delivery; its fields are the reader's business). EnvelopeError otherwise."""
    try:
        envelope = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise EnvelopeError("body is not UTF-8") from None
    except RecursionError:
        raise EnvelopeError(f"body nests deeper than {MAX_NESTING} levels") from None
    except ValueError as exc:
        raise EnvelopeError(f"body is not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise EnvelopeError("body is not a JSON object")
    if _nesting(envelope) > MAX_NESTING:
        raise EnvelopeError(f"body nests deeper than {MAX_NESTING} levels")
    try:
        dedupe_key(envelope)
    except UnicodeEncodeError:
        raise EnvelopeError("body has a \\u escape of a lone surrogate") from None
    return envelope


def _nesting(value: Any) -> int:
    """How deep arrays and objects nest in `value` (counted without recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= MAX_NESTING:
        node, depth = pending.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in node)
    return deepest


def envelope_text(envelope: Mapping[str, Any], name: str) -> str:
    """A string field of the envelope, or "" when it is absent or not a string."""
    value = envelope.get(name)
    return value if isinstance(value, str) else ""


def dedupe_key(envelope: Mapping[str, Any]) -> str:
    canonical = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def named_uris(envelope: Mapping[str, Any]) -> list[str]:
    """Every API resource URI the payload names (strings under the API base of `created_by`, or
    of the payload's own `uri` when there is no `created_by`)."""
    payload = _payload(envelope)
    base = api_base(envelope_text(envelope, "created_by")) or api_base(
        envelope_text(payload, "uri")
    )
    found: set[str] = set()
    if base:
        _collect(payload, base + "/", found)
    return sorted(found)


def scheduled_event_uris(uris: list[str]) -> list[str]:
    """The scheduled events among `uris`, counting an invitee URI as naming its event."""
    events = {m.group("event") for m in map(_EVENT_URI.match, uris) if m}
    return sorted(events)


def named_events(envelope: Mapping[str, Any]) -> dict[str, str | None]:
    """Scheduled event URI -> its start_time when the payload embeds the event, else None."""
    payload = _payload(envelope)
    starts: dict[str, str | None] = {}
    for key in ("scheduled_event", "event"):  # invitee payloads; meeting recap payloads
        embedded = payload.get(key)
        if isinstance(embedded, dict) and isinstance(embedded.get("uri"), str):
            starts[embedded["uri"]] = embedded.get("start_time")
    return {uri: starts.get(uri) for uri in scheduled_event_uris(named_uris(envelope))}


def _payload(envelope: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = envelope.get("payload")
    return payload if isinstance(payload, dict) else {}


def api_base(uri: str) -> str:
    """'https://api.calendly.com/users/X' -> 'https://api.calendly.com'."""
    match = re.match(r"^(https?://[^/]+)/", uri)
    return match.group(1) if match else ""


def _collect(value: Any, prefix: str, found: set[str]) -> None:
    if isinstance(value, str):
        if value.startswith(prefix):
            found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, prefix, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, prefix, found)


@dataclass(frozen=True)
class Delivery:
    position: int
    dedupe_key: str
    received_at: str
    signed_at: int
    event: str
    created_at: str
    created_by: str
    body: str

    @property
    def envelope(self) -> dict[str, Any]:
        envelope: dict[str, Any] = json.loads(self.body)
        return envelope


def _keep_private(path: Path) -> None:
    """Create the inbox owner-only (0600) whatever the umask, and make an older one so: it holds
    invitees' names and emails. SQLite creates the -wal and -shm files with the inbox's mode."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        for file in (path, *(path.with_name(path.name + side) for side in ("-wal", "-shm"))):
            if file.exists() and file.stat().st_mode & 0o777 != 0o600:
                file.chmod(0o600)
    except OSError as exc:
        raise InboxError(f"cannot make {path} private to its owner: {exc}") from None


class Inbox:
    """One inbox file. Thread-safe: one connection, calls serialized by a lock."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise InboxError(f"no webhook inbox at {self.path}")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _keep_private(self.path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            if create:
                self._db.execute(_SCHEMA)
                self._db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
            self._check_format()
        except sqlite3.DatabaseError as exc:
            raise InboxError(f"{self.path} is not a webhook inbox: {exc}") from None

    def _check_format(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version != FORMAT_VERSION:
            raise InboxError(
                f"{self.path} has inbox format {version}, this program reads {FORMAT_VERSION}"
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Inbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def append(self, body: bytes, envelope: Mapping[str, Any], signed_at: int) -> int | None:
        """Store a verified delivery; its position, or None when it was already stored."""
        key = dedupe_key(envelope)
        received = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        row = (
            key,
            received.replace("+00:00", "Z"),
            signed_at,
            envelope_text(envelope, "event"),
            envelope_text(envelope, "created_at"),
            envelope_text(envelope, "created_by"),
            body.decode("utf-8"),
        )
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO deliveries (dedupe_key, received_at, signed_at, event,"
                " created_at, created_by, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return cursor.lastrowid if cursor.rowcount == 1 else None

    def read_after(self, position: int, limit: int = 500) -> list[Delivery]:
        """Deliveries stored after `position`, oldest first."""
        with self._lock:
            rows = self._db.execute(_READ_AFTER, (position, limit)).fetchall()
        return [Delivery(*row) for row in rows]

    def between(self, after: int, up_to: int, page: int = 500) -> Iterator[Delivery]:
        """Deliveries with after < position <= up_to, oldest first, read a page at a time."""
        while after < up_to:
            batch = [d for d in self.read_after(after, page) if d.position <= up_to]
            if not batch:
                return
            yield from batch
            after = batch[-1].position

    def last_position(self) -> int:
        """The highest position ever given (0 when none was): pruned rows still count, so an
        inbox emptied by pruning never looks like a new file to a reader's bookmark."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'"
            ).fetchone()
        return int(row[0]) if row else 0

    def prune(self, received_before: datetime) -> int:
        """Delete the deliveries received before that moment; how many were deleted."""
        bound = received_before.astimezone(timezone.utc).isoformat(timespec="microseconds")
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM deliveries WHERE received_at < ?", (bound.replace("+00:00", "Z"),)
            )
        return cursor.rowcount

    def count(self) -> int:
        with self._lock:
            (total,) = self._db.execute("SELECT count(*) FROM deliveries").fetchone()
        return int(total)

    def healthy(self) -> bool:
        try:
            with self._lock:
                self._db.execute("SELECT 1 FROM deliveries LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True
