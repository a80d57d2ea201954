"""Webhook deliveries: every change Calendly would announce, signed and POSTed to each matching
active subscription, with Calendly's retry policy on a clock tests can compress.

Handlers announce through `store.announce(event, payload, users=...)` while they hold the store
lock; `users` are the user uris the change concerns (an event's hosts, an event type's owner, a
contact's owner), which decides user- and group-scoped subscriptions. The payload is encoded at
once, so later changes never leak into a message waiting for a retry.

Rules (Calendly's developer docs, API_NOTES.md section 6, RELEASE_NOTES_2026.md "Webhooks"):
- Envelope `{event, created_at, created_by, payload}`; `created_by` is the subscription's creator.
- Invitee payloads (invitee.*, invitee_no_show.*) are shaped as real deliveries captured from 2020
  to 2026 are, where those differ from the spec's InviteePayload or from API reads:
  - `scheduled_event.meeting_notes_html` is present and null in every payload (the spec: a
    string, not required; API reads may carry the HTML notes);
  - `scheduled_event.calendar_event` and `scheduled_event.event_memberships[].buffered_start_time`
    / `buffered_end_time` are absent (API reads carry them; the spec's payload schema lacks them);
  - a booking made through the Scheduling API (`scheduling_method` "api") has
    `invitee_scheduled_by` null (the one real API-booked capture), while API reads name the user;
  - the invitee itself differs from the spec as API reads do under hard realism
    (calendly_sandbox.realism.SPEC_DIFFERENCES: `name` may be null, older invitees lack the keys
    added later although InviteePayload requires them, `payment.amount` may be a number), and the
    event carries what reads carry beyond the spec (`booking_method`, Zoom `data`).
- Header `Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">` keyed
  with the subscription's signing key (set on POST, never served). `t` is the real time of each
  attempt, so a retry carries a fresh signature over the same body. No key -> no header.
- Delivered = a 2xx within 10 s to connect and 15 s to read. Anything else is retried after 1, 2,
  4, ... minutes for 24 hours; the subscription's `retry_started_at` is set while it fails. When a
  message's 24 hours run out and no message to that subscription got through in them, the
  subscription is disabled (state "disabled") and its waiting messages are dropped.
- "Or until 24 hours after the booking" (release notes): a message about a booking (invitee.*,
  invitee_no_show.*) is not retried past 24 hours after its meeting starts, read as the harder
  of the two meanings: a no-show marked on a meeting two days old gets one attempt. Such a
  message ends "expired" and disables nothing.
- Other messages keep being attempted while one fails (several sender threads).
- Only ACTIVE subscriptions receive; routing_form_submission.* needs organization scope and
  meeting_recap.* user scope (also enforced on create).
- Callback hosts outside `allowed_hosts` (loopback by default; the seeded subscriptions point at
  hooks.example.com) are never contacted: their messages are recorded as "skipped".

Time: retries are scheduled on `dispatcher.now()`, real seconds times `time_scale` plus whatever
`advance()` added. time_scale=0 freezes it, so a test steps through the 24 hours with advance().
Inspection: `messages` (one per subscription and announcement) and `attempts` (every POST, with the
exact body and signature sent); `wait_idle()` returns once nothing is due or in flight.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import itertools
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt, parse

SIGNATURE_HEADER = "Calendly-Webhook-Signature"
CONNECT_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 15.0
FIRST_RETRY_SECONDS = 60.0
RETRY_WINDOW_SECONDS = 24 * 3600.0
BOOKING_RETRY_SECONDS = 24 * 3600.0  # after the booked meeting starts
SENDERS = 4
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SCOPE_ONLY_PREFIXES = {"routing_form_submission.": "organization", "meeting_recap.": "user"}


def sign(key: str, timestamp: int, body: bytes) -> str:
    """The Calendly-Webhook-Signature value for `body` sent at `timestamp`."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def booking_cutoff(payload: Resource) -> float | None:
    """When retries of a message about a booking stop at the latest: 24 h after its meeting."""
    event = payload.get("scheduled_event")
    start = event.get("start_time") if isinstance(event, dict) else None
    return parse(start) + BOOKING_RETRY_SECONDS if start else None


def invitee_payload(store: Store, invitee: Resource) -> Resource:
    """An InviteePayload: the invitee as served plus its scheduled event embedded, in the shape
    real deliveries have (the module docstring lists where that is not the API's)."""
    event = store.scheduled_events.get(uuid_of(invitee["event"]))
    payload = {**invitee, "scheduled_event": delivered_event(event) if event else None}
    if invitee.get("scheduling_method") == "api":
        payload["invitee_scheduled_by"] = None
    return payload


