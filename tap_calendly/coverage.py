"""Coverage: whether the webhook inbox proves that it holds every invitee change since the last
run, so that the invitees of events no delivery named and that did not change need no re-read.

Two facts prove a stretch of time, both read at the start of the run:
- a receiver writing to the inbox was up (its uptime rows: started_at .. last_seen_at);
- an active organization subscription to every INVITEE_EVENTS, calling back a URL a receiver
  serves, existed for the whole stretch (created before it, no `retry_started_at`: Calendly
  cannot re-enable a disabled subscription, so active now and created before means active
  throughout).

What is not proven is a `Stretch`. While the receiver was down but the subscription stayed
active, Calendly retries each delivery, doubling the wait from one minute, for 24 hours and not
past 24 hours after the meeting starts (RELEASE_NOTES_2026 "Webhooks"): such a stretch is
bridged for an event whose retries outlast it (a booking next week: yes; a no-show on a meeting
three days old: never, it gets one attempt). An event created after a stretch cannot have
changed in it. Every other event in the re-read window takes the safe rule (its invitees are
re-read). A run that applies the safe rule to the whole window is a reconciliation; one is due
every `webhook_reconcile_hours`, which bounds how long a delivery Calendly never made (outside
any outage) can stay missed.

Each run stores in the invitees' state how far it proved (`proven_through`: the last heartbeat
seen, or the check itself when the safe rule covered everything) and when it last reconciled;
the next run proves from there. Times compare the inbox's clock (PostgreSQL's now(), or the
receiver host's clock for SQLite) with Calendly's timestamps: keep clocks synchronized.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from singer_sdk import metrics

from calendly_http import PermissionDeniedError
from calendly_webhooks.inbox import STALE_AFTER_SECONDS, Uptime
from tap_calendly.timestamps import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from tap_calendly.tap import TapCalendly

INVITEE_EVENTS = frozenset(
    {"invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted"}
)
RETRY_WINDOW = timedelta(hours=24)
BOOKING_CUTOFF = timedelta(hours=24)  # no retry later than this after the meeting starts
FIRST_RETRY = timedelta(minutes=1)
DEFAULT_RECONCILE_HOURS = 24
#: The invitees stream's state key: {"proven_through": time, "reconciled_at": time}.
STATE_KEY = "webhook_coverage"


@dataclass(frozen=True)
class Stretch:
    """Time the inbox does not prove: a delivery made then may be missing."""

    start: datetime
    end: datetime
    #: The receiver was down while the subscription stayed active: Calendly retried.
    retried: bool

    def may_miss(self, created: datetime | None, starts: datetime | None) -> bool:
        """Whether a change to an event created at `created`, starting at `starts`, may have
        been made in this stretch and its delivery never stored."""
        if created is not None and created >= self.end:
            return False
        if not self.retried or starts is None:
            return True
        deadline = min(self.start + RETRY_WINDOW, starts + BOOKING_CUTOFF)
        return self.retry_lands > deadline

    @property
    def retry_lands(self) -> datetime:
        """By when a delivery that failed in the stretch was tried again with the receiver
        back: waits double, so the first attempt after the stretch is at most its length
        (plus the first wait) later."""
        return self.end + (self.end - self.start) + FIRST_RETRY


@dataclass(frozen=True)
class Coverage:
    """The run's verdict: which unchanged, unnamed events of the window need the safe rule."""

    checked_at: datetime
    proven_through: datetime
    stretches: tuple[Stretch, ...]
    reconciles: bool
    reconciled_at: datetime | None
    reason: str

    def needs_safe_read(self, event: Mapping[str, Any]) -> bool:
        if self.reconciles:
            return True
        created = parse_timestamp(event.get("created_at"))
        starts = parse_timestamp(event.get("start_time"))
        return any(stretch.may_miss(created, starts) for stretch in self.stretches)

    @property
    def state(self) -> dict[str, str | None]:
        """What the next run proves from (stored once this run's invitee listing is done)."""
        reconciled = self.checked_at if self.reconciles else self.reconciled_at
        return {
            "proven_through": format_timestamp(self.proven_through),
            "reconciled_at": format_timestamp(reconciled) if reconciled else None,
        }


