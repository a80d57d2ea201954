"""Turn one validated record (or one batch) into its Calendly write and its outcome line.

Every path through here ends in exactly one outcome line per record, written before anything is
raised; `on_error=fail` then stops the run at that record. When the run stops for any other
reason (bad input, an unknown stream), `stopped` gives each record admitted but not finished its
line: `not_attempted`, or `unknown` if its request had left.

A request that cannot safely be sent twice is written ahead (outcomes.OutcomeWriter.intend)
before it leaves; a record whose earlier request is still in flight from a run that crashed is
settled like a lost answer (looked up, else `unknown`) instead of being sent again.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests
from singer_sdk.exceptions import MissingKeyPropertiesError

from calendly_http import (
    AuthenticationError,
    CalendlyClient,
    CalendlyError,
    ConfigError,
    InsufficientScopeError,
    OutcomeUnknownError,
    PlanRequiredError,
    json_body,
)
from calendly_http.retry import IDEMPOTENT_METHODS
from target_calendly.action import Action, DestructiveGuard, Write
from target_calendly.checkpoints import StateGate
from target_calendly.lookups import LookupFailedError, Skip, WriteContext
from target_calendly.outcomes import (
    IDEMPOTENCY_KEY,
    UNFINISHED_OUTCOMES,
    Earlier,
    Intent,
    Outcome,
    OutcomeLine,
    OutcomeWriter,
    jsonable,
    record_key,
)
from target_calendly.validation import InvalidRecordError, off_api_host, validate


class RecordFailedError(Exception):
    """The run stops at a failed record (its `failed` line is already written)."""


class KeyPropertiesMissingError(RecordFailedError, MissingKeyPropertiesError):
    """A record lacks a key property its stream's SCHEMA declares."""


@dataclass(frozen=True)
class Item:
    """One input record on its way to an outcome."""

    stream: str
    action: str
    record: Mapping[str, Any]
    position: int
    ticket: int
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"record #{self.position} of stream '{self.stream}' (action {self.action})"