def delivered_event(event: Resource) -> Resource:
    """A scheduled event as a delivery embeds it: no calendar_event, no buffered_* times on the
    memberships, meeting_notes_html always there and null."""
    delivered = {key: value for key, value in event.items() if key != "calendar_event"}
    delivered["meeting_notes_html"] = None
    delivered["event_memberships"] = [
        {key: value for key, value in member.items() if not key.startswith("buffered_")}
        for member in event["event_memberships"]
    ]
    return delivered


def announce_invitee(store: Store, event: str, invitee: Resource) -> None:
    store.announce(event, invitee_payload(store, invitee), event_hosts(store, invitee))


def event_hosts(store: Store, invitee: Resource) -> frozenset[str]:
    return store.event_hosts.get(uuid_of(invitee["event"]), frozenset())


@dataclass
class Message:
    """One announcement for one subscription: the same body on every attempt."""

    id: int
    subscription: str
    url: str
    event: str
    body: bytes
    first_due: float
    next_due: float
    retry_until: float  # no attempt after this (dispatcher time)
    state: str = "pending"  # pending | delivered | abandoned | expired | dropped | skipped
    attempts: int = 0

    @property
    def envelope(self) -> dict[str, Any]:
        envelope: dict[str, Any] = json.loads(self.body)
        return envelope


@dataclass(frozen=True)
class Attempt:
    message: int
    subscription: str
    event: str
    number: int
    at: float  # dispatcher time
    status: int | None  # None: no HTTP answer (refused, reset, timeout)
    error: str | None
    body: bytes
    signature: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _Health:
    last_success: float | None = None


@dataclass(order=True)
class _Due:
    due: float
    message_id: int
    message: Message = field(compare=False)


