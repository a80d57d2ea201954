"""The in-process API: `Sandbox(...)`, start/stop, base URL, store, request log, runtime knobs."""

from __future__ import annotations

import gc
import hashlib
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from calendly_sandbox import resources
from calendly_sandbox.auth import TokenBook
from calendly_sandbox.deliveries import WebhookDispatcher
from calendly_sandbox.faults import (
    FAULT_KINDS,
    AnswerLosses,
    FaultInjector,
    RateLimiter,
    SchedulingApiLimiter,
)
from calendly_sandbox.generator import PLAN_FIELDS, generate
from calendly_sandbox.paging import TokenCodec
from calendly_sandbox.resources import invitees, recaps, routing
from calendly_sandbox.server import LoggedRequest, Outgoing, SandboxHTTPServer, encode
from calendly_sandbox.store import Store
from calendly_sandbox.timefmt import fmt

PLANS = tuple(PLAN_FIELDS)
#: "hard": what real accounts can show (the default; see the package docstring);
#: "lenient": the sandbox before it modeled those, kept to compare a client against.
REALISMS = ("hard", "lenient")
NOMINAL_RATE_LIMIT = {"free": 50}  # requests per user per minute; 500 on paid plans
PAID_RATE_LIMIT = 500


class Sandbox:
    """A local, stateful Calendly API v2 on loopback. See the package docstring."""

    def __init__(
        self,
        *,
        seed: int = 1,
        events: int = 200,
        plan: str = "enterprise",
        token: str = "sandbox-token",  # noqa: S107 - documented sandbox default
        member_token: str = "sandbox-member-token",  # noqa: S107 - documented sandbox default
        rate_limit: int | None = 0,
        rate_window_seconds: float = 60.0,
        latency_ms: float = 0,
        fault_rate: float = 0.0,
        fault_kinds: tuple[str, ...] | list[str] = FAULT_KINDS,
        stall_seconds: float = 35.0,
        fault_oauth: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        now: datetime | None = None,
        oauth_client_id: str = "sandbox-client",
        oauth_client_secret: str = "sandbox-secret",  # noqa: S107 - documented sandbox default
        oauth_refresh_token: str = "sandbox-refresh-token",  # noqa: S107 - documented sandbox default
        access_token_ttl: float = 7200,
        webhook_time_scale: float = 1.0,
        verbose: bool = False,
        stage: str | None = None,
        limits_clock: Callable[[], float] = time.monotonic,
        realism: str = "hard",
    ) -> None:
        if realism not in REALISMS:
            raise ValueError(f"realism must be one of {', '.join(REALISMS)}, got {realism!r}")
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}, got {plan!r}")
        if events < 1:
            raise ValueError(f"events must be at least 1, got {events}")
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        self.seed = seed
        self.realism = realism
        self.events = events
        self.plan = plan
        self.token = token
        self.member_token = member_token
        self.host = host
        self.port = port
        self.anchor = (now or datetime.now(timezone.utc)).timestamp()
        self.latency_ms = latency_ms
        self.fault_oauth = fault_oauth
        self.verbose = verbose
        self.rate_limit = rate_limit
        self.limiter = RateLimiter(self._effective_limit(), self._nominal(), rate_window_seconds)
        self.faults = FaultInjector(seed, fault_rate, tuple(fault_kinds), stall_seconds)
        self.faults_injected: list[tuple[str, str, str]] = []
        self.answer_losses = AnswerLosses()
        self.scheduling_limiter = SchedulingApiLimiter(limits_clock)
        self.stage = stage
        self.request_log: list[LoggedRequest] = []
        self.codec = TokenCodec(hashlib.sha256(f"sandbox-page-tokens-{seed}".encode()).digest())
        self.stopping = threading.Event()
        self.generation_seconds = 0.0
        self._oauth = (oauth_client_id, oauth_client_secret, oauth_refresh_token, access_token_ttl)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.store: Store = Store("", seed, hard=realism == "hard")
        self.tokens: TokenBook
        self.webhooks = WebhookDispatcher(time_scale=webhook_time_scale)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        server = SandboxHTTPServer((self.host, self.port), self)
        self.port = server.server_address[1]
        self.store = Store(self.base_url, self.seed, hard=self.realism == "hard")
        began = time.perf_counter()
        collecting = gc.isenabled()
        gc.disable()  # millions of new acyclic containers: cyclic GC passes would only cost time
        try:
            generate(
                self.store, seed=self.seed, events=self.events, now=self.anchor, plan=self.plan
            )
            resources.seed(self.store, self.seed, self.anchor)
        finally:
            if collecting:
                gc.enable()
        self.generation_seconds = time.perf_counter() - began
        if self.stage is not None:
            self.store.organization["stage"] = self.stage
        self._make_tokens()
        self.webhooks.start(self.store)
        self.stopping.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"calendly-sandbox-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.webhooks.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- runtime knobs -----------------------------------------------------------------------
    def configure(
        self,
        *,
        rate_limit: int | str | None = "unchanged",
        rate_window_seconds: float | None = None,
        latency_ms: float | None = None,
        fault_rate: float | None = None,
        fault_kinds: tuple[str, ...] | list[str] | None = None,
        stall_seconds: float | None = None,
        plan: str | None = None,
    ) -> None:
        """Change behavior at runtime; arguments left out keep their value."""
        if plan is not None:
            if plan not in PLANS:
                raise ValueError(f"plan must be one of {', '.join(PLANS)}, got {plan!r}")
            self.plan = plan
            with self.store.lock:
                org = self.store.organization
                if org:
                    org["plan"], org["stage"] = PLAN_FIELDS[plan]
                    org["updated_at"] = fmt(self.clock())
        if rate_limit != "unchanged":
            self.rate_limit = rate_limit if rate_limit is None else int(rate_limit)
        self.limiter.limit = self._effective_limit()
        self.limiter.nominal = self._nominal()
        if rate_window_seconds is not None:
            self.limiter.window_seconds = rate_window_seconds
        if latency_ms is not None:
            self.latency_ms = latency_ms
        self.faults.configure(
            rate=fault_rate,
            kinds=tuple(fault_kinds) if fault_kinds is not None else None,
            stall_seconds=stall_seconds,
        )

    def lose_answers(
        self, kind: str, *, method: str = "POST", path: str = "", times: int = 1
    ) -> None:
        """The next `times` successful `method` requests whose path matches the regex `path` are
        performed, then their answer is lost (`kind`, one of ANSWER_LOSS_KINDS). See
        `answers_lost` for what was lost."""
        self.answer_losses.add(kind, method=method, path=path, times=times)

    @property
    def answers_lost(self) -> list[tuple[str, str, str]]:
        return self.answer_losses.lost

    def _nominal(self) -> int:
        return NOMINAL_RATE_LIMIT.get(self.plan, PAID_RATE_LIMIT)

    def _effective_limit(self) -> int:
        """None -> the plan's documented limit; 0 -> off; N -> N per window."""
        return self._nominal() if self.rate_limit is None else self.rate_limit

    # -- tokens ------------------------------------------------------------------------------
    def _make_tokens(self) -> None:
        client_id, client_secret, refresh_token, ttl = self._oauth
        owner = self.store.current_user["uri"]
        self.tokens = TokenBook(
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            access_token_ttl=ttl,
            oauth_user_uri=owner,
            organization_uri=self.store.organization["uri"],
        )
        self.tokens.add_personal_token(self.token, owner)
        self.tokens.add_personal_token(self.member_token, self.member["user"]["uri"])

    @property
    def member(self) -> dict[str, Any]:
        """The membership of the first plain (non-admin) member: `member_token`'s owner."""
        return next(m for m in self.store.organization_memberships.values() if m["role"] == "user")

    def token_for(self, user_uri: str) -> str:
        """A personal access token for any user (e.g. an admin, or a removed member)."""
        token = "sandbox-pat-" + hashlib.sha256(user_uri.encode()).hexdigest()[:24]
        self.tokens.add_personal_token(token, user_uri)
        return token

    def expire_access_tokens(self) -> None:
        """Make every OAuth access token issued so far answer 401 from now on."""
        self.tokens.expire_access_tokens()

    def reauthorize(self) -> str:
        """A person authorizes the app again after a revocation: returns a new refresh token."""
        return self.tokens.reauthorize()

    @property
    def oauth_revocations(self) -> int:
        """Grants revoked because a client sent a refresh token that was already used."""
        return self.tokens.revocations

    @property
    def current_refresh_token(self) -> str:
        return self.tokens.current_refresh_token

    @property
    def oauth_token_requests(self) -> int:
        return self.tokens.token_requests

    def oauth_token(self, body: bytes, authorization: str | None) -> Outgoing:
        status, payload = self.tokens.token_request(body, authorization)
        headers = {"Cache-Control": "no-store", **self.limiter.peek("oauth").headers()}
        return Outgoing(status, encode(payload), headers)

    # -- what invitees do on Calendly's pages (calendly_sandbox/resources/invitees.py) -----------
    def cancel_invitee(self, invitee_uri: str, reason: str | None = None) -> dict[str, Any]:
        """The invitee cancels their own booking (announced as invitee.canceled)."""
        with self.store.lock:
            return invitees.cancel_invitee(self.store, invitee_uri, reason=reason, now=self.clock())

    def reschedule_invitee(self, invitee_uri: str, new_start: float) -> dict[str, Any]:
        """The invitee moves their booking to `new_start` (epoch seconds); the new invitee."""
        with self.store.lock:
            return invitees.reschedule_invitee(self.store, invitee_uri, new_start, now=self.clock())

    def submit_routing_form(
        self, form_uri: str, answers: dict[str, str | None], routed_to: str | None = None
    ) -> dict[str, Any]:
        """A visitor submits a published routing form (announced as
        routing_form_submission.created); `routed_to`: the event type it routes to."""
        with self.store.lock:
            return routing.submit_routing_form(
                self.store, form_uri, answers, routed_to=routed_to, now=self.clock()
            )

    def finish_recap(self, event_uri: str) -> dict[str, Any]:
        """Notetaker finishes the recap of a meeting that took place (meeting_recap.created)."""
        with self.store.lock:
            return recaps.finish_recap(self.store, event_uri, now=self.clock())

    # -- helpers used by the server ----------------------------------------------------------
    @staticmethod
    def clock() -> float:
        """Real time: runtime checks ("Event in the past") use it, not the data anchor."""
        return time.time()

    def log(self, method: str, path: str, query: dict[str, list[str]], status: int) -> None:
        flat: dict[str, str | list[str]] = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
        self.request_log.append(LoggedRequest(method, path, flat, status))


def log_line(message: str) -> None:
    sys.stderr.write(f"calendly-sandbox: {message}\n")
    sys.stderr.flush()
