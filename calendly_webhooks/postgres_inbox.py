"""The PostgreSQL inbox (`--inbox postgresql://user@host:port/db`): the SQLite inbox's rows in
a database several receivers share, so receivers run on several machines behind one load
balancer and the tap reads them from another.

Tables (in the connection's search_path; `?options=-csearch_path%3Dcalendly` picks a schema):
    deliveries, receiver_uptime: as in the SQLite inbox (inbox.py), times as timestamptz.
    inbox_meta: one row, the format and `last_position`, the highest position ever given.

Positions in commit order. A sequence would hand out numbers in the order transactions START,
and they commit in any order: a reader could see position 11 committed before 10, move its
bookmark past 10 and never read it. So each append takes the next position from inbox_meta's
one row in the statement that inserts the delivery: the row stays locked until that commit,
appends are serialized across every receiver, and a reader that sees position N sees every
committed position below it. A duplicate (the same envelope, redelivered to any replica) waits
for the lock, then finds the committed row and is not stored; it leaves an unused position,
which loses nothing. psycopg 3: maintained (psycopg2 is in maintenance only), typed, and its
binary wheel needs no libpq on the host.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from calendly_webhooks.inbox import (
    FORMAT_VERSION,
    Delivery,
    InboxBackend,
    InboxError,
    Uptime,
    dedupe_key,
    stamp,
)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS inbox_meta (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        format integer NOT NULL,
        last_position bigint NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS deliveries (
        position bigint PRIMARY KEY,
        dedupe_key text NOT NULL UNIQUE,
        received_at timestamptz NOT NULL,
        signed_at bigint NOT NULL,
        event text NOT NULL,
        created_at text NOT NULL,
        created_by text NOT NULL,
        body text NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS deliveries_received_at ON deliveries (received_at)",
    """CREATE TABLE IF NOT EXISTS receiver_uptime (
        receiver_id text PRIMARY KEY,
        public_url text NOT NULL,
        started_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        stopped boolean NOT NULL DEFAULT false)""",
)
# Any constant: receivers starting together create the tables one at a time.
_SCHEMA_LOCK = 0x6361_6C65_6E64
APPEND_STATEMENT = """
WITH next AS (
    UPDATE inbox_meta SET last_position = last_position + 1 RETURNING last_position
)
INSERT INTO deliveries (position, dedupe_key, received_at, signed_at, event, created_at,
                        created_by, body)
SELECT last_position, %s, now(), %s, %s, %s, %s, %s FROM next
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING position
"""
_READ_AFTER = (
    "SELECT position, dedupe_key, received_at, signed_at, event, created_at, created_by, body"
    " FROM deliveries WHERE position > %s ORDER BY position LIMIT %s"
)


def redacted(url: str) -> str:
    """Who connects where, for messages: never a password (in the URL or its query)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(an unparsable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


class PostgresInbox(InboxBackend):
    """One connection per process, calls serialized by a lock; reconnects after a lost one."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        self.location = redacted(url)
        self._lock = threading.Lock()
        self._db: psycopg.Connection[Any] | None = None
        with self._lock:
            db = self._connection()
            try:
                if create:
                    with db.transaction():
                        db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                        for statement in _SCHEMA:
                            db.execute(statement)
                        db.execute(
                            "INSERT INTO inbox_meta (format) VALUES (%s) ON CONFLICT DO NOTHING",
                            (FORMAT_VERSION,),
                        )
                row = db.execute("SELECT format FROM inbox_meta").fetchone()
            except psycopg.errors.UndefinedTable:
                raise InboxError(f"no webhook inbox in {self.location}") from None
            except psycopg.Error as exc:
                raise InboxError(f"{self.location} is not a webhook inbox: {exc}") from None
        if row is None or row[0] != FORMAT_VERSION:
            found = row[0] if row else None
            raise InboxError(
                f"{self.location} has inbox format {found}, this program reads {FORMAT_VERSION}"
            )

    def _connection(self) -> psycopg.Connection[Any]:
        if self._db is None or self._db.closed or self._db.broken:
            try:
                self._db = psycopg.connect(self.url, autocommit=True, connect_timeout=30)
            except psycopg.Error as exc:
                raise InboxError(f"cannot connect to {self.location}: {exc}") from None
        return self._db

    def _fetch(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._connection().execute(query, params).fetchall()
            except psycopg.OperationalError as exc:
                raise InboxError(f"{self.location}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()

    def append(self, body: bytes, envelope: Mapping[str, Any], signed_at: int) -> int | None:
        row = (
            dedupe_key(envelope),
            signed_at,
            envelope["event"],
            envelope["created_at"],
            envelope["created_by"],
            body.decode("utf-8"),
        )
        stored = self._fetch(APPEND_STATEMENT, row)
        return int(stored[0][0]) if stored else None

    def read_after(self, position: int, limit: int = 500) -> list[Delivery]:
        rows = self._fetch(_READ_AFTER, (position, limit))
        return [Delivery(p, k, stamp(at), *rest) for p, k, at, *rest in rows]

    def last_position(self) -> int:
        [(last,)] = self._fetch("SELECT last_position FROM inbox_meta")
        return int(last)

    def prune(self, received_before: datetime) -> int:
        with self._lock:
            try:
                db = self._connection()
                with db.transaction():
                    pruned = db.execute(
                        "DELETE FROM deliveries WHERE received_at < %s", (received_before,)
                    ).rowcount
                    db.execute(
                        "DELETE FROM receiver_uptime WHERE last_seen_at < %s", (received_before,)
                    )
            except psycopg.Error as exc:
                raise InboxError(f"pruning {self.location} failed: {exc}") from None
        return pruned

    def count(self) -> int:
        [(total,)] = self._fetch("SELECT count(*) FROM deliveries")
        return int(total)

    def healthy(self) -> bool:
        try:
            self._fetch("SELECT 1 FROM deliveries LIMIT 1")
        except (InboxError, psycopg.Error):
            return False
        return True

    def now(self) -> datetime:
        [(moment,)] = self._fetch("SELECT now()")
        return moment.astimezone(timezone.utc)

    def record_uptime(self, receiver_id: str, public_url: str, *, stopped: bool = False) -> None:
        if stopped:
            query = "UPDATE receiver_uptime SET stopped = true WHERE receiver_id = %s"
            params: tuple[str, ...] = (receiver_id,)
        else:
            query = (
                "INSERT INTO receiver_uptime (receiver_id, public_url, started_at, last_seen_at)"
                " VALUES (%s, %s, now(), now()) ON CONFLICT (receiver_id)"
                " DO UPDATE SET last_seen_at = excluded.last_seen_at"
            )
            params = (receiver_id, public_url)
        with self._lock:
            try:
                self._connection().execute(query, params)
            except psycopg.Error as exc:
                raise InboxError(f"recording uptime in {self.location} failed: {exc}") from None

    def uptimes(self) -> list[Uptime]:
        rows = self._fetch(
            "SELECT receiver_id, public_url, started_at, last_seen_at, stopped"
            " FROM receiver_uptime ORDER BY started_at"
        )
        return [
            Uptime(rid, url, start.astimezone(timezone.utc), seen.astimezone(timezone.utc), s)
            for rid, url, start, seen, s in rows
        ]
