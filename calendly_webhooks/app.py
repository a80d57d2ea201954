"""The receiver's ASGI app (Starlette): POST /webhooks verifies and stores, GET /health answers.

A delivery is acknowledged (200) only after its row is committed to the inbox, so a delivery
that got no 2xx was not stored and Calendly sends it again. Refusals store nothing:
401 unsigned / forged / stale / no key configured, 400 malformed signature or body (not a JSON
object in UTF-8, or nested too deep), 413 oversized, 415 not JSON. Logs name the outcome and the
event name, never a key or the payload (payloads carry invitee names, emails and answers);
refusals are counted by `report` (logged at most once a minute, so a flood of bad requests
cannot flood the log) and logged one by one only at DEBUG.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from calendly_webhooks.inbox import EnvelopeError, InboxBackend, parse_envelope
from calendly_webhooks.signature import HEADER, TOLERANCE_SECONDS, KeyRing, SignatureError, verify

MAX_BODY_BYTES = 1024 * 1024
WEBHOOK_PATH = "/webhooks"
log = logging.getLogger("calendly_webhooks")


class RefusedError(Exception):
    """A request refused before its signature is checked (size, framing, content type)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def create_app(
    inbox: InboxBackend,
    keyring: KeyRing,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    tolerance_seconds: float = TOLERANCE_SECONDS,
    clock: Callable[[], float] = time.time,
    report: Callable[[str], None],
) -> Starlette:
    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):
                raise RefusedError(400, "Content-Length is not a number")
            if int(declared) > max_body_bytes:
                raise RefusedError(413, f"body exceeds {max_body_bytes} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise RefusedError(413, f"body exceeds {max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def refuse(status: int, reason: str) -> JSONResponse:
        log.debug("refused delivery: %d %s", status, reason)
        report(f"deliveries refused: {status} {reason.partition(':')[0]}")
        return JSONResponse({"error": reason}, status_code=status)

    async def receive(request: Request) -> JSONResponse:
        try:
            body = await read_body(request)
            content_type = request.headers.get("content-type", "")
            if content_type.split(";")[0].strip().lower() != "application/json":
                raise RefusedError(415, "Content-Type must be application/json")
            signed_at = verify(
                request.headers.get(HEADER), body, keyring.keys(), clock(), tolerance_seconds
            )
            envelope = parse_envelope(body)
        except (RefusedError, SignatureError) as refusal:
            return refuse(refusal.status, refusal.reason)
        except EnvelopeError as bad:
            return refuse(400, str(bad))
        except ClientDisconnect:  # the client left, or missed the body deadline (server.py)
            log.debug("delivery abandoned: the client disconnected before its body was complete")
            return JSONResponse({"error": "disconnected"}, status_code=400)
        position = await run_in_threadpool(inbox.append, body, envelope, signed_at)
        if position is None:
            log.info("duplicate delivery of %s ignored", envelope.get("event"))
            return JSONResponse({"status": "duplicate"})
        log.info("stored %s at position %d", envelope.get("event"), position)
        return JSONResponse({"status": "stored", "position": position})

    async def health(request: Request) -> JSONResponse:
        inbox_ok = await run_in_threadpool(inbox.healthy)
        keys = len(keyring.keys())
        body = {
            "status": "ok" if inbox_ok else "unhealthy",
            "inbox": inbox_ok,
            "signing_keys": keys,
        }
        return JSONResponse(body, status_code=200 if inbox_ok else 503)

    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
