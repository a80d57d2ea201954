"""Resume points: a listing sorted oldest first goes on after a crash instead of starting over.

After every page of rows it has released (rows and their children's rows emitted), a run writes
a STATE whose entry for the listing carries, e.g. for scheduled_events:

    "resume": {
      "min_start_time": "2026-12-03T15:00:00.000000Z",   # sort value of the last released row
      "run_started_at": "2026-11-21T06:40:45.123000Z",   # the interrupted run's signpost
      "streams": {                                       # every stream the listing feeds
        "scheduled_events": {"bookmark": null, "progress": "2026-11-21T06:10:12.786541Z"},
        "invitees": {"bookmark": null, "progress": "2026-11-21T06:10:12.786541Z"}
      }
    }

A run started from that STATE lists from a second before `min_start_time` (Calendly reads min_* as
"after": rows sharing that time, some maybe past the page boundary, are read again), filters rows
with the interrupted run's bookmarks, carries its progress (the largest
replication-key value emitted) on, and promotes bookmarks no later than `run_started_at`, so what
changed between the two runs in the part already passed is read again by the next run. Nothing
here grows with the data: one position, one time and two values per stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calendly_plugin.sdk_compat import progress_marker, seed_progress_marker
from tap_calendly.timestamps import format_timestamp, parse_timestamp

RESUME = "resume"


@dataclass(frozen=True)
class StreamResume:
    """What one stream keeps of the interrupted run."""

    bookmark: str | None  # the bookmark that run filtered rows with
    progress: str | None  # the largest replication-key value it emitted


@dataclass(frozen=True)
class ResumePoint:
    position: str  # the value to send as the listing's `min_<sort field>` filter
    run_started_at: datetime
    streams: Mapping[str, StreamResume]

    def to_state(self, position_key: str) -> dict[str, Any]:
        return {
            position_key: self.position,
            "run_started_at": format_timestamp(self.run_started_at),
            "streams": {
                name: {"bookmark": part.bookmark, "progress": part.progress}
                for name, part in self.streams.items()
            },
        }

    @classmethod
    def from_state(cls, value: Any, position_key: str) -> ResumePoint | None:
        """The point kept in state; None when there is none or it is not of this shape."""
        try:
            return cls(
                position=str(value[position_key]),
                run_started_at=_timestamp(value["run_started_at"]),
                streams={
                    str(name): StreamResume(
                        bookmark=_text_or_none(part["bookmark"]),
                        progress=_text_or_none(part["progress"]),
                    )
                    for name, part in value["streams"].items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def progress_of(stream_state: Mapping[str, Any]) -> str | None:
    """The largest replication-key value this run has emitted (the SDK's progress marker)."""
    return progress_marker(stream_state)


def carry_progress(stream_state: dict[str, Any], replication_key: str, value: str) -> None:
    """Start this run's progress marker from the interrupted run's, the way the SDK keeps it."""
    seed_progress_marker(stream_state, replication_key, value)


def _timestamp(value: Any) -> datetime:
    moment = parse_timestamp(value)
    if moment is None:
        raise ValueError("empty timestamp")
    return moment


def _text_or_none(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("expected a string or null")
    return value