class Executor:
    def __init__(
        self,
        client: CalendlyClient,
        writer: OutcomeWriter,
        gate: StateGate,
        *,
        dry_run: bool,
        stop_on_error: bool,
        logger: logging.Logger,
        guard: DestructiveGuard,
        signing_key_file: Path | None = None,
    ) -> None:
        self.client = client
        self.ctx = WriteContext(client, signing_key_file)
        self.writer = writer
        self.gate = gate
        self.dry_run = dry_run
        self.guard = guard
        self.stop_on_error = stop_on_error
        self.logger = logger
        self.failures: Counter[str] = Counter()
        self.unknowns: Counter[str] = Counter()
        self.done_before = 0
        self._positions: Counter[str] = Counter()
        self._blocked: dict[tuple[str, Hashable], CalendlyError] = {}
        self._lock = threading.Lock()  # batch sinks drain in parallel threads
        self._open: dict[int, Item] = {}  # admitted, no line yet (by ticket)
        self._sent: set[int] = set()  # tickets whose request has left
        self._written_ahead: set[int] = set()  # tickets whose send the journal covers

    # -- per record ---------------------------------------------------------------------------

    def admit(
        self,
        action: Action,
        stream: str,
        record: Mapping[str, Any],
        key_properties: Sequence[str],
    ) -> Item | None:
        """Validate a record; return it with the values to send, or None when it already has
        its outcome (invalid now, or finished in an earlier run)."""
        with self._lock:
            self._positions[stream] += 1
            position = self._positions[stream]
        item = Item(stream, action.name, record, position, self.gate.record_arrived())
        if action.creates_for(record):
            earlier = self.writer.ledger.consume(record_key(stream, action.name, record))
            if earlier is not None:
                self._replayed(item, earlier)
                return None
        missing = [key for key in key_properties if key not in record]
        try:
            if missing:
                raise InvalidRecordError(
                    [
                        f"key property '{key}' (declared by the stream's SCHEMA) is missing"
                        for key in missing
                    ]
                )
            values = validate(action.spec, jsonable(record))  # JSON numbers, not Decimal
            foreign = off_api_host(action.spec, values, self.client.settings.api_url)
            if foreign:
                raise InvalidRecordError(foreign)
            refusal = self.guard.refusal(action, values)
            if refusal:
                raise InvalidRecordError([refusal])
        except InvalidRecordError as exc:
            problems = "; ".join(exc.problems)
            message = f"Invalid {item.label}: {problems}"
            error_class = KeyPropertiesMissingError if missing else RecordFailedError
            self._fail(item, {"title": "Invalid record", "message": message}, error_class)
            return None
        with self._lock:
            self._open[item.ticket] = item
        return replace(item, values=values)

    def not_attempted(self, stream: str, record: Mapping[str, Any], reason: str) -> None:
        """A record read that gets no action (its stream has none): its line says why."""
        self.writer.write(OutcomeLine(stream, None, record, "not_attempted", reason=reason))

    def stopped(self, cause: BaseException) -> None:
        """The run stops early: every record admitted without a line gets one now."""
        with self._lock:
            unfinished = sorted(self._open.values(), key=lambda item: item.ticket)
            sent = set(self._sent)
        why = f"the run stopped ({type(cause).__name__}: {cause})"
        for item in unfinished:
            if item.ticket in sent:
                reason = f"{why} while its request was in flight: check Calendly"
                self._finish(item, "unknown", reason=reason)
            else:
                self._finish(item, "not_attempted", reason=f"{why} before it was sent")

    def run(self, action: Action, item: Item) -> None:
        self._attempt(action, [item])

    def run_batch(self, action: Action, items: list[Item]) -> None:
        if items:
            self._attempt(action, items)

    def _replayed(self, item: Item, earlier: Earlier) -> None:
        """A record an earlier run finished: its line says so and points at that run's line."""
        with self._lock:
            self.done_before += 1
        reason = (
            f"a replay: line {earlier.line} of {self.writer.path} (at {earlier.at}, outcome "
            f"{earlier.outcome}) already finished this record in an earlier run, and sending it "
            f"again would create a second one; not sent. To ask for it again, give the record "
            f"a new `{IDEMPOTENCY_KEY}`"
        )
        outcome: Outcome = "dry_run" if self.dry_run else "skipped"
        if self.dry_run:
            reason = f"would be skipped: {reason}"
        self.logger.info("%s: done in an earlier run (line %d)", item.label, earlier.line)
        self._finish(
            item, outcome, reason=reason, response=earlier.response, replay_of=earlier.reference()
        )

    # -- the attempt loop ---------------------------------------------------------------------

    def _attempt(self, action: Action, items: list[Item]) -> None:
        """Plan the write, send it, and settle its answer, until the records have their lines.

        Two things send again: a lost answer whose effect a lookup does not find (at most
        `max_retries` resends), and a refusal after which the action plans the record once
        more from fresh reads (`replan_on`). Everything else ends the loop with an outcome.
        """
        resends = replans = 0
        lost: str | None = None  # why an earlier attempt's answer is missing
        write: Write | None = None
        while True:
            if write is None:
                write = self._plan(action, items)
                if write is None:  # the records have their lines (skipped, failed...)
                    return
            if self.dry_run:
                request = {"method": write.method, "url": self.client.url(write.path)}
                for item in items:
                    self._finish(item, "dry_run", request={**request, "body": write.body})
                return
            if self._refused_before(action, items):
                return
            try:
                response, note = self._send(action, items, write)
            except ConfigError as exc:  # e.g. a URI on another host than api_url: never sent
                self._fail_all(items, {"title": "Not sent", "message": str(exc)}, None)
                return
            except OutcomeUnknownError as exc:
                lost = exc.after_lost_answer or "the answer was lost"
                if self._lost_answer_settled(action, items, exc, resends):
                    return
                resends += 1
                continue
            except CalendlyError as exc:
                if replans == 0 and len(items) == 1 and action.should_replan(exc):
                    self.logger.info(
                        "%s: %s; planning it again from fresh reads", items[0].label, exc
                    )
                    replans, resends, lost, write = 1, 0, None, None
                    continue
                self._refused(action, items, exc, lost or exc.after_lost_answer)
                return
            body = json_body(response)
            resource = body.get("resource", body) if isinstance(body, dict) else body
            for item in items:
                self._finish(
                    item, "ok", http_status=response.status_code, response=resource, reason=note
                )
            return

    def _plan(self, action: Action, items: list[Item]) -> Write | None:
        """The write to send, or None once the records have their lines (a lookup found
        nothing to do, or cannot resolve the record)."""
        if action.batchable:
            return action.batch_write([item.values for item in items], self.ctx)
        (item,) = items
        try:
            planned = action.write(item.values, self.ctx)
        except LookupFailedError as exc:
            self._fail(item, {"title": "Cannot apply", "message": str(exc)})
            return None
        except CalendlyError as exc:
            self._fail_calendly(item, exc, during="looking up")
            return None
        except (KeyError, ValueError, TypeError) as exc:  # e.g. an id that resolves nowhere
            message = f"cannot resolve: {type(exc).__name__}: {exc}"
            self._fail(item, {"title": "Cannot resolve", "message": message})
            return None
        if not isinstance(planned, Skip):
            return planned
        if self.dry_run:  # a dry run never leaves a final outcome behind for the ledger
            self._finish(item, "dry_run", reason=f"would be skipped: {planned.reason}")
        else:
            self._finish(item, "skipped", reason=planned.reason, response=planned.response)
        return None

    def _refused_before(self, action: Action, items: list[Item]) -> bool:
        """An earlier request of this action was refused for the plan or a scope: these
        records would be too, so they fail unsent."""
        with self._lock:
            blocked = self._blocked.get(action.refusal_key(items[0].values))
        if blocked is None:
            return False
        error = blocked.as_outcome()
        error["message"] = (
            f"not sent: an earlier {action.name} request was refused: " + (error["message"])
        )
        self._fail_all(items, error, blocked.status)
        return True

    def _send(
        self, action: Action, items: list[Item], write: Write
    ) -> tuple[requests.Response, str | None]:
        """One request and the `before_send` note; OutcomeUnknownError instead when an earlier
        run crashed with this record's request in flight (it is settled, not sent)."""
        in_flight = self._write_ahead(action, items, write)
        if in_flight is not None:
            raise self._crashed(in_flight, write)
        note = action.before_send(write, self.ctx) if action.before_send else None
        prepared = requests.Request(write.method, self.client.url(write.path), json=write.body)
        with self._lock:
            self._sent.update(item.ticket for item in items)
        response = self.client.send(
            prepared.prepare(), idempotent=True if action.resend_safe else None
        )
        return response, note

    def _refused(
        self, action: Action, items: list[Item], exc: CalendlyError, lost: str | None
    ) -> None:
        """Calendly refused the write: `skipped` when the refusal means it is already done
        (`ok` when a resend after a lost answer hears so: the lost attempt did it), else
        `failed`."""
        reason = action.skip_reason(exc)
        if reason is None:
            self._fail_calendly_all(items, action, exc)
            return
        effect = self._effect(action, items)
        outcome: Outcome = "skipped"
        if lost:
            outcome = "ok"
            reason = (
                f"Calendly's answer to an earlier attempt was lost ({lost}); the resend was "
                f"answered as already done ({reason}), so the earlier attempt did it"
            )
        for item in items:
            self._finish(item, outcome, http_status=exc.status, reason=reason, response=effect)

    def _write_ahead(self, action: Action, items: list[Item], write: Write) -> Intent | None:
        """Before the first request of a record that cannot safely be sent twice: the intent
        of an earlier run that crashed with this record's request in flight (to settle instead
        of sending), else None once the journal durably holds this send's intent.

        Resends and replans of the record stay covered by that first intent: the record's one
        line answers it."""
        if action.resend_safe or write.method.upper() in IDEMPOTENT_METHODS or len(items) != 1:
            return None
        (item,) = items
        with self._lock:
            if item.ticket in self._written_ahead:
                return None
            self._written_ahead.add(item.ticket)
        key = record_key(item.stream, item.action, item.record)
        in_flight = self.writer.in_flight.take(key)
        if in_flight is None:
            self.writer.intend(key, item.action)
        return in_flight

    def _crashed(self, intent: Intent, write: Write) -> OutcomeUnknownError:
        lost = f"the run sending it at {intent.at} stopped before its answer was recorded"
        return OutcomeUnknownError(
            f"{lost}; Calendly may have performed it, so it was not sent again",
            lost_answer=lost,
            title="Outcome unknown",
            method=write.method,
            url=write.path.partition("?")[0],
        )

    def _lost_answer_settled(
        self, action: Action, items: list[Item], exc: OutcomeUnknownError, resends: int
    ) -> bool:
        """Calendly may or may not have performed the write: look for its effect before any
        resend. False: a lookup shows it did not take effect, so it is sent again.

        True once the records have their lines: found, the write took effect (`ok`); not found
        after `max_retries` resends, `failed`. Actions without such a lookup (links, shares),
        and lookups that fail, are never resent: the record ends `unknown`, and later runs do
        not send it either.
        """
        later = (
            f" Later runs skip this record too; give it a new `{IDEMPOTENCY_KEY}` to ask for it "
            "again"
            if action.creates_for(items[0].record)
            else ""
        )
        if action.find_effect is None or len(items) != 1:
            self._unknown(
                items,
                exc,
                f"its effect cannot be looked up ({action.name} leaves nothing Calendly lists): "
                f"check Calendly.{later}",
            )
            return True
        (item,) = items
        try:
            effect = action.find_effect(item.values, self.ctx)
        except CalendlyError as lookup:
            self._unknown(
                items,
                exc,
                f"looking its effect up failed ({lookup.title or lookup.status}: "
                f"{lookup.message}): check Calendly.{later}",
            )
            return True
        if effect is not None:
            lost = exc.after_lost_answer or "the answer was lost"
            reason = f"Calendly's answer was lost ({lost}); a lookup shows the write took effect"
            self._finish(item, "ok", reason=reason, response=effect)
            return True
        if resends < self.client.settings.max_retries:
            self.logger.warning(
                "%s: %s; a lookup shows it did not take effect: sending it again", item.label, exc
            )
            return False
        error = exc.as_outcome()
        advice = f"and after {resends + 1} attempts a lookup still does not find its effect"
        self._fail_all(items, {**error, "message": f"{error['message']} {advice}"}, None)
        return True

    def _effect(self, action: Action, items: list[Item]) -> Any:
        """The resource the write leaves behind, when the action can look it up (else None)."""
        if action.find_effect is None or len(items) != 1:
            return None
        try:
            return action.find_effect(items[0].values, self.ctx)
        except CalendlyError as exc:
            self.logger.warning("%s: could not look up its effect: %s", items[0].label, exc)
            return None

    def _unknown(self, items: list[Item], exc: CalendlyError, why: str) -> None:
        """Calendly may have done it and nothing can tell: say so; never send it again."""
        error = exc.as_outcome()
        for item in items:
            with self._lock:
                self.unknowns[item.stream] += 1
            message = _about(item, f"{error['message']}; {why}")
            self.logger.error("Outcome unknown: %s", message)
            self._finish(item, "unknown", error={**error, "message": message}, reason=why)
        if self.stop_on_error:
            raise RecordFailedError(
                f"Stopped at a record whose outcome is unknown (on_error is 'fail'): "
                f"{_about(items[-1], why)}. Every outcome so far is in {self.writer.path}"
            )

    # -- outcomes -----------------------------------------------------------------------------

    def _finish(self, item: Item, outcome: Outcome, **fields: Any) -> None:
        line = OutcomeLine(item.stream, item.action, item.record, outcome, **fields)
        self.writer.write(line)
        with self._lock:
            self._open.pop(item.ticket, None)
        if outcome in UNFINISHED_OUTCOMES:
            self.gate.record_failed(item.ticket)
        else:
            self.gate.record_finished(item.ticket)
        if outcome == "skipped":
            self.logger.info("%s skipped: %s", item.label, fields.get("reason"))

    def _fail_calendly(self, item: Item, exc: CalendlyError, during: str) -> None:
        error = exc.as_outcome()
        error["message"] = f"{during}: {error['message']}"
        fatal = isinstance(exc, AuthenticationError)
        self._fail(item, error, http_status=exc.status, fatal=fatal)

    def _fail_calendly_all(self, items: list[Item], action: Action, exc: CalendlyError) -> None:
        if isinstance(exc, PlanRequiredError | InsufficientScopeError):
            with self._lock:
                self._blocked[action.refusal_key(items[0].values)] = exc
        self._fail_all(
            items, exc.as_outcome(), exc.status, fatal=isinstance(exc, AuthenticationError)
        )

    def _fail_all(
        self,
        items: list[Item],
        error: dict[str, str],
        http_status: int | None,
        *,
        fatal: bool = False,
    ) -> None:
        for item in items[:-1]:
            self._write_failure(item, error, http_status)
        self._fail(items[-1], error, http_status=http_status, fatal=fatal)

    def _fail(
        self,
        item: Item,
        error: dict[str, str],
        error_class: type[RecordFailedError] = RecordFailedError,
        *,
        http_status: int | None = None,
        fatal: bool = False,
    ) -> None:
        self._write_failure(item, error, http_status)
        if fatal or self.stop_on_error:
            why = "the credentials were refused" if fatal else "on_error is 'fail'"
            raise error_class(
                f"Stopped at the first failure ({why}): {_about(item, error['message'])}. "
                f"Every outcome so far is in {self.writer.path}"
            ) from None

    def _write_failure(self, item: Item, error: dict[str, str], http_status: int | None) -> None:
        with self._lock:
            self.failures[item.stream] += 1
        error = {**error, "message": _about(item, error["message"])}
        self.logger.error("Failed: %s", error["message"])
        self._finish(item, "failed", http_status=http_status, error=error)


def _about(item: Item, message: str) -> str:
    """The message, prefixed with which record it is about unless it says so already."""
    return message if item.label in message else f"{item.label}: {message}"
