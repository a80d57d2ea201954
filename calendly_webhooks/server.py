"""How the receiver serves HTTP: uvicorn's h11 protocol, plus what uvicorn lacks against slow or
numerous clients.

uvicorn closes an idle keep-alive connection (`keep_alive_timeout`) and h11 bounds an incomplete
request head (16 KiB; more gets 400). Neither bounds how long a request's head or body may take,
and uvicorn's `limit_concurrency` answers 503 to every new request while slow clients hold the
connections, so it is not used. Added here:

- deadlines: a request's head must be complete within `header_timeout` of the connection's
  opening or of the previous response; its body within `body_timeout` of its head. A client that
  misses one is disconnected (the app sees a disconnect if it was reading the body).
- connection cap: at `max_connections`, a new connection displaces the connection that has waited
  longest for a request's head or body (a slow client, or an idle keep-alive one); when every
  connection is busy with a request being answered, the new one is closed at once. The soft
  open-files limit is raised toward the hard one as far as the cap needs, and the cap lowered to
  what it allows less RESERVED_FILES: asyncio accepts up to ACCEPT_BATCH connections at a time
  before the cap sees them, and accept() must find a descriptor free.
- quiet logs: those closures, accept() failing for lack of descriptors (asyncio logs it with a
  traceback at every attempt, thousands a second), invalid HTTP (uvicorn logs each) and refused
  deliveries (the app's `report`) are counted in a Tally, logged at most once per
  REPORT_EVERY_SECONDS and once more on shutdown.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("calendly_webhooks")
ACCEPT_BATCH = 32  # uvicorn's backlog: the listen queue, and asyncio's accepts per wake-up
# two batches in flight, and 32 for the inbox and its side files, stdio, the event loop (~20 used)
RESERVED_FILES = 2 * ACCEPT_BATCH + 32
REPORT_EVERY_SECONDS = 60.0
INVALID_REQUEST = "Invalid HTTP request received."  # uvicorn's words
_OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


@dataclass(frozen=True)
class Limits:
    header_timeout: float = 10.0
    body_timeout: float = 20.0
    keep_alive_timeout: int = 5
    max_connections: int = 1000


def fit_open_files(requested: int) -> int:
    """Raise the soft open-files limit toward what `requested` connections need (up to the hard
    limit); the connection cap it allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    wanted = requested + RESERVED_FILES
    if soft != infinity and soft < wanted and (hard == infinity or soft < hard):
        soft = wanted if hard == infinity else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == infinity:
        return requested
    return max(1, min(requested, soft - RESERVED_FILES))


class Tally(logging.Filter):
    """Counts of what clients made the receiver do (close a connection, refuse a request), logged
    at most once per `interval` seconds: the first at once, the rest summed up when the interval
    ends. Fed by the guard, the app's `report`, the event loop's exception handler (accept()
    failures) and, as a filter of uvicorn's log, its warning for each invalid request."""

    def __init__(self, interval: float = REPORT_EVERY_SECONDS) -> None:
        super().__init__()
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self._last = float("-inf")
        self._pending: asyncio.TimerHandle | None = None

    def add(self, what: str) -> None:
        self.counts[what] += 1
        if self._pending is None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, self._last + self.interval - loop.time())
            self._pending = loop.call_later(delay, self.report)

    def report(self) -> None:
        self._pending = None
        self._last = asyncio.get_running_loop().time()
        if self.counts:
            summary = "; ".join(f"{n} {what}" for what, n in self.counts.items())
            log.warning("since the last report (at most every %.0f s): %s", self.interval, summary)
            self.counts.clear()

    def exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """The event loop's handler: a failed accept() is counted, the rest logged as usual."""
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_DESCRIPTORS:
            self.add(f"accept() failures ({exc.strerror}; retried every second)")
            return
        loop.default_exception_handler(context)

    def filter(self, record: logging.LogRecord) -> bool:
        """A filter for uvicorn's log: its warning for each invalid request is counted instead."""
        if record.msg == INVALID_REQUEST:
            self.add("invalid HTTP requests answered 400")
            return False
        return True


class Guard:
    """The state the connections of one server share: which are open, which wait for a client."""

    def __init__(self, limits: Limits, tally: Tally) -> None:
        self.limits = limits
        self.cap = fit_open_files(limits.max_connections)
        self.tally = tally
        self.open: set[GuardedH11Protocol] = set()
        self.waiting: dict[GuardedH11Protocol, None] = {}  # longest waiting first

    def admit(self, newcomer: GuardedH11Protocol) -> None:
        if len(self.open) >= self.cap:
            longest = next(iter(self.waiting), None)
            if longest is None:
                self.tally.add(f"connections refused at the {self.cap}-connection cap, all busy")
                newcomer.transport.close()
                return
            self.tally.add(f"connections displaced at the {self.cap}-connection cap")
            longest.drop()
        self.open.add(newcomer)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol under a Guard (a subclass per server binds `guard`)."""

    guard: ClassVar[Guard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: str | None = None
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.admit(self)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        self.guard.open.discard(self)
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def drop(self) -> None:
        """Disconnect at once (the guard no longer counts it)."""
        self._stop_waiting()
        self.guard.open.discard(self)
        self.transport.close()

    def _watch(self) -> None:
        """Start the deadline of what the client owes now (a request head or body), if any."""
        state = self.conn.their_state
        phase = None
        if not self.transport.is_closing():
            phase = "head" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None
        if phase == self._phase:
            return
        self._stop_waiting()
        if phase is not None:
            limits = self.guard.limits
            timeout = limits.header_timeout if phase == "head" else limits.body_timeout
            self._deadline = self.loop.call_later(timeout, self._expire, phase, timeout)
            self._phase = phase
            self.guard.waiting[self] = None

    def _stop_waiting(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._phase = None
        self.guard.waiting.pop(self, None)

    def _expire(self, phase: str, timeout: float) -> None:
        self._deadline = None
        self.guard.tally.add(f"connections closed: no complete request {phase} in {timeout:g} s")
        self.drop()


def guarded_protocol(guard: Guard) -> type[GuardedH11Protocol]:
    return type("BoundGuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})


def serve(
    app: Starlette,
    sock: socket.socket,
    limits: Limits,
    tally: Tally,
    log_level: str,
    on_shutdown: Callable[[], None] = lambda: None,
) -> None:
    """Serve `app` on the listening `sock` until SIGINT/SIGTERM, then call `on_shutdown`."""
    logging.getLogger("uvicorn.error").addFilter(tally)
    guard = Guard(limits, tally)
    if guard.cap < limits.max_connections:
        log.warning(
            "serving at most %d connections, not %d: the open-files limit leaves no more",
            guard.cap,
            limits.max_connections,
        )
    config = uvicorn.Config(
        app,
        http=guarded_protocol(guard),
        loop="asyncio",
        backlog=ACCEPT_BATCH,
        timeout_keep_alive=limits.keep_alive_timeout,
        log_config=None,
        access_log=False,
        log_level=log_level,
        lifespan="off",
    )
    server = ReportingServer(config, tally, on_shutdown)

    async def run() -> None:
        asyncio.get_running_loop().set_exception_handler(tally.exception_handler)
        await server.serve(sockets=[sock])

    asyncio.run(run())


class ReportingServer(uvicorn.Server):
    """Reports the tally's last counts and calls `on_shutdown` once the requests in flight are
    answered (uvicorn re-raises SIGTERM once serve() ends, so nothing after it runs)."""

    def __init__(
        self, config: uvicorn.Config, tally: Tally, on_shutdown: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self.tally = tally
        self.on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        self.tally.report()
        self.on_shutdown()
