"""Routing forms and their submissions: reads, and a visitor's submission, which no API call
makes (`sb.submit_routing_form(form_uri, answers)`, announced as routing_form_submission.created
to organization-scope subscriptions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from calendly_sandbox.app import Ctx, page, resource
from calendly_sandbox.resources.invitees import EMPTY_TRACKING
from calendly_sandbox.store import Resource, Store
from calendly_sandbox.timefmt import fmt
from calendly_sandbox.uuids import mint_uuid


def list_routing_forms(ctx: Ctx) -> Any:
    ctx.require_own_org(ctx.params["organization"])
    return page(ctx, "routing_forms", ctx.sort_order("created_at:asc"))


def get_routing_form(ctx: Ctx) -> Any:
    return resource(ctx.lookup("routing_forms", ctx.path["uuid"], "routing form"))


def list_submissions(ctx: Ctx) -> Any:
    form = ctx.lookup_uri("routing_forms", ctx.params["form"], "routing form", "form")
    table = ctx.store.routing_form_submissions
    return page(
        ctx,
        "routing_form_submissions",
        ctx.sort_order("created_at:asc"),
        lambda u: table[u]["routing_form"] == form["uri"],
    )


def get_submission(ctx: Ctx) -> Any:
    return resource(ctx.lookup("routing_form_submissions", ctx.path["uuid"], "submission"))


def submit_routing_form(
    store: Store,
    form_uri: str,
    answers: Mapping[str, str | None],
    *,
    routed_to: str | None,
    now: float,
) -> Resource:
    """A submission answering the form's questions by name; routed to the event type
    `routed_to`, or shown a message when None. Nobody has booked from it yet (no submitter)."""
    form = store.find_by_uri("routing_forms", form_uri)
    if form is None:
        raise ValueError(f"no routing form {form_uri}")
    if form["status"] != "published":
        raise ValueError(f"{form_uri} is a draft: visitors cannot submit it")
    questions = {q["name"]: q for q in form["questions"]}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise ValueError(f"{form_uri} has no question {unknown[0]!r}")
    missing = [name for name, q in questions.items() if q["required"] and not answers.get(name)]
    if missing:
        raise ValueError(f"{form_uri}: the question {missing[0]!r} needs an answer")
    if routed_to is not None and store.find_by_uri("event_types", routed_to) is None:
        raise ValueError(f"no event type {routed_to}")
    uuid = mint_uuid(store, "routing_form_submission", form_uri)
    at = fmt(now)
    submission: Resource = {
        "uri": store.uri("routing_form_submissions", uuid),
        "routing_form": form_uri,
        "questions_and_answers": [
            {"question_uuid": q["uuid"], "question": name, "answer": answers.get(name)}
            for name, q in questions.items()
        ],
        "tracking": dict(EMPTY_TRACKING),
        "result": {"type": "event_type", "value": routed_to}
        if routed_to
        else {"type": "custom_message", "value": {"headline": "Thanks!", "body": "We'll call."}},
        "submitter": None,
        "submitter_type": None,
        "created_at": at,
        "updated_at": at,
    }
    store.insert("routing_form_submissions", uuid, submission)
    store.announce("routing_form_submission.created", dict(submission))
    return submission


# (method, path template, handler). The template is the spec's path: it keys the spec facts.
ROUTES: tuple[tuple[str, str, Callable[[Ctx], Any]], ...] = (
    ("GET", "/routing_forms", list_routing_forms),
    ("GET", "/routing_forms/{uuid}", get_routing_form),
    ("GET", "/routing_form_submissions", list_submissions),
    ("GET", "/routing_form_submissions/{uuid}", get_submission),
)
