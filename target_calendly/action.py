"""What one row of the action table (target_calendly.actions.ACTIONS) says, and the one check of
`allow_destructive_actions`.

Path placeholders are filled with the UUID of the record field of the same name; `{organization}`
is the configured organization (else the token's); lookups may fill the others.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from calendly_http import CalendlyError, uuid_of
from target_calendly.contacts import Planned
from target_calendly.lookups import Skip, Values, WriteContext
from target_calendly.validation import InputSpec


@dataclass(frozen=True)
class Write:
    """One request to send."""

    method: str
    path: str
    body: dict[str, Any] | None = None


Body = Callable[[Values, WriteContext], "dict[str, Any] | None"]
Lookup = Callable[[Values, WriteContext], "Mapping[str, str] | Skip"]
Rule = Callable[[CalendlyError], "str | None"]


def no_body(_values: Values, _ctx: WriteContext) -> None:
    return None


def answered(status: int, *phrases: str, reason: str) -> Rule:
    """Rule: Calendly answered `status` and (if phrases are given) said one of them, in its
    message or in a `details` entry (where a 400 names the parameter and what is wrong)."""

    def rule(error: CalendlyError) -> str | None:
        said = what_calendly_said(error)
        heard = f"{error.message} {said}".lower()
        if error.status == status and (not phrases or any(p in heard for p in phrases)):
            return reason.format(message=said)
        return None

    return rule


def what_calendly_said(error: CalendlyError) -> str:
    """The specific part of an error: its `details` messages, else its message."""
    details = [str(d.get("message", "")) for d in error.details if d.get("message")]
    return "; ".join(details) or error.message or ""


@dataclass(frozen=True)
class Action:
    """One row of the table.

    lookup: reads before the write: resolves ids, or finds it unnecessary (Skip).
    already_done: Calendly refusals that mean the effect is already there (`skipped`).
    find_effect: reads the resource the write leaves behind: shown as the `response` of a
        `skipped` record, and used when the answer to a write was lost (OutcomeUnknownError)
        to tell whether Calendly performed it.
    resend_safe: sending the write twice does no harm, so a lost answer is simply resent.
    creates: a resend would create a second resource (a link, a share, a booking, an
        invitation, a webhook, a one-off event type): the responses file guards it, so a later
        run does not send a record an earlier run finished (its replay gets a `skipped` line
        pointing at the earlier one). Other actions check Calendly and are sent whenever asked.
    creates_when: the same, for the records it says so of (api_request POSTs).
    batch_body: records are batched, one request per `gdpr_deletion_batch_size` records.
    planner: builds the write itself when its method and path depend on what a read finds
        (upsert: PATCH the contact found, else POST); `method`/`path` then document it.
    replan_on: refusals after which the record is planned once more, from fresh reads (a 409
        on create: the resource appeared in between, so it is updated instead).
    """

    name: str
    summary: str
    method: str
    path: str
    spec: InputSpec
    #: For docs/actions.md (Markdown): the OAuth scope the write needs, the plans it works on,
    #: when a record comes out `skipped`, and field rules the input spec does not show.
    scope: str
    plan: str = "any"
    skipped_when: str = "never"
    rules: str = ""
    body: Body = no_body
    lookup: Lookup | None = None
    already_done: tuple[Rule, ...] = ()
    find_effect: Callable[[Values, WriteContext], Any] | None = None
    resend_safe: bool = False
    #: A local step right before the request is sent (never on a dry run); its note becomes the
    #: `reason` of the `ok` line.
    before_send: Callable[[Write, WriteContext], str | None] | None = None
    creates: bool = False
    creates_when: Callable[[Mapping[str, Any]], bool] | None = None
    destructive: bool = False
    batch_body: Callable[[list[Values]], dict[str, Any]] | None = None
    planner: Callable[[Values, WriteContext], Planned | Skip] | None = None
    replan_on: tuple[Rule, ...] = ()
    #: Records this says are destructive need allow_destructive_actions (api_request DELETEs).
    destructive_when: Callable[[Values], bool] | None = None
    #: What of a record a plan or scope refusal is about: later records of this action that
    #: share it are not sent (they would be refused too), others still are. None: the action.
    refusal_scope: Callable[[Values], Hashable] | None = None

    def refusal_key(self, values: Values) -> tuple[str, Hashable]:
        return self.name, self.refusal_scope(values) if self.refusal_scope else None

    @property
    def may_create(self) -> bool:
        """Some of its records create (the responses file's ledger keeps its lines)."""
        return self.creates or self.creates_when is not None

    def creates_for(self, record: Mapping[str, Any]) -> bool:
        return self.creates or (self.creates_when is not None and self.creates_when(record))

    @property
    def batchable(self) -> bool:
        return self.batch_body is not None

    def write(self, values: Values, ctx: WriteContext) -> Write | Skip:
        """Resolve ids (lookups are reads) into the one write this record asks for."""
        if self.planner is not None:
            planned = self.planner(values, ctx)
            return planned if isinstance(planned, Skip) else Write(*planned)
        ids: dict[str, str] = {}
        if self.lookup is not None:
            found = self.lookup(values, ctx)
            if isinstance(found, Skip):
                return found
            ids.update(found)
        return Write(self.method, self._path(values, ctx, ids), self.body(values, ctx))

    def batch_write(self, batch: list[Values], ctx: WriteContext) -> Write:
        assert self.batch_body is not None
        return Write(self.method, self._path({}, ctx, {}), self.batch_body(batch))

    def should_replan(self, error: CalendlyError) -> bool:
        return any(rule(error) for rule in self.replan_on)

    def skip_reason(self, error: CalendlyError) -> str | None:
        return next((r for rule in self.already_done if (r := rule(error))), None)

    def _path(self, values: Values, ctx: WriteContext, ids: dict[str, str]) -> str:
        names = _placeholders(self.path)
        if "organization" in names and "organization" not in ids:
            ids["organization"] = uuid_of(ctx.organization_uri)
        for name in names - ids.keys():
            ids[name] = uuid_of(values[name])
        return self.path.format(**ids)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def pick(values: Values, *names: str) -> dict[str, Any]:
    return {name: values[name] for name in names if name in values}


@dataclass(frozen=True)
class DestructiveGuard:
    """Destructive actions (and destructive records of others, e.g. api_request DELETEs) need
    `allow_destructive_actions: true`; a dry run sends nothing, so it may preview them."""

    allowed: bool

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DestructiveGuard:
        return cls(bool(config.get("dry_run")) or bool(config.get("allow_destructive_actions")))

    def refusal(self, action: Action, values: Values | None = None) -> str | None:
        """Why the action (values None) or this record of it may not be sent, else None."""
        destructive = action.destructive or (
            values is not None
            and action.destructive_when is not None
            and action.destructive_when(values)
        )
        if self.allowed or not destructive:
            return None
        what = f"the action '{action.name}'" if action.destructive else f"this {action.name} record"
        return (
            f"{what} is destructive: set `allow_destructive_actions: true` to send it "
            "(or `dry_run: true` to preview it; docs/actions.md marks destructive actions ⚠)"
        )