class WebhookDispatcher:
    """Signs and sends announced changes; owned by the Sandbox (`sb.webhooks`)."""

    def __init__(self, *, time_scale: float = 1.0, senders: int = SENDERS) -> None:
        if time_scale < 0:
            raise ValueError(f"webhook time_scale must be >= 0, got {time_scale}")
        self.allowed_hosts: set[str] = set(LOOPBACK_HOSTS)
        self.messages: list[Message] = []
        self.attempts: list[Attempt] = []
        self._senders = senders
        self._cond = threading.Condition()
        self._queue: list[_Due] = []
        self._in_flight = 0
        self._ids = itertools.count(1)
        self._health: dict[str, _Health] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._store: Store | None = None
        self._scale = time_scale
        self._real_origin = time.monotonic()
        self._origin = time.time()

    # -- time --------------------------------------------------------------------------------
    def now(self) -> float:
        with self._cond:
            return self._origin + (time.monotonic() - self._real_origin) * self._scale

    def advance(self, seconds: float) -> None:
        """Move delivery time forward (retries that fall due are sent at once)."""
        with self._cond:
            self._origin += seconds
            self._cond.notify_all()

    @property
    def time_scale(self) -> float:
        return self._scale

    @time_scale.setter
    def time_scale(self, scale: float) -> None:
        if scale < 0:
            raise ValueError(f"webhook time_scale must be >= 0, got {scale}")
        with self._cond:
            self._origin = self.now()
            self._real_origin = time.monotonic()
            self._scale = scale
            self._cond.notify_all()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, store: Store) -> None:
        self._store = store
        store.announcer = self.announce
        with self._cond:
            self._stopping = False
        self._threads = [
            threading.Thread(target=self._run, daemon=True, name=f"sandbox-webhooks-{i}")
            for i in range(self._senders)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=READ_TIMEOUT_SECONDS + CONNECT_TIMEOUT_SECONDS)
        self._threads = []

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no message is due now or being sent; False if `timeout` (real s) passed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._in_flight or (self._queue and self._queue[0].due <= self.now()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def messages_for(self, subscription_uri: str) -> list[Message]:
        with self._cond:
            return [m for m in self.messages if m.subscription == subscription_uri]

    # -- announcing --------------------------------------------------------------------------
    def announce(self, event: str, payload: Resource, users: Iterable[str] = ()) -> list[Message]:
        """Queue `event` for every matching active subscription (call with store.lock held)."""
        store = self._store
        if store is None:
            return []
        concerned = frozenset(users)
        created_at = fmt(time.time())
        queued = []
        for hook in list(store.webhook_subscriptions.values()):
            if not self._matches(store, hook, event, concerned):
                continue
            envelope = {
                "event": event,
                "created_at": created_at,
                "created_by": hook["creator"],
                "payload": payload,
            }
            body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
            queued.append(self._enqueue(hook, event, body, booking_cutoff(payload)))
        return queued

    @staticmethod
    def _matches(store: Store, hook: Resource, event: str, users: frozenset[str]) -> bool:
        if hook["state"] != "active" or event not in hook["events"]:
            return False
        scope = hook["scope"]
        for prefix, only in SCOPE_ONLY_PREFIXES.items():
            if event.startswith(prefix) and scope != only:
                return False
        if scope == "organization":
            return True
        if scope == "user":
            return hook["user"] in users
        return bool(store.group_members.get(hook["group"], set()) & users)

    def _enqueue(self, hook: Resource, event: str, body: bytes, cutoff: float | None) -> Message:
        now = self.now()
        until = (
            now + RETRY_WINDOW_SECONDS
            if cutoff is None
            else min(now + RETRY_WINDOW_SECONDS, cutoff)
        )
        message = Message(
            next(self._ids), hook["uri"], hook["callback_url"], event, body, now, now, until
        )
        with self._cond:
            self.messages.append(message)
            if urlsplit(message.url).hostname not in self.allowed_hosts:
                message.state = "skipped"
                return message
            heapq.heappush(self._queue, _Due(now, message.id, message))
            self._cond.notify()
        return message

    # -- sending -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                message = self._next_due()
                if message is None:
                    return
                self._in_flight += 1
            try:
                self._attempt(message)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _next_due(self) -> Message | None:
        """Block (holding the condition) until a message is due; None when stopping."""
        while not self._stopping:
            now = self.now()
            if self._queue and self._queue[0].due <= now:
                return heapq.heappop(self._queue).message
            wait = 0.5
            if self._queue and self._scale > 0:
                wait = min(wait, max(0.001, (self._queue[0].due - now) / self._scale))
            self._cond.wait(wait)
        return None

    def _attempt(self, message: Message) -> None:
        store = self._store
        assert store is not None
        with store.lock:
            hook = store.webhook_subscriptions.get(uuid_of(message.subscription))
            key = store.signing_keys.get(message.subscription)
            if hook is None or hook["state"] != "active":
                message.state = "dropped"
                return
        stamp = int(time.time())
        signature = sign(key, stamp, message.body) if key else None
        status, error = post(message.url, message.body, signature)
        with store.lock, self._cond:
            message.attempts += 1
            at = self.now()
            attempt = Attempt(
                message.id,
                message.subscription,
                message.event,
                message.attempts,
                at,
                status,
                error,
                message.body,
                signature,
            )
            self.attempts.append(attempt)
            health = self._health.setdefault(message.subscription, _Health())
            if attempt.ok:
                message.state = "delivered"
                health.last_success = at
                if not self._failing(message.subscription):
                    hook["retry_started_at"] = None
                return
            if hook["retry_started_at"] is None:
                hook["retry_started_at"] = fmt(at)
            delay = FIRST_RETRY_SECONDS * 2 ** (message.attempts - 1)
            if at + delay <= message.retry_until:
                message.next_due = at + delay
                heapq.heappush(self._queue, _Due(message.next_due, message.id, message))
                return
            if message.retry_until < message.first_due + RETRY_WINDOW_SECONDS:
                message.state = "expired"  # its booking's cutoff, not 24 hours of failures
                return
            message.state = "abandoned"
            got_through = health.last_success is not None and health.last_success >= (
                message.first_due
            )
            if not got_through:
                self._disable(hook, at)

    def _failing(self, subscription: str) -> bool:
        return any(
            d.message.subscription == subscription and d.message.attempts for d in self._queue
        )

    def _disable(self, hook: Resource, at: float) -> None:
        hook["state"] = "disabled"
        hook["updated_at"] = fmt(at)
        kept = []
        for due in self._queue:
            if due.message.subscription == hook["uri"]:
                due.message.state = "dropped"
            else:
                kept.append(due)
        heapq.heapify(kept)
        self._queue = kept


def post(url: str, body: bytes, signature: str | None) -> tuple[int | None, str | None]:
    """POST `body`; (status, None) on an HTTP answer, (None, why) when none came."""
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=CONNECT_TIMEOUT_SECONDS)
    headers = {"Content-Type": "application/json", "User-Agent": "Calendly-Sandbox-Webhooks"}
    if signature:
        headers[SIGNATURE_HEADER] = signature
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(READ_TIMEOUT_SECONDS)
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, None
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
