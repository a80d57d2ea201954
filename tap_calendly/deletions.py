"""Rows that vanish from Calendly reach the warehouse as deletions.

A stream whose rows can disappear (a member removed, an invitation revoked, a subscription
deleted...) says so with `tracks_deletions = True`. Such a stream reads its whole listing every
run and keeps the primary keys it listed in its state (`listed_keys`, written once the listing is
complete). The run that first lists the stream without a key it listed last time emits that row
once, as a RECORD of the stream carrying its primary key and `_sdc_deleted_at` (the Singer
convention: SDK targets delete or soft-delete it per their `hard_delete`).

Only a complete listing declares a row vanished: a listing skipped (plan, 403) or stopped by an
error or a crash saves no keys, so the next complete one compares with the last complete one. A
row listed again after it vanished (a member re-invited) is emitted again whatever its updated_at.

The keys are kept compact (about 24 bytes each): sorted, their common prefix (e.g.
`https://api.calendly.com/users/`) stated once, UUIDs in base64, one space between keys.
"""

from __future__ import annotations

import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, unquote
from uuid import UUID

from tap_calendly.timestamps import format_timestamp

#: The Singer column SDK targets read as "this row was deleted at".
DELETED_AT = "_sdc_deleted_at"
#: Stream state: the keys of the last complete listing.
LISTED_KEYS = "listed_keys"

Key = tuple[str, ...]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PACKED_UUID = re.compile(r"\*([A-Za-z0-9_-]{22})")


def is_deletion(row: Mapping[str, Any]) -> bool:
    return bool(row.get(DELETED_AT))


def key_of(row: Mapping[str, Any], primary_keys: Sequence[str]) -> Key:
    return tuple(str(row.get(name) or "") for name in primary_keys)


def _packed(key: Key) -> str:
    """One word: the parts quoted (no space, `|` or `*` left) and joined by `|`, each UUID
    written as `*` and its 16 bytes in base64 (23 characters instead of 36)."""
    text = "|".join(quote(part, safe=":/") for part in key)
    return _UUID.sub(lambda m: "*" + urlsafe_b64encode(UUID(m[0]).bytes).decode()[:22], text)


def _unpacked(word: str) -> Key:
    text = _PACKED_UUID.sub(lambda m: str(UUID(bytes=urlsafe_b64decode(m[1] + "=="))), word)
    return tuple(unquote(part) for part in text.split("|"))


def written_keys(keys: Iterable[Key]) -> dict[str, str]:
    """The state form of a set of keys: their common prefix, and the rest as words."""
    words = sorted({_packed(key) for key in keys})
    prefix = _common_prefix(words[0], words[-1]) if len(words) > 1 else ""
    if any(word == prefix for word in words):
        prefix = ""  # an empty word would read as no key
    return {"prefix": prefix, "keys": " ".join(word[len(prefix) :] for word in words)}


def _common_prefix(first: str, last: str) -> str:
    """Of sorted strings, the first and the last share what they all share."""
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def read_keys(saved: Any) -> set[Key] | None:
    """The keys of a state written by `written_keys`; None when there is none (a first run)."""
    if not isinstance(saved, Mapping) or not isinstance(saved.get("keys"), str):
        return None
    prefix = str(saved.get("prefix") or "")
    return {_unpacked(prefix + tail) for tail in saved["keys"].split(" ") if tail}


def deletion_record(
    key: Key, primary_keys: Sequence[str], replication_key: str | None, at: datetime
) -> dict[str, Any]:
    """The RECORD of a vanished row. Its replication key (never null in the schemas) carries the
    moment the deletion was noticed: the row's last change as far as anyone can know."""
    moment = format_timestamp(at)
    record: dict[str, Any] = dict(zip(primary_keys, key, strict=True))
    if replication_key:
        record[replication_key] = moment
    record[DELETED_AT] = moment
    return record


class ListingTracker:
    """The keys one run lists for a stream, against those of the last complete listing."""

    def __init__(self, stream_state: Mapping[str, Any], primary_keys: Sequence[str]) -> None:
        self.primary_keys = tuple(primary_keys)
        self.previous = read_keys(stream_state.get(LISTED_KEYS))
        self.listed: set[Key] = set()

    def saw(self, row: Mapping[str, Any]) -> None:
        self.listed.add(key_of(row, self.primary_keys))

    def reappeared(self, row: Mapping[str, Any]) -> bool:
        """Listed now but not in the last complete listing (and there was one)."""
        return self.previous is not None and key_of(row, self.primary_keys) not in self.previous

    def complete(
        self, stream_state: dict[str, Any], replication_key: str | None
    ) -> Iterator[dict[str, Any]]:
        """The listing is complete: the deletion records of the rows that vanished since the last
        complete listing; the keys listed now are kept for the next run."""
        now = datetime.now(timezone.utc)
        for key in sorted((self.previous or set()) - self.listed):
            yield deletion_record(key, self.primary_keys, replication_key, now)
        stream_state[LISTED_KEYS] = written_keys(self.listed)
