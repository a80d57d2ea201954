"""calendly_sandbox: a local, stateful Calendly API v2 on loopback, built from the official spec.

An independent implementation: it imports nothing from calendly_http, tap_calendly or
target_calendly, and never reads the spec (spec/calendly/) at run time: the facts it needs from it
are derived by scripts/derive_sandbox_facts.py into the committed spec_facts.json.

In process::

    from calendly_sandbox import Sandbox
    with Sandbox(seed=1, events=200, plan="enterprise") as sb:   # every argument is optional
        sb.base_url            # "http://127.0.0.1:PORT"
        sb.store               # the in-memory store (below); hold sb.store.lock to read it safely
        sb.request_log         # [LoggedRequest(method, path, query, status)], one per request
        sb.configure(rate_limit=..., rate_window_seconds=..., latency_ms=..., fault_rate=...,
                     fault_kinds=..., stall_seconds=..., plan=...)
        sb.faults_injected     # [(method, path, kind)] in the order they were injected
        sb.generation_seconds  # time spent generating the data at start()
        sb.anchor              # the data's anchor time (epoch seconds); sb.clock() = real now

Sandbox(...) keywords: seed=1, events=200, plan="enterprise" (enterprise|teams|standard|free),
token="sandbox-token", member_token="sandbox-member-token", rate_limit=0 (0 = off, None = the
plan's documented limit: 500/min paid, 50/min free), rate_window_seconds=60, latency_ms=0,
fault_rate=0.0, fault_kinds=("500","502","503","reset","stall","truncate"), stall_seconds=35,
fault_oauth=False, host="127.0.0.1", port=0, now=None (data anchor, default real UTC now),
oauth_client_id="sandbox-client", oauth_client_secret="sandbox-secret",
oauth_refresh_token="sandbox-refresh-token", access_token_ttl=7200, verbose=False,
realism="hard" (hard|lenient; see "Realism" below).

Command line: `calendly-sandbox` / `python -m calendly_sandbox` with --host --port --token --seed
--events --plan --rate-limit (0 off, -1 plan default) --latency-ms --fault-rate --fault-kinds
--stall-seconds --access-token-ttl --realism --verbose. It prints exactly one stdout line, the base URL,
when ready; logs go to stderr; SIGINT/SIGTERM stop it cleanly.
`python -m calendly_sandbox.measure --events 100000` reports generation and paging figures.

Tokens
    sb.token          personal access token of the organization OWNER (admin rights).
    sb.member_token   personal access token of a plain member (role "user"); sb.member is that
                      member's membership resource.
    sb.token_for(uri) mints a personal access token for any user uri (e.g. an admin).
    OAuth: POST {base_url}/oauth/token, form-encoded, grant_type=refresh_token, refresh_token,
    client credentials as HTTP Basic or client_id/client_secret fields. Answers {access_token,
    token_type, expires_in, refresh_token, scope, created_at, owner, organization}; every
    success rotates the refresh token (sb.current_refresh_token); a used one answers 400
    invalid_grant; bad client 401 invalid_client; other grants 400 unsupported_grant_type; the
    9th token request within 60 s answers 429. Access tokens expire after access_token_ttl;
    sb.expire_access_tokens() expires all issued ones now (-> 401). sb.oauth_token_requests
    counts token requests. OAuth tokens act as the owner.

Store (`sb.store`): one dict per kind, uuid -> the resource exactly as served, named after the URL
collection: users, organizations, organization_memberships, organization_invitations,
event_types, scheduled_events, invitees, invitee_no_shows, routing_forms,
routing_form_submissions, activity_log_entries, groups, group_relationships,
event_type_memberships, webhook_subscriptions, user_availability_schedules,
outgoing_communications, scheduling_links, shares, data_compliance_requests; plus
`organization` and `current_user` (the owner). Additions: `lock` (RLock held by every request),
`base_url`, `uri(*segments)`, `insert/delete/changed/index` (mutations keep indexes right),
maps `invitees_by_event` (event uuid -> invitee uuids), `event_hosts` (event uuid -> host user
uris), `membership_by_user`, `event_type_hosts`, `group_members`, `events_by_invitee_email`,
`events_by_slot` ((event type uri, start_time) -> event uuids),
and `role_of(user_uri)` / `is_admin(user_uri)`. Keys of outgoing_communications,
scheduling_links, shares and data_compliance_requests are sandbox ids (those resources have no
uri); data_compliance_requests records each accepted deletion request.

URIs are `{base_url}/{collection}/{uuid}`, except where the real API nests them: invitees are
`{base_url}/scheduled_events/{event_uuid}/invitees/{uuid}` and invitations
`{base_url}/organizations/{org_uuid}/invitations/{uuid}`. Booking URLs and scheduling URLs point
at https://calendly.com (they are not API resources).

Data: seeded (same seed and events -> same uuids, names and anchor-relative times), 70% of
events in the past and 30% in the future within +-120 days of the anchor; group events with
several invitees, reschedules (old invitee canceled with rescheduled=true/new_invitee, new
invitee with old_invitee), cancellations (whole events and single group invitees), no-shows,
UTM tracking, questions and answers, payments, reconfirmations, routing-form submitters, nulls
wherever the spec allows them, non-ASCII names. Runtime checks use the real clock.

Behavior
- Rate limit per user (tokens of one user share a window), fixed windows opened by the user's
  first request; every API response carries X-RateLimit-Limit/Remaining/Reset (Reset = whole
  seconds left). Off (0): nothing is refused and the headers show the plan's nominal limit
  with Remaining equal to it. Over the limit: 429 {"title": "Too Many Requests", ...} with
  Remaining 0 and no Retry-After (the real API does not document one).
- Faults (seeded, reproducible for a given seed and request order; sb.faults_injected lists
  them): 500/503 with the spec's error body and 502 with an HTML body, all before the handler
  runs (no side effect); "reset" closes the connection with a TCP RST before the handler runs
  (logged with status 0); "stall" waits stall_seconds (interrupted by stop()) and then answers
  normally; "truncate" runs the handler (side effects happen) and sends the full Content-Length
  but half of the body. Faults and the rate limit skip /oauth/token unless fault_oauth=True.
- POST /invitees has the Scheduling API's own limits per user (release note 2026-04-15), in
  sliding windows: stage "trial" 5 per day; Enterprise 500 per minute; every other plan 10 per
  minute, 50 per hour, 100 per day. Its answers carry X-RateLimit-* of the tightest window
  instead of the general ones; over a limit: 429 with X-RateLimit-Reset = seconds until a slot
  frees. Sandbox(stage="trial") sets the organization's stage; Sandbox(limits_clock=fn) gives
  these windows a clock of the test's (monotonic seconds), so a day can pass without waiting.
- Lost answers (selected per test, not random): sb.lose_answers(kind, method="POST",
  path=REGEX, times=1) makes the next `times` matching requests that succeed (2xx) commit and
  then lose their answer: "500"/"503" (spec error body) or "502" (HTML) after the fact, "reset"
  (TCP RST), "timeout" (the answer comes after stall_seconds, past a client's timeout),
  "truncate" (half the body). A refused write keeps the rule. sb.answers_lost lists
  (method, path, kind); CLI: --lose-answer KIND[:METHOD[:PATH_REGEX[:TIMES]]] (repeatable).
- OAuth: a refresh token that was already used revokes the grant (every access token and the
  current refresh token stop working; sb.oauth_revocations counts it) until sb.reauthorize()
  returns a new refresh token. Short-lived access tokens: access_token_ttl (seconds).

Webhooks (calendly_sandbox/deliveries.py; `sb.webhooks`): bookings (POST /invitees), cancellations,
no-shows and their removal are delivered, signed with the subscription's signing_key, to each
matching active subscription, retried with back-off for 24 hours on a clock tests compress
(Sandbox(webhook_time_scale=0) freezes it; sb.webhooks.advance(seconds) steps it), then the
subscription is disabled unless a message got through. sb.webhooks.messages / .attempts /
.messages_for(uri) / .wait_idle() inspect them. Handlers announce with
`store.announce(event, payload, users=...)`. Only loopback callback hosts are contacted.
Invitee payloads have the shape of real deliveries, not of API reads (the module's docstring
lists the differences from the spec).
What invitees do on Calendly's pages (no API call does it): sb.cancel_invitee(uri, reason) and
sb.reschedule_invitee(uri, new_start) (invitee.canceled with rescheduled=true, then
invitee.created, old_invitee/new_invitee linked); a group event that keeps other invitees keeps
its updated_at when one cancels (the case polling cannot see). What else happens there
(resources/routing.py, resources/recaps.py): sb.submit_routing_form(form_uri, {question name:
answer}, routed_to=None) (routing_form_submission.created, organization scope) and sb.finish_recap(event_uri) (an
available recap with its transcript, meeting_recap.created to the hosts' user scope).

Realism (`realism="hard"`, the default; `"lenient"` keeps the older, kinder behaviour so a client
can be compared on both). Hard models what real accounts show, where it is harder than the spec:
- min_start_time, min_occurred_at and min_created_at mean "after" (the spec's word): a row at
  the bound itself is not listed. Lenient: included.
- Many rows share one sort value: the first events booked all start at one moment ten days
  before the anchor, a group of activity log entries shares one occurred_at millisecond and a
  group of outgoing communications one created_at (each group: events/8, between 2 and 150
  rows, so with more than 1200 rows a page boundary always falls inside it).
- Marking or removing a no-show moves no updated_at (neither the invitee's nor the event's).
  Lenient: both move the invitee's.
- 30% of users and event types carry legacy 16-character uppercase ids (e.g.
  GFH3KADHMS65FY6I) instead of UUIDs, in their URIs and everywhere they are referenced.
- Older records lack keys added later (when they would be null): legacy users have no
  `locale`, legacy unpaid event types no `is_paid`; half of the events and invitees created
  more than 60 days before the anchor lack `calendar_event` (events) and `first_name`,
  `last_name`, `no_show`, `payment`, `reconfirmation`, `routing_form_submission`,
  `scheduling_method`, `invitee_scheduled_by` (invitees).
- 5% of invitees have `name` null; `meeting_notes_html` is null on events without notes (and
  on some with plain notes); half of the payments carry `amount` as a JSON number.
- Error bodies carry the titles real responses have: 400 "Invalid Argument" / "The supplied
  parameters are invalid.", 401 "Unauthenticated" / "The access token is invalid", 403
  "Permission Denied", 404 "Resource Not Found", with the reason in details[].
- One list page in four (any list endpoint; the same request always gets the same shape) comes
  in the shape of a real page of 2021: `pagination` carries `next_page` (a URL with the
  `page_token`) and `previous_page` but no `next_page_token` or `previous_page_token`. A client
  that reads only `next_page_token` stops there. Lenient: every page carries the tokens.
- Generated events carry `booking_method` ("instant" or "poll", as their event type), which
  Calendly documents on Get Event and the spec lacks.
- Pushed Zoom locations carry `data` (numeric `id`, settings.global_dial_in_numbers,
  extra.intl_numbers_url, password); 30% of Google Meet locations, and every one booked through
  POST /invitees, are still "processing" with join_url null.
Where these contradict the spec (calendly_sandbox.realism.SPEC_DIFFERENCES, one entry each):
Invitee.name may be null; Invitee.first_name, last_name, no_show, payment, reconfirmation,
routing_form_submission, scheduling_method, invitee_scheduled_by may be absent;
InviteePayment.amount may be a number; Event.meeting_notes_html may be null;
Event.calendar_event may be absent; User.locale and OrganizationMembershipUser.locale may be
absent; EventType.is_paid may be absent; Pagination.next_page_token and
Pagination.previous_page_token may be absent; error responses carry the real title and message
instead of the operation's pinned enums. Everything else still validates against the spec.

Choices where the spec, the docs or reality disagree (API_NOTES.md section 9 and beyond)
- Lenient realism only: error bodies follow the spec literally: the `title`, and the `message`
  when the operation pins it with an enum, come from that operation's documented response. Several of those enums are
  generator artifacts (e.g. a 400 or 401 titled "Internal Server Error"); the real reason is
  then in `details[0].message` (with `details[0].parameter` for parameter errors). Clients must
  key on the HTTP status, as API_NOTES.md advises. Statuses an operation does not document
  (401 on /activity_log_entries and /outgoing_communications, 429, unknown paths) use the
  generic ErrorResponse shape with natural titles.
- pagination.count is the number of items in the page; previous_page(_token) are always null.
  The spec's Pagination caps count at 100 although /activity_log_entries allows count up to
  1000: pages larger than 100 there do not validate against the spec.
- Time windows: max_* bounds are exclusive; min_* bounds too under hard realism (above).
- Deleted event types are listed, with deleted_at set (the harder case for a client).
- Admin writes (invitation send/revoke, member removal, webhook create/delete, data-compliance
  deletions) add an activity log entry; the activity log shows milliseconds, so entries of one
  millisecond tie on occurred_at and are ordered by uri.
- Marking a no-show never moves the event's updated_at (the invitee's only under lenient
  realism); a second no-show for the same invitee answers 400. Data-compliance deletions take effect immediately and do not
  move any remaining resource's updated_at.
- Inviting a current member or an email with a pending invitation answers 400; only pending
  invitations can be revoked (revoked ones disappear). Removing the owner answers 403.
- POST /scheduling_links requires max_event_count as the string "1" (the spec's type).
- POST /webhook_subscriptions accepts the events of the spec's request enum plus event_type.*
  (added 2026-10-23 per the release notes; the spec omits them); a duplicate callback URL in the
  same scope (and user/group) answers 409. The signing_key is kept, never served.
- Plans (release notes 2026-11-03 and 11-19): webhook subscriptions, POST /invitees and contacts
  work on every plan, Free included; subscribing to routing_form_submission.* needs Teams and
  meeting_recap.* a paid plan (403 "Please upgrade to a paid Calendly account."), the activity
  log and data-compliance deletions Enterprise (403 with the older "Please upgrade your Calendly
  account to Enterprise."). Free accounts get the paid plans' POST /invitees limits (Calendly
  publishes none for Free).
- Cancelling an event whose start_time has passed answers 403 "Event in the past".
- GET /scheduled_events/{uuid} and its invitees need an admin or one of the event's hosts.
- /event_type_memberships accepts any valid token (the spec lists only personal tokens).
- /outgoing_communications lists oldest first; activity log total_count is capped at 10,000
  (exceeds_max_total_count tells).
- /oauth/token lives on the sandbox's base URL (the real one is on auth.calendly.com).
- OAuth scopes are not modeled: every token has every scope, so the spec's 403
  InsufficientScopeError is never sent.
- Responses declared 204 carry no body (HTTP forbids one), although the spec gives them a JSON
  object schema.
"""

from calendly_sandbox.sandbox import Sandbox

__all__ = ["Sandbox"]
