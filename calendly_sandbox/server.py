"""HTTP plumbing: a keep-alive ThreadingHTTPServer, the routing table and request dispatch.

Order of a request: route -> injected fault -> latency -> bearer auth -> rate limit ->
parameter/body validation -> handler (under the store lock) -> one json.dumps -> send.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from calendly_sandbox import facts, validation
from calendly_sandbox.app import Ctx, Reply, Routes
from calendly_sandbox.errors import NATURAL_TITLES, ApiError, error_body
from calendly_sandbox.faults import Quota
from calendly_sandbox.resources import ROUTES as RESOURCE_ROUTES

if TYPE_CHECKING:
    from calendly_sandbox.sandbox import Sandbox

JSON_TYPE = "application/json; charset=utf-8"
NOT_FOUND_BODY = {
    "title": "Resource Not Found",
    "message": "The server could not find the requested resource.",
}


class LoggedRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str | list[str]]  # one value -> str, repeated -> list
    status: int  # 0 when the connection was reset by an injected fault


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Callable[[Ctx], Any]

    @property
    def op_key(self) -> str:
        return f"{self.method} {self.template}"


def compile_routes(table: Routes) -> list[Route]:
    routes = []
    for method, template, handler in table:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        routes.append(Route(method, template, re.compile(f"^{regex}$"), handler))
    return routes


ROUTES = compile_routes(RESOURCE_ROUTES)


def match(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    for route in ROUTES:
        if route.method == method:
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
    return None, {}


@dataclass
class Outgoing:
    status: int
    payload: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    def close_connections(self) -> None:
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class RequestHandler(BaseHTTPRequestHandler):
    unlogged: tuple[str, str, dict[str, list[str]]] | None = None  # the request being served
    protocol_version = "HTTP/1.1"
    server_version = "calendly-sandbox"
    timeout = 600
    server: SandboxHTTPServer

    # Headers and body go out in separate writes; with Nagle's algorithm on, the body waits for
    # the client's delayed ACK (~40 ms) on every keep-alive response.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            sys.stderr.write(f"calendly-sandbox: {self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def do_DELETE(self) -> None:
        self.serve()

    def do_PATCH(self) -> None:
        self.serve()

    def do_PUT(self) -> None:
        self.serve()

    # -- dispatch ----------------------------------------------------------------------------
    def serve(self) -> None:
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        self.unlogged = None
        raw_body = self.read_body()
        if raw_body is None:
            self.close_connection = True
            body = {"title": "Invalid Argument", "message": "Content-Length is not a number"}
            self.respond(Outgoing(400, encode(body)))
            return
        method = self.command
        self.unlogged = (method, path, query)
        if path == "/oauth/token" and method == "POST" and not sandbox.fault_oauth:
            self.respond(sandbox.oauth_token(raw_body, self.headers.get("Authorization")))
            return
        route, path_params = match(method, path)
        fault = sandbox.faults.draw() if sandbox.faults.rate > 0 else None
        if fault is not None:
            sandbox.faults_injected.append((method, path, fault))
            if self.inject(fault, route.op_key if route else ""):
                return
        if sandbox.latency_ms > 0:
            sandbox.stopping.wait(sandbox.latency_ms / 1000)
        if path == "/oauth/token" and method == "POST":
            outgoing = sandbox.oauth_token(raw_body, self.headers.get("Authorization"))
        elif route is None:
            quota = sandbox.limiter.peek("anonymous")
            outgoing = Outgoing(404, encode(NOT_FOUND_BODY), quota.headers())
        else:
            outgoing = self.dispatch(route, path_params, query, raw_body, path)
        loss = sandbox.answer_losses.take(method, path, outgoing.status)
        if loss is not None:
            self.lose_answer(loss, outgoing)
            return
        self.respond(outgoing, truncate=fault == "truncate")

    def dispatch(
        self,
        route: Route,
        path_params: dict[str, str],
        query: dict[str, list[str]],
        raw_body: bytes,
        path: str,
    ) -> Outgoing:
        sandbox = self.server.sandbox
        op = facts.operation(route.op_key)
        principal, why = sandbox.tokens.authenticate(self.headers.get("Authorization"))
        if principal is None:
            quota = sandbox.limiter.peek("anonymous")
            body = error_body(route.op_key, ApiError(401, reason=why), real=sandbox.store.hard)
            return Outgoing(401, encode(body), quota.headers())
        quota = sandbox.limiter.take(principal.user_uri)
        if not quota.allowed:
            return Outgoing(429, encode(self.too_many(quota)), quota.headers())
        if route.op_key == "POST /invitees":  # the Scheduling API's own limits and headers
            org = sandbox.store.organization
            quota = sandbox.scheduling_limiter.take(principal.user_uri, org["plan"], org["stage"])
            if not quota.allowed:
                body = {
                    "title": NATURAL_TITLES[429][0],
                    "message": f"The Scheduling API allows {quota.limit} bookings in this "
                    f"window; it frees up in {quota.reset} seconds.",
                }
                return Outgoing(429, encode(body), quota.headers())
        store = sandbox.store
        try:
            has_body = route.method in ("POST", "PATCH", "PUT")
            body = self.parse_json(raw_body) if has_body else {}
            with store.lock:
                params = validation.query_params(op, query)
                if has_body:
                    validation.body(op["body"], body)
                ctx = Ctx(
                    store=store,
                    principal=principal,
                    op_key=route.op_key,
                    op=op,
                    url_path=path,
                    query=query,
                    params=params,
                    path=path_params,
                    body=body,
                    plan=sandbox.plan,
                    codec=sandbox.codec,
                    now=sandbox.clock,
                )
                result = route.handler(ctx)
                reply = result if isinstance(result, Reply) else Reply(op["success"], result)
                payload = b"" if reply.body is None else encode(reply.body)
        except ApiError as err:
            reply, payload = (
                Reply(err.status),
                encode(error_body(route.op_key, err, real=store.hard)),
            )
        except Exception:
            traceback.print_exc(file=sys.stderr)
            reply = Reply(500)
            payload = encode(error_body(route.op_key, ApiError(500), real=store.hard))
        return Outgoing(reply.status, payload, {**quota.headers(), **reply.headers})

    @staticmethod
    def too_many(quota: Quota) -> dict[str, Any]:
        title, message = NATURAL_TITLES[429]
        return {
            "title": title,
            "message": f"{message} The limit is {quota.limit} requests per minute; it resets in "
            f"{quota.reset} seconds.",
        }

    @staticmethod
    def parse_json(raw: bytes) -> Any:
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            raise ApiError(400, parameter="body", reason=f"body is not valid JSON: {exc}") from exc

    def read_body(self) -> bytes | None:
        """The request body, or None when Content-Length is not a number."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return self.rfile.read(length) if length > 0 else b""

    # -- faults ------------------------------------------------------------------------------
    def inject(self, fault: str, op_key: str) -> bool:
        """Apply a fault; True when the request is finished (no normal response follows)."""
        sandbox = self.server.sandbox
        if fault in ("500", "502", "503"):
            status = int(fault)
            if status == 502:
                html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                self.respond(Outgoing(502, html, content_type="text/html"))
            else:
                self.respond(
                    Outgoing(
                        status,
                        encode(error_body(op_key, ApiError(status), real=sandbox.store.hard)),
                    )
                )
            return True
        if fault == "reset":
            self.last_status = 0
            self.log_request_once(0)
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return True
        if fault == "stall":
            sandbox.stopping.wait(sandbox.faults.stall_seconds)
        return False  # stall then answer normally; truncate happens while sending

    def lose_answer(self, kind: str, outgoing: Outgoing) -> None:
        """The write is done (its handler ran); its answer does not reach the client."""
        sandbox = self.server.sandbox
        if kind in ("500", "502", "503"):
            self.inject(kind, "")
        elif kind == "reset":
            self.inject("reset", "")
        elif kind == "timeout":
            self.log_request_once(outgoing.status)  # done now; the answer leaves too late
            sandbox.stopping.wait(sandbox.faults.stall_seconds)
            self.close_connection = True
            self.respond(outgoing)
        else:
            self.respond(outgoing, truncate=True)

    def log_request_once(self, status: int) -> None:
        """Log before the answer leaves: a client holding its answer finds its request logged."""
        if self.unlogged is not None:
            self.server.sandbox.log(*self.unlogged, status)
            self.unlogged = None

    def respond(self, outgoing: Outgoing, *, truncate: bool = False) -> None:
        self.last_status = outgoing.status
        self.log_request_once(outgoing.status)
        try:
            self.send_response(outgoing.status)
            self.send_header("Content-Type", outgoing.content_type)
            self.send_header("Content-Length", str(len(outgoing.payload)))
            for name, value in outgoing.headers.items():
                self.send_header(name, value)
            if truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            if truncate:
                self.wfile.write(outgoing.payload[: max(1, len(outgoing.payload) // 2)])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            else:
                self.wfile.write(outgoing.payload)
        except OSError:
            self.close_connection = True

    last_status: int = 0
