"""What happens on Calendly without any API call, beside what invitees do (invitee_actions.py):
a visitor submits a routing form, and Notetaker finishes the recap of a meeting. Tests call them
(`sb.submit_routing_form(form_uri, answers)`, `sb.finish_recap(event_uri)`); both are announced
as webhooks, as Calendly does: routing_form_submission.created to organization-scope
subscriptions, meeting_recap.created to the meeting's hosts (user scope).
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from calendly_sandbox import resources
from calendly_sandbox.more_reads import recap_of, transcript_of
from calendly_sandbox.recap_writes import announce_recap
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt, parse
from calendly_sandbox.writes import mint_uuid


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
        "tracking": dict(resources.EMPTY_TRACKING),
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


def finish_recap(store: Store, event_uri: str, *, now: float) -> Resource:
    """Notetaker's recap of a meeting that has ended, available with its transcript."""
    event = store.scheduled_events.get(uuid_of(event_uri))
    if event is None or event["uri"] != event_uri:
        raise ValueError(f"no scheduled event {event_uri}")
    if event["status"] != "active" or parse(event["end_time"]) >= now:
        raise ValueError(f"{event_uri} is not a meeting that took place")
    if any(r["event"] == event_uri for r in store.meeting_recaps.values()):
        raise ValueError(f"{event_uri} already has a recap")
    uuid = mint_uuid(store, "meeting_recap", event_uri)
    recap = recap_of(store, uuid, event, status="available", created=now, updated=now)
    store.insert("meeting_recaps", uuid, recap)
    store.meeting_recap_hosts[uuid] = {m["user"] for m in event["event_memberships"]}
    store.transcripts[uuid] = transcript_of(recap, random.Random(uuid))
    announce_recap(store, "meeting_recap.created", uuid)
    return recap
