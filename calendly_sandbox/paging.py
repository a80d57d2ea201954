"""Keyset pagination: sorted indexes, opaque page tokens, O(page size) page cost.

An index is a sorted list of tuples `(sort value, ..., uuid)`. A page token carries the last
served key plus a fingerprint of the request's filters and an HMAC, so a token is rejected when
tampered with or replayed against other filters. Resuming is a bisect, so inserts and deletes
between pages never skip or repeat the records that stay.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

from calendly_sandbox.errors import bad_request

Key = tuple[Any, ...]


def field_value(resource: Mapping[str, Any], path: str) -> Any:
    """A (dotted) field of a resource, with None mapped to '' so that keys always compare."""
    value: Any = resource
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return ""
    return value


@dataclass(frozen=True)
class SortOrder:
    fields: tuple[str, ...]
    descending: tuple[bool, ...]

    @property
    def mixed(self) -> bool:
        return len(set(self.descending)) > 1

    @property
    def reverse(self) -> bool:
        """Whether to walk a plain ascending index backwards (all fields descending)."""
        return not self.mixed and self.descending[0]

    def key(self, resource: Mapping[str, Any], uuid: str) -> Key:
        values = tuple(field_value(resource, f) for f in self.fields)
        if self.mixed:
            return (MixedKey(values, self.descending), uuid)
        return (*values, uuid)

    def key_from_token(self, values: Sequence[Any]) -> Key:
        *sort_values, uuid = values
        if self.mixed:
            return (MixedKey(tuple(sort_values), self.descending), uuid)
        return (*sort_values, uuid)

    @staticmethod
    def token_values(key: Key) -> list[Any]:
        first = key[0]
        if isinstance(first, MixedKey):
            return [*first.values, key[1]]
        return list(key)


@total_ordering
class MixedKey:
    """Sort values compared field by field, each in its own direction."""

    __slots__ = ("descending", "values")

    def __init__(self, values: tuple[Any, ...], descending: tuple[bool, ...]) -> None:
        self.values = values
        self.descending = descending

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MixedKey) and self.values == other.values

    def __hash__(self) -> int:
        return hash(self.values)

    def __lt__(self, other: MixedKey) -> bool:
        for mine, theirs, desc in zip(self.values, other.values, self.descending, strict=True):
            if mine != theirs:
                return bool(mine > theirs) if desc else bool(mine < theirs)
        return False


def parse_sort(
    raw: Sequence[str] | None, allowed: Sequence[str], default: str, parameter: str = "sort"
) -> SortOrder:
    """`field:asc,field2:desc` (or a list of such items) -> SortOrder; 400 on unknown fields."""
    items: list[str] = []
    for chunk in raw or [default]:
        items.extend(p.strip() for p in chunk.split(",") if p.strip())
    fields: list[str] = []
    descending: list[bool] = []
    for item in items or [default]:
        name, _, direction = item.partition(":")
        direction = direction or "asc"
        if name not in allowed or direction not in ("asc", "desc"):
            raise bad_request(
                parameter,
                f"{item!r} is not a valid sort; use field:asc|desc with a field among "
                f"{', '.join(allowed)}",
            )
        fields.append(name)
        descending.append(direction == "desc")
    return SortOrder(tuple(fields), tuple(descending))


def build_index(items: Iterable[tuple[str, Mapping[str, Any]]], order: SortOrder) -> list[Key]:
    return sorted(order.key(resource, uuid) for uuid, resource in items)


def scan(
    index: Sequence[Key],
    order: SortOrder,
    after: Key | None,
    count: int,
    predicate: Callable[[str], bool] | None = None,
    window: tuple[Any, Any] = (None, None),
) -> tuple[list[str], Key | None]:
    """Up to `count` uuids after `after` that pass `predicate`, and the key to resume from.

    `window` = (lowest inclusive, highest exclusive) value of the first sort field; with a
    plain (single-direction) order it is a bisect, so windowed pages cost O(page), not O(N).
    """
    found: list[str] = []
    last: Key | None = None
    for key in _walk(index, order, after, window):
        if predicate is None or predicate(key[-1]):
            if len(found) == count:
                return found, last
            found.append(key[-1])
            last = key
    return found, None


def _walk(
    index: Sequence[Key], order: SortOrder, after: Key | None, window: tuple[Any, Any]
) -> Iterator[Key]:
    low, high = window if not order.mixed else (None, None)
    if order.reverse:
        end = len(index) if high is None else bisect.bisect_left(index, (high,))
        pos = (min(end, bisect.bisect_left(index, after)) if after is not None else end) - 1
        floor = 0 if low is None else bisect.bisect_left(index, (low,))
        while pos >= floor:
            yield index[pos]
            pos -= 1
    else:
        start = 0 if low is None else bisect.bisect_left(index, (low,))
        pos = max(start, bisect.bisect_right(index, after)) if after is not None else start
        end = len(index) if high is None else bisect.bisect_left(index, (high,))
        while pos < end:
            yield index[pos]
            pos += 1


class TokenCodec:
    """Opaque page tokens: base64url(JSON {key, filter fingerprint}) + '.' + HMAC."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @staticmethod
    def fingerprint(path: str, params: Mapping[str, Sequence[str]]) -> str:
        relevant = sorted(
            (k, list(v)) for k, v in params.items() if k not in ("page_token", "count")
        )
        blob = json.dumps([path, relevant], separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def encode(self, key_values: list[Any], fingerprint: str) -> str:
        payload = json.dumps({"k": key_values, "f": fingerprint}, separators=(",", ":"))
        body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def decode(self, token: str, fingerprint: str) -> list[Any]:
        body, _, signature = token.partition(".")
        # Bytes, not str: compare_digest refuses non-ASCII strings with a TypeError.
        if not body or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            raise bad_request("page_token", "page_token is not valid")
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError as exc:
            raise bad_request("page_token", "page_token is not valid") from exc
        if payload.get("f") != fingerprint:
            raise bad_request(
                "page_token", "page_token was issued for different filters or sort; start over"
            )
        values: list[Any] = payload["k"]
        return values

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:20]
