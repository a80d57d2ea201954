"""Watching no-shows: an invitee whose no-show is removed changes no updated_at, so the invitees
last read with a no-show (within the window the next run re-reads) are kept in the invitees
stream's state, and one read again without it is emitted.

Kept as {event start day: "key key ..."} (13 bytes an invitee; see `watch_key`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from calendly_http import uuid_of

#: The invitees stream's state key.
WATCHED_NO_SHOWS = "watched_no_shows"


def watch_key(invitee_uri: str) -> str:
    """48 bits of a hash of the invitee's id: a collision can only make one invitee without a
    no-show look like a removed one, emitted once more; it can never hide a removal."""
    return hashlib.sha256(uuid_of(invitee_uri).encode()).hexdigest()[:12]


def read_watched(saved: Any) -> dict[str, str]:
    """{watch key: event start day} from state, the older {invitee URI: start time} included."""
    watched: dict[str, str] = {}
    for day_or_uri, keys_or_start in saved.items() if isinstance(saved, dict) else ():
        if "/" in day_or_uri:  # the older format
            watched[watch_key(day_or_uri)] = str(keys_or_start)[:10]
        else:
            watched.update(dict.fromkeys(str(keys_or_start).split(), str(day_or_uri)))
    return watched


def written_watched(watched: Mapping[str, str]) -> dict[str, str]:
    by_day: defaultdict[str, list[str]] = defaultdict(list)
    for key, day in watched.items():
        by_day[day].append(key)
    return {day: " ".join(sorted(keys)) for day, keys in sorted(by_day.items())}


class NoShowWatch:
    """One run's watch: the invitees the last run watched, and those this run reads."""

    def __init__(self, saved: Any) -> None:
        self._watched = read_watched(saved)
        self._seen: set[str] = set()
        self._watching: dict[str, str] = {}

    def removed(self, invitee: Mapping[str, Any], event_start: Any) -> bool:
        """Note the invitee as read; whether it was watched and its no-show is gone."""
        key = watch_key(invitee["uri"])
        marked = bool(invitee.get("no_show"))
        if marked:
            self._watching[key] = str(event_start or "")[:10]
        if key not in self._watched:
            return False
        self._seen.add(key)
        return not marked

    def to_state(self, floor: str) -> dict[str, str]:
        """What the next run watches: what this run read with a no-show and what it did not
        reach, for events starting on or after the day `floor`."""
        kept = {k: day for k, day in self._watched.items() if k not in self._seen}
        return written_watched(
            {k: day for k, day in {**kept, **self._watching}.items() if day and day >= floor}
        )
