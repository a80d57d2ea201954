"""Routing forms and their submissions: reads, and a visitor's submission, which no API call
makes (`sb.submit_routing_form(form_uri, answers)`, announced as routing_form_submission.created
to organization-scope subscriptions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calendly_sandbox import names
from calendly_sandbox.store import Resource
from calendly_sandbox.timefmt import DAY, fmt

if TYPE_CHECKING:
    from calendly_sandbox.generator import Generator

from collections.abc import Mapping

from calendly_sandbox.app import Ctx, Routes, page, resource
from calendly_sandbox.resources.invitees import EMPTY_TRACKING
from calendly_sandbox.store import Store
from calendly_sandbox.uuids import mint_uuid

# (name, type, required, answer choices) of every seeded form's questions
FORM_QUESTIONS = (
    ("Name", "name", True, None),
    ("Email", "email", True, None),
    ("Team size", "select", False, ("1-10", "11-50", "51+")),
)


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


# -- seeded data ----------------------------------------------------------------------------------
def seed_routing_forms(gen: Generator, forms: int, submissions: int) -> None:
    rng, store = gen.rng, gen.store
    form_list: list[Resource] = []
    for f in range(forms):
        uuid = gen.uuid()
        created = gen.past(300, 120)
        questions = [
            {
                "uuid": gen.uuid(),
                "name": name,
                "type": kind,
                "required": required,
                "answer_choices": list(choices) if choices else None,
            }
            for name, kind, required, choices in FORM_QUESTIONS
        ]
        form = {
            "uri": store.uri("routing_forms", uuid),
            "organization": store.organization["uri"],
            "name": names.ROUTING_FORM_NAMES[f % len(names.ROUTING_FORM_NAMES)],
            "status": "published" if f % 3 else "draft",
            "questions": questions,
            "created_at": fmt(created),
            "updated_at": fmt(created + rng.uniform(0, 100) * DAY),
        }
        store.insert("routing_forms", uuid, form)
        form_list.append(form)
    seed_submissions(gen, form_list, submissions)


def seed_submissions(gen: Generator, forms: list[Resource], count: int) -> None:
    rng, store = gen.rng, gen.store
    for _ in range(count):
        form = rng.choice(forms)
        uuid = gen.uuid()
        at = fmt(gen.recent())
        _f, _l, name, email = gen.person(rng.randint(0, 10**6))
        q = form["questions"]
        result: Resource
        roll = rng.random()
        if roll < 0.7 and gen.event_types:
            result = {"type": "event_type", "value": rng.choice(gen.event_types)["uri"]}
        elif roll < 0.85:
            result = {"type": "external_url", "value": "https://example.com/thanks"}
        else:
            result = {
                "type": "custom_message",
                "value": {"headline": "Merci !", "body": "We will reach out shortly."},
            }
        submission = {
            "uri": store.uri("routing_form_submissions", uuid),
            "routing_form": form["uri"],
            "questions_and_answers": [
                {"question_uuid": q[0]["uuid"], "question": "Name", "answer": name},
                {"question_uuid": q[1]["uuid"], "question": "Email", "answer": email},
                {"question_uuid": q[2]["uuid"], "question": "Team size", "answer": None},
            ],
            "tracking": gen.tracking(),
            "result": result,
            "submitter": None,
            "submitter_type": None,
            "created_at": at,
            "updated_at": at,
        }
        store.insert("routing_form_submissions", uuid, submission)
        if result["type"] == "event_type":
            gen.submissions.append(submission)


ROUTES: Routes = (
    ("GET", "/routing_forms", list_routing_forms),
    ("GET", "/routing_forms/{uuid}", get_routing_form),
    ("GET", "/routing_form_submissions", list_submissions),
    ("GET", "/routing_form_submissions/{uuid}", get_submission),
)
