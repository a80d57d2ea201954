"""The webhook inbox the receiver appends to and the tap reads: a SQLite file (the default) or a
PostgreSQL database (`postgresql://user@host:port/db`, see postgres_inbox.py) that several
receivers share. Its format lives here and in postgres_inbox.py only; the receiver and the tap
both import this module and nothing of each other. `open_inbox` picks the backend; both
implement `InboxBackend`.

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

Table `receiver_uptime`, one row per receiver process (format 2): its `public_url` (where
Calendly delivers to it), `started_at`, `last_seen_at` (refreshed every HEARTBEAT_SECONDS) and
`stopped`. A receiver was up from started_at to last_seen_at: the tap's proof that the inbox
covers a stretch of time (tap_calendly/coverage.py). A format-1 file has no such table and
proves nothing; the receiver upgrades it on open.

The file is in WAL mode (one writer and any number of readers at once) with synchronous=FULL:
the receiver acknowledges only after the row is committed to disk. Pruning (`prune`, the
receiver's --keep-days) deletes old rows; positions keep counting from the highest ever given.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FORMAT_VERSION = 2
MAX_NESTING = 64  # Calendly's payloads nest about 5 deep
READABLE_FORMATS = (1, 2)  # format 1: no receiver_uptime table
#: How often a receiver refreshes its uptime row; a row older than STALE_AFTER_SECONDS and not
#: `stopped` belongs to a receiver that died without saying so.
HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 3 * HEARTBEAT_SECONDS
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
log = logging.getLogger("calendly_webhooks")
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
_UPTIME_SCHEMA = """
CREATE TABLE IF NOT EXISTS receiver_uptime (
    receiver_id TEXT PRIMARY KEY,
    public_url TEXT NOT NULL,
    started_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    stopped INTEGER NOT NULL DEFAULT 0
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


@dataclass(frozen=True)
class Uptime:
    """One receiver process: up from started_at to last_seen_at (the inbox's clock)."""

    receiver_id: str
    public_url: str
    started_at: datetime
    last_seen_at: datetime
    stopped: bool


class InboxBackend(ABC):
    """What the receiver and the tap ask of an inbox, whatever stores it.

    Positions are given in commit order: a reader that has read up to N never later sees a new
    row below N, so a bookmark on the position loses nothing.
    """

    location: str

    @abstractmethod
    def append(self, body: bytes, envelope: Mapping[str, Any], signed_at: int) -> int | None:
        """Store a verified delivery; its position, or None when it was already stored."""

    @abstractmethod
    def read_after(self, position: int, limit: int = 500) -> list[Delivery]:
        """Deliveries stored after `position`, oldest first."""

    @abstractmethod
    def last_position(self) -> int:
        """The highest position ever committed (0 when none was): pruned rows still count, so
        an inbox emptied by pruning never looks like a new one to a reader's bookmark."""

    @abstractmethod
    def prune(self, received_before: datetime) -> int:
        """Delete the deliveries received (and the uptime rows last seen) before that moment;
        how many deliveries were deleted. Raises InboxError when the store refuses."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def healthy(self) -> bool: ...

    @abstractmethod
    def now(self) -> datetime:
        """The inbox's clock (UTC): uptime rows are stamped and compared with it."""

    @abstractmethod
    def record_uptime(self, receiver_id: str, public_url: str, *, stopped: bool = False) -> None:
        """Receiver `receiver_id` is up now (its first call is its start), or, with `stopped`,
        has stopped: last_seen_at stays at its last heartbeat. Raises InboxError."""

    @abstractmethod
    def uptimes(self) -> list[Uptime]:
        """Every receiver's uptime row, oldest start first (none in a format-1 inbox)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> InboxBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def between(self, after: int, up_to: int, page: int = 500) -> Iterator[Delivery]:
        """Deliveries with after < position <= up_to, oldest first, read a page at a time."""
        while after < up_to:
            batch = [d for d in self.read_after(after, page) if d.position <= up_to]
            if not batch:
                return
            yield from batch
            after = batch[-1].position


def is_postgres_url(location: str | Path) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


def open_inbox(location: str | Path, *, create: bool = True) -> InboxBackend:
    """The inbox at `location`: a postgresql:// URL, else the path of a SQLite file."""
    if is_postgres_url(location):
        from calendly_webhooks.postgres_inbox import PostgresInbox

        return PostgresInbox(str(location), create=create)
    return Inbox(Path(location).expanduser(), create=create)


def stamp(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and a Z: sorts as text in time order."""
    text = moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


class Inbox(InboxBackend):
    """The SQLite inbox, one file. Thread-safe: one connection, calls serialized by a lock."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self.location = str(self.path)
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
                self._db.execute(_UPTIME_SCHEMA)
                self._db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
            self._check_format()
        except sqlite3.DatabaseError as exc:
            raise InboxError(f"{self.path} is not a webhook inbox: {exc}") from None

    def _check_format(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version not in READABLE_FORMATS:
            raise InboxError(
                f"{self.path} has inbox format {version}, this program reads {FORMAT_VERSION}"
            )
        self._format = version

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(self, body: bytes, envelope: Mapping[str, Any], signed_at: int) -> int | None:
        key = dedupe_key(envelope)
        row = (
            key,
            stamp(datetime.now(timezone.utc)),
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
        with self._lock:
            rows = self._db.execute(_READ_AFTER, (position, limit)).fetchall()
        return [Delivery(*row) for row in rows]

    def last_position(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'"
            ).fetchone()
        return int(row[0]) if row else 0

    def prune(self, received_before: datetime) -> int:
        bound = stamp(received_before)
        try:
            with self._lock:
                cursor = self._db.execute("DELETE FROM deliveries WHERE received_at < ?", (bound,))
                if self._format >= 2:
                    self._db.execute("DELETE FROM receiver_uptime WHERE last_seen_at < ?", (bound,))
        except sqlite3.Error as exc:  # locked or damaged: the caller logs and tries again
            raise InboxError(f"pruning {self.path} failed: {exc}") from None
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

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def record_uptime(self, receiver_id: str, public_url: str, *, stopped: bool = False) -> None:
        now = stamp(self.now())
        try:
            with self._lock:
                if stopped:
                    self._db.execute(
                        "UPDATE receiver_uptime SET stopped = 1 WHERE receiver_id = ?",
                        (receiver_id,),
                    )
                    return
                self._db.execute(
                    "INSERT INTO receiver_uptime (receiver_id, public_url, started_at,"
                    " last_seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (receiver_id)"
                    " DO UPDATE SET last_seen_at = excluded.last_seen_at",
                    (receiver_id, public_url, now, now),
                )
        except sqlite3.Error as exc:
            raise InboxError(f"recording uptime in {self.path} failed: {exc}") from None

    def uptimes(self) -> list[Uptime]:
        if self._format < 2:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT receiver_id, public_url, started_at, last_seen_at, stopped"
                " FROM receiver_uptime ORDER BY started_at"
            ).fetchall()
        return [
            Uptime(rid, url, datetime.fromisoformat(start), datetime.fromisoformat(seen), bool(s))
            for rid, url, start, seen, s in rows
        ]


class Heartbeat:
    """A receiver's uptime row: written when made (before serving: InboxError if the inbox
    refuses), refreshed every HEARTBEAT_SECONDS by `run` until `stop`, then marked stopped."""

    def __init__(self, inbox: InboxBackend, public_url: str) -> None:
        self.inbox = inbox
        self.public_url = public_url
        self.receiver_id = uuid.uuid4().hex
        inbox.record_uptime(self.receiver_id, public_url)

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            self._record(stopped=False)
        self._record(stopped=True)

    def _record(self, *, stopped: bool) -> None:
        try:
            self.inbox.record_uptime(self.receiver_id, self.public_url, stopped=stopped)
        except InboxError as exc:  # a missed beat is a gap the tap sees, not a reason to stop
            log.warning("%s", exc)