def assess(
    saved: Mapping[str, Any] | None,
    uptimes: Sequence[Uptime],
    subscriptions: Iterable[Mapping[str, Any]],
    now: datetime,
    reconcile_every: timedelta,
) -> Coverage:
    """The coverage of (the previous run's proven_through, now]."""
    saved = saved or {}
    since = parse_timestamp(saved.get("proven_through"))
    reconciled = parse_timestamp(saved.get("reconciled_at"))
    if since is None:
        return Coverage(now, now, (), True, reconciled, "no earlier coverage check")
    since = min(since, now)
    receiver, proven = _receiver_stretches(uptimes, since, now)
    urls = {uptime.public_url for uptime in uptimes}
    subscription, why = _subscription_stretches(list(subscriptions), urls, since, now)
    stretches = (*receiver, *subscription)
    unproven_now = any(not s.retried and s.end >= now for s in stretches)
    if unproven_now:
        proven = now  # the safe rule reads the whole window now
    else:
        proven = min([proven, *(s.retry_lands for s in stretches if s.retried)])
    due = reconciled is None or now - reconciled >= reconcile_every
    reason = why or ("receiver up" if not receiver else _describe(receiver))
    if due:
        reason += "; a reconciliation is due"
    return Coverage(now, max(proven, since), stretches, due or unproven_now, reconciled, reason)


def _receiver_stretches(
    uptimes: Sequence[Uptime], since: datetime, now: datetime
) -> tuple[list[Stretch], datetime]:
    """The gaps between receivers' uptimes in (since, now], and how far uptime is proven."""
    stretches: list[Stretch] = []
    cursor = since
    for uptime in sorted(uptimes, key=lambda u: u.started_at):
        if uptime.last_seen_at <= cursor:
            continue
        if uptime.started_at > cursor:
            stretches.append(Stretch(cursor, uptime.started_at, retried=True))
        cursor = uptime.last_seen_at
    stale = timedelta(seconds=STALE_AFTER_SECONDS)
    if not any(not u.stopped and now - u.last_seen_at <= stale for u in uptimes):
        stretches.append(Stretch(cursor, now, retried=False))  # down now: nothing bridges it
    return stretches, min(cursor, now)


def _subscription_stretches(
    subscriptions: list[Mapping[str, Any]], urls: set[str], since: datetime, now: datetime
) -> tuple[list[Stretch], str]:
    """What the best subscription delivering every invitee event to a receiver leaves
    unproven in (since, now], and why, if anything."""
    delivering = [
        s
        for s in subscriptions
        if s.get("scope") == "organization"
        and s.get("state") == "active"
        and set(s.get("events") or ()) >= INVITEE_EVENTS
        and s.get("callback_url") in urls
    ]
    if not delivering:
        why = (
            "no active organization subscription to every invitee event calls back a receiver "
            f"({', '.join(sorted(urls)) or 'none recorded'}; see calendly-webhooks --public-url)"
        )
        return [Stretch(since, now, retried=False)], why
    best = min(
        delivering,
        key=lambda s: (
            bool(s.get("retry_started_at")),
            parse_timestamp(s.get("created_at")) or now,
        ),
    )
    failing = parse_timestamp(best.get("retry_started_at"))
    if failing is not None:
        return [Stretch(max(since, failing), now, retried=False)], "deliveries are failing"
    created = parse_timestamp(best.get("created_at"))
    if created is not None and created > since:
        return [Stretch(since, created, retried=False)], "subscription created since"
    return [], ""


def _describe(stretches: list[Stretch]) -> str:
    if not stretches[-1].retried:
        return f"no receiver up since {format_timestamp(stretches[-1].start)}"
    longest = max(s.end - s.start for s in stretches)
    return f"receiver down {len(stretches)} time(s), longest {longest}"


def judge_coverage(tap: TapCalendly) -> Coverage | None:
    """This run's coverage, or None without webhook_inbox or with webhook_coverage off."""
    inbox_slice = tap.webhook_slice
    if inbox_slice is None or not tap.config.get("webhook_coverage", True):
        return None
    invitees = tap.streams.get("invitees")
    saved = invitees.stream_state.get(STATE_KEY) if invitees is not None else None
    hours = tap.config.get("webhook_reconcile_hours", DEFAULT_RECONCILE_HOURS)
    coverage = assess(
        saved,
        inbox_slice.uptimes,
        organization_subscriptions(tap),
        inbox_slice.checked_at,
        timedelta(hours=hours),
    )
    rule = "the safe rule" if coverage.reconciles else "deliveries and changes"
    tap.logger.info("Webhook coverage: %s; invitees re-read by %s.", coverage.reason, rule)
    return coverage


def organization_subscriptions(tap: TapCalendly) -> list[dict[str, Any]]:
    """The organization's webhook subscriptions (a request per 100); none without
    webhooks:read, which leaves coverage unproven."""
    path = "/webhook_subscriptions"
    query = {"organization": tap.organization_uri, "scope": "organization", "count": 100}
    try:
        with metrics.http_request_counter("webhook_subscriptions", endpoint=path) as counter:
            return list(tap.client.paginate(path, query, on_page=counter.increment))
    except PermissionDeniedError:
        tap.logger.warning("Cannot read webhook subscriptions: coverage is not proven.")
        return []
