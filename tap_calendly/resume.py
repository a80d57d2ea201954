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

A stream reads its point once (`point_to_resume_from`); `resumable` wraps its listing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from calendly_plugin.sdk_compat import progress_marker, seed_progress_marker, write_state_now
from tap_calendly.timestamps import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from tap_calendly.client import CalendlyStream

RESUME = "resume"
Row = dict[str, Any]


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


def point_to_resume_from(stream: CalendlyStream) -> ResumePoint | None:
    """Where an interrupted run of the stream's listing stopped, if this run can go on from
    there (read before this run writes its own)."""
    if not stream.sorted_asc_by:
        return None
    point = ResumePoint.from_state(stream.stream_state.get(RESUME), stream.resume_filter)
    if point is None:
        return None
    uncovered = {fed.name for fed in stream.fed_streams()} - set(point.streams)
    if uncovered:
        stream.logger.info(
            "'%s' lists from the start: the interrupted run did not read %s.",
            stream.name,
            ", ".join(sorted(uncovered)),
        )
        return None
    return point


def resumable(stream: CalendlyStream, rows: Iterable[Row]) -> Iterable[Row]:
    """The rows of a listing sorted oldest first, writing a resume point after every page of
    them and dropping it once the listing has ended; other listings' rows as they are.

    A page of rows comes with its children's rows already emitted (fanout.py syncs them first,
    `page_size` rows at a time), so the point is written once the page's last row has been
    emitted.
    """
    return _resumable(stream, rows) if stream.sorted_asc_by else rows


def _resumable(stream: CalendlyStream, rows: Iterable[Row]) -> Iterator[Row]:
    field = stream.sorted_asc_by
    assert field is not None
    fed = stream.fed_streams()
    if (resuming := stream.resume_point) is not None:
        for each in fed:
            progress = resuming.streams[each.name].progress
            if each.replication_key and progress is not None:
                seed_progress_marker(each.stream_state, each.replication_key, progress)
    previous: datetime | None = None
    in_order = True
    for count, row in enumerate(rows, start=1):
        position = parse_timestamp(row.get(field))
        if in_order and (position is None or (previous is not None and position < previous)):
            # A restart from the last point would skip this row: take the point back first.
            in_order = False
            stream.logger.warning(
                "'%s' rows are not sorted by %s: if this run stops, the next starts over.",
                stream.name,
                field,
            )
            _save(stream, None)
        previous = position
        yield row
        if in_order and count % stream.page_size == 0:
            _save(stream, _point_after(stream, str(row[field]), fed))
    stream.stream_state.pop(RESUME, None)


def _point_after(stream: CalendlyStream, position: str, fed: list[CalendlyStream]) -> ResumePoint:
    started = stream.get_replication_key_signpost()
    assert isinstance(started, datetime), "timestamp replication keys have a signpost"
    return ResumePoint(
        position=position,
        run_started_at=started,
        streams={
            each.name: StreamResume(
                bookmark=format_timestamp(each.bookmark) if each.bookmark else None,
                progress=progress_marker(each.stream_state),
            )
            for each in fed
        },
    )


def _save(stream: CalendlyStream, point: ResumePoint | None) -> None:
    """Keep the point (or none) in state and write a STATE message now."""
    if point is None:
        stream.stream_state.pop(RESUME, None)
    else:
        stream.stream_state[RESUME] = point.to_state(stream.resume_filter)
    write_state_now(stream)


def _timestamp(value: Any) -> datetime:
    moment = parse_timestamp(value)
    if moment is None:
        raise ValueError("empty timestamp")
    return moment


def _text_or_none(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("expected a string or null")
    return value
